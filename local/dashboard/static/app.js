/* global document, window, EventSource, location, history */
// The dashboard page: plain DOM, no framework, no build step. Every value that comes from data (asset ids
// come from devices) is written with textContent or as an SVG attribute, never parsed as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';
const HOUR = 3_600_000;
const STATES = ['NORMAL', 'WATCH', 'WARNING', 'CRITICAL', 'MAINTENANCE'];
const COLORS = ['#3366cc', '#e07b00', '#d22f2f', '#7a4fc9', '#2e9e5b'];
const THRESHOLDS = [
  { y: 0.5, color: '#c9a400' },
  { y: 0.7, color: '#e07b00' },
  { y: 0.9, color: '#d22f2f' },
];

const app = {
  models: new Map(),
  fleet: [],
  alerts: [],
  alertIds: new Set(),
  selected: null,
  detail: null,
  history: [],
  refreshTimer: null,
  dirtyAssets: new Set(),
  lastSeen: new Map(),
};

// ---------- DOM helpers ----------

const $ = (sel) => document.querySelector(sel);

/** Element with attributes and children; strings become text nodes (escaped by construction). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return el;
}

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined) continue;
    if (k === 'text') el.textContent = v;
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c) el.append(c);
  return el;
}

function badge(state, label, extraClass) {
  const st = state ?? 'NONE';
  return h('span', { class: `badge state-${STATES.includes(st) ? st : 'NONE'}${extraClass ? ` ${extraClass}` : ''}`, title: label ? `${label}: ${st}` : st }, label ? `${label} ${shortState(st)}` : st === 'NONE' ? 'no data' : st);
}

const shortState = (st) => ({ NORMAL: 'ok', WATCH: 'watch', WARNING: 'warn', CRITICAL: 'crit', MAINTENANCE: 'maint', NONE: '–' })[st] ?? st;

// ---------- formatting ----------

const fmt = (x, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const pct = (x) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(1)} %`);

/** The signal that set a risk, in words (see `RiskDriver` in lambdas/core/alerts/policy.ts). */
function driverText(d) {
  const what = {
    anomaly: 'anomaly',
    'failure-model': 'failure model',
    'component-model': 'component model',
    rul: 'RUL',
    maintenance: 'maintenance',
  }[d.signal] ?? d.signal;
  return d.component ? `${what} (${d.component})` : what;
}

/** ` [lower–upper]` for an alert's RUL interval, when it has one. */
function intervalText(sc) {
  return Number.isFinite(sc.rulLower) && Number.isFinite(sc.rulUpper) ? ` [${fmt(sc.rulLower, 1)}–${fmt(sc.rulUpper, 1)}]` : '';
}

function rulText(rul, modelId) {
  if (rul === null || rul === undefined || !Number.isFinite(rul)) return '–';
  const model = app.models.get(modelId);
  if (model?.clock === 'cycle') return `${Math.round(rul)} cycles`;
  const hours = rul / HOUR;
  return hours >= 72 ? `${(hours / 24).toFixed(1)} d` : `${hours.toFixed(1)} h`;
}

/** RUL in the unit charts use: hours for time clocks, cycles for cycle clocks. */
function rulValue(rul, model) {
  if (rul === null || rul === undefined || !Number.isFinite(rul)) return null;
  return model?.clock === 'cycle' ? rul : rul / HOUR;
}
const rulUnit = (model) => (model?.clock === 'cycle' ? 'cycles' : 'h');

function timeText(ts) {
  if (ts === null || ts === undefined) return '–';
  return new Date(ts).toISOString().slice(0, 16).replace('T', ' ');
}

// ---------- API ----------

async function api(path, init) {
  const res = await fetch(path, init);
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

// ---------- charts ----------

function niceTicks(min, max, count) {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw) ?? raw;
  const ticks = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
  return ticks;
}

