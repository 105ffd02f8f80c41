// The ringfence dashboard in a real browser: Debian's chromium driven by playwright-core.
//
// Starts the real `ringfence serve` on examples/ecosystem.toml with a live guard (the example guard
// config pointed at loopback ports where no chain answers, so the watcher raises a real `stale`
// alert through the store and the event stream), then loads every view, clicks a component and an
// asset, runs a stress scenario (fail `resolv-service-role`), acknowledges an alert, and checks
// what is shown against the API. Screenshots are kept in test-artifacts/browser/.
//
// Run through scripts/test-browser.sh (builds the binary, installs chromium and playwright-core).
// RINGFENCE_BIN overrides the binary.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.RINGFENCE_BIN || path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'debug/ringfence');
const ARTIFACTS = path.join(ROOT, 'test-artifacts/browser');
const TOKEN = 'browser-test-token';
// Anvil's first well-known development key (public; it guards nothing real).
const GUARDIAN_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

let tmp, server, base, context, page;
const problems = [];

/** A loopback port nobody listens on (bound, then released). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The example guard config, with its store in `dir` and its chains on dead loopback ports. */
async function guardConfig(dir) {
  let text = await readFile(path.join(ROOT, 'examples/guard/ringfence-guard.toml'), 'utf8');
  text = text.replace(/^path = "ringfence\.db".*$/m, `path = ${JSON.stringify(path.join(dir, 'guard.db'))}`);
  for (const port of [8545, 8546]) {
    text = text.replace(`rpc = "http://127.0.0.1:${port}"`, `rpc = "http://127.0.0.1:${await freePort()}"\nstale_after_s = 1`);
  }
  assert.match(text, /guard\.db/);
  assert.equal((text.match(/stale_after_s = 1/g) || []).length, 2, 'the example guard config changed shape');
  const file = path.join(dir, 'guard.toml');
  await writeFile(file, text);
  return file;
}

function startServer(guard) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['serve', '--spec', path.join(ROOT, 'examples/ecosystem.toml'), '--guard', guard, '--addr', '127.0.0.1:0'], {
      cwd: tmp,
      env: { ...process.env, RINGFENCE_API_TOKEN: TOKEN, RINGFENCE_GUARDIAN_KEY: GUARDIAN_KEY, RUST_LOG: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    const timer = setTimeout(() => reject(new Error(`ringfence serve did not start in 20 s:\n${err}`)), 20_000);
    child.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/serving the dashboard on (http:\/\/[0-9.:]+)\//);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1], stderr: () => err }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`ringfence serve exited with ${code}:\n${err}`)); });
  });
}

async function api(p, opts = {}) {
  const resp = await fetch(`${base}${p}`, opts);
  return { status: resp.status, body: await resp.json() };
}

async function shot(name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function view(name) {
  await page.goto(`${base}/#${name}`);
  await page.waitForSelector('body[data-loaded]');
  await page.waitForSelector(`#view-${name}.active`);
}

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'ringfence-browser-'));
  await mkdir(ARTIFACTS, { recursive: true });
  server = await startServer(await guardConfig(tmp));
  base = server.url;
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 1000 },
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  // Offline: the page must never reach beyond the server.
  await context.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  page.on('requestfailed', (r) => { if (!r.url().startsWith(base)) problems.push(`left the server: ${r.url()}`); });
});

