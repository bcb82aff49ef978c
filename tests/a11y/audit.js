#!/usr/bin/env node
// portalgen's browser audit: every page of a built site, at every width, in a real browser.
//
//   node audit.js [options] SITE_DIR
//   node audit.js --selftest SITE_DIR     plant faults in a copy of SITE_DIR; the audit must catch them
//
// For each page × width it loads the page from an in-process HTTP server on 127.0.0.1 in
// Debian's headless Chromium (driven by playwright-core) and runs axe-core: WCAG 2.0/2.1 A
// and AA plus best practice, with the experimental table rules td-has-header and
// table-fake-caption (and p-as-heading, css-orientation-lock) switched on by name — a tag
// run silently skips them. It also checks that the page itself never scrolls sideways (a
// table scrolls inside its own region instead): as loaded, with WCAG 1.4.12 text spacing,
// and — at widths of 640 px and more — with text at 200 %; and that it loads nothing
// missing, nothing from other hosts, and logs no script error. The Nu HTML Checker (vnu.jar, run with `java -jar`) checks every
// page once, in parallel, and its errors fail the page at every width.
//
// A page × width passes when all of that is clean. The last line is
//   a11y: N passed, M failed
// and the exit status is 0 only when M is 0 and at least one page was audited
// (1 = findings, 2 = the instrument itself could not run).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { spawn } = require('child_process');