function tickLabel(v) {
  const a = Math.abs(v);
  if (a >= 10000) return `${(v / 1000).toFixed(0)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return Number(v.toFixed(2)).toString();
  return Number(v.toPrecision(2)).toString();
}

/**
 * A line chart as an SVG element. `series`: [{ label, points: [[x, y|null]], color }]; x is epoch ms
 * (`xKind: 'time'`) or a number (cycles, days). Nulls break the line.
 */
function lineChart({ title, unit, series, xKind = 'number', xLabel, yMin, yMax, thresholds, width = 560, height = 200 }) {
  const pad = { l: 46, r: 10, t: 22, b: 30 };
  const w = width - pad.l - pad.r;
  const hgt = height - pad.t - pad.b;
  const all = series.flatMap((se) => se.points.filter((p) => p[1] !== null && Number.isFinite(p[1])));
  const svg = s('svg', { class: 'chart-svg', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title });
  svg.append(s('text', { class: 'title', x: pad.l, y: 13, text: unit ? `${title} (${unit})` : title }));
  if (all.length === 0) {
    svg.append(s('text', { x: pad.l + w / 2, y: pad.t + hgt / 2, 'text-anchor': 'middle', text: 'no data' }));
    return svg;
  }
  let x0 = Math.min(...all.map((p) => p[0]));
  let x1 = Math.max(...all.map((p) => p[0]));
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  let y0 = yMin ?? Math.min(...all.map((p) => p[1]));
  let y1 = yMax ?? Math.max(...all.map((p) => p[1]));
  if (y0 === y1) { const d = Math.abs(y0) * 0.05 || 1; y0 -= d; y1 += d; }
  else if (yMin === undefined || yMax === undefined) {
    const m = (y1 - y0) * 0.08;
    if (yMin === undefined) y0 -= m;
    if (yMax === undefined) y1 += m;
  }
  const X = (x) => pad.l + ((x - x0) / (x1 - x0)) * w;
  const Y = (y) => pad.t + hgt - ((y - y0) / (y1 - y0)) * hgt;

  for (const t of niceTicks(y0, y1, 4)) {
    svg.append(s('line', { class: 'gridline', x1: pad.l, x2: pad.l + w, y1: Y(t), y2: Y(t) }));
    svg.append(s('text', { x: pad.l - 4, y: Y(t) + 3, 'text-anchor': 'end', text: tickLabel(t) }));
  }
  const xTicks = xKind === 'time' ? timeTicks(x0, x1) : niceTicks(x0, x1, 6).map((v) => [v, tickLabel(v)]);
  for (const [v, label] of xTicks) {
    svg.append(s('line', { class: 'axis', x1: X(v), x2: X(v), y1: pad.t + hgt, y2: pad.t + hgt + 3 }));
    svg.append(s('text', { x: X(v), y: pad.t + hgt + 14, 'text-anchor': 'middle', text: label }));
  }
  if (xLabel) svg.append(s('text', { x: pad.l + w, y: height - 2, 'text-anchor': 'end', text: xLabel }));
  svg.append(s('line', { class: 'axis', x1: pad.l, x2: pad.l + w, y1: pad.t + hgt, y2: pad.t + hgt }));
  svg.append(s('line', { class: 'axis', x1: pad.l, x2: pad.l, y1: pad.t, y2: pad.t + hgt }));
  for (const th of thresholds ?? []) {
    if (th.y < y0 || th.y > y1) continue;
    svg.append(s('line', { class: 'threshold', stroke: th.color, x1: pad.l, x2: pad.l + w, y1: Y(th.y), y2: Y(th.y) }));
  }
  let legendX = pad.l + w;
  series.forEach((se, i) => {
    const color = se.color ?? COLORS[i % COLORS.length];
    let d = '';
    let pen = false;
    for (const [x, y] of se.points) {
      if (y === null || !Number.isFinite(y)) { pen = false; continue; }
      const cy = Math.min(pad.t + hgt, Math.max(pad.t, Y(y)));
      d += `${pen ? 'L' : 'M'}${X(x).toFixed(1)} ${cy.toFixed(1)}`;
      pen = true;
    }
    if (d) svg.append(s('path', { class: 'series', d, stroke: color, 'data-series': se.label }));
    if (series.length > 1) {
      const label = se.label;
      legendX -= label.length * 5.6 + 18;
      svg.append(s('rect', { x: legendX, y: 6, width: 9, height: 9, fill: color }));
      svg.append(s('text', { x: legendX + 12, y: 14, text: label }));
    }
  });
  return svg;
}

function timeTicks(x0, x1) {
  const span = x1 - x0;
  const steps = [10 * 60_000, 30 * 60_000, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 48 * HOUR, 7 * 24 * HOUR];
  const step = steps.find((st) => span / st <= 6) ?? 30 * 24 * HOUR;
  const out = [];
  for (let t = Math.ceil(x0 / step) * step; t <= x1; t += step) {
    const iso = new Date(t).toISOString();
    out.push([t, step >= 24 * HOUR ? iso.slice(5, 10) : iso.slice(11, 16)]);
  }
  return out;
}

function barChart(items, { title, width = 300 }) {
  const rowH = 20;
  const height = 22 + items.length * rowH + 4;
  const svg = s('svg', { class: 'chart-svg', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title });
  if (items.length === 0) {
    svg.setAttribute('viewBox', `0 0 ${width} 40`);
    svg.append(s('text', { x: 4, y: 24, text: 'no contributors yet' }));
    return svg;
  }
  const labelW = 80;
  const barW = width - labelW - 50;
  items.forEach((it, i) => {
    const y = 8 + i * rowH;
    svg.append(s('text', { x: labelW - 6, y: y + 12, 'text-anchor': 'end', text: it.label }));
    svg.append(s('rect', { class: 'bar', x: labelW, y: y + 2, height: rowH - 6, width: Math.max(1, it.value * barW) }));
    svg.append(s('text', { x: labelW + it.value * barW + 4, y: y + 12, text: `${(it.value * 100).toFixed(0)} %` }));
  });
  return svg;
}

// ---------- fleet ----------

function filtered() {
  const site = $('#filter-site').value;
  const model = $('#filter-model').value;
  const state = $('#filter-state').value;
  return app.fleet.filter(
    (a) => (!site || a.siteId === site) && (!model || a.modelId === model) && (!state || (a.state ?? 'NONE') === state),
  );
}

function fillSelect(select, values, labelOf = (v) => v) {
  const current = select.value;
  const have = new Set([...select.options].map((o) => o.value));
  for (const v of values) if (!have.has(v)) select.append(h('option', { value: v }, labelOf(v)));
  select.value = current;
}

function renderCounts() {
  const counts = new Map();
  for (const a of app.fleet) counts.set(a.state ?? 'NONE', (counts.get(a.state ?? 'NONE') ?? 0) + 1);
  const box = $('#state-counts');
  box.replaceChildren(
    ...[...STATES, 'NONE'].filter((st) => counts.has(st)).map((st) =>
      h('span', { class: `badge state-${st}`, 'data-state': st }, `${st === 'NONE' ? 'NO DATA' : st} ${counts.get(st)}`),
    ),
  );
}

function renderFleet() {
  fillSelect($('#filter-site'), [...new Set(app.fleet.map((a) => a.siteId))].sort());
  fillSelect($('#filter-model'), [...new Set(app.fleet.map((a) => a.modelId))].sort(), (id) => app.models.get(id)?.name ?? id);
  fillSelect($('#filter-state'), [...STATES, 'NONE'], (st) => (st === 'NONE' ? 'no data' : st));
  renderCounts();
  const rows = filtered();
  $('#fleet-shown').textContent = `${rows.length} of ${app.fleet.length} assets`;
  const tbody = $('#fleet-table tbody');
  tbody.replaceChildren(
    ...rows.map((a) => {
      const sc = a.scores;
      const changed = app.lastSeen.has(a.assetId) && app.lastSeen.get(a.assetId) !== a.lastSeq;
      app.lastSeen.set(a.assetId, a.lastSeq);
      return h(
        'tr',
        {
          'data-asset-id': a.assetId,
          'data-state': a.state ?? 'NONE',
          'data-model': a.modelId,
          class: [a.assetId === app.selected ? 'selected' : '', changed ? 'flash' : ''].join(' ').trim() || null,
          onclick: () => select(a.assetId),
        },
        h('td', { class: 'asset' }, h('strong', {}, a.assetId)),
        h('td', {}, a.siteId),
        h('td', { title: app.models.get(a.modelId)?.name ?? a.modelId }, a.modelId),
        h('td', { class: 'state' }, badge(a.state)),
        h('td', { class: 'components' }, Object.entries(a.components).map(([c, st]) => badge(st, c, 'comp'))),
        h('td', { class: 'num' }, fmt(sc?.risk)),
        h('td', { class: 'num' }, fmt(sc?.anomaly)),
        h('td', { class: 'num' }, pct(sc?.failureProbability)),
        h('td', { class: 'num' }, rulText(sc?.rul, a.modelId)),
        h(
          'td',
          { class: 'num last-sample', title: timeText(a.lastTs) },
          a.lastSeq === null ? '–' : `#${a.lastSeq} · ${timeText(a.lastTs).slice(11)}`,
        ),
      );
    }),
  );
}

