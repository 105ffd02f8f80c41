// The ringfence dashboard: plain JavaScript over the server's JSON API, no dependencies, no build
// step. Everything is drawn with DOM and inline SVG built here; text always goes in through
// textContent, never innerHTML, so ids and messages from a spec cannot inject markup.
'use strict';

const KINDS = ['layer', 'verifier_set', 'key', 'operator', 'org', 'hosting', 'chain'];
const KIND_LABEL = {
  asset: 'asset', layer: 'layer', verifier_set: 'verifier set', key: 'key', operator: 'operator',
  org: 'org', hosting: 'hosting', chain: 'chain',
};
const KIND_COLOUR = {
  asset: '#2b6cb0', layer: '#805ad5', verifier_set: '#d69e2e', key: '#c53030', operator: '#38a169',
  org: '#dd6b20', hosting: '#e53e3e', chain: '#4a5568',
};
const GRAPH_COMPONENTS = 70;
const SVGNS = 'http://www.w3.org/2000/svg';

const state = {
  spec: null, exposure: null, limits: null, lint: null, graph: null, policies: null, guard: null,
  compById: new Map(), assetById: new Map(), selected: null,
  picked: new Set(), lastStress: null,
  kindFilter: 'all', lintFilter: 'all', tripFilter: 'all', tripPage: 1, tripPages: 1,
  freshIds: new Set(),
};

// ---------- helpers ----------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) if (c) el.append(c);
  return el;
}

