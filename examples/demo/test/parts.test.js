'use strict';
// Tests of the demo's pure parts: the scenario, the load meter and arrivals,
// the metrics, the rules snapshots and convergence, and the report's charts.
const test = require('node:test');
const assert = require('node:assert/strict');

const scenario = require('../scenario.js');
const { LoadMeter, Prng, arrivals, traceId } = require('../sim.js');
const { Metrics, quantile } = require('../metrics.js');
const { rulesSnapshot, convergence, distance, largestShift } = require('../rules.js');
const report = require('../report.js');
const { parseProm, promSum } = require('../controller.js');
const { evaluateTargets } = require('../demo.js');

test('queueing curve: M/M/1 below 0.9, continuous, increasing and convex past it, capped', () => {
  const g = scenario.queueingFactor;
  assert.equal(g(0), 1);
  assert.ok(Math.abs(g(0.5) - 2) < 1e-12);
  assert.ok(Math.abs(g(0.9) - 10) < 1e-9);
  assert.ok(Math.abs(g(0.9 + 1e-9) - 10) < 1e-5, 'continuous at 0.9');
  let prev = g(0), prevSlope = 0;
  for (let r = 0.01; r <= 1.4; r += 0.01) {
    const v = g(r);
    assert.ok(v > prev, `increasing at ${r}`);
    const slope = (v - prev) / 0.01;
    assert.ok(slope >= prevSlope - 1e-6, `convex at ${r}`);
    prev = v; prevSlope = slope;
  }
  assert.equal(g(5), 60);
  assert.equal(scenario.serviceTimeMs('catalog', 80), 10 * 2);
});

test('load trace: us-west goes from its base to its peak and back; the others stay near base', () => {
  const D = 100;
  const w = (t) => scenario.loadRps('us-west', t, D);
  assert.ok(Math.abs(w(10) - scenario.BASE_RPS['us-west']) <= 0.08 * scenario.BASE_RPS['us-west'] + 1e-9);
  for (const t of [41, 60, 84]) {
    const base = scenario.BASE_RPS['us-west'];
    assert.ok(Math.abs(w(t) - scenario.PEAK_RPS) <= 0.08 * base + 1e-9, `peak at ${t}: ${w(t)}`);
  }
  assert.ok(w(95) < 1.1 * scenario.BASE_RPS['us-west']);
  for (const r of ['us-east', 'eu-west']) {
    for (let t = 0; t < D; t += 1) {
      const v = scenario.loadRps(r, t, D);
      assert.ok(Math.abs(v - scenario.BASE_RPS[r]) <= 0.08 * scenario.BASE_RPS[r] + 1e-9);
      assert.ok(v <= scenario.maxLoadRps(r));
    }
  }
  for (let t = 0; t < D; t += 0.5) assert.ok(w(t) <= scenario.maxLoadRps('us-west'));
  // The overload is real: catalog in us-west needs more than it can serve,
  // and the three regions together have room.
  const cpr = scenario.callsPerRequest();
  assert.deepEqual(cpr, { ingress: 1, frontend: 1, recommend: 1, catalog: 2 });
  assert.ok(scenario.PEAK_RPS * cpr.catalog > scenario.SERVICES.catalog.mu);
  const total = (scenario.PEAK_RPS + scenario.BASE_RPS['us-east'] + scenario.BASE_RPS['eu-west']) * cpr.catalog;
  assert.ok(total < 3 * scenario.SERVICES.catalog.mu * scenario.DECLARED_UTILISATION);
  assert.equal(scenario.phaseAt(0.5), 'overload');
  assert.equal(scenario.phaseAt(0.1), 'warm-up');
});