async function loadFleet() {
  app.fleet = await api('/api/fleet');
  renderFleet();
}

// ---------- alerts ----------

function alertItem(a, fresh) {
  const who = a.scope === 'component' ? `${a.assetId} / ${a.component}` : a.assetId;
  const top = a.topContributors.map((c) => `${c.sensor} ${(c.share * 100).toFixed(0)} %`).join(', ');
  return h(
    'li',
    { class: `sev-${a.severity}${fresh ? ' new' : ''}`, 'data-alert-id': a.alertId, 'data-severity': a.severity },
    h(
      'div',
      { class: 'line1' },
      h('span', { class: 'sev' }, a.severity),
      h('a', { onclick: () => select(a.assetId), title: 'show asset' }, who),
      h('span', { class: 'change' }, badge(a.from), '→ ', badge(a.to)),
    ),
    h(
      'div',
      { class: 'line2' },
      `${timeText(Date.parse(a.at))} · risk ${fmt(a.scores.risk)} · p(fail) ${pct(a.scores.failureProbability)}` +
        (a.scores.rul !== null ? ` · RUL ${fmt(a.scores.rul, 1)}${intervalText(a.scores)} ${a.scores.rulUnit}` : '') +
        (a.driver ? ` · driven by ${driverText(a.driver)}` : '') +
        (a.warmingUp ? ' · warming up' : '') +
        (top ? ` · top: ${top}` : '') +
        (a.estimatedCostAvoidedUsd > 0 ? ` · est. saving $${a.estimatedCostAvoidedUsd.toLocaleString('en-US')}` : ''),
    ),
  );
}