// ---- number formats: the same rules as crates/report (usd, pct, multiplier); pinned to them by
// tests/fixtures/format/golden.json, which both the Rust and the node tests check ----
function usd(v) {
  if (v === null || v === undefined || !isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  const sign = v < 0 ? '-' : '';
  if (a >= 1e9) return `${sign}$${(a / 1e9).toFixed(2)}B`;
  if (a >= 1e6) return `${sign}$${(a / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${sign}$${(a / 1e3).toFixed(1)}K`;
  return `${sign}$${a.toFixed(0)}`;
}

function pct(v, digits = 1) {
  if (v === null || v === undefined || !isFinite(v)) return 'n/a';
  return `${(v * 100).toFixed(digits)}%`;
}

function multiplier(m) {
  return m === null || m === undefined || !isFinite(m) ? 'n/a' : `${m.toFixed(1)}:1`;
}
// ---- end of number formats ----

function when(ts) {
  if (!ts) return '';
  return new Date(ts * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
function $(id) { return document.getElementById(id); }

function toast(msg, error) {
  const t = $('toast');
  t.textContent = msg;
  t.className = error ? 'toast err' : 'toast';
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.add('hidden'), error ? 8000 : 4000);
}

function token() { return $('token').value.trim(); }

async function api(path, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.auth && token()) headers.Authorization = `Bearer ${token()}`;
  const resp = await fetch(path, {
    method: opts.method || 'GET', headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  let body = null;
  try { body = await resp.json(); } catch (_) { body = null; }
  if (!resp.ok) {
    const err = new Error((body && body.error) || `${resp.status} ${resp.statusText}`);
    err.status = resp.status;
    err.body = body;
    throw err;
  }
  return body;
}

function table(headers, rows, opts = {}) {
  const thead = h('thead', {}, h('tr', {}, headers.map((c) => {
    const [label, cls] = Array.isArray(c) ? c : [c, ''];
    return h('th', { class: cls }, label);
  })));
  const tbody = h('tbody', {}, rows);
  const t = h('table', { id: opts.id }, thead, tbody);
  return h('div', { class: 'tbl' }, t);
}

function kindDot(kind) { return h('span', { class: `kind ${kind}`, title: KIND_LABEL[kind] || kind }); }
function sev(name) { return h('span', { class: `sev ${name}` }, name); }

// ---------- data ----------

async function loadAll() {
  const [spec, exposure, limits, lint, graph, policies] = await Promise.all([
    api('/api/spec'), api('/api/exposure'), api('/api/limits'), api('/api/lint'),
    api('/api/graph'), api('/api/policies'),
  ]);
  Object.assign(state, { spec, exposure, limits, lint, graph, policies });
  state.compById = new Map(graph.components.map((c) => [c.id, c]));
  state.assetById = new Map(graph.assets.map((a) => [a.id, a]));
  renderSummary();
  renderGraph();
  renderExposure();
  renderLimits();
  renderLint();
  renderPicker();
  document.body.dataset.loaded = String(spec.generation);
}

// ---------- summary ----------

function renderSummary() {
  const { spec, exposure, lint } = state;
  $('spec-name').textContent = `${spec.spec} · generation ${spec.generation}`;
  const crit = lint.findings.filter((f) => f.severity === 'critical').length;
  const stat = (label, value, cls) => h('div', { class: `stat ${cls || ''}` }, h('div', { class: 'v' }, value), h('div', { class: 'l' }, label));
  clear($('summary')).append(
    stat('total value', usd(exposure.total_value_usd)),
    stat('assets', spec.counts.assets),
    stat('components', spec.counts.components),
    stat('single points of failure', exposure.single_points_of_failure.length, exposure.single_points_of_failure.length ? 'warn' : ''),
    stat('hidden shared deps', exposure.hidden_shared_dependencies.length, exposure.hidden_shared_dependencies.length ? 'warn' : ''),
    stat('policy breaches', state.limits.breaches.length, state.limits.breaches.length ? 'bad' : ''),
    stat('critical findings', crit, crit ? 'bad' : ''),
  );
}

// ---------- graph ----------

function graphComponents() {
  const shown = new Set();
  for (const a of state.graph.assets) for (const c of a.own) shown.add(c);
  return [...shown]
    .map((id) => state.compById.get(id))
    .filter(Boolean)
    .sort((a, b) => b.value_at_risk_usd - a.value_at_risk_usd || a.id.localeCompare(b.id))
    .slice(0, GRAPH_COMPONENTS);
}

function renderGraph() {
  const host = clear($('graph'));
  const assets = [...state.graph.assets].sort((a, b) => b.value_usd - a.value_usd || a.id.localeCompare(b.id));
  const comps = graphComponents();
  const columns = KINDS.map((k) => comps.filter((c) => c.kind === k).sort((a, b) => a.id.localeCompare(b.id)))
    .filter((col) => col.length);
  const kinds = columns.map((col) => col[0].kind);
  const rows = Math.max(assets.length, ...columns.map((c) => c.length), 1);
  // Room for the longest asset label on the left, and columns wide enough that a component's
  // label (at most 20 characters) never runs into the next column's fraction.
  const CHAR_W = 6.6;
  const left = Math.max(116, Math.ceil(Math.max(0, ...assets.map((a) => a.id.length)) * CHAR_W) + 24);
  const colW = 190, rowH = 24, top = 34;
  const width = left + colW * columns.length + 70;
  const height = top + rowH * rows + 10;
  const maxVal = Math.max(1, ...assets.map((a) => a.value_usd));
  const maxVar = Math.max(1, ...comps.map((c) => c.value_at_risk_usd));
  const radius = (v, max) => 3 + 8 * Math.sqrt(Math.max(0, v) / max);
  const pos = new Map();
  assets.forEach((a, i) => pos.set(`a:${a.id}`, [left, top + (rows - assets.length) * rowH / 2 + rowH * i + rowH / 2]));
  columns.forEach((col, ci) => {
    const x = left + colW * (ci + 1) - 20;
    col.forEach((c, ri) => pos.set(`c:${c.id}`, [x, top + (rows - col.length) * rowH / 2 + rowH * ri + rowH / 2]));
  });
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'dependency graph', id: 'graph-svg' });
  svg.append(s('text', { x: left, y: 16, 'text-anchor': 'middle', class: 'col-title', text: 'asset' }));
  kinds.forEach((k, ci) => svg.append(s('text', { x: left + colW * (ci + 1) - 20, y: 16, 'text-anchor': 'middle', class: 'col-title', text: KIND_LABEL[k] })));
  const edges = s('g', {});
  for (const a of assets) {
    const [x1, y1] = pos.get(`a:${a.id}`);
    for (const c of a.own) {
      const p = pos.get(`c:${c}`);
      if (!p) continue;
      const [x2, y2] = p;
      const mx = (x1 + x2) / 2;
      edges.append(s('path', { class: 'edge', d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, 'data-asset': a.id, 'data-component': c }));
    }
  }
  svg.append(edges);
  for (const a of assets) {
    const [x, y] = pos.get(`a:${a.id}`);
    const r = radius(a.value_usd, maxVal);
    const g = s('g', { class: 'node asset', 'data-id': a.id, 'data-kind': 'asset', onclick: () => select('asset', a.id) },
      s('rect', { class: 'hit', x: x - left + 4, y: y - rowH / 2, width: left - 4 + r + 36, height: rowH }),
      s('circle', { cx: x, cy: y, r, fill: KIND_COLOUR.asset }, s('title', { text: `${a.id}: ${usd(a.value_usd)}` })),
      s('text', { x: x - r - 4, y: y + 4, 'text-anchor': 'end', text: a.id }),
      s('text', { x: x + r + 3, y: y + 4, class: 'frac', text: '' }));
    svg.append(g);
  }
  for (const c of comps) {
    const [x, y] = pos.get(`c:${c.id}`);
    const r = radius(c.value_at_risk_usd, maxVar);
    const label = c.id.length > 20 ? `${c.id.slice(0, 19)}…` : c.id;
    const g = s('g', { class: 'node component', 'data-id': c.id, 'data-kind': c.kind, onclick: () => select('component', c.id) },
      s('rect', { class: 'hit', x: x - r - 36, y: y - rowH / 2, width: colW + 16, height: rowH }),
      s('circle', { cx: x, cy: y, r, fill: KIND_COLOUR[c.kind] }, s('title', { text: `${c.id} (${KIND_LABEL[c.kind]}): ${usd(c.value_at_risk_usd)} at risk` })),
      s('text', { x: x + r + 3, y: y + 4, text: label }),
      s('text', { x: x - r - 3, y: y + 4, 'text-anchor': 'end', class: 'frac', text: '' }));
    svg.append(g);
  }
  host.append(svg);
  const legend = clear($('graph-legend'));
  for (const k of ['asset', ...KINDS]) legend.append(h('span', {}, kindDot(k), KIND_LABEL[k]));
  if (comps.length >= GRAPH_COMPONENTS) legend.append(h('span', {}, `showing the ${comps.length} components with the most value at risk`));
  legend.append(h('span', {}, 'circle size: value (assets) · value at risk (components)'));
  if (state.selected) select(state.selected.type, state.selected.id);
}

function select(type, id) {
  state.selected = { type, id };
  const svg = $('graph-svg');
  if (!svg) return;
  svg.classList.add('focus');
  for (const n of svg.querySelectorAll('.node')) {
    n.classList.remove('hl', 'sel');
    const f = n.querySelector('.frac');
    if (f) f.textContent = '';
  }
  for (const e of svg.querySelectorAll('.edge')) e.classList.remove('hl');
  const node = (kind, nid) => svg.querySelector(`.node.${kind}[data-id="${CSS.escape(nid)}"]`);
  const mark = (el, frac) => {
    if (!el) return;
    el.classList.add('hl');
    if (frac !== undefined) el.querySelector('.frac').textContent = frac >= 0.9995 ? '100%' : `${(frac * 100).toFixed(frac < 0.1 ? 1 : 0)}%`;
  };
  if (type === 'asset') {
    const a = state.assetById.get(id);
    if (!a) return;
    const me = node('asset', id);
    mark(me);
    if (me) me.classList.add('sel');
    for (const [c, f] of Object.entries(a.depends_on)) mark(node('component', c), f);
    for (const b of a.backing) mark(node('asset', b.asset), b.share);
    for (const e of svg.querySelectorAll(`.edge[data-asset="${CSS.escape(id)}"]`)) e.classList.add('hl');
    // Inherited dependencies: highlight the backing assets' edges too.
    for (const b of a.backing) for (const e of svg.querySelectorAll(`.edge[data-asset="${CSS.escape(b.asset)}"]`)) e.classList.add('hl');
    renderAssetDetail(a);
  } else {
    const c = state.compById.get(id);
    if (!c) return;
    const me = node('component', id);
    mark(me);
    if (me) me.classList.add('sel');
    for (const a of state.graph.assets) {
      const f = a.depends_on[id];
      if (f > 0) mark(node('asset', a.id), f);
    }
    for (const e of svg.querySelectorAll(`.edge[data-component="${CSS.escape(id)}"]`)) e.classList.add('hl');
    renderComponentDetail(c);
  }
}

function renderAssetDetail(a) {
  const deps = Object.entries(a.depends_on).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  const rows = deps.map(([c, f]) => {
    const comp = state.compById.get(c);
    return h('tr', { class: 'dep-row', dataset: { component: c } },
      h('td', {}, kindDot(comp ? comp.kind : 'chain'), h('a', { href: '#graph', onclick: (ev) => { ev.preventDefault(); select('component', c); } }, c)),
      h('td', { class: 'n' }, pct(f, 0)), h('td', { class: 'n' }, usd(a.value_usd * f)));
  });
  clear($('detail')).append(
    h('div', { class: 'muted small' }, `asset · ${a.kind} on ${a.chain}`),
    h('h3', { id: 'detail-title' }, a.id),
    h('p', {}, h('strong', {}, usd(a.value_usd)), ' of value', a.route ? ` · bridged over ${a.route}` : ''),
    a.backing.length ? h('p', { class: 'small' }, 'backed by ', a.backing.map((b, i) => [i ? ', ' : '', `${b.asset} (${pct(b.share)})`])) : null,
    h('p', { class: 'small muted' }, `It depends on ${deps.length} component${deps.length === 1 ? '' : 's'}: the share of its value lost if each fails.`),
    table(['component', ['lost', 'n'], ['value', 'n']], rows, { id: 'detail-table' }),
  );
}

function renderComponentDetail(c) {
  const assets = state.graph.assets
    .filter((a) => a.depends_on[c.id] > 0)
    .map((a) => [a, a.depends_on[c.id]])
    .sort((x, y) => y[0].value_usd * y[1] - x[0].value_usd * x[1]);
  const spof = state.exposure.single_points_of_failure.find((p) => p.component === c.id);
  const holders = state.exposure.holders
    .map((hd) => [hd.id, hd.exposure_usd[c.id] || 0])
    .filter(([, v]) => v > 0)
    .sort((x, y) => y[1] - x[1]);
  const rows = assets.map(([a, f]) => h('tr', { class: 'dep-row', dataset: { asset: a.id } },
    h('td', {}, kindDot('asset'), h('a', { href: '#graph', onclick: (ev) => { ev.preventDefault(); select('asset', a.id); } }, a.id)),
    h('td', { class: 'n' }, pct(f, 0)), h('td', { class: 'n' }, usd(a.value_usd * f))));
  clear($('detail')).append(
    h('div', { class: 'muted small' }, kindDot(c.kind), KIND_LABEL[c.kind]),
    h('h3', { id: 'detail-title' }, c.id),
    h('p', {}, h('strong', { id: 'detail-var' }, usd(c.value_at_risk_usd)), ` at risk behind it · ${pct(c.share)} of all value`),
    c.failure_probability ? h('p', { class: 'small' }, `failure probability ${pct(c.failure_probability, 2)} a year`) : null,
    spof ? h('p', { class: 'callout small' }, `Single point of failure: its failure alone destroys ${spof.assets.length} asset${spof.assets.length === 1 ? '' : 's'} in full (${usd(spof.value_usd)}).`) : null,
    h('div', { class: 'row' }, h('button', { type: 'button', id: 'stress-this', onclick: () => { state.picked = new Set([c.id]); renderPicked(); location.hash = '#stress'; runStress(); } }, 'Stress this failure')),
    h('h4', {}, `Assets behind it (${assets.length})`),
    table(['asset', ['lost', 'n'], ['value', 'n']], rows, { id: 'detail-table' }),
    holders.length ? h('h4', {}, 'Holders exposed') : null,
    holders.length ? table(['holder', ['exposure', 'n']], holders.map(([id, v]) => h('tr', {}, h('td', {}, id), h('td', { class: 'n' }, usd(v))))) : null,
  );
}

// ---------- exposure ----------

function renderExposure() {
  const ex = state.exposure;
  const hidden = clear($('hidden'));
  if (!ex.hidden_shared_dependencies.length) hidden.append(h('p', { class: 'muted' }, 'None: no org, cloud, key or verifier set opens routes on two layers.'));
  for (const d of ex.hidden_shared_dependencies) hidden.append(h('div', { class: 'callout' }, h('strong', {}, d.component), ' — ', d.message));

  const kinds = ['all', ...KINDS];
  const filter = clear($('kind-filter'));
  for (const k of kinds) {
    filter.append(h('button', { type: 'button', class: state.kindFilter === k ? 'on' : '', onclick: () => { state.kindFilter = k; renderExposure(); } }, k === 'all' ? 'all' : KIND_LABEL[k]));
  }
  const comps = ex.components.filter((c) => c.value_at_risk_usd > 0 && (state.kindFilter === 'all' || c.kind === state.kindFilter)).slice(0, 30);
  clear($('components-table')).append(table(['component', ['value at risk', 'n'], ['share', 'n']], comps.map((c) => h('tr', {},
    h('td', {}, kindDot(c.kind), h('a', { href: '#graph', onclick: (ev) => { ev.preventDefault(); location.hash = '#graph'; select('component', c.id); } }, c.id)),
    h('td', { class: 'n' }, usd(c.value_at_risk_usd)), h('td', { class: 'n' }, pct(c.share)))), { id: 'components' }));
  clear($('spof-table')).append(table(['component', ['destroys', 'n'], 'assets'], ex.single_points_of_failure.map((p) => h('tr', {},
    h('td', {}, kindDot(p.kind), p.component), h('td', { class: 'n' }, usd(p.value_usd)), h('td', { class: 'small' }, p.assets.join(', ')))), { id: 'spofs' }));
  const holders = clear($('holders'));
  const rows = ex.holders.map((hd) => {
    const top = Object.entries(hd.exposure_usd).sort((a, b) => b[1] - a[1]).slice(0, 4);
    return h('tr', {}, h('td', {}, hd.id), h('td', { class: 'n' }, usd(hd.value_usd)),
      h('td', { class: 'small' }, top.map(([c, v], i) => [i ? ' · ' : '', h('strong', {}, c), ` ${usd(v)} (${pct(hd.value_usd ? v / hd.value_usd : 0, 0)})`])));
  });
  holders.append(table(['holder', ['holdings', 'n'], 'largest exposures'], rows, { id: 'holders-table' }));
}

// ---------- limits ----------

function renderLimits() {
  const g = clear($('gauges'));
  for (const p of state.policies.policies) {
    const target = p.target.component ? p.target.component : `each ${KIND_LABEL[p.target.component_kind] || p.target.component_kind}`;
    const card = h('div', { class: `card gauge${p.breached ? ' breached' : ''}`, dataset: { policy: p.id } },
      h('h3', {}, p.breached ? sev('critical') : null, ' ', p.id),
      h('div', { class: 'meta' }, `${target} at most ${pct(p.max_share)} of ${p.basis === 'bridged' ? 'bridged value' : 'value'} in ${p.scope} (${usd(p.total_usd)})`));
    const scale = Math.max(p.max_share * 1.25, ...p.top.map((t) => t.share), 0.05);
    if (!p.top.length) card.append(h('p', { class: 'muted small' }, 'nothing at risk in scope'));
    for (const t of p.top) {
      const fill = h('div', { class: `fill${t.share > p.max_share + 1e-12 ? ' over' : t.share > p.max_share * 0.8 ? ' near' : ''}` });
      fill.style.width = `${Math.min(100, (t.share / scale) * 100)}%`;
      const limit = h('div', { class: 'limit', title: `limit ${pct(p.max_share)}` });
      limit.style.left = `${Math.min(100, (p.max_share / scale) * 100)}%`;
      card.append(h('div', { class: 'gbar', title: `${t.component}: ${usd(t.value_at_risk_usd)}` },
        h('span', { class: 'name' }, t.component), h('div', { class: 'track' }, fill, limit), h('span', { class: 'pct' }, pct(t.share))));
    }
    g.append(card);
  }
  const rows = [];
  for (const b of state.limits.breaches) {
    const moves = b.moves.map((m) => `${usd(m.amount_usd)} → ${m.to || '(no room)'}`).join('; ');
    rows.push(h('tr', {}, h('td', {}, b.policy), h('td', {}, b.component), h('td', { class: 'n' }, pct(b.share)), h('td', { class: 'n' }, pct(b.max_share)),
      h('td', { class: 'n' }, usd(b.excess_usd)), h('td', { class: 'small' }, moves)));
  }
  const br = clear($('breaches'));
  if (!rows.length) br.append(h('p', { class: 'muted' }, 'No policy is breached.'));
  else br.append(table(['policy', 'component', ['share', 'n'], ['limit', 'n'], ['excess', 'n'], 'smallest rebalancing'], rows, { id: 'breaches-table' }));
}

// ---------- lint ----------

function renderLint() {
  const findings = state.lint.findings;
  const counts = {};
  for (const f of findings) counts[f.severity] = (counts[f.severity] || 0) + 1;
  const filter = clear($('lint-filter'));
  for (const k of ['all', 'critical', 'high', 'medium', 'low']) {
    const n = k === 'all' ? findings.length : counts[k] || 0;
    filter.append(h('button', { type: 'button', class: state.lintFilter === k ? 'on' : '', onclick: () => { state.lintFilter = k; renderLint(); } }, `${k} (${n})`));
  }
  const shown = findings.filter((f) => state.lintFilter === 'all' || f.severity === state.lintFilter);
  clear($('lint-table')).append(table(['severity', 'rule', 'entity', 'finding', 'echoes'], shown.map((f) => h('tr', {},
    h('td', {}, sev(f.severity)), h('td', { class: 'mono rule' }, f.rule), h('td', {}, f.entity), h('td', {}, f.message), h('td', { class: 'small muted' }, f.incident))), { id: 'lint-findings' }));
}

// ---------- stress ----------

function renderPicker() {
  const q = $('pick-filter').value.trim().toLowerCase();
  const list = clear($('pick-list'));
  const comps = state.exposure.components.filter((c) => !q || c.id.toLowerCase().includes(q) || c.kind.includes(q)).slice(0, 200);
  for (const c of comps) {
    const box = h('input', { type: 'checkbox', value: c.id, 'data-id': c.id, checked: state.picked.has(c.id) });
    box.addEventListener('change', () => { if (box.checked) state.picked.add(c.id); else state.picked.delete(c.id); renderPicked(); });
    list.append(h('label', { role: 'option' }, box, kindDot(c.kind), c.id, h('span', { class: 'v' }, usd(c.value_at_risk_usd))));
  }
  if (!comps.length) list.append(h('p', { class: 'muted small' }, 'no component matches'));
}

function renderPicked() {
  const el = clear($('picked'));
  if (!state.picked.size) el.append(h('span', { class: 'muted' }, 'nothing yet'));
  for (const id of state.picked) {
    el.append(h('span', { class: 'chip', dataset: { id } }, id, h('button', { type: 'button', title: `remove ${id}`, onclick: () => { state.picked.delete(id); renderPicked(); renderPicker(); } }, '×')));
  }
  for (const box of $('pick-list').querySelectorAll('input[type=checkbox]')) box.checked = state.picked.has(box.value);
}

async function runStress(ev) {
  if (ev) ev.preventDefault();
  const err = $('stress-error');
  err.classList.add('hidden');
  const body = { fail: [...state.picked] };
  if ($('clearing').value === 'rv') Object.assign(body, { clearing: 'rv', alpha: Number($('alpha').value), beta: Number($('beta').value) });
  $('run-stress').disabled = true;
  const out = clear($('stress-result'));
  out.append(h('p', { class: 'muted' }, 'running…'));
  try {
    const r = await api('/api/stress', { method: 'POST', body });
    state.lastStress = r;
    renderStress(r);
  } catch (e) {
    clear(out);
    err.textContent = e.message;
    err.classList.remove('hidden');
  } finally {
    $('run-stress').disabled = false;
  }
}

function renderStress(r) {
  const out = clear($('stress-result'));
  const stat = (label, value, cls, id) => h('div', { class: `stat ${cls || ''}`, id }, h('div', { class: 'v' }, value), h('div', { class: 'l' }, label));
  const failed = r.failed.length ? r.failed.join(' + ') : 'nothing (the claims network as given)';
  out.append(h('h2', {}, 'Scenario: ', h('span', { id: 'stress-failed' }, failed)));
  out.append(h('div', { class: 'cards result-head' },
    stat('direct loss (round 0)', usd(r.direct_loss_usd), 'bad', 'stress-direct'),
    stat('secondary realized loss', usd(r.secondary_damage_usd), 'warn', 'stress-secondary'),
    stat('loss multiplier', multiplier(r.loss_multiplier), '', 'stress-multiplier'),
    stat('disrupted value (moved, not lost)', usd(r.disrupted_value_usd), '', 'stress-disrupted'),
    stat('disruption multiplier', multiplier(r.disruption_multiplier)),
    stat('bad debt', usd(r.bad_debt_usd)),
    stat('rounds', r.rounds.length, '', 'stress-rounds')));
  out.append(h('h2', {}, 'Losses by round'), h('div', { class: 'card', id: 'waterfall' }, waterfall(r)));
  if (!r.converged) out.append(h('p', { class: 'note' }, 'The rounds did not settle within the limit; figures are after the last round.'));
  const rounds = r.rounds.map((x) => h('tr', {}, h('td', { class: 'n' }, x.round), h('td', { class: 'n' }, usd(x.direct_usd)), h('td', { class: 'n' }, usd(x.liquidations_usd)),
    h('td', { class: 'n' }, usd(x.bad_debt_usd)), h('td', { class: 'n' }, usd(x.outflows_usd)), h('td', { class: 'n' }, usd(x.claim_losses_usd)), h('td', {}, (x.new_defaults || []).join(', '))));
  out.append(h('h2', {}, 'Rounds'), table([['round', 'n'], ['direct', 'n'], ['liquidations', 'n'], ['bad debt', 'n'], ['outflows', 'n'], ['claim losses', 'n'], 'new defaults'], rounds, { id: 'rounds-table' }));
  const protos = r.protocols.filter((p) => p.loss_usd > 0 || p.defaulted || p.outflows_usd > 0)
    .map((p) => h('tr', {}, h('td', {}, p.id), h('td', { class: 'n' }, usd(p.loss_usd)), h('td', { class: 'n' }, usd(p.bad_debt_usd)), h('td', { class: 'n' }, usd(p.liquidations_usd)),
      h('td', { class: 'n' }, usd(p.outflows_usd)), h('td', {}, p.defaulted ? sev('critical') : '')));
  out.append(h('h2', {}, 'Protocols hit'), protos.length ? table(['protocol', ['loss', 'n'], ['bad debt', 'n'], ['liquidations', 'n'], ['outflows', 'n'], 'defaulted'], protos) : h('p', { class: 'muted' }, 'No protocol loses anything.'));
  const assets = r.assets.filter((a) => a.loss_share > 0 || a.price_after_usd < a.price_before_usd * 0.9999)
    .map((a) => h('tr', {}, h('td', {}, a.id), h('td', { class: 'n' }, pct(a.loss_share)), h('td', { class: 'n' }, `$${a.price_before_usd.toPrecision(4)}`), h('td', { class: 'n' }, `$${a.price_after_usd.toPrecision(4)}`)));
  out.append(h('h2', {}, 'Assets hit'), assets.length ? table(['asset', ['value lost', 'n'], ['price before', 'n'], ['price after', 'n']], assets) : h('p', { class: 'muted' }, 'No asset is hit.'));
}

// The waterfall of realized loss — the same chart as the HTML report (crates/stress/src/report.rs):
// round 0 is the direct loss, each later round stacks the bad debt, liquidation penalties and
// fire-sale losses it adds (past ten bars the rounds fold into one), then the holders' depeg loss
// and the clearing costs settled at the end, and the total realized loss. Value that only moved
// (liquidations, withdrawals) is in the tables, not here.
function waterfall(r) {
  const PARTS = [['direct', '#2b6cb0'], ['bad debt', '#b00020'], ['liquidation penalties', '#dd6b20'], ['fire-sale losses', '#805ad5'],
    ["holders' depeg", '#d69e2e'], ['clearing costs', '#718096']];
  const segsOf = (x) => [x.direct_usd, x.bad_debt_usd, x.liquidation_penalties_usd, x.fire_sale_losses_usd]
    .map((v, i) => [PARTS[i][0], v, PARTS[i][1]]).filter(([, v]) => v > 0);
  const bars = [];
  let cum = 0, folded = null;
  r.rounds.forEach((x, i) => {
    const segs = segsOf(x);
    const inc = segs.reduce((t, [, v]) => t + v, 0);
    if (i > 0 && inc <= 0) return;
    if (bars.length >= 11) {
      folded = folded || { from: x.round, base: cum, segs: [] };
      folded.to = x.round;
      for (const sg of segs) {
        const e = folded.segs.find((p) => p[0] === sg[0]);
        if (e) e[1] += sg[1]; else folded.segs.push([...sg]);
      }
    } else bars.push({ label: `round ${x.round}`, base: cum, segs });
    cum += inc;
  });
  if (folded) bars.push({ label: `rounds ${folded.from}–${folded.to}`, base: folded.base, segs: folded.segs });
  for (const [label, v, part] of [['depeg', r.realized.depeg_usd, PARTS[4]], ['clearing', r.realized.clearing_costs_usd, PARTS[5]]]) {
    if (v > 0) { bars.push({ label, base: cum, segs: [[part[0], v, part[1]]] }); cum += v; }
  }
  const total = r.realized_loss_usd;
  bars.push({ label: 'total', base: 0, segs: [['total', total, '#101828']], total: true });
  const W = 1100, H = 330, L = 76, B = 40, T = 44;
  const max = Math.max(1, total, cum) * 1.08;
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const step = (W - L - 20) / bars.length;
  const bw = Math.min(70, step * 0.65);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'waterfall of losses by round', id: 'waterfall-svg' });
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    svg.append(s('line', { x1: L, x2: W - 10, y1: y(v), y2: y(v), class: 'grid' }), s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', text: usd(v) }));
  }
  svg.append(s('line', { x1: L, x2: W - 10, y1: y(0), y2: y(0), class: 'axis' }));
  bars.forEach((b, i) => {
    const x = L + step * i + (step - bw) / 2;
    let acc = b.base;
    const g = s('g', { class: 'bar', 'data-label': b.label });
    for (const [name, v, colour] of b.segs) {
      const y1 = y(acc + v), y0 = y(acc);
      g.append(s('rect', { x, y: y1, width: bw, height: Math.max(1, y0 - y1), fill: colour }, s('title', { text: `${b.label} · ${name}: ${usd(v)}` })));
      acc += v;
    }
    if (i > 0 && !b.total) g.append(s('line', { x1: x - (step - bw), x2: x, y1: y(b.base), y2: y(b.base), stroke: '#98a2b3', 'stroke-dasharray': '3,3' }));
    g.append(s('text', { x: x + bw / 2, y: y(acc) - 5, 'text-anchor': 'middle', text: usd(acc - b.base) }));
    g.append(s('text', { x: x + bw / 2, y: H - B + 16, 'text-anchor': 'middle', text: b.label }));
    svg.append(g);
  });
  svg.append(s('text', { x: W - 12, y: 32, 'text-anchor': 'end', 'font-weight': 700, id: 'waterfall-multiplier',
    text: `loss multiplier ${multiplier(r.loss_multiplier)} = secondary realized ${usd(r.secondary_damage_usd)} / direct ${usd(r.direct_loss_usd)}` }));
  [...PARTS, ['total', '#101828']].forEach(([l, c], i) => svg.append(s('rect', { x: L + i * 132, y: 4, width: 10, height: 10, fill: c }), s('text', { x: L + i * 132 + 14, y: 13, text: l })));
  return svg;
}