const HERE = __dirname;
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
// Tagged 'experimental' in axe-core and so skipped by a tag run unless enabled by name.
// All four test WCAG A/AA criteria (td-has-header and table-fake-caption: 1.3.1).
const EXPERIMENTAL = ['td-has-header', 'table-fake-caption', 'p-as-heading', 'css-orientation-lock'];
const VNU_JAR = path.join(HERE, 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar');
// WCAG 1.4.12: no loss of content with these spacings.
const TEXT_SPACING_CSS = '* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }';

const USAGE = `usage: node audit.js [options] SITE_DIR

  --widths LIST      viewport widths, comma separated (default 1280,375;
                     widths under 768 px use mobile emulation)
  --screenshot DIR   full-page PNG of every page at every width: DIR/<path>@<width>.png
  --pdf DIR          print every report page to PDF with the print stylesheet (A4)
  --json FILE        every finding as JSON
  --concurrency N    pages loaded in parallel (default 2)
  --timeout MS       per-page load timeout (default 30000)
  -v, --verbose      list every violating element and every HTML error
  --selftest         copy SITE_DIR, plant faults in the copy, audit it and
                     check that exactly the planted pages fail, for the right reasons
  --chromium PATH    browser (default $CHROMIUM or /usr/bin/chromium)
  --java PATH        java (default $JAVA or java)`;

function die(msg, code = 2) {
  process.stderr.write(`audit: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const o = {
    widths: [1280, 375], screenshot: null, pdf: null, json: null, concurrency: 2, timeout: 30000,
    verbose: false, selftest: false, dir: null,
    chromium: process.env.CHROMIUM || '/usr/bin/chromium', java: process.env.JAVA || 'java',
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let val;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { val = a.slice(eq + 1); a = a.slice(0, eq); }
    const next = () => {
      const v = val !== undefined ? val : argv[++i];
      if (v === undefined || v === '') die(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const int = v => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) die(`${a} needs a positive integer`);
      return n;
    };
    switch (a) {
      case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      case '--widths': case '--width': o.widths = next().split(',').map(int); break;
      case '--screenshot': o.screenshot = next(); break;
      case '--pdf': o.pdf = next(); break;
      case '--json': o.json = next(); break;
      case '--concurrency': o.concurrency = int(next()); break;
      case '--timeout': o.timeout = int(next()); break;
      case '-v': case '--verbose': o.verbose = true; break;
      case '--selftest': o.selftest = true; break;
      case '--chromium': o.chromium = next(); break;
      case '--java': o.java = next(); break;
      default:
        if (a.startsWith('-')) die(`unknown option ${a}\n${USAGE}`);
        if (o.dir) die('only one SITE_DIR may be given');
        o.dir = a;
    }
  }
  if (!o.dir) die(`no SITE_DIR given\n${USAGE}`);
  if (o.widths.some(w => w < 200)) die('widths must be at least 200 px');
  return o;
}

function listHtml(root) {
  const out = [];
  const walk = (dir, rel) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(dir, e.name), r);
      else if (e.isFile() && /\.html?$/i.test(e.name)) out.push(r);
    }
  };
  walk(root, '');
  return out.sort();
}

// ------------------------------------------------------------------- server

const MIME = {
  '.html': 'text/html', '.htm': 'text/html', '.css': 'text/css', '.js': 'text/javascript',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.ico': 'image/x-icon',
  '.woff': 'font/woff', '.woff2': 'font/woff2', '.txt': 'text/plain', '.xml': 'application/xml',
  '.pdf': 'application/pdf', '.csv': 'text/csv',
};

// text/html goes out without a charset, as from most servers: the page's own
// <meta charset> has to carry the encoding.
function startServer(root) {
  const server = http.createServer((req, res) => {
    let p;
    try { p = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch (e) { res.writeHead(400).end(); return; }
    let file = path.join(root, path.normalize(p));
    if (file !== root && !file.startsWith(root + path.sep)) { res.writeHead(403).end(); return; }
    fs.stat(file, (err, st) => {
      if (!err && st.isDirectory()) file = path.join(file, 'index.html');
      fs.readFile(file, (err2, buf) => {
        if (err2) { res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found'); return; }
        res.writeHead(200, {
          'Content-Type': MIME[path.extname(file).toLowerCase()] || 'application/octet-stream',
          'Content-Length': buf.length, 'Cache-Control': 'no-store',
        });
        res.end(buf);
      });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// ---------------------------------------------------------------------- vnu

let vnuChild = null;

// One JVM per 400 pages (command-line length), one after the other, while the browser
// works. Resolves to { byPage: Map(rel -> [messages]), error }.
function runVnu(opts, root, files) {
  if (!fs.existsSync(VNU_JAR)) return Promise.resolve({ error: `no vnu.jar at ${VNU_JAR} (run npm ci --ignore-scripts in ${HERE})` });
  const byPage = new Map(files.map(f => [f, []]));
  const abs = new Map(files.map(f => [path.resolve(root, f), f]));
  const problems = [];
  const batch = list => new Promise(resolve => {
    let out = '', err = '';
    vnuChild = spawn(opts.java, ['-Xss8m', '-jar', VNU_JAR, '--format', 'json', '--exit-zero-always', '--stdout',
      ...list.map(f => path.resolve(root, f))], { stdio: ['ignore', 'pipe', 'pipe'] });
    vnuChild.stdout.on('data', d => { out += d; });
    vnuChild.stderr.on('data', d => { err += d; });
    vnuChild.on('error', e => { vnuChild = null; problems.push(`cannot run ${opts.java}: ${e.message}`); resolve(); });
    vnuChild.on('close', code => {
      vnuChild = null;
      let j;
      try { j = JSON.parse(out); } catch (e) {
        problems.push(`vnu exited ${code}: ${(out + err).slice(0, 400)}`);
        resolve();
        return;
      }
      for (const m of j.messages || []) {
        let rel;
        try { rel = abs.get(decodeURIComponent(new URL(m.url).pathname)); } catch (e) { rel = undefined; }
        if (rel === undefined) problems.push(`${m.type}: ${m.message}`);
        else byPage.get(rel).push(m);
      }
      resolve();
    });
  });
  return (async () => {
    for (let i = 0; i < files.length && !problems.length; i += 400) await batch(files.slice(i, i + 400));
    return problems.length ? { error: `vnu: ${problems.join('; ').slice(0, 400)}`, byPage } : { byPage };
  })();
}

const isHtmlError = m => m.type === 'error' || m.type === 'non-document-error';
// (vnu's 'The first occurrence of ID … was here' only points back at a duplicate-id error)
const isHtmlWarning = m => m.type === 'info' && m.subType === 'warning' && !/^The first occurrence of ID/.test(m.message);

// ---------------------------------------------------------------------- axe

async function auditPage(ctx, base, rel, width, opts, axeSource) {
  const page = await ctx.newPage();
  const r = {
    page: rel, width, ok: false, error: null, violations: [], review: 0, hscroll: false,
    hscroll_zoom200: false, hscroll_spacing: false, missing: [], external: [], console_errors: [],
    scripts: 0, sort: [], ms: 0,
  };
  const t0 = Date.now();
  const origin = new URL(base).origin;
  page.on('console', m => {
    if (m.type() === 'error' && !/^Failed to load resource|ERR_BLOCKED_BY_CLIENT/.test(m.text())) r.console_errors.push(m.text().slice(0, 300));
  });
  page.on('pageerror', e => r.console_errors.push(String(e).slice(0, 300)));
  page.on('response', resp => {
    if (resp.status() >= 400 && resp.url().startsWith(origin)) r.missing.push(`${resp.status()} ${decodeURI(new URL(resp.url()).pathname)}`);
  });
  // The site must stand alone: no fonts, scripts or trackers from other hosts.
  await page.route('**/*', route => {
    const u = route.request().url();
    if (u.startsWith(origin + '/') || /^(data|blob):/.test(u) || u === 'about:blank') return route.continue();
    r.external.push(u.slice(0, 200));
    return route.abort('blockedbyclient');
  });
  const overflows = () => page.evaluate(() => {
    const d = document.documentElement;
    return d.scrollWidth > d.clientWidth + 1;
  });
  try {
    await page.goto(base + rel.split('/').map(encodeURIComponent).join('/'), { waitUntil: 'load', timeout: opts.timeout });
    await page.evaluate(() => (document.fonts ? document.fonts.ready.then(() => true) : true));
    r.hscroll = await overflows();
    r.scripts = await page.evaluate(() => document.scripts.length);
    r.sort = await checkSort(page);
    await page.evaluate(axeSource);
    const res = await page.evaluate(async ({ tags, extra }) => {
      // eslint-disable-next-line no-undef
      const out = await axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        rules: Object.fromEntries(extra.map(id => [id, { enabled: true }])),
        resultTypes: ['violations', 'incomplete'],
      });
      return {
        violations: out.violations.map(v => ({
          id: v.id, impact: v.impact, help: v.help,
          wcag: v.tags.filter(t => /^wcag\d{3,}$/.test(t)).map(t => t.replace(/^wcag(\d)(\d)(\d+)$/, '$1.$2.$3')),
          nodes: v.nodes.map(n => ({
            target: n.target.map(t => (Array.isArray(t) ? t.join(' >> ') : t)).join(' | '),
            html: n.html.slice(0, 200), summary: (n.failureSummary || '').slice(0, 300),
          })),
        })),
        review: out.incomplete.reduce((a, v) => a + v.nodes.length, 0),
      };
    }, { tags: TAGS, extra: EXPERIMENTAL });
    r.violations = res.violations;
    r.review = res.review;
    if (opts.screenshot) {
      const name = rel.replace(/\.html?$/i, '').replace(/\//g, '__') + `@${width}.png`;
      await page.screenshot({ path: path.join(opts.screenshot, name), fullPage: true, animations: 'disabled' });
    }
    if (opts.pdf && width === opts.widths[0] && /^reports\//.test(rel)) {
      const name = rel.replace(/\.html?$/i, '').replace(/\//g, '__') + '.pdf';
      await page.pdf({ path: path.join(opts.pdf, name), preferCSSPageSize: true, printBackground: false });
    }
    // WCAG 1.4.4 and 1.4.12: the page still reflows with text at 200 %, and with wide text
    // spacing. Doubled text on a W px screen lays out like a W/2 px one, so the 200 % check
    // runs where W/2 is at least the 320 px that reflow (1.4.10) asks for.
    if (width / 2 >= 320) {
      await page.evaluate(() => { document.documentElement.style.fontSize = '200%'; });
      r.hscroll_zoom200 = await overflows();
      await page.evaluate(() => { document.documentElement.style.fontSize = ''; });
    }
    await page.addStyleTag({ content: TEXT_SPACING_CSS });
    r.hscroll_spacing = await overflows();
    r.ok = true;
  } catch (e) {
    r.error = String(e.message || e).split('\n')[0].slice(0, 300);
  } finally {
    await page.close().catch(() => {});
  }
  r.ms = Date.now() - t0;
  return r;
}

// ------------------------------------------------------------------ sorting

// Sortable tables (static/sort.js on the peer pages): every header marked data-sort has a
// button; pressing the first number column's button with the keyboard sorts each row group
// largest first and sets aria-sort="descending" (and only there), pressing again sorts
// smallest first; cells without a number stay last, the total row stays in <tfoot>, and the
// status message names the column. Returns the problems found (none on other pages). The
// audit's axe run then sees the sorted table.
async function checkSort(page) {
  const tables = await page.locator('table[data-sortable]').count();
  if (!tables) return [];
  const problems = [];
  const state = () => page.evaluate(() => {
    const t = document.querySelector('table[data-sortable]');
    const th = t.querySelector('thead th[data-sort=num]');
    const col = th.cellIndex;
    const num = c => { const m = /^[+-]?\d+(\.\d+)?/.exec((c ? c.textContent : '').replace(/[\s,%]/g, '')); return m ? parseFloat(m[0]) : null; };
    return {
      heads: t.querySelectorAll('thead th[data-sort]').length,
      buttons: t.querySelectorAll('thead th[data-sort] > button').length,
      sorted: [...t.querySelectorAll('th[aria-sort]')].map(h => [h.cellIndex, h.getAttribute('aria-sort')]),
      col,
      groups: [...t.tBodies].map(b => [...b.rows].filter(r => !r.querySelector('th[scope=rowgroup]')).map(r => num(r.cells[col]))),
      foot: t.tFoot ? t.tFoot.rows.length : 0,
      status: (document.querySelector('[role=status]') || {}).textContent || '',
    };
  });
  const ordered = (groups, dir) => groups.every(g => g.every((v, i) => {
    if (i === 0) return true;
    const p = g[i - 1];
    if (v === null) return true;
    if (p === null) return false;
    return dir === 'descending' ? p >= v : p <= v;
  }));
  const before = await state();
  if (before.sorted.length) problems.push('sort: a column claims an order before any sort');
  if (before.buttons !== before.heads || !before.buttons) {
    problems.push(`sort: ${before.buttons} buttons for ${before.heads} sortable headers`);
    return problems;
  }
  const button = page.locator('table[data-sortable] thead th[data-sort=num] > button').first();
  for (const dir of ['descending', 'ascending']) {
    await button.focus();
    await page.keyboard.press('Enter');
    const s = await state();
    if (s.sorted.length !== 1 || s.sorted[0][0] !== s.col || s.sorted[0][1] !== dir) problems.push(`sort: aria-sort after a press is ${JSON.stringify(s.sorted)}, not ${dir} on column ${s.col}`);
    if (!ordered(s.groups, dir)) problems.push(`sort: rows not ${dir}`);
    if (s.groups.flat().length !== before.groups.flat().length || s.foot !== before.foot) problems.push('sort: rows lost or moved out of their group');
    if (!s.status) problems.push('sort: nothing announced');
  }
  return problems;
}

// ------------------------------------------------------------------ verdict

function problems(r, html) {
  const p = [];
  if (!r.ok) p.push(`load failed: ${r.error}`);
  for (const v of r.violations) p.push(`axe ${v.id} ×${v.nodes.length}`);
  if (html.errors) p.push(`html errors ×${html.errors}`);
  if (r.hscroll) p.push('page scrolls sideways');
  if (r.hscroll_zoom200) p.push('page scrolls sideways at 200% text');
  if (r.hscroll_spacing) p.push('page scrolls sideways with text spacing');
  if (r.missing.length) p.push(`missing ×${r.missing.length}`);
  if (r.external.length) p.push(`external requests ×${r.external.length}`);
  if (r.console_errors.length) p.push(`console errors ×${r.console_errors.length}`);
  for (const s of r.sort || []) p.push(s);
  return p;
}

// -------------------------------------------------------------------- audit

async function audit(opts) {
  const root = path.resolve(opts.dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) die(`not a directory: ${opts.dir}`);
  if (!fs.existsSync(opts.chromium)) die(`no browser at ${opts.chromium} (apt-get install chromium)`);
  for (const d of [opts.screenshot, opts.pdf]) if (d) fs.mkdirSync(d, { recursive: true });
  const pages = listHtml(root);
  if (!pages.length) die(`no .html files under ${opts.dir}`);

  const started = Date.now();
  let server = null, browser = null, stopping = false;
  const cleanup = async () => {
    if (vnuChild) { try { vnuChild.kill('SIGTERM'); } catch (e) { /* gone */ } }
    if (browser) { const b = browser; browser = null; await b.close().catch(() => {}); }
    if (server) { const s = server; server = null; s.closeAllConnections(); await new Promise(r => s.close(() => r())); }
  };
  process.on('exit', () => { if (vnuChild) try { vnuChild.kill('SIGKILL'); } catch (e) { /* gone */ } });
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      cleanup().finally(() => process.exit(code));
      setTimeout(() => process.exit(code), 5000).unref();
    });
  }

  const vnuP = runVnu(opts, root, pages);
  const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const axeVersion = require('axe-core/package.json').version;
  const vnuVersion = require('vnu-jar/package.json').version;
  const { chromium } = require('playwright-core');

  const results = [];
  let browserVersion = '?';
  try {
    server = await startServer(root);
    const base = `http://127.0.0.1:${server.address().port}/`;
    browser = await chromium.launch({
      executablePath: opts.chromium, headless: true,
      handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
      // playwright adds --headless and a fresh temporary --user-data-dir itself
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--disable-dev-shm-usage', '--font-render-hinting=none', '--hide-scrollbars'],
    });
    browserVersion = browser.version();
    const contexts = new Map();
    for (const w of opts.widths) {
      const mobile = w < 768;
      contexts.set(w, await browser.newContext({
        viewport: { width: w, height: mobile ? 812 : 800 }, isMobile: mobile, hasTouch: mobile,
        deviceScaleFactor: 1, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', reducedMotion: 'reduce',
        colorScheme: 'light', serviceWorkers: 'block',
      }));
    }
    const jobs = [];
    for (const w of opts.widths) for (const p of pages) jobs.push([p, w]);
    let next = 0;
    const worker = async () => {
      while (!stopping && next < jobs.length) {
        const [p, w] = jobs[next++];
        results.push(await auditPage(contexts.get(w), base, p, w, opts, axeSource));
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, jobs.length) }, worker));
    for (const c of contexts.values()) await c.close();
  } catch (e) {
    if (stopping) return 2;
    await cleanup();
    process.stderr.write(`audit: failed: ${e && e.stack ? e.stack : e}\n`);
    return 2;
  }
  const browserSecs = (Date.now() - started) / 1000;
  if (browser) { const b = browser; browser = null; await b.close().catch(() => {}); }
  if (server) { const s = server; server = null; s.closeAllConnections(); await new Promise(r => s.close(() => r())); }
  const vnu = await vnuP;
  const secs = (Date.now() - started) / 1000;

  // ---- report
  const L = [];
  const P = s => L.push(s);
  const msgs = rel => (vnu.byPage ? vnu.byPage.get(rel) || [] : []);
  results.sort((a, b) => (a.width - b.width) * -1 || (a.page < b.page ? -1 : a.page > b.page ? 1 : 0));
  P(`audit: ${pages.length} pages × widths ${opts.widths.join(', ')} px = ${results.length} audits; chromium ${browserVersion}; axe-core ${axeVersion} [${TAGS.join(',')} +${EXPERIMENTAL.join(',')}]; vnu ${vnuVersion}`);
  P('');
  P(' width   axe  review  html  warn  result  page');
  let passed = 0, failed = 0, axeTotal = 0, reviewTotal = 0;
  const byRule = new Map();
  for (const r of results) {
    const ms = msgs(r.page);
    const html = { errors: ms.filter(isHtmlError).length, warnings: ms.filter(isHtmlWarning).length };
    const axeN = r.violations.reduce((a, v) => a + v.nodes.length, 0);
    axeTotal += axeN; reviewTotal += r.review;
    const bad = problems(r, html);
    if (bad.length) failed++; else passed++;
    r.passed = !bad.length;
    r.problems = bad;
    P(`${String(r.width).padStart(6)} ${String(axeN).padStart(5)} ${String(r.review).padStart(7)} ${String(html.errors).padStart(5)} ${String(html.warnings).padStart(5)}  ${bad.length ? 'FAIL' : 'ok  '}    ${r.page}${r.scripts ? ` (${r.scripts} script${r.scripts > 1 ? 's' : ''})` : ''}`);
    if (bad.length) P(`${' '.repeat(16)}${bad.join('; ')}`);
    for (const v of r.violations) {
      if (!byRule.has(v.id)) byRule.set(v.id, { v, nodes: 0, pages: new Set(), example: `${r.page}@${r.width} :: ${v.nodes[0] ? v.nodes[0].target : ''}` });
      const e = byRule.get(v.id); e.nodes += v.nodes.length; e.pages.add(`${r.page}@${r.width}`);
      if (opts.verbose) for (const n of v.nodes) P(`${' '.repeat(16)}axe ${v.id}: ${n.target}\n${' '.repeat(18)}${n.html}\n${' '.repeat(18)}${n.summary.replace(/\n/g, ' ')}`);
    }
    if (opts.verbose) {
      for (const u of r.missing) P(`${' '.repeat(16)}missing ${u}`);
      for (const u of r.external) P(`${' '.repeat(16)}external request blocked: ${u}`);
      for (const c of r.console_errors) P(`${' '.repeat(16)}console: ${c}`);
    }
  }
  P('');
  if (!byRule.size) P('axe: no violations');
  else {
    P('axe violations by rule (elements, page×width audits, one example):');
    for (const e of [...byRule.values()].sort((a, b) => b.nodes - a.nodes)) {
      P(`  ${e.v.impact.padEnd(9)} ${e.v.id.padEnd(26)} elements=${e.nodes} audits=${e.pages.size}  e.g. ${e.example}`);
      P(`  ${' '.repeat(9)} ${e.v.help}${e.v.wcag.length ? ` [WCAG ${e.v.wcag.join(' ')}]` : ' [best practice]'}`);
    }
  }
  let htmlErrors = 0, htmlWarnings = 0;
  if (vnu.error) P(`html (vnu): COULD NOT RUN — ${vnu.error}`);
  const groups = new Map();
  for (const rel of pages) for (const m of msgs(rel)) {
    if (isHtmlError(m)) htmlErrors++;
    else if (isHtmlWarning(m)) htmlWarnings++;
    else continue;
    const k = `${isHtmlError(m) ? 'error' : 'warning'}: ${m.message}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(`${rel}:${m.lastLine || m.firstLine || '?'}:${m.firstColumn || '?'}`);
  }
  if (!vnu.error && !groups.size) P('html (vnu): no errors, no warnings');
  for (const [k, where] of [...groups.entries()].sort()) {
    P(`  ${k}`);
    P(`    ×${where.length}: ${opts.verbose ? where.join(', ') : where.slice(0, 3).join(', ') + (where.length > 3 ? ', …' : '')}`);
  }
  P('');
  P(`pages=${pages.length} audits=${results.length} axe_violations=${axeTotal} axe_needs_review=${reviewTotal} html_errors=${vnu.error ? 'NA' : htmlErrors} html_warnings=${vnu.error ? 'NA' : htmlWarnings} time=${secs.toFixed(1)}s (browser ${browserSecs.toFixed(1)}s)`);
  // vnu not running is a failure of every audit: nothing may pass unmeasured.
  if (vnu.error) { failed += passed; passed = 0; }
  P(`a11y: ${passed} passed, ${failed} failed`);
  process.stdout.write(L.join('\n') + '\n');
  if (opts.json) {
    fs.writeFileSync(opts.json, JSON.stringify({
      pages, widths: opts.widths, chromium: browserVersion, axe: axeVersion, vnu: vnuVersion, vnu_error: vnu.error || null,
      results: results.map(r => ({ ...r, html: msgs(r.page).filter(m => isHtmlError(m) || isHtmlWarning(m)) })),
      passed, failed, axe_violations: axeTotal, html_errors: htmlErrors, seconds: secs,
    }, null, 1));
  }
  if (vnu.error) return 2;
  return failed ? 1 : 0;
}

// ----------------------------------------------------------------- selftest

// Each fault goes into one page of a copy of the site. The audit of the copy must fail
// exactly those pages (at the widths given), each for the reason planted, and pass the rest.
const FAULTS = [
  {
    name: 'image without alt',
    page: p => p === 'agencies/index.html',
    plant: (html, copy) => {
      fs.writeFileSync(path.join(copy, 'static', 'planted.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#9b1c1c"/></svg>');
      return html.replace(/<h1>/, '<img src="../static/planted.svg" width="40" height="20"><h1>');
    },
    expect: { axe: ['image-alt'], html: /alt/ },
  },
  {
    name: 'table cells without headers',
    // a report page with tables: every header cell becomes a data cell, every headers= goes
    page: (p, html) => /^reports\//.test(p) && /<table[^>]*class="?report-table/.test(html),
    plant: html => html
      .replace(/<th\b/g, '<td').replace(/<\/th>/g, '</td>')
      .replace(/\s(headers|scope)=("[^"]*"|[^\s>]*)/g, ''),
    expect: { axe: ['td-has-header'] },
  },
  {
    name: 'duplicate id (HTML error only)',
    page: p => p === 'years/index.html',
    plant: html => html.replace(/<\/h1>/, '</h1><p id="main">重复的 id</p>'),
    expect: { axe: [], html: /Duplicate ID/ },
  },
  {
    name: 'text below contrast AA',
    page: (p, html) => /^agencies\/[^/]+\/index\.html$/.test(p),
    plant: html => html.replace(/<\/h1>/, '</h1><p style="color:#b0b0b0">浅灰色文字对比度不足</p>'),
    expect: { axe: ['color-contrast'] },
  },
  {
    name: 'page wider than a phone',
    page: p => p === 'index.html',
    plant: html => html.replace(/<\/h1>/, '</h1><p style="width:600px">固定宽度的段落使整页横向滚动</p>'),
    expect: { axe: [], hscroll: true, widths: w => w < 600 },
  },
  {
    name: 'sortable table without its script',
    // a peer page whose sort script is not loaded: its sortable headers get no buttons
    page: (p, html) => /^years\/\d+\/compare\/index\.html$/.test(p) && /data-sortable/.test(html),
    plant: html => html.replace(/<script[^>]*sort\.js[^>]*><\/script>/, ''),
    expect: { axe: [], sort: true },
  },
  {
    name: 'no lang on html',
    page: (p, html) => /^years\/\d+\/index\.html$/.test(p),
    plant: html => html.replace(/<html\s+lang=("[^"]*"|[^\s>]*)/, '<html'),
    expect: { axe: ['html-has-lang'] },
  },
];

async function selftest(opts) {
  const src = path.resolve(opts.dir);
  if (!fs.existsSync(src) || !fs.statSync(src).isDirectory()) die(`not a directory: ${opts.dir}`);
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'a11y-selftest-'));
  let pass = 0, fail = 0;
  const check = (name, ok, detail) => {
    if (ok) pass++; else fail++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail ? ` — ${detail}` : ''}`);
  };
  try {
    fs.cpSync(src, copy, { recursive: true });
    const pages = listHtml(copy);
    const planted = new Map(); // page -> fault
    for (const f of FAULTS) {
      const page = pages.find(p => !planted.has(p) && f.page(p, fs.readFileSync(path.join(copy, p), 'utf8')));
      if (!page) { check(`plant ${f.name}`, false, 'no page to plant it in'); continue; }
      const file = path.join(copy, page);
      const before = fs.readFileSync(file, 'utf8');
      const after = f.plant(before, copy);
      if (after === before) { check(`plant ${f.name}`, false, `${page} unchanged`); continue; }
      fs.writeFileSync(file, after);
      planted.set(page, f);
    }
    // Besides the planted pages, audit a clean report page and a clean agency page (they must
    // pass); the other pages are dropped from the copy to keep the self-test quick — the main
    // audit covers them.
    const html = p => fs.readFileSync(path.join(copy, p), 'utf8');
    const controls = [
      p => /^reports\//.test(p) && /<table[^>]*class="?report-table/.test(html(p)),
      p => /^agencies\/[^/]+\/index\.html$/.test(p),
    ].map(ok => pages.find(p => !planted.has(p) && ok(p))).filter(Boolean);
    for (const p of pages) if (!planted.has(p) && !controls.includes(p)) fs.rmSync(path.join(copy, p));
    check(`clean control pages to pass: ${controls.join(', ')}`, controls.length === 2, 'not found');
    const json = path.join(copy, '.audit.json');
    const child = spawn(process.execPath, [__filename, '--json', json, '--widths', opts.widths.join(','),
      '--chromium', opts.chromium, '--java', opts.java, '--concurrency', String(opts.concurrency), copy],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', d => { out += d; });
    const code = await new Promise(r => child.on('close', r));
    const last = out.trimEnd().split('\n').pop();
    check('the audit of the faulty copy exits 1', code === 1, `exit ${code}`);
    let j = null;
    try { j = JSON.parse(fs.readFileSync(json, 'utf8')); } catch (e) { check('the audit writes its findings', false, e.message); }
    if (j) {
      const expectFail = r => {
        const f = planted.get(r.page);
        return !!f && (!f.expect.widths || f.expect.widths(r.width));
      };
      const nFail = j.results.filter(expectFail).length;
      check(`closing line counts ${j.results.length - nFail} passed, ${nFail} failed`,
        last === `a11y: ${j.results.length - nFail} passed, ${nFail} failed`, `got "${last}"`);
      const wrong = j.results.filter(r => r.passed === expectFail(r)).map(r => `${r.page}@${r.width} ${r.passed ? 'passed' : 'failed: ' + r.problems.join('; ')}`);
      check('exactly the planted pages fail, every other page passes', !wrong.length, wrong.join(' | '));
      for (const [page, f] of planted) {
        const rs = j.results.filter(r => r.page === page && (!f.expect.widths || f.expect.widths(r.width)));
        const why = [];
        for (const r of rs) {
          const ids = r.violations.map(v => v.id);
          for (const id of f.expect.axe) if (!ids.includes(id)) why.push(`${r.width}: no axe ${id} (got ${ids.join(',') || 'none'})`);
          if (f.expect.html && !r.html.some(m => isHtmlError(m) && f.expect.html.test(m.message))) why.push(`${r.width}: no HTML error matching ${f.expect.html}`);
          if (f.expect.hscroll && !r.hscroll) why.push(`${r.width}: no sideways scroll found`);
          if (f.expect.sort && !(r.sort || []).length) why.push(`${r.width}: the sort check found nothing`);
        }
        check(`${f.name}: caught on ${page} at ${rs.map(r => r.width).join(', ')} px`, rs.length && !why.length, why.join('; ') || 'not audited');
      }
    }
    if (fail) process.stdout.write(out.replace(/^/gm, '  | '));
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
  console.log(`a11y-selftest: ${pass} passed, ${fail} failed`);
  return fail ? 1 : 0;
}

const opts = parseArgs(process.argv.slice(2));
(opts.selftest ? selftest(opts) : audit(opts)).then(code => { process.exitCode = code; }, e => {
  process.stderr.write(`audit: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 2;
});