function renderAlerts(freshIds = new Set()) {
  $('#alert-feed').replaceChildren(...app.alerts.map((a) => alertItem(a, freshIds.has(a.alertId))));
  $('#alert-count').textContent = `${app.alerts.length} newest`;
}

async function loadAlerts() {
  const list = await api('/api/alerts?limit=100');
  const fresh = new Set(list.filter((a) => !app.alertIds.has(a.alertId)).map((a) => a.alertId));
  app.alerts = list;
  app.alertIds = new Set(list.map((a) => a.alertId));
  renderAlerts(app.alertIds.size === fresh.size ? new Set() : fresh);
}

// ---------- asset detail ----------

function select(assetId) {
  if (location.hash !== `#asset=${encodeURIComponent(assetId)}`) {
    history.replaceState(null, '', `#asset=${encodeURIComponent(assetId)}`);
  }
  app.selected = assetId;
  renderFleet();
  loadDetail(true).catch(showError);
}

function closeDetail() {
  app.selected = null;
  history.replaceState(null, '', '#');
  $('#detail').hidden = true;
  renderFleet();
}

async function loadDetail(first) {
  const id = app.selected;
  if (!id) return;
  const [detail, points] = await Promise.all([
    api(`/api/assets/${encodeURIComponent(id)}`),
    api(`/api/assets/${encodeURIComponent(id)}/history?limit=500`),
  ]);
  if (app.selected !== id) return;
  app.detail = detail;
  app.history = points;
  renderDetail(first);
}