// ---------- guard ----------

async function loadGuard() {
  try {
    state.guard = await api('/api/guard');
  } catch (e) {
    clear($('guard-status')).append(h('p', { class: 'error' }, e.message));
    return;
  }
  renderGuard();
  if (state.guard.enabled) await loadTrips();
}

function renderGuard() {
  const g = state.guard;
  const st = clear($('guard-status'));
  const chains = clear($('guard-chains'));
  const badge = $('guard-badge');
  if (!g.enabled) {
    st.append(h('p', { class: 'note', id: 'guard-off' }, 'The live guard is not running. Start the server with ', h('code', {}, 'ringfence serve --spec SPEC --guard CONFIG'), ' to watch chains and see trips here.'));
    for (const id of ['trip-filter', 'trips']) clear($(id));
    document.querySelector('.pager').classList.add('hidden');
    badge.classList.add('hidden');
    return;
  }
  document.querySelector('.pager').classList.remove('hidden');
  const w = g.watcher;
  const wtext = w.state === 'running' ? `watching since ${when(w.since)}` : w.state === 'failed' ? w.message : w.state;
  st.append(h('div', { class: 'cards' },
    h('div', { class: `stat ${w.state === 'failed' ? 'bad' : ''}`, id: 'watcher-state' }, h('div', { class: 'v' }, w.state), h('div', { class: 'l' }, wtext)),
    h('div', { class: `stat ${g.counts.unacked_trips ? 'bad' : ''}` }, h('div', { class: 'v', id: 'unacked' }, g.counts.unacked_trips), h('div', { class: 'l' }, 'trips not acknowledged')),
    h('div', { class: 'stat' }, h('div', { class: 'v' }, g.counts.trips), h('div', { class: 'l' }, 'trips')),
    h('div', { class: 'stat' }, h('div', { class: 'v' }, g.counts.alerts), h('div', { class: 'l' }, 'alerts')),
    h('div', { class: 'stat' }, h('div', { class: 'v' }, `${g.rules.length} / ${g.actions.length}`), h('div', { class: 'l' }, 'rules / actions'))));
  const rows = g.chains.map((c) => {
    const lag = c.lag_s;
    const cls = lag === null ? 'none' : lag <= Math.max(10, c.stale_after_s / 2) ? 'ok' : lag <= c.stale_after_s ? 'lag' : 'down';
    return h('tr', { dataset: { chain: c.id } }, h('td', {}, h('span', { class: `dot ${cls}` }), c.id), h('td', { class: 'mono' }, c.endpoint), h('td', {}, c.transport),
      h('td', { class: 'n' }, c.checkpoint ? `#${c.checkpoint.number}` : '—'), h('td', { class: 'n' }, c.checkpoint ? when(c.checkpoint.timestamp) : 'no block ingested yet'),
      h('td', { class: 'n' }, lag === null ? '—' : `${lag} s`), h('td', { class: 'n' }, c.confirmations));
  });
  chains.append(table(['chain', 'endpoint', 'transport', ['checkpoint', 'n'], ['block time', 'n'], ['lag', 'n'], ['confirmations', 'n']], rows, { id: 'chains-table' }));
  if (g.counts.unacked_trips) { badge.textContent = g.counts.unacked_trips; badge.classList.remove('hidden'); } else badge.classList.add('hidden');
  const filter = clear($('trip-filter'));
  for (const k of ['all', 'trip', 'alert']) {
    filter.append(h('button', { type: 'button', class: state.tripFilter === k ? 'on' : '', onclick: () => { state.tripFilter = k; state.tripPage = 1; renderGuard(); loadTrips(); } }, k === 'all' ? 'trips and alerts' : `${k}s`));
  }
}