after(async () => {
  if (context) await context.close();
  if (server) server.child.kill('SIGINT');
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('the graph view shows the ecosystem and its summary', async () => {
  await view('graph');
  const spec = (await api('/api/spec')).body;
  const total = await page.textContent('#summary .stat .v');
  assert.match(total, /^\$\d/);
  const assets = await page.locator('#graph-svg .node.asset').count();
  assert.equal(assets, spec.counts.assets);
  assert.ok(await page.locator('#graph-svg .node.component').count() > 20);
  assert.match(await page.textContent('#spec-name'), /ecosystem\.toml · generation 1/);
  await shot('1-graph');
});

test('clicking a component shows the value at risk behind it and its assets', async () => {
  await view('graph');
  await page.click('#graph-svg .node.component[data-id="resolv-service-role"]');
  await page.waitForSelector('#detail-title');
  assert.equal(await page.textContent('#detail-title'), 'resolv-service-role');
  const exposure = (await api('/api/exposure')).body;
  const comp = exposure.components.find((c) => c.id === 'resolv-service-role');
  const shown = await page.textContent('#detail-var');
  assert.match(shown, /^\$\d+(\.\d+)?[KMB]$/);
  assert.ok(Math.abs(parseMoney(shown) - comp.value_at_risk_usd) / comp.value_at_risk_usd < 0.01, `${shown} vs ${comp.value_at_risk_usd}`);
  const rows = await page.locator('#detail-table tr.dep-row').evaluateAll((trs) => trs.map((tr) => tr.dataset.asset));
  assert.ok(rows.includes('USR'), rows.join(','));
  // USR is highlighted in the graph with the fraction it loses.
  const usr = page.locator('#graph-svg .node.asset[data-id="USR"]');
  assert.match(await usr.getAttribute('class'), /\bhl\b/);
  assert.equal(await usr.locator('.frac').textContent(), '100%');
  assert.match(await page.locator('#graph-svg').getAttribute('class'), /focus/);
  await shot('2-graph-component');

  // Click an asset: everything it depends on is highlighted, with fractions.
  await page.click('#graph-svg .node.asset[data-id="USR"]');
  assert.equal(await page.textContent('#detail-title'), 'USR');
  const deps = await page.locator('#detail-table tr.dep-row').evaluateAll((trs) => trs.map((tr) => tr.dataset.component));
  const graph = (await api('/api/graph')).body;
  assert.deepEqual(new Set(deps), new Set(Object.keys(graph.assets.find((a) => a.id === 'USR').depends_on)));
  assert.equal(await page.locator('#graph-svg .node.component[data-id="resolv-service-role"] .frac').textContent(), '100%');
  await shot('3-graph-asset');
});

// Regression (issue 10 item 10): graph labels overlapped ("hosting:bitgo-va20%") and were clipped
// at the left edge ("xlUSDC@avalanche"). With an asset selected (fractions shown), no two labels
// of the graph overlap and every label lies inside the picture.
test('graph labels neither overlap nor leave the picture', async () => {
  await view('graph');
  await page.click('#graph-svg .node.asset[data-id="USR"]');
  const boxes = await page.locator('#graph-svg').evaluate((svg) => {
    const outer = svg.getBoundingClientRect();
    const out = [];
    for (const t of svg.querySelectorAll('text')) {
      if (!t.textContent) continue;
      const b = t.getBoundingClientRect();
      out.push({ text: t.textContent, x: b.x, y: b.y, r: b.right, b: b.bottom, outside: b.x < outer.x - 0.5 || b.right > outer.right + 0.5 });
    }
    return out;
  });
  const clipped = boxes.filter((b) => b.outside).map((b) => b.text);
  assert.deepEqual(clipped, [], `labels outside the graph: ${clipped.join(', ')}`);
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const p = boxes[i], q = boxes[j];
      const w = Math.min(p.r, q.r) - Math.max(p.x, q.x), hgt = Math.min(p.b, q.b) - Math.max(p.y, q.y);
      if (w > 1 && hgt > 1) overlaps.push(`${p.text} / ${q.text}`);
    }
  }
  assert.deepEqual(overlaps, [], `overlapping labels: ${overlaps.slice(0, 5).join('; ')}`);
});

// Issue 16: the graph is laid out once, in Rust. The page draws the server's layout number for
// number, and the HTML report (`ringfence exposure --format html`) draws the same circles.
test('the graph is drawn from the server\'s layout, the same as the HTML report', async () => {
  await view('graph');
  const layout = (await api('/api/graph')).body.layout;
  const svg = page.locator('#graph-svg');
  assert.equal(await svg.getAttribute('viewBox'), `0 0 ${layout.width} ${layout.height}`);
  const drawn = await svg.evaluate((el) => [...el.querySelectorAll('.node')].map((g) => {
    const c = g.querySelector('circle');
    const t = g.querySelector('text:not(.frac)');
    return { id: g.dataset.id, kind: g.dataset.kind, x: +c.getAttribute('cx'), y: +c.getAttribute('cy'), r: +c.getAttribute('r'),
      fill: c.getAttribute('fill'), label: t.textContent, lx: +t.getAttribute('x'), ly: +t.getAttribute('y') };
  }));
  const want = [...layout.assets, ...layout.components].map((n) => ({ id: n.id, kind: n.kind, x: n.x, y: n.y, r: n.r, fill: n.fill,
    label: n.label.text, lx: n.label.x, ly: n.label.y }));
  assert.ok(want.length > 40, `${want.length} nodes`);
  assert.deepEqual(drawn, want);
  const edges = await svg.evaluate((el) => [...el.querySelectorAll('path.edge')].map((p) => p.getAttribute('d')));
  assert.deepEqual(edges, layout.edges.map((e) => e.d));
  const titles = await svg.evaluate((el) => [...el.querySelectorAll('.col-title')].map((t) => [t.textContent, +t.getAttribute('x')]));
  assert.deepEqual(titles, layout.columns.map((c) => [c.title.text, c.title.x]));

  const html = report(['exposure', path.join(ROOT, 'examples/ecosystem.toml'), '--format', 'html']);
  const circles = [...html.matchAll(/<g class="(asset|component)" data-id="([^"]+)"><circle cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)"/g)]
    .map((m) => [m[2], Number(m[3]), Number(m[4]), Number(m[5])]);
  assert.deepEqual(circles, drawn.map((n) => [n.id, n.x, n.y, n.r]));
});