function renderDetail(first) {
  const d = app.detail;
  const model = app.models.get(d.modelId);
  const twin = d.twin;
  const section = $('#detail');
  section.hidden = false;
  section.dataset.assetId = d.assetId;
  $('#detail-title').textContent = d.assetId;
  $('#detail-meta').replaceChildren(
    badge(twin?.health.state),
    h('span', {}, model?.name ?? d.modelId),
    h('span', {}, d.siteId),
    h('span', {}, twin ? `${twin.samples} samples · last #${twin.lastSeq} at ${timeText(twin.latest?.ts)}` : 'no telemetry yet'),
    twin?.scores ? h('span', {}, `scored by ${twin.scores.scoredBy}`) : null,
    twin?.scores?.driver ? h('span', { class: 'driver' }, `driven by ${driverText(twin.scores.driver)}`) : null,
    Number.isFinite(twin?.scores?.rulLower) && Number.isFinite(twin?.scores?.rulUpper)
      ? h('span', {}, `RUL 90 % interval ${rulText(twin.scores.rulLower, d.modelId)} – ${rulText(twin.scores.rulUpper, d.modelId)}`)
      : null,
    twin?.scores?.warmingUp ? h('span', {}, 'warming up: held below WARNING until enough data') : null,
  );
  const cycle = model?.clock === 'cycle';
  const xOf = (p) => (cycle ? p.seq : p.ts);
  const xKind = cycle ? 'number' : 'time';
  const xLabel = cycle ? 'cycle' : 'time (UTC)';
  const pts = app.history;

  $('#chart-scores').replaceChildren(
    lineChart({
      title: 'Anomaly, risk and failure probability',
      series: [
        { label: 'anomaly', points: pts.map((p) => [xOf(p), p.anomaly]), color: COLORS[0] },
        { label: 'risk', points: pts.map((p) => [xOf(p), p.risk]), color: COLORS[1] },
        { label: 'failure p', points: pts.map((p) => [xOf(p), p.failureProbability]), color: COLORS[2] },
      ],
      xKind,
      xLabel,
      yMin: 0,
      yMax: 1,
      thresholds: THRESHOLDS,
      width: 760,
    }),
  );
  $('#chart-rul').replaceChildren(
    lineChart({
      title: 'RUL',
      unit: rulUnit(model),
      series: [{ label: 'RUL', points: pts.map((p) => [xOf(p), rulValue(p.rul, model)]), color: COLORS[3] }],
      xKind,
      xLabel,
      yMin: 0,
      width: 380,
      height: 200,
    }),
  );
  const contributors = twin?.scores?.topContributors ?? [];
  $('#contributors').replaceChildren(
    barChart(contributors.map((c) => ({ label: c.sensor, value: c.share })), { title: 'Top contributing sensors' }),
  );
  renderComponents(twin, model, d.features);
  renderTransitions(twin, model);
  renderDeviceEvents(twin, model, d.features);
  renderLatest(twin, model, d.features);
  renderSensorCharts(pts, model, xOf, xKind, xLabel);
  if (first) setupWhatIf(d, model);
}

function sinceLabel(model) {
  return model?.clock === 'cycle' ? 'c' : 'h';
}

function renderComponents(twin, model, features) {
  const unit = sinceLabel(model);
  const rows = Object.entries(twin?.components ?? {}).map(([name, c]) => {
    const lm = c.lastMaintenance;
    const since = features?.[`since_maint_${name}_${unit}`];
    return h(
      'tr',
      { 'data-component': name },
      h('td', {}, name, h('div', { class: 'muted' }, model?.components[name]?.description ?? '')),
      h('td', {}, badge(c.health.state)),
      h('td', { class: 'num' }, fmt(c.risk)),
      h('td', {}, lm ? `${lm.kind} · ${timeText(lm.ts)}` : 'none recorded'),
      h('td', { class: 'num' }, since === null || since === undefined ? '–' : `${fmt(since, 1)} ${unit === 'c' ? 'cycles' : 'h'}`),
    );
  });
  $('#components').replaceChildren(
    h('thead', {}, h('tr', {}, h('th', {}, 'Component'), h('th', {}, 'State'), h('th', { class: 'num' }, 'Risk'), h('th', {}, 'Last maintenance'), h('th', { class: 'num' }, 'Since'))),
    h('tbody', {}, rows),
  );
}

function renderTransitions(twin, model) {
  const list = [...(twin?.history ?? [])].reverse();
  const at = (t) => (model?.clock === 'cycle' ? `cycle ${t.at}` : timeText(t.at));
  $('#state-history').replaceChildren(
    h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Scope'), h('th', {}, 'From'), h('th', {}, 'To'))),
    h(
      'tbody',
      {},
      list.length === 0
        ? h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'no transitions yet'))
        : list.map((t) =>
            h(
              'tr',
              { class: 'transition' },
              h('td', {}, at(t)),
              h('td', {}, t.scope === 'component' ? t.component ?? 'component' : 'asset'),
              h('td', {}, badge(t.from)),
              h('td', {}, badge(t.to)),
            ),
          ),
    ),
  );
}

/** Recent device events (pdm.event.v1) on the twin, newest first, with the medium-window count per code. */
function renderDeviceEvents(twin, model, features) {
  const list = [...(twin?.events ?? [])].reverse();
  const medium = featureWindowLabels(model).medium;
  const known = model?.events ?? {};
  const inWindow = (code) => features?.[`events_${Object.hasOwn(known, code) ? code : 'other'}_${medium}`];
  $('#device-events').replaceChildren(
    h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Code'), h('th', {}, 'Severity'), h('th', {}, 'Component'), h('th', { class: 'num' }, medium ? `In ${medium}` : 'In window'))),
    h(
      'tbody',
      {},
      list.length === 0
        ? h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'no device events yet'))
        : list.map((e) => {
            const n = inWindow(e.code);
            return h(
              'tr',
              { class: `device-event sev-${e.severity}`, 'data-code': e.code, title: e.message ?? known[e.code]?.description ?? 'code not in the catalog (counted as other)' },
              h('td', {}, timeText(e.ts)),
              h('td', {}, e.code, Object.hasOwn(known, e.code) ? null : h('span', { class: 'muted' }, ' (other)')),
              h('td', {}, h('span', { class: `event-severity sev-${e.severity}` }, e.severity)),
              h('td', {}, e.component ?? '–'),
              h('td', { class: 'num' }, n === null || n === undefined ? '–' : String(n)),
            );
          }),
    ),
  );
}