test("regions file: every line in the controller's grammar, values from the matrices", () => {
  const text = scenario.regionsFile();
  const rtt = {}, price = {}, cap = {};
  for (const line of text.split('\n')) {
    const l = line.replace(/#.*/, '').trim();
    if (!l) continue;
    const t = l.split(/\s+/);
    if (t[0] === 'region') { assert.equal(t.length, 2); continue; }
    assert.equal(t.length, 4, line);
    const v = Number(t[3]);
    assert.ok(Number.isFinite(v) && v >= 0, line);
    if (t[0] === 'rtt') rtt[`${t[1]} ${t[2]}`] = v;
    else if (t[0] === 'price') price[`${t[1]} ${t[2]}`] = v;
    else if (t[0] === 'capacity') cap[`${t[1]} ${t[2]}`] = v;
    else assert.fail(`unexpected line ${line}`);
  }
  assert.equal(rtt['us-west eu-west'], 138);
  assert.equal(rtt['us-east us-east'], 0);
  assert.ok(Math.abs(price['us-east eu-west'] - 0.05e-9) < 1e-18);
  assert.equal(cap['catalog us-west'], 136);
  assert.equal(Object.keys(cap).length, 12);
  // $0.02/GB each way: 4 KiB there and 32 KiB back.
  assert.ok(Math.abs(scenario.callEgressUsd('us-west', 'us-east', 4096, 32768) - 36864 * 0.02 / 1e9) < 1e-18);
  assert.equal(scenario.callEgressUsd('us-west', 'us-west', 4096, 32768), 0);
});

test('load meter: trailing one-second rate against a direct count', () => {
  const m = new LoadMeter(1e9, 20);
  const rng = new Prng(7);
  const stamps = [];
  let t = 0;
  for (let i = 0; i < 3000; i++) { t += rng.exp(300) * 1e9; stamps.push(t); m.add(t); }
  // Buckets are 50 ms wide: the meter counts whole buckets, so compare with
  // the count since the start of the oldest bucket in its window.
  for (const at of [2.5e9, 5.01e9, t]) {
    const width = 50e6;
    const from = (Math.floor(at / width) - 19) * width;
    const direct = stamps.filter((s) => s >= from && s <= at).length;
    const m2 = new LoadMeter(1e9, 20);
    for (const s of stamps) if (s <= at) m2.add(s);
    assert.equal(m2.rate(at), direct / 1);
  }
  // Nothing for a while: the rate decays to zero.
  assert.equal(m.rate(t + 2e9), 0);
});

test('arrivals: repeatable, sorted, and as many as the trace integrates to', () => {
  const D = 40;
  const a = arrivals(3, D), b = arrivals(3, D), c = arrivals(4, D);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  for (const r of scenario.REGIONS) {
    const l = a[r];
    for (let i = 1; i < l.length; i++) assert.ok(l[i] >= l[i - 1]);
    let expect = 0;
    for (let t = 0; t < D; t += 0.01) expect += scenario.loadRps(r, t + 0.005, D) * 0.01;
    // Poisson: within 4 standard deviations.
    assert.ok(Math.abs(l.length - expect) < 4 * Math.sqrt(expect), `${r}: ${l.length} vs ${expect}`);
  }
});

test('trace ids: 16 hex digits, repeatable, distinct', () => {
  const seen = new Set();
  for (const r of scenario.REGIONS) {
    for (let i = 0; i < 5000; i++) {
      const id = traceId(1, r, i);
      assert.match(id, /^[0-9a-f]{16}$/);
      assert.notEqual(id, '0000000000000000');
      seen.add(id);
    }
  }
  assert.equal(seen.size, 15000);
  assert.equal(traceId(1, 'us-east', 42), traceId(1, 'us-east', 42));
});

test('metrics: quantiles, summaries and per-second series against hand-computed values', () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
  assert.equal(quantile([1, 2, 3, 4], 0.99), 4);
  const xs = Array.from({ length: 1000 }, (_, i) => i + 1);
  assert.equal(quantile(xs, 0.99), 990);
  const m = new Metrics();
  const add = (t0s, lat, calls, remote, usd, bytes) => m.request('p', { t0: t0s * 1e9, region: 'us-west', calls, remote, egressUsd: usd, egressBytes: bytes }, t0s * 1e9 + lat * 1e6);
  add(0.1, 10, 4, 0, 0, 0);
  add(0.5, 30, 4, 2, 2e-6, 1000);
  add(1.2, 20, 4, 1, 1e-6, 500);
  const s = m.summary('p');
  assert.equal(s.requests, 3);
  assert.equal(s.meanMs, 20);
  assert.equal(s.p99Ms, 30);
  assert.equal(s.remoteShare, 3 / 12);
  assert.equal(s.egressGB, 1500 / 1e9);
  assert.ok(Math.abs(s.usdPerMillion - 1) < 1e-12);
  const w = m.summary('p', 1e9, 2e9);
  assert.equal(w.requests, 1);
  assert.equal(w.meanMs, 20);
  assert.deepEqual(m.latencySeries('p').map((b) => [b.t, b.n, b.meanMs]), [[0, 2, 20], [1, 1, 20]]);
  m.call('p', 'frontend', 'us-west', 'catalog', 'us-east', 0.2e9);
  m.call('p', 'frontend', 'us-west', 'catalog', 'us-west', 0.3e9);
  m.call('p', 'frontend', 'us-west', 'catalog', 'us-west', 0.4e9);
  const rs = m.routingSeries('p', 'frontend>catalog@us-west');
  assert.equal(rs.length, 1);
  assert.ok(Math.abs(rs[0].share['us-west'] - 2 / 3) < 1e-12);
});