test('the exposure view lists value at risk, single points of failure and hidden shared dependencies', async () => {
  await view('exposure');
  const exposure = (await api('/api/exposure')).body;
  assert.ok(await page.locator('#components tbody tr').count() >= 10);
  assert.equal(await page.locator('#spofs tbody tr').count(), exposure.single_points_of_failure.length);
  assert.equal(await page.locator('#hidden .callout').count(), exposure.hidden_shared_dependencies.length);
  assert.match(await page.textContent('#hidden'), /hosting:aws/);
  await shot('4-exposure');
});

test('the limits view draws a gauge per policy and the breaches', async () => {
  await view('limits');
  const policies = (await api('/api/policies')).body.policies;
  assert.equal(await page.locator('#gauges .gauge').count(), policies.length);
  assert.equal(await page.locator('#gauges .gauge.breached').count(), policies.filter((p) => p.breached).length);
  const limits = (await api('/api/limits')).body;
  assert.equal(await page.locator('#breaches-table tbody tr').count(), limits.breaches.length);
  assert.ok(await page.locator('#gauges .fill.over').count() >= 1);
  await shot('5-limits');
});

test('the lint view shows every finding', async () => {
  await view('lint');
  const lint = (await api('/api/lint')).body;
  assert.equal(await page.locator('#lint-findings tbody tr').count(), lint.findings.length);
  await page.click('#lint-filter button:has-text("critical")');
  const crit = lint.findings.filter((f) => f.severity === 'critical').length;
  assert.equal(await page.locator('#lint-findings tbody tr').count(), crit);
  await shot('6-lint');
});

test('a stress scenario shows the waterfall of losses and the multiplier', async () => {
  await view('stress');
  await page.fill('#pick-filter', 'resolv');
  await page.check('#pick-list input[data-id="resolv-service-role"]');
  assert.equal(await page.locator('#picked .chip').count(), 1);
  await page.click('#run-stress');
  await page.waitForSelector('#stress-direct');
  assert.equal(await page.textContent('#stress-failed'), 'resolv-service-role');
  const want = (await api('/api/stress', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ fail: ['resolv-service-role'] }) })).body;
  const direct = await page.textContent('#stress-direct .v');
  assert.ok(Math.abs(parseMoney(direct) - want.direct_loss_usd) <= Math.max(1, want.direct_loss_usd * 0.01), `${direct} vs ${want.direct_loss_usd}`);
  const mult = await page.textContent('#stress-multiplier .v');
  assert.equal(mult, want.loss_multiplier === null ? 'n/a' : `${want.loss_multiplier.toFixed(1)}:1`);
  const disrupted = await page.textContent('#stress-disrupted .v');
  assert.ok(Math.abs(parseMoney(disrupted) - want.disrupted_value_usd) <= Math.max(1, want.disrupted_value_usd * 0.01), `${disrupted} vs ${want.disrupted_value_usd}`);
  // The chart is the HTML report's: its total bar is the realized loss.
  const totalLabel = await page.locator('#waterfall-svg g.bar[data-label="total"] text').first().textContent();
  assert.ok(Math.abs(parseMoney(totalLabel) - want.realized_loss_usd) <= Math.max(1, want.realized_loss_usd * 0.01), `${totalLabel} vs ${want.realized_loss_usd}`);
  const bars = await page.locator('#waterfall-svg g.bar').evaluateAll((gs) => gs.map((g) => g.dataset.label));
  assert.equal(bars[0], 'round 0');
  assert.equal(bars.at(-1), 'total');
  assert.ok(await page.locator('#waterfall-svg rect').count() >= 2);
  // Issue 16: the chart is laid out once, in Rust: the page draws the server's bars number for
  // number, and the stress HTML report (`ringfence stress --format html`) the same rectangles.
  const drawnBars = await page.locator('#waterfall-svg g.bar').evaluateAll((gs) => gs.map((g) => ({
    label: g.dataset.label,
    value: g.querySelector('text').textContent,
    segments: [...g.querySelectorAll('rect')].map((r) => ({ part: r.dataset.part, x: +r.getAttribute('x'), y: +r.getAttribute('y'),
      width: +r.getAttribute('width'), height: +r.getAttribute('height') })),
  })));
  assert.deepEqual(drawnBars, want.waterfall.bars.map((b) => ({ label: b.label, value: b.value.text,
    segments: b.segments.map((sg) => ({ part: sg.part, x: b.x, y: sg.y, width: b.width, height: sg.height })) })));
  const ticks = await page.locator('#waterfall-svg line.grid').evaluateAll((ls) => ls.map((l) => +l.getAttribute('y1')));
  assert.deepEqual(ticks, want.waterfall.ticks.map((t) => t.line.y1));
  const html = report(['stress', path.join(ROOT, 'examples/ecosystem.toml'), '--fail', 'resolv-service-role', '--format', 'html']);
  const chart = html.slice(html.indexOf('<h2>Losses by round</h2>'), html.indexOf('<h2>Protocols</h2>'));
  const rects = [...chart.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="[^"]+"><title>/g)]
    .map((m) => m.slice(1).join(' '));
  const tenth = (v) => v.toFixed(1);
  assert.deepEqual(rects, drawnBars.flatMap((b) => b.segments.map((sg) => [sg.x, sg.y, sg.width, sg.height].map(tenth).join(' '))));
  assert.equal(await page.locator('#rounds-table tbody tr').count(), want.rounds.length);
  await shot('7-stress');

  // An unknown component is refused by the API with its name.
  const bad = await api('/api/stress', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ fail: ['no-such-key'] }) });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /no-such-key/);
});