function featureWindowLabels(model) {
  if (!model) return { medium: '', long: '' };
  const label = (len) => {
    if (model.clock === 'cycle') return `${len}c`;
    if (len % (24 * HOUR) === 0 && len >= 2 * 24 * HOUR) return `${len / (24 * HOUR)}d`;
    if (len % HOUR === 0) return `${len / HOUR}h`;
    return `${len / 60_000}m`;
  };
  return { medium: label(model.windows.medium), long: label(model.windows.long) };
}

function featurized(model) {
  return Object.entries(model?.sensors ?? {}).filter(([, sp]) => sp.featurize !== false);
}

function renderLatest(twin, model, features) {
  const { medium, long } = featureWindowLabels(model);
  const per = model?.clock === 'cycle' ? 'cycle' : 'h';
  const rows = featurized(model).map(([name, spec]) =>
    h(
      'tr',
      { 'data-sensor': name },
      h('td', {}, name, h('div', { class: 'muted' }, spec.description)),
      h('td', {}, spec.unit),
      h('td', { class: 'num' }, fmt(twin?.latest?.readings[name], 3)),
      h('td', { class: 'num' }, fmt(features?.[`${name}_mean_${medium}`], 3)),
      h('td', { class: 'num' }, fmt(features?.[`${name}_std_${medium}`], 3)),
      h('td', { class: 'num' }, fmt(features?.[`${name}_slope_${long}`], 4)),
    ),
  );
  $('#latest-values').replaceChildren(
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Sensor'),
        h('th', {}, 'Unit'),
        h('th', { class: 'num' }, 'Latest'),
        h('th', { class: 'num' }, `Mean ${medium}`),
        h('th', { class: 'num' }, `Std ${medium}`),
        h('th', { class: 'num' }, `Slope ${long} (unit/${per})`),
      ),
    ),
    h('tbody', {}, rows),
  );
}

function renderSensorCharts(pts, model, xOf, xKind, xLabel) {
  $('#sensor-charts').replaceChildren(
    ...featurized(model).map(([name, spec], i) =>
      h(
        'div',
        { class: 'sensor-chart', 'data-sensor': name },
        lineChart({
          title: name,
          unit: spec.unit,
          series: [{ label: name, points: pts.map((p) => [xOf(p), p.readings[name] ?? null]), color: COLORS[i % COLORS.length] }],
          xKind,
          xLabel,
          width: 320,
          height: 150,
        }),
      ),
    ),
  );
}

// ---------- what-if ----------

function setupWhatIf(d, model) {
  const select = $('#whatif-component');
  const components = Object.keys(model?.components ?? {});
  select.replaceChildren(...components.map((c) => h('option', { value: c }, c)));
  // Default to the component at most risk: the one a planner would ask about first.
  const worst = Object.entries(d.twin?.components ?? {}).sort((a, b) => b[1].risk - a[1].risk)[0];
  if (worst) select.value = worst[0];
  $('#whatif-chart').replaceChildren();
  $('#whatif-rul').replaceChildren();
  $('#whatif-method').textContent = '';
  $('#whatif-limit').textContent = '';
  $('#whatif-status').textContent = d.twin ? '' : 'no telemetry yet';
}