async function loadTrips() {
  let page;
  try {
    page = await api(`/api/trips?severity=${state.tripFilter}&page=${state.tripPage}&per_page=20`);
  } catch (e) {
    clear($('trips')).append(h('p', { class: 'error' }, e.message));
    return;
  }
  state.tripPages = Math.max(1, page.pages);
  $('page-info').textContent = `page ${page.page} of ${state.tripPages} · ${page.total} in all`;
  $('newer').disabled = state.tripPage <= 1;
  $('older').disabled = state.tripPage >= state.tripPages;
  const out = clear($('trips'));
  if (!page.items.length) { out.append(h('p', { class: 'muted', id: 'no-trips' }, 'Nothing yet. Trips and alerts appear here the moment the guard raises them.')); return; }
  const rows = [];
  for (const t of page.items) {
    const pause = (t.pause || []).map((p) => [h('span', { class: 'small' }, `${p.action}: ${p.status} `), p.tx ? h('span', { class: 'mono' }, p.tx) : null, p.error ? h('span', { class: 'error small' }, ` ${p.error}`) : null]);
    const ackCell = t.acked
      ? h('td', { class: 'small' }, `acknowledged ${when(t.acked.at)}`, t.acked.note ? ` — ${t.acked.note}` : '')
      : h('td', {}, h('button', { type: 'button', class: 'secondary ack', 'data-id': t.id, onclick: (ev) => { ev.stopPropagation(); ack(t.id); } }, 'Acknowledge'));
    const detail = h('tr', { class: 'hidden evidence-row', dataset: { for: t.id } }, h('td', { colspan: 7 },
      h('div', { class: 'small' }, `rule ${t.rule} (${t.kind}) · ${t.reason} · chain ${t.chain} block ${t.block} log ${t.log_index}`, t.tx ? [' · tx ', h('span', { class: 'mono' }, t.tx)] : null),
      h('div', { class: 'small' }, h('strong', {}, 'evidence')), h('pre', { class: 'evidence' }, JSON.stringify(t.evidence, null, 2)),
      t.actions.length ? [h('div', { class: 'small' }, h('strong', {}, 'actions')), h('pre', { class: 'evidence' }, JSON.stringify(t.actions, null, 2))] : null));
    const row = h('tr', {
      class: `trip-row${t.acked ? ' acked' : ''}${state.freshIds.has(t.id) ? ' fresh' : ''}`, dataset: { id: t.id },
      onclick: () => detail.classList.toggle('hidden'),
    }, h('td', {}, sev(t.severity)), h('td', {}, when(t.timestamp)), h('td', {}, t.rule), h('td', {}, t.reason), h('td', {}, `${t.chain} #${t.block}`),
      h('td', {}, pause.length ? pause : h('span', { class: 'muted small' }, '—')), ackCell);
    rows.push(row, detail);
  }
  state.freshIds.clear();
  out.append(table(['', 'when', 'rule', 'reason', 'block', 'pause transaction', 'acknowledged'], rows, { id: 'trips-table' }));
}

