// portalgen static search. The index (search/index.json) maps tokens to (report, section)
// postings; Chinese is tokenised into character pairs and Latin text into lowercased words,
// the same way src/search.rs builds the index. A result needs every token of the query.
(function () {
  "use strict";
  var form = document.querySelector(".search-form");
  var input = document.getElementById("q");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var index = null;
  // The interface's words, from the search page (data-found, data-none …).
  function word(name, values) {
    var text = (form && form.getAttribute("data-" + name)) || "";
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }

  function isCjk(c) {
    var n = c.codePointAt(0);
    return (n >= 0x3400 && n <= 0x4dbf) || (n >= 0x4e00 && n <= 0x9fff) || (n >= 0xf900 && n <= 0xfaff) || (n >= 0x20000 && n <= 0x2ffff);
  }
  function tokens(text) {
    var out = [], run = [], word = "";
    function flush() {
      if (run.length === 1) out.push(run[0]);
      for (var i = 0; i + 1 < run.length; i++) out.push(run[i] + run[i + 1]);
      run = [];
    }
    Array.from(text).forEach(function (c) {
      if (isCjk(c)) { if (word) { out.push(word); word = ""; } run.push(c); }
      else if (/[\p{L}\p{N}]/u.test(c)) { flush(); word += c.toLowerCase(); }
      else { flush(); if (word) { out.push(word); word = ""; } }
    });
    flush();
    if (word) out.push(word);
    return out;
  }
  function decode(s) {
    var ids = [], prev = 0;
    s.split(",").forEach(function (d) { prev += parseInt(d, 36); ids.push(prev); });
    return ids;
  }
  function search(q) {
    var toks = tokens(q);
    if (!toks.length) return [];
    var hits = null;
    for (var i = 0; i < toks.length; i++) {
      var p = index.tokens[toks[i]];
      if (!p) return [];
      var ids = decode(p);
      if (hits === null) { hits = ids; continue; }
      var set = new Set(ids);
      hits = hits.filter(function (id) { return set.has(id); });
      if (!hits.length) return [];
    }
    return hits;
  }
  function show(q) {
    list.textContent = "";
    var hits = search(q);
    status.textContent = hits.length ? word("found", {count: hits.length}) : word("none", {q: q});
    var root = "../";
    hits.slice(0, 200).forEach(function (id) {
      var doc = index.docs[Math.floor(id / 64)], sec = doc[4][id % 64];
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = root + doc[1] + (sec && sec[1] ? "#" + sec[1] : "");
      a.textContent = doc[0] + (sec && sec[1] ? " · " + sec[0] : "");
      a.lang = "zh-CN";
      li.appendChild(a);
      var meta = document.createElement("span");
      meta.className = "meta";
      var agency = document.createElement("span");
      agency.lang = "zh-CN";
      agency.textContent = doc[2];
      meta.appendChild(agency);
      meta.appendChild(document.createTextNode(" · " + word("year", {year: doc[3]})));
      li.appendChild(meta);
      list.appendChild(li);
    });
  }
  function run() {
    var q = new URLSearchParams(location.search).get("q") || "";
    input.value = q;
    if (!q) return;
    status.textContent = word("loading");
    fetch("index.json").then(function (r) { return r.json(); }).then(function (data) {
      index = data;
      show(q);
    }).catch(function () {
      status.textContent = word("failed");
    });
  }
  if (form) run();
})();