test('rules: snapshots from /v1/rules and convergence of a timeline', () => {
  const answer = { version: 3, rules: [
    { src_region: 'us-west', src_service: 'ingress', dst_service: 'frontend', method: 'GET', path: '/home',
      targets: [{ region: 'us-west', weight: 600 }, { region: 'us-east', weight: 400 }] },
    { src_region: 'us-east', src_service: '', dst_service: 'catalog', method: 'GET', path: '/products',
      targets: [{ region: 'us-east', weight: 1 }] },
  ] };
  const s = rulesSnapshot(answer);
  assert.deepEqual(s['ingress>frontend@us-west'], { 'us-west': 0.6, 'us-east': 0.4 });
  assert.deepEqual(s['*>catalog@us-east'], { 'us-east': 1 });
  assert.equal(distance(s, {}, 'us-west'), 0.4);
  assert.deepEqual(rulesSnapshot({ current: answer, previous: null }), s);
  assert.deepEqual(rulesSnapshot({ current: null, previous: answer }), {});
  assert.equal(distance(s, s), 0);
  const snap = (f) => ({ 'ingress>frontend@us-west': { 'us-west': 1 - f, 'us-east': f } });
  // Moves in steps of 0.1 to 0.4 by t = 14, then holds: converged 4 s in.
  const tl = [];
  for (let t = 10; t <= 30; t++) tl.push({ t, rules: snap(Math.min(0.4, 0.1 * (t - 10))) });
  const c = convergence(tl, 10, 30, { region: 'us-west', tolerance: 0.05 });
  assert.equal(c.converged, true);
  assert.equal(c.afterS, 4);
  assert.equal(c.stableS, 16);
  assert.deepEqual(c.settled, snap(0.4));
  // Oscillating between 0.2 and 0.5 every second: never converged.
  const osc = [];
  for (let t = 10; t <= 30; t++) osc.push({ t, rules: snap(t % 2 ? 0.2 : 0.5) });
  const o = convergence(osc, 10, 30, { region: 'us-west' });
  assert.equal(o.converged, false);
  assert.equal(o.stableS, 0);
  // Settled for 3 s in the middle only: not long enough (needs 4 s, 20% of 20 s).
  const brief = [];
  for (let t = 10; t <= 30; t++) brief.push({ t, rules: snap(t >= 18 && t <= 21 ? 0.3 : (t % 2 ? 0.2 : 0.5)) });
  const b = convergence(brief, 10, 30, { region: 'us-west' });
  assert.equal(b.converged, false);
  assert.equal(b.stableS, 3);
  // Settled for 5 s in the middle: converged, from t = 16.
  const mid = [];
  for (let t = 10; t <= 30; t++) mid.push({ t, rules: snap(t >= 16 && t <= 21 ? 0.3 : (t % 2 ? 0.2 : 0.5)) });
  const md = convergence(mid, 10, 30, { region: 'us-west' });
  assert.equal(md.converged, true);
  assert.equal(md.afterS, 6);
  // Rules of other regions do not count.
  const other = osc.map((x) => ({ t: x.t, rules: { 'ingress>frontend@us-east': x.rules['ingress>frontend@us-west'] } }));
  assert.equal(convergence(other, 10, 30, { region: 'us-west' }).converged, true);
  assert.equal(largestShift(tl, 10, 30, 'us-west'), 0.4);
  assert.ok(Math.abs(largestShift(tl, 10, 12, 'us-west') - 0.2) < 1e-12);
  assert.equal(largestShift(other, 10, 30, 'us-west'), 0);
  assert.equal(convergence([], 10, 30).converged, false);
});