async function ack(id) {
  if (!token()) { toast('Enter the API token (RINGFENCE_API_TOKEN) at the top right to acknowledge.', true); $('token').focus(); return; }
  const note = window.prompt(`Acknowledge ${id}: a note for the record (optional)`, '') ?? null;
  if (note === null) return;
  try {
    await api(`/api/trips/${encodeURIComponent(id)}/ack`, { method: 'POST', auth: true, body: { note } });
    toast(`acknowledged ${id}`);
    await loadGuard();
  } catch (e) {
    toast(e.message, true);
  }
}

// ---------- live events ----------

function connectEvents() {
  const live = $('live');
  const es = new EventSource('/api/events');
  es.addEventListener('ready', () => { live.textContent = '● live'; live.className = 'live on'; });
  es.addEventListener('error', () => { live.textContent = '● reconnecting'; live.className = 'live off'; });
  es.addEventListener('alert', (ev) => {
    let rec;
    try { rec = JSON.parse(ev.data); } catch (_) { return; }
    state.freshIds.add(rec.id);
    toast(`${rec.severity.toUpperCase()} ${rec.rule} on ${rec.chain} #${rec.block}: ${rec.reason}`, rec.severity === 'trip');
    loadGuard();
  });
  es.addEventListener('ack', () => loadGuard());
  es.addEventListener('reload', () => { loadAll().catch((e) => toast(e.message, true)); });
  es.addEventListener('lagged', () => loadGuard());
}