async function runWhatIf(ev) {
  ev.preventDefault();
  const assetId = app.selected;
  if (!assetId) return;
  const model = app.models.get(app.detail?.modelId);
  const component = $('#whatif-component').value;
  const deferDays = Number($('#whatif-days').value);
  const status = $('#whatif-status');
  status.textContent = 'projecting…';
  try {
    const r = await api('/api/whatif', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ assetId, component, deferDays }),
    });
    // The server stops the projection where the models have no basis (no model for the component,
    // or features leaving their training range): say so in words and draw only what is backed.
    $('#whatif-limit').textContent = r.limit ? r.limit.message : '';
    $('#whatif-method').textContent = `Method: ${r.method}`;
    if (r.projectedDays === 0) {
      $('#whatif-chart').replaceChildren();
      $('#whatif-rul').replaceChildren();
      status.textContent = 'no projection: the models have no basis for it';
      return;
    }
    const series = [
      { label: 'risk', points: r.points.map((p) => [p.day, p.risk]), color: COLORS[0] },
      { label: 'failure p', points: r.points.map((p) => [p.day, p.failureProbability]), color: COLORS[2] },
    ];
    if (r.points.some((p) => p.componentFailure !== null)) {
      series.push({ label: `${component} failure`, points: r.points.map((p) => [p.day, p.componentFailure]), color: COLORS[1] });
    }
    const span = r.projectedDays < r.deferDays ? `${r.projectedDays} of ${r.deferDays} d` : `${r.deferDays} d`;
    $('#whatif-chart').replaceChildren(
      lineChart({ title: `Predicted risk, ${component} deferred ${span}`, series, xLabel: 'days from now', yMin: 0, yMax: 1, thresholds: THRESHOLDS }),
    );
    const rulChart = lineChart({
      title: 'Predicted RUL',
      unit: rulUnit(model),
      series: [{ label: 'RUL', points: r.points.map((p) => [p.day, rulValue(p.rul, model)]), color: COLORS[3] }],
      xLabel: 'days from now',
      yMin: 0,
    });
    $('#whatif-rul').replaceChildren(...(r.points.some((p) => p.rul !== null) ? [rulChart] : []));
    const noComponentModel = !r.points.some((p) => p.componentFailure !== null);
    status.textContent = noComponentModel ? `asset-level models, trained on ${component} failures` : '';
  } catch (e) {
    status.textContent = `error: ${e.message}`;
  }
}

// ---------- models & drift ----------

/** How often the page asks for the drift panel; the server computes it at most once a minute anyway. */
const DRIFT_REFRESH_MS = 60_000;
/** Feature rows shown per asset model (the API has the top ten). */
const DRIFT_ROWS = 5;

function isoMinute(iso) {
  return iso ? iso.slice(0, 16).replace('T', ' ') : '–';
}

function versionText(c) {
  const parts = [];
  if (c.version) parts.push(c.champion ? `${c.version} (champion)` : `${c.version} (registry champion: ${c.registryChampion ?? 'none'})`);
  else parts.push('version not in the registry');
  parts.push(`bundle ${isoMinute(c.bundleCreatedAt)}`);
  if (c.modelHash) parts.push(c.modelHash);
  return parts.join(' · ');
}

/** A PSI as a bar against the threshold (dashed line); the scale covers twice the threshold or the largest PSI. */
function psiBar(psi, threshold, scale) {
  const width = 160;
  const height = 14;
  const svg = s('svg', { class: 'chart-svg', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `PSI ${fmt(psi, 3)}` });
  if (psi !== null && Number.isFinite(psi)) {
    svg.append(s('rect', { class: `bar ${psi >= threshold ? 'high' : 'ok'}`, x: 0, y: 2, height: height - 4, width: Math.max(1, Math.min(1, psi / scale) * width) }));
  }
  const tx = (threshold / scale) * width;
  svg.append(s('line', { class: 'threshold', stroke: '#d22f2f', x1: tx, x2: tx, y1: 0, y2: height }));
  return svg;
}