test('prometheus text: parsed and summed by label', () => {
  const text = '# HELP x y\n# TYPE a counter\na_total{reason="bad",k="v"} 3\na_total{reason="ok"} 4\nb 1.5e3\n';
  const s = parseProm(text);
  assert.equal(s.length, 3);
  assert.equal(promSum(s, 'a_total'), 7);
  assert.equal(promSum(s, 'a_total', { reason: 'bad' }), 3);
  assert.equal(promSum(s, 'b'), 1500);
  assert.ok(Number.isNaN(promSum(s, 'c')));
});

test('targets: 2x latency against local-only, cheaper and no slower than waterfall', () => {
  const mk = (mean, usd) => ({ overload: { meanMs: mean, usdPerMillion: usd } });
  const t = evaluateTargets({ policies: { local: mk(400, 0), waterfall: mk(150, 9), slate: mk(120, 4) } });
  assert.deepEqual(t.map((x) => x.ok), [true, true, true]);
  const u = evaluateTargets({ policies: { local: mk(200, 0), waterfall: mk(110, 3), slate: mk(120, 4) } });
  assert.deepEqual(u.map((x) => x.ok), [false, false, false]);
});

test('charts: ticks, well-formed SVG, values mapped inside the plot', () => {
  assert.deepEqual(report.ticks(0, 60, 6), [0, 10, 20, 30, 40, 50, 60]);
  assert.deepEqual(report.logTicks(10, 1000), [10, 20, 50, 100, 200, 500, 1000]);
  const svg = report.lineChart({ title: 'a <b>', xMax: 10, series: [{ name: 's', color: '#000', points: [[0, 1], [5, 3], [10, 2]] }] });
  assert.match(svg, /^<svg[^>]*>/);
  assert.match(svg, /<\/svg>$/);
  assert.ok(svg.includes('a &lt;b&gt;'));
  const opens = (svg.match(/<(path|rect|line|text|svg)\b/g) || []).length;
  const closes = (svg.match(/(\/>|<\/(text|svg)>)/g) || []).length;
  assert.equal(opens, closes);
  const d = /<path d="([^"]+)" fill="none"/.exec(svg)[1];
  for (const [, x, y] of d.matchAll(/[ML]([\d.]+),([\d.]+)/g)) {
    assert.ok(Number(x) >= 62 && Number(x) <= 860 - 16);
    assert.ok(Number(y) >= 30 && Number(y) <= 280 - 42);
  }
  const st = report.stackedChart({ xMax: 10, layers: [{ name: 'a', color: '#f00' }, { name: 'b', color: '#0f0' }],
    points: [{ t: 0, v: { a: 1 } }, { t: 5, v: { a: 0.5, b: 0.5 } }] });
  assert.equal((st.match(/<path /g) || []).length, 2);
});
