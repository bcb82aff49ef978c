// portalgen table sorting: progressive enhancement of the peer pages (years/Y/compare/).
// Without this script the table is complete, in its default order (by kind of agency, then
// agency ID). With it, every column header marked data-sort gets a button that sorts the
// rows by that column: numbers largest first on the first press, then smallest first; the
// agency column by name. Rows are sorted within each <tbody> (one per kind of agency: its
// heading row stays on top); the total row in <tfoot> does not move. Cells without a
// number (— or "not comparable") always go last; ties keep the default order. The sorted
// column has aria-sort, and a status message says what was done (the words come from the
// table's data-sorted-desc / data-sorted-asc, with {label} for the column's name).
(function () {
  "use strict";
  var ICON = { none: "↕", ascending: "▲", descending: "▼" };

  function number(cell) {
    if (!cell) return null;
    var text = cell.textContent.replace(/[\s,%]/g, "");
    var m = /^[+-]?\d+(\.\d+)?/.exec(text);
    return m ? parseFloat(m[0]) : null;
  }

  // The column's name as read: its text without the formula note and the icon.
  function label(th) {
    var copy = th.cloneNode(true);
    copy.querySelectorAll(".table-note, .sort-icon").forEach(function (e) { e.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  function setup(table, status) {
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th[data-sort]"));
    var collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true });
    // Each body row's place in the default order.
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row, i) { row.dataset.order = i; });
    });

    function icon(th) {
      var s = th.querySelector(".sort-icon");
      if (s) s.textContent = ICON[th.getAttribute("aria-sort") || "none"];
    }

    function sort(th, dir) {
      var col = th.cellIndex;
      var numeric = th.getAttribute("data-sort") === "num";
      var sign = dir === "descending" ? -1 : 1;
      Array.prototype.forEach.call(table.tBodies, function (body) {
        var rows = Array.prototype.slice.call(body.rows).filter(function (r) {
          return !r.querySelector("th[scope=rowgroup]");
        });
        var keyed = rows.map(function (r) {
          var cell = r.cells[col];
          return { row: r, key: numeric ? number(cell) : (cell ? cell.textContent.trim() : ""), order: +r.dataset.order };
        });
        keyed.sort(function (a, b) {
          if (a.key === null || b.key === null) {
            if (a.key === null && b.key === null) return a.order - b.order;
            return a.key === null ? 1 : -1;
          }
          var c = numeric ? a.key - b.key : collator.compare(a.key, b.key);
          return c !== 0 ? sign * c : a.order - b.order;
        });
        keyed.forEach(function (k) { body.appendChild(k.row); });
      });
      heads.forEach(function (h) {
        if (h === th) h.setAttribute("aria-sort", dir);
        else h.removeAttribute("aria-sort");
        icon(h);
      });
      var words = table.getAttribute(dir === "descending" ? "data-sorted-desc" : "data-sorted-asc") || "";
      status.textContent = words.split("{label}").join(label(th));
    }

    heads.forEach(function (th) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort-button";
      while (th.firstChild) button.appendChild(th.firstChild);
      var mark = document.createElement("span");
      mark.className = "sort-icon";
      mark.setAttribute("aria-hidden", "true");
      button.appendChild(mark);
      th.appendChild(button);
      icon(th);
      button.addEventListener("click", function () {
        var now = th.getAttribute("aria-sort");
        var first = th.getAttribute("data-sort") === "num" ? "descending" : "ascending";
        var next = now === "descending" ? "ascending" : now === "ascending" ? "descending" : first;
        sort(th, next);
      });
    });
  }

  var tables = document.querySelectorAll("table[data-sortable]");
  if (!tables.length) return;
  // One status message for the page, read out politely after each sort.
  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  var first = tables[0].closest(".table-scroll") || tables[0];
  first.parentNode.insertBefore(status, first);
  Array.prototype.forEach.call(tables, function (t) { setup(t, status); });
})();
