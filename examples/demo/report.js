'use strict';
// The demo's self-contained HTML report: the table, the targets, and inline
// SVG charts (load, latency per policy over time, routing weights as the
// rules converge, the bottleneck's utilisation). No scripts, no external
// files: one page that opens anywhere.

const POLICY_COLOR = { local: '#c0392b', waterfall: '#e67e22', slate: '#1f5fa8' };
const REGION_COLOR = { 'us-west': '#3b75af', 'us-east': '#5aa05a', 'eu-west': '#a66bb0' };
const PHASE_FILL = { 'warm-up': '#ffffff', ramp: '#fdf3e3', overload: '#fbe3e0', recovery: '#eef5ec' };

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(v, d = 1) { return Number.isFinite(v) ? v.toFixed(d) : '-'; }

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo, hi, n = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * Math.pow(10, e);
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

/**
 * An SVG line chart. opts: title, width, height, xMax, yMin, yMax, yLog,
 * xLabel, yLabel, bands [{from, to, fill, label}], series [{name, color,
 * points [[x, y]], dash, width}], legend (default true).
 */
function lineChart(opts) {
  const W = opts.width || 860, H = opts.height || 280;
  const m = { l: 62, r: 16, t: opts.legend === false ? 30 : 46, b: 42 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const xMax = opts.xMax;
  const all = opts.series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => Number.isFinite(v) && (!opts.yLog || v > 0));
  let yMin = opts.yMin ?? (opts.yLog ? Math.max(1e-3, Math.min(...all) * 0.8) : 0);
  let yMax = opts.yMax ?? (all.length ? Math.max(...all) * 1.08 : 1);
  if (opts.yLog) { yMin = Math.pow(10, Math.floor(Math.log10(yMin))); yMax = Math.pow(10, Math.ceil(Math.log10(yMax))); }
  if (!(yMax > yMin)) yMax = yMin + 1;
  const X = (x) => m.l + (x / xMax) * pw;
  const Y = (y) => {
    const f = opts.yLog ? (Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))
      : (y - yMin) / (yMax - yMin);
    return m.t + ph - Math.max(0, Math.min(1, f)) * ph;
  };
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(opts.title || '')}">`);
  o.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  for (const b of opts.bands || []) {
    o.push(`<rect x="${X(b.from).toFixed(1)}" y="${m.t}" width="${(X(b.to) - X(b.from)).toFixed(1)}" height="${ph}" fill="${b.fill}"/>`);
    if (b.label) o.push(`<text x="${((X(b.from) + X(b.to)) / 2).toFixed(1)}" y="${m.t + 12}" font-size="10" fill="#777" text-anchor="middle">${esc(b.label)}</text>`);
  }
  const yt = opts.yLog ? logTicks(yMin, yMax) : ticks(yMin, yMax);
  for (const v of yt) {
    o.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#e4e4e4"/>`);
    o.push(`<text x="${m.l - 6}" y="${(Y(v) + 3.5).toFixed(1)}" font-size="11" text-anchor="end" fill="#444">${esc(opts.yFormat ? opts.yFormat(v) : v)}</text>`);
  }
  for (const v of ticks(0, xMax, 8)) {
    o.push(`<line x1="${X(v).toFixed(1)}" x2="${X(v).toFixed(1)}" y1="${m.t + ph}" y2="${m.t + ph + 4}" stroke="#444"/>`);
    o.push(`<text x="${X(v).toFixed(1)}" y="${m.t + ph + 16}" font-size="11" text-anchor="middle" fill="#444">${v}</text>`);
  }
  o.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  for (const s of opts.series) {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (!pts.length) continue;
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join('');
    o.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width || 2}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round"/>`);
  }
  if (opts.title) o.push(`<text x="${m.l}" y="18" font-size="13" font-weight="600" fill="#222">${esc(opts.title)}</text>`);
  if (opts.xLabel) o.push(`<text x="${m.l + pw / 2}" y="${H - 6}" font-size="11" text-anchor="middle" fill="#444">${esc(opts.xLabel)}</text>`);
  if (opts.yLabel) o.push(`<text transform="translate(14,${m.t + ph / 2}) rotate(-90)" font-size="11" text-anchor="middle" fill="#444">${esc(opts.yLabel)}</text>`);
  if (opts.legend !== false) {
    // The legend has its own row under the title, left-aligned.
    let lx = m.l;
    for (const s of opts.series) {
      o.push(`<line x1="${lx}" x2="${lx + 18}" y1="${m.t - 10}" y2="${m.t - 10}" stroke="${s.color}" stroke-width="3"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
      o.push(`<text x="${lx + 22}" y="${m.t - 6}" font-size="11" fill="#222">${esc(s.name)}</text>`);
      lx += 34 + 6.4 * s.name.length;
    }
  }
  o.push('</svg>');
  return o.join('');
}

/**
 * An SVG stacked-area chart of fractions (0..1) over time. opts: title,
 * width, height, xMax, bands, layers [{name, color}], points [{t, v: {name:
 * fraction}}] (steps: each value holds until the next point), marks [{t,
 * color, label}] (small triangles above the plot, e.g. rollbacks).
 */
function stackedChart(opts) {
  const W = opts.width || 420, H = opts.height || 190;
  const m = { l: 44, r: 10, t: 38, b: 32 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const X = (x) => m.l + (Math.max(0, Math.min(opts.xMax, x)) / opts.xMax) * pw;
  const Y = (f) => m.t + ph - Math.max(0, Math.min(1, f)) * ph;
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(opts.title || '')}">`);
  o.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  const pts = opts.points.slice().sort((a, b) => a.t - b.t);
  if (pts.length) {
    // Step function: each snapshot holds until the next one (or the end).
    const steps = [];
    for (let i = 0; i < pts.length; i++) {
      const t1 = i + 1 < pts.length ? pts[i + 1].t : opts.xMax;
      steps.push({ a: pts[i].t, b: t1, v: pts[i].v });
    }
    let lower = steps.map(() => 0);
    for (const layer of opts.layers) {
      const upper = steps.map((s, i) => lower[i] + (s.v[layer.name] || 0));
      const top = [], bot = [];
      steps.forEach((s, i) => { top.push([X(s.a), Y(upper[i])], [X(s.b), Y(upper[i])]); });
      for (let i = steps.length - 1; i >= 0; i--) bot.push([X(steps[i].b), Y(lower[i])], [X(steps[i].a), Y(lower[i])]);
      const d = top.concat(bot).map((p, i) => `${i ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}`).join('') + 'Z';
      o.push(`<path d="${d}" fill="${layer.color}" fill-opacity="0.85" stroke="none"/>`);
      lower = upper;
    }
  } else {
    o.push(`<text x="${m.l + pw / 2}" y="${m.t + ph / 2}" font-size="12" text-anchor="middle" fill="#888">no rules published</text>`);
  }
  for (const b of opts.bands || []) {
    o.push(`<line x1="${X(b.from).toFixed(1)}" x2="${X(b.from).toFixed(1)}" y1="${m.t}" y2="${m.t + ph}" stroke="#333" stroke-dasharray="3,3" stroke-width="0.8"/>`);
  }
  for (const mk of opts.marks || []) {
    const x = X(mk.t);
    o.push(`<path d="M${(x - 4).toFixed(1)},${m.t - 7}L${(x + 4).toFixed(1)},${m.t - 7}L${x.toFixed(1)},${m.t - 1}Z" fill="${mk.color}"><title>${esc(mk.label)}</title></path>`);
  }
  for (const v of [0, 0.5, 1]) o.push(`<text x="${m.l - 5}" y="${(Y(v) + 3.5).toFixed(1)}" font-size="10" text-anchor="end" fill="#444">${Math.round(v * 100)}%</text>`);
  for (const v of ticks(0, opts.xMax, 5)) o.push(`<text x="${X(v).toFixed(1)}" y="${m.t + ph + 14}" font-size="10" text-anchor="middle" fill="#444">${v}</text>`);
  o.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  if (opts.title) o.push(`<text x="${m.l}" y="13" font-size="12" font-weight="600" fill="#222">${esc(opts.title)}</text>`);
  let lx = m.l;
  for (const layer of opts.layers) {
    o.push(`<rect x="${lx}" y="19" width="10" height="8" fill="${layer.color}"/>`);
    o.push(`<text x="${lx + 13}" y="26" font-size="10" fill="#222">${esc(layer.name)}</text>`);
    lx += 22 + 6 * layer.name.length;
  }
  o.push(`<text x="${m.l + pw / 2}" y="${H - 4}" font-size="10" text-anchor="middle" fill="#444">time (s)</text>`);
  o.push('</svg>');
  return o.join('');
}

function summaryTable(results, policies) {
  const rows = [];
  for (const [p, r] of Object.entries(results.policies)) {
    for (const w of ['overall', 'overload']) {
      const s = r[w];
      rows.push(`<tr class="${w}"><td>${w === 'overall' ? `<span class="dot" style="background:${POLICY_COLOR[p]}"></span>${esc(policies[p].label)}` : ''}</td>` +
        `<td>${w}</td><td>${s.requests}</td><td>${num(s.meanMs)}</td><td>${num(s.p50Ms)}</td><td>${num(s.p99Ms)}</td>` +
        `<td>${num(100 * s.remoteShare)}</td><td>${num(s.egressGB, 3)}</td><td>${num(s.egressUsd, 4)}</td><td>${num(s.usdPerMillion, 2)}</td></tr>`);
    }
  }
  return `<table><thead><tr><th>policy</th><th>window</th><th>requests</th><th>mean ms</th><th>p50 ms</th><th>p99 ms</th>` +
    `<th>remote %</th><th>egress GB</th><th>egress $</th><th>$ / 1M req</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function render({ o, scenario, metrics, results, timeline, phases, policies }) {
  const D = results.duration;
  const ps = Object.keys(results.policies);
  const bands = phases.map((p) => ({ from: p.from, to: p.to, fill: PHASE_FILL[p.name] || '#fff', label: p.name }));
  const over = phases.find((p) => p.name === 'overload');

  // Load per region.
  const loadSeries = scenario.REGIONS.map((r) => {
    const pts = [];
    for (let t = 0; t <= D; t += D / 200) pts.push([t, scenario.loadRps(r, t, D)]);
    return { name: r, color: REGION_COLOR[r], points: pts };
  });
  const loadChart = lineChart({ title: 'Offered load: user requests per second entering each region', xMax: D, bands,
    series: loadSeries, xLabel: 'time (s)', yLabel: 'requests / s', yMin: 0 });

  // Latency per policy.
  const latMean = ps.map((p) => ({ name: policies[p].label, color: POLICY_COLOR[p],
    points: metrics.latencySeries(p).map((b) => [b.t + 0.5, b.meanMs]) }));
  const latChart = lineChart({ title: 'Mean end-to-end latency per second (all regions, log scale)', xMax: D, bands, yLog: true,
    series: latMean, xLabel: 'time (s)', yLabel: 'ms' });
  const latWest = ps.map((p) => ({ name: policies[p].label, color: POLICY_COLOR[p],
    points: metrics.latencySeries(p, scenario.OVERLOADED).map((b) => [b.t + 0.5, b.p99Ms]) }));
  const p99Chart = lineChart({ title: `p99 end-to-end latency per second of requests entering ${scenario.OVERLOADED} (log scale)`, xMax: D, bands, yLog: true,
    series: latWest, xLabel: 'time (s)', yLabel: 'ms' });

  // Routing weights over time: the controller's rules for the overloaded region.
  const layers = scenario.REGIONS.map((r) => ({ name: r, color: REGION_COLOR[r] }));
  const edges = [];
  for (const [svc, s] of Object.entries(scenario.SERVICES)) {
    for (const c of s.calls) if (!edges.some((e) => e.from === svc && e.to === c.service)) edges.push({ from: svc, to: c.service });
  }
  // Only the calls some policy ever sent elsewhere (the rest stay local).
  const moved = edges.filter((e) => ps.some((p) => (timeline[p] || []).some((snap) => {
    const fr = snap.rules[`${e.from}>${e.to}@${scenario.OVERLOADED}`] || snap.rules[`*>${e.to}@${scenario.OVERLOADED}`];
    return fr && (fr[scenario.OVERLOADED] ?? 0) < 0.999;
  })));
  const stayed = edges.filter((e) => !moved.includes(e));
  const routing = [];
  for (const p of ps.filter((x) => x !== 'local')) {
    const charts = (moved.length ? moved : edges.slice(0, 1)).map((e) => {
      const key = `${e.from}>${e.to}@${scenario.OVERLOADED}`;
      const pts = (timeline[p] || []).map((snap) => {
        const fr = snap.rules[key] || snap.rules[`*>${e.to}@${scenario.OVERLOADED}`] || { [scenario.OVERLOADED]: 1 };
        return { t: snap.t, v: fr };
      });
      // Rollbacks: the snapshots where the published rules' origin turned to "rollback".
      const marks = [];
      let prev = null;
      for (const snap of timeline[p] || []) {
        if (snap.origin === 'rollback' && prev !== 'rollback') marks.push({ t: snap.t, color: '#c0392b', label: `rollback at ${snap.t} s` });
        prev = snap.origin;
      }
      return stackedChart({ title: `${e.from} \u2192 ${e.to}`, xMax: D, points: pts, layers, marks,
        bands: [{ from: over.from }, { from: over.to }] });
    });
    const sv = (results.policies[p] && results.policies[p].solves) || [];
    if (p === 'slate' && sv.length) {
      charts.push(lineChart({ title: 'what the controller sees (GET /v1/state)', width: 420, height: 190, xMax: D, yMin: 0,
        bands: [], xLabel: 'time (s)', yLabel: 'ms', series: [
          { name: 'measured', color: '#333', points: sv.map((x) => [x.t, x.measuredMs]) },
          { name: 'modelled at the optimum', color: POLICY_COLOR.slate, dash: '5,3', points: sv.map((x) => [x.t, x.modelledMs]) },
        ] }));
    }
    routing.push(`<h3><span class="dot" style="background:${POLICY_COLOR[p]}"></span>${esc(policies[p].label)}: rules for calls made in ${esc(scenario.OVERLOADED)} (share sent to each region, from GET /v1/rules once per second)</h3><div class="grid">${charts.join('')}</div>`);
  }

  // The bottleneck: catalog utilisation per region under each policy.
  const bottleneck = 'catalog';
  const mu = scenario.SERVICES[bottleneck].mu;
  const utilCharts = ps.map((p) => lineChart({
    title: `${policies[p].label}: ${bottleneck} utilisation per region`, width: 420, height: 200, xMax: D, bands, yMin: 0,
    yMax: 1.4, yFormat: (v) => `${Math.round(v * 100)}%`,
    series: scenario.REGIONS.map((r) => ({ name: r, color: REGION_COLOR[r],
      points: metrics.serviceSeries(p, bottleneck, r).map((b) => [b.t + 0.5, b.loadRps / mu]) }))
      .concat([{ name: 'declared', color: '#555', dash: '4,3', width: 1,
        points: [[0, scenario.DECLARED_UTILISATION], [D, scenario.DECLARED_UTILISATION]] }]),
  }));

  const targets = (results.targets || []).map((t) => `<li class="${t.ok ? 'ok' : 'miss'}">${t.ok ? 'met' : 'missed'}: ${esc(t.text)}</li>`).join('');
  const conv = results.convergence;
  const convText = conv ? (conv.converged
    ? `libslate's rules for ${esc(scenario.OVERLOADED)} settled ${num(conv.afterS)} s into the overload (every weight held within ${conv.tolerance} for up to ${num(conv.stableS)} s).`
    : `libslate's rules did not converge: ${esc(conv.reason)}.`) : '';
  const failures = (results.failures || []).map((f) => `<li class="miss">${esc(f)}</li>`).join('');

  const rttRows = scenario.REGIONS.map((a) => `<tr><th>${a}</th>${scenario.REGIONS.map((b) =>
    `<td>${a === b ? '&ndash;' : `${scenario.RTT_MS[a][b]} ms, $${scenario.PRICE_PER_GB[a][b]}/GB`}</td>`).join('')}</tr>`).join('');
  const svcRows = Object.entries(scenario.SERVICES).map(([n, s]) => `<tr><td>${n}</td><td>${s.baseMs}</td><td>${s.mu}</td>` +
    `<td>${(s.mu * scenario.DECLARED_UTILISATION).toFixed(0)}</td><td>${s.calls.map((c) => `${c.service} ${c.path} (${c.reqBytes / 1024} KiB / ${c.respBytes / 1024} KiB)`).join(', ') || '&ndash;'}</td></tr>`).join('');
  const ctlArgs = results.policies[ps[0]] ? results.policies[ps[0]].controllerArgs.join(' ').replace(/--port-file \S+/, '--port-file …').replace(/--routing \S+/, '--routing local|waterfall|slate').replace(/--regions-file \S+/, '--regions-file regions.txt') : '';

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>libslate demo report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;max-width:900px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:13px;margin:16px 0 6px;font-weight:600}
table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #e2e2e2;padding:4px 8px;text-align:right}th{background:#f5f5f5}
td:first-child,th:first-child,td:nth-child(2){text-align:left}tr.overload td{background:#fdf1ef}
.dot{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:6px}
.grid{display:flex;flex-wrap:wrap;gap:8px}.grid svg{flex:0 0 auto}
table.svc td:last-child,table.svc th:last-child{text-align:left}li.ok{color:#1d6b2f}li.miss{color:#a32020}.note{color:#555;font-size:13px}
svg{max-width:100%;height:auto}code{background:#f3f3f3;padding:1px 4px;border-radius:3px}
</style></head><body>
<h1>${esc(results.title || 'libslate demo')}</h1>
${results.setupNote ? `<p class="note">${results.setupNote}</p>` : `<p class="note">${results.duration} s load trace, seed ${results.seed}; ${ps.map((p) => esc(policies[p].label)).join(', ')} run side by side on the same arrivals, each with its own <code>slate-controller</code>; the data plane is the libslate proxy-wasm module (${esc(String(o.workers))} worker VMs and a reporter per sidecar) in the test host. Overload window: ${num(over.from, 0)}&ndash;${num(over.to, 0)} s.</p>`}
<h2>Results</h2>
${summaryTable(results, policies)}
<ul>${targets}${failures}</ul>
<p>${convText}</p>
<h2>Load</h2>
${loadChart}
<h2>Latency</h2>
${latChart}
${p99Chart}
<h2>Routing weights as the rules converge</h2>
<p class="note">Stacked: share of the calls made in ${esc(scenario.OVERLOADED)} that each controller's rules send to each region (${esc(scenario.OVERLOADED)} at the bottom). Dashed lines: start and end of the overload; red triangles: a change rolled back by the stability rules because the measured latency got worse.${stayed.length ? ` Not shown, always served in ${esc(scenario.OVERLOADED)}: ${stayed.map((e) => `${esc(e.from)} \u2192 ${esc(e.to)}`).join(', ')}.` : ''}</p>
${routing.join('\n')}
<h2>The bottleneck</h2>
<p class="note">Load on ${bottleneck} in each region divided by what it can serve (${mu} calls/s); the dashed line is the capacity declared to the controllers.</p>
<div class="grid">${utilCharts.join('')}</div>
<h2>Setup</h2>
<table><thead><tr><th>RTT, egress</th>${scenario.REGIONS.map((r) => `<th>${r}</th>`).join('')}</tr></thead><tbody>${rttRows}</tbody></table>
<table class="svc"><thead><tr><th>service</th><th>base ms</th><th>serves rps</th><th>declared rps</th><th>calls (request / response)</th></tr></thead><tbody>${svcRows}</tbody></table>
${results.modelNote ? `<p class="note">${results.modelNote}</p>` : `<p class="note">Service time = base &times; 1/(1&minus;&rho;) up to &rho; = 0.9, then along its tangent (capped at 60&times;), &rho; = load over the last second / capacity, with log-normal noise (&sigma; 0.25). Time model: one virtual clock for every sidecar, paced to the wall clock because the controllers are real daemons on their own clock (at most ${num(results.maxLagMs, 0)} ms behind). Controller flags: <code>${esc(ctlArgs)}</code>.</p>`}
</body></html>
`;
}

module.exports = { render, lineChart, stackedChart, ticks, logTicks, esc };