function driftModelCard(m, panel) {
  const { threshold } = panel;
  const head = h('h3', {}, m.assetModel);
  const version = h('div', { class: 'version' }, versionText(m.champion));
  const psi =
    m.psi === null
      ? h('div', { class: 'psi none' }, m.reason ?? 'not enough data')
      : h('div', { class: `psi ${m.psi >= threshold ? 'high' : 'ok'}` }, `PSI ${fmt(m.psi, 3)} on ${m.feature}${m.psi >= threshold ? ` ≥ ${threshold}` : ''}`);
  const window = h(
    'div',
    { class: 'window' },
    `window ${m.window.hours} h${m.window.from ? `: ${isoMinute(m.window.from)} → ${isoMinute(m.window.to)}` : ''} · ${m.rows} rows (minimum ${m.minCount})`,
  );
  const shown = m.features.slice(0, DRIFT_ROWS);
  const scale = Math.max(2 * threshold, ...shown.map((f) => f.psi ?? 0));
  const table = h(
    'table',
    { class: 'grid small' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Feature'), h('th', { class: 'num' }, 'PSI'), h('th', {}, `vs ${threshold}`))),
    h(
      'tbody',
      {},
      shown.map((f) =>
        h(
          'tr',
          { class: 'drift-feature', 'data-feature': f.feature },
          h('td', {}, f.feature),
          h('td', { class: 'num' }, fmt(f.psi, 3)),
          h('td', { class: 'bar-cell' }, psiBar(f.psi, threshold, scale)),
        ),
      ),
    ),
  );
  const alarmName = panel.alarms.kind === 'cloudwatch' ? h('div', { class: 'window' }, `alarm: ${panel.alarms.names[m.assetModel] ?? '–'}`) : null;
  return h(
    'div',
    { class: 'drift-model', 'data-model': m.assetModel, 'data-psi': m.psi === null ? 'null' : String(m.psi) },
    head,
    version,
    psi,
    window,
    alarmName,
    shown.length > 0 ? table : null,
  );
}

function renderDrift(panel) {
  const basis = panel.basis === 'history' ? 'from the history tables' : 'from the live drift window';
  $('#drift-meta').textContent = `PSI ${basis}, threshold ${panel.threshold}; computed ${isoMinute(panel.computedAt)} UTC`;
  $('#drift-models').replaceChildren(...panel.models.map((m) => driftModelCard(m, panel)));
  const alarm = $('#drift-alarm');
  if (panel.alarms.kind === 'cloudwatch') {
    alarm.className = 'drift-alarm';
    alarm.textContent = panel.alarms.message;
  } else if (panel.alarms.items.length === 0) {
    alarm.className = 'drift-alarm';
    alarm.textContent = 'No drift alarm so far.';
  } else {
    const a = panel.alarms.items[0];
    alarm.className = 'drift-alarm fired';
    alarm.textContent = `Latest drift alarm: ${isoMinute(a.at)} ${a.assetModel}: PSI ${fmt(a.psi, 3)} on ${a.feature} (${a.rows} rows)${panel.alarms.items.length > 1 ? ` · ${panel.alarms.items.length} alarms in all` : ''}`;
  }
}

async function loadDrift() {
  try {
    renderDrift(await api('/api/drift'));
  } catch (e) {
    $('#drift-meta').textContent = `error: ${e.message}`;
  }
}

// ---------- live updates ----------

function scheduleRefresh() {
  if (app.refreshTimer) return;
  // Debounced: a simulation tick changes many twins at once; one re-fetch covers them all.
  app.refreshTimer = setTimeout(async () => {
    app.refreshTimer = null;
    const dirty = app.dirtyAssets;
    app.dirtyAssets = new Set();
    try {
      await loadFleet();
      if (app.selected && dirty.has(app.selected)) await loadDetail(false);
      if (dirty.has('*alerts*')) await loadAlerts();
    } catch (e) {
      showError(e);
    }
  }, 300);
}

function connect() {
  const live = $('#live');
  const es = new EventSource('/api/events');
  es.onopen = () => {
    live.textContent = 'live';
    live.className = 'live on';
  };
  es.onerror = () => {
    live.textContent = 'reconnecting…';
    live.className = 'live off';
  };
  es.addEventListener('twin', (e) => {
    const ev = JSON.parse(e.data);
    app.dirtyAssets.add(ev.assetId);
    scheduleRefresh();
  });
  es.addEventListener('alert', () => {
    app.dirtyAssets.add('*alerts*');
    scheduleRefresh();
  });
}

function showError(e) {
  $('#fleet-shown').textContent = `error: ${e.message}`;
}

async function main() {
  const models = await api('/api/models');
  for (const m of models) app.models.set(m.id, m);
  await Promise.all([loadFleet(), loadAlerts(), loadDrift()]);
  setInterval(() => void loadDrift(), DRIFT_REFRESH_MS);
  for (const id of ['#filter-site', '#filter-model', '#filter-state']) $(id).addEventListener('change', renderFleet);
  $('#detail-close').addEventListener('click', closeDetail);
  $('#whatif-form').addEventListener('submit', (ev) => void runWhatIf(ev));
  const m = /^#asset=(.+)$/.exec(location.hash);
  if (m) select(decodeURIComponent(m[1]));
  connect();
  document.body.dataset.ready = 'true';
}

window.addEventListener('DOMContentLoaded', () => {
  main().catch(showError);
});