// ---------- navigation ----------

function show() {
  const view = (location.hash || '#graph').slice(1);
  const known = [...document.querySelectorAll('.view')].map((v) => v.dataset.view);
  const current = known.includes(view) ? view : 'graph';
  for (const v of document.querySelectorAll('.view')) v.classList.toggle('active', v.dataset.view === current);
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === current);
  document.body.dataset.view = current;
  if (current === 'guard') loadGuard();
}

async function reloadSpec() {
  if (!token()) { toast('Enter the API token (RINGFENCE_API_TOKEN) at the top right to reload.', true); $('token').focus(); return; }
  try {
    const r = await api('/api/reload', { method: 'POST', auth: true });
    toast(`spec reloaded: generation ${r.generation}`);
    await loadAll();
  } catch (e) {
    const problems = e.body && e.body.problems ? `\n${e.body.problems.slice(0, 3).join('\n')}` : '';
    toast(`${e.message}${problems}`, true);
  }
}

function init() {
  $('token').value = sessionStorage.getItem('ringfence-token') || '';
  $('token').addEventListener('change', () => sessionStorage.setItem('ringfence-token', token()));
  $('reload').addEventListener('click', reloadSpec);
  $('stress-form').addEventListener('submit', runStress);
  $('clear-stress').addEventListener('click', () => { state.picked.clear(); renderPicked(); clear($('stress-result')); });
  $('pick-filter').addEventListener('input', renderPicker);
  $('clearing').addEventListener('change', () => { for (const el of document.querySelectorAll('.rv')) el.classList.toggle('hidden', $('clearing').value !== 'rv'); });
  $('newer').addEventListener('click', () => { if (state.tripPage > 1) { state.tripPage -= 1; loadTrips(); } });
  $('older').addEventListener('click', () => { if (state.tripPage < state.tripPages) { state.tripPage += 1; loadTrips(); } });
  window.addEventListener('hashchange', show);
  loadAll().then(() => { show(); loadGuard(); }).catch((e) => {
    clear($('summary')).append(h('p', { class: 'error' }, `cannot load the spec: ${e.message}`));
  });
  connectEvents();
}

document.addEventListener('DOMContentLoaded', init);
