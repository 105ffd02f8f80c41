// The ringfence dashboard: plain JavaScript over the server's JSON API, no dependencies, no build
// step. Everything is drawn with DOM and inline SVG built here; text always goes in through
// textContent, never innerHTML, so ids and messages from a spec cannot inject markup.
'use strict';

const KINDS = ['layer', 'verifier_set', 'key', 'operator', 'org', 'hosting', 'chain'];
const KIND_LABEL = {
  asset: 'asset', layer: 'layer', verifier_set: 'verifier set', key: 'key', operator: 'operator',
  org: 'org', hosting: 'hosting', chain: 'chain',
};
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

// The picture is laid out by the server (`layout` of GET /api/graph: the very data the HTML report
// draws, crates/report/src/graph.rs); here it only becomes SVG elements, with clicks and hovers.
function svgText(t, attrs) {
  return s('text', { x: t.x, y: t.y, 'text-anchor': t.anchor, text: t.text, ...attrs });
}

function graphNode(n, type) {
  return s('g', { class: `node ${type}`, 'data-id': n.id, 'data-kind': n.kind, onclick: () => select(type, n.id) },
    s('rect', { class: 'hit', x: n.hit.x, y: n.hit.y, width: n.hit.width, height: n.hit.height }),
    s('circle', { cx: n.x, cy: n.y, r: n.r, fill: n.fill }, s('title', { text: n.title })),
    svgText(n.label),
    svgText({ ...n.frac, text: '' }, { class: 'frac' }));
}

function renderGraph() {
  const host = clear($('graph'));
  const g = state.graph.layout;
  const svg = s('svg', { viewBox: `0 0 ${g.width} ${g.height}`, role: 'img', 'aria-label': 'dependency graph', id: 'graph-svg' });
  for (const c of g.columns) svg.append(svgText(c.title, { class: 'col-title' }));
  const edges = s('g', {});
  for (const e of g.edges) edges.append(s('path', { class: 'edge', d: e.d, 'data-asset': e.asset, 'data-component': e.component }));
  svg.append(edges);
  for (const n of g.assets) svg.append(graphNode(n, 'asset'));
  for (const n of g.components) svg.append(graphNode(n, 'component'));
  host.append(svg);
  const legend = clear($('graph-legend'));
  for (const k of ['asset', ...KINDS]) legend.append(h('span', {}, kindDot(k), KIND_LABEL[k]));
  if (g.note) legend.append(h('span', { id: 'graph-note' }, g.note));
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
  out.append(h('h2', {}, 'Losses by round'), h('div', { class: 'card', id: 'waterfall' }, waterfall(r.waterfall)));
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

// The waterfall of realized loss, laid out by the server (`waterfall` of POST /api/stress: the very
// data the stress HTML report draws, crates/report/src/waterfall.rs); here it only becomes SVG
// elements.
function waterfall(w) {
  const svg = s('svg', { viewBox: `0 0 ${w.width} ${w.height}`, role: 'img', 'aria-label': 'waterfall of losses by round', id: 'waterfall-svg' });
  for (const t of w.ticks) svg.append(s('line', { ...t.line, class: 'grid' }), svgText(t.label));
  svg.append(s('line', { ...w.axis, class: 'axis' }));
  for (const b of w.bars) {
    const g = s('g', { class: 'bar', 'data-label': b.label });
    for (const sg of b.segments) {
      g.append(s('rect', { x: b.x, y: sg.y, width: b.width, height: sg.height, fill: sg.colour, 'data-part': sg.part }, s('title', { text: sg.title })));
    }
    if (b.connector) g.append(s('line', { ...b.connector, stroke: '#98a2b3', 'stroke-dasharray': '3,3' }));
    g.append(svgText(b.value), svgText(b.name));
    svg.append(g);
  }
  svg.append(svgText(w.caption, { 'font-weight': 700, id: 'waterfall-multiplier' }));
  for (const e of w.legend) svg.append(s('rect', { x: e.x, y: e.y, width: 10, height: 10, fill: e.colour }), svgText(e.name));
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