test('the guard view shows the chains and a live alert, which can be acknowledged', async () => {
  await view('guard');
  await page.waitForSelector('#chains-table');
  const chains = await page.locator('#chains-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.chain));
  assert.deepEqual(chains, ['src', 'dst']);
  assert.equal(await page.textContent('#watcher-state .v'), 'running');
  // No chain answers: the watcher raises `stale` alerts, stored and streamed to the page live.
  await page.waitForSelector('#trips-table tr.trip-row', { timeout: 30_000 });
  const row = page.locator('#trips-table tr.trip-row').first();
  assert.match(await row.textContent(), /stale/);
  assert.equal(await page.textContent('#live'), '● live');
  await row.click();
  const id = await row.getAttribute('data-id');
  const evidence = page.locator(`#trips-table tr.evidence-row[data-for="${id}"]`);
  assert.match(await evidence.textContent(), /"error"/);

  // Acknowledge: without the token the page says what to enter; with it, the row is acknowledged.
  await row.locator('button.ack').click();
  await page.waitForSelector('#toast:not(.hidden)');
  assert.match(await page.textContent('#toast'), /API token/);
  await page.fill('#token', TOKEN);
  page.once('dialog', (d) => d.accept('seen in the browser test'));
  await page.locator(`#trips-table tr.trip-row[data-id="${id}"] button.ack`).click();
  await page.waitForSelector(`#trips-table tr.trip-row.acked[data-id="${id}"]`);
  assert.match(await page.textContent(`#trips-table tr.trip-row[data-id="${id}"]`), /seen in the browser test/);
  const stored = (await api(`/api/trips/${id}`)).body;
  assert.equal(stored.acked.note, 'seen in the browser test');
  // Un-pausing is never offered.
  assert.equal(await page.locator('text=/unpause|un-pause|resume/i').count(), 0);
  await shot('8-guard');
});

test('live events reach the open page: a spec reload shows without a refresh', async () => {
  await view('graph');
  await page.waitForSelector('#live.on');
  const denied = await api('/api/reload', { method: 'POST' });
  assert.equal(denied.status, 401);
  const r = await api('/api/reload', { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 200);
  await page.waitForFunction(() => document.getElementById('spec-name').textContent.includes('generation 2'));
  assert.equal(await page.evaluate(() => document.body.dataset.loaded), '2');
});

test('the page made no errors and never left the server', () => {
  assert.deepEqual(problems, []);
});

/** What `ringfence ARGS` prints on stdout (an HTML report). */
function report(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
  assert.ok(r.status === 0 || r.status === 1, `ringfence ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function parseMoney(text) {
  const m = text.match(/^(-?)\$([\d.]+)([KMB]?)$/);
  assert.ok(m, `not money: ${text}`);
  const unit = { '': 1, K: 1e3, M: 1e6, B: 1e9 }[m[3]];
  return (m[1] ? -1 : 1) * Number(m[2]) * unit;
}
