// What one reporter can move (plausibility limits), against real daemons:
// - a report timed far from the controller's clock gets 400 naming time_ns;
// - a pod posting faster than --pod-reports-per-s gets 429 + Retry-After,
//   while another pod of the same service is served;
// - one lying pod among ten honest ones (100x the load and 100x the latency
//   of its peers) moves the published weights by no more than the stability
//   step: two controllers get the same honest traffic, one of them also the
//   liar's reports, and their routing is compared after the same rounds.
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import path from 'node:path';
import {
  check, decodeRules, encReport, finish, flatLatency, getJSON, parseArgs, parseMetrics, metric,
  request, sleep, startController,
} from './lib.mjs';
import { REGIONS_FILE, westShare } from './scenario.mjs';

const args = parseArgs();
const regionsFile = path.join(args.workdir, 'regions.txt');
fs.writeFileSync(regionsFile, REGIONS_FILE);
const MAX_SHIFT = 0.1;
const common = ['--regions-file', regionsFile, '--solve-period-ms', '300', '--stitch-window-ms', '150',
  '--model-degree', '1', '--model-min-samples', '5', '--max-shift', String(MAX_SHIFT),
  '--min-gain-rel', '0.001', '--settle-ms', '0', '--rollback-samples', '1',
  '--rollback-tolerance', '0.2', '--max-clock-skew-ms', '60000', '--log-level', 'warn'];
// SLATE_PLAUSIBILITY_OFF=1 turns the share cap off, to see the liar check fail.
if (process.env.SLATE_PLAUSIBILITY_OFF) common.push('--pod-share-factor', '0');
const honest = await startController(args.controller, args.workdir, 'honest', common);
const lied = await startController(args.controller, args.workdir, 'lied', common);
const now = () => BigInt(Date.now()) * 1000000n;

// 1. Clock skew.
{
  const body = encReport({ service: 'frontend', region: 'west', pod: 'skewed', interval_ns: 1e9,
    time_ns: now() - 3600n * 1000000000n });
  const r = await request(honest.port, { method: 'POST', path: '/v1/report', body });
  check(r.status === 400 && /LoadReport\.time_ns: 3600\.\d+ s behind/.test(r.body.toString()),
    `a report an hour old: 400 naming time_ns (${r.status} ${r.body.toString().trim()})`);
  const m = parseMetrics((await request(honest.port, { path: '/metrics' })).body.toString());
  check(metric(m, 'slate_controller_requests_rejected_total', { reason: 'clock_skew' }) === 1, 'clock skew counted');
}

// 2. Per-pod report rate (default 20/s, burst 40).
{
  const rep = (pod) => encReport({ service: 'frontend', region: 'east', pod, interval_ns: 1e9, time_ns: now() });
  let ok = 0, limited = 0, retryAfter = true;
  for (let i = 0; i < 60; i++) {
    const r = await request(honest.port, { method: 'POST', path: '/v1/report', body: rep('chatty') });
    if (r.status === 200) ok++;
    else if (r.status === 429) { limited++; retryAfter &&= !!r.headers['retry-after']; }
  }
  check(limited > 0 && ok >= 40 && ok + limited === 60, `a pod posting 60 reports at once: ${ok} served, ${limited} got 429`);
  check(retryAfter, '429 carries Retry-After');
  const other = await request(honest.port, { method: 'POST', path: '/v1/report', body: rep('quiet') });
  check(other.status === 200, `another pod of the service is served (${other.status})`);
  const m = parseMetrics((await request(honest.port, { path: '/metrics' })).body.toString());
  check(metric(m, 'slate_controller_requests_rejected_total', { reason: 'pod_rate' }) === limited, 'pod rate rejections counted');
}

// 3. One lying pod among ten. The application of scenario.mjs (frontend calls
// backend; the backend's self time grows with load; east is 5 ms away), with
// the west backend served by ten pods.
const TICK_MS = 100, PODS = 10;
const load = { west: 100, east: 10 };
let traceNo = 0;
const hex = (n, w) => n.toString(16).padStart(w, '0');

function tickReports(tick, region, withLiar) {
  const t0 = now();
  const fe = load[region];
  const be = fe * (1 + 0.2 * Math.sin(tick / 3));
  const xtBe = 1 + 0.1 * be;
  const pods = region === 'west' ? PODS : 1;
  const feSpans = [], beSpans = [];
  for (let k = 0; k < 4; k++) {
    const t = ++traceNo;
    const trace = hex(t, 32), feSpan = hex(t * 2, 16), beSpan = hex(t * 2 + 1, 16);
    const start = t0 - 50000000n, beStart = start + 1000000n;
    const beEnd = beStart + BigInt(Math.round(xtBe * 1e6));
    feSpans.push({ trace_id: trace, span_id: feSpan, parent_span_id: '', method: 'GET', path: '/home',
      start_ns: start, end_ns: beEnd + 1000000n, body_size: 0, load: [{ method: 'GET', path: '/home', rps: fe }] });
    beSpans.push({ trace_id: trace, span_id: beSpan, parent_span_id: feSpan, method: 'GET', path: '/api/items/1',
      start_ns: beStart, end_ns: beEnd, body_size: 300, load: [{ method: 'GET', path: '/api/items/1', rps: be / pods }] });
  }
  const iv = TICK_MS * 1000000;
  const reqs = Math.round(fe * TICK_MS / 1000);
  const out = [encReport({ service: 'frontend', region, pod: `fe-${region}`, sequence: tick, time_ns: t0,
    interval_ns: iv, inbound: [{ method: 'GET', path: '/home', requests: reqs, rate_rps: fe,
      latency: flatLatency(reqs, 20) }],
    outbound: [{ dst_service: 'backend', method: 'GET', path: '/api/items/1', dst_region: region,
      requests: reqs, latency: flatLatency(reqs, xtBe + 0.5) }], spans: feSpans })];
  const podReqs = Math.max(1, Math.round(be * TICK_MS / 1000 / pods));
  for (let p = 0; p < pods; p++) {
    out.push(encReport({ service: 'backend', region, pod: `be-${region}-${p}`, sequence: tick, time_ns: t0,
      interval_ns: iv, inbound: [{ method: 'GET', path: '/api/items/1', requests: podReqs,
        rate_rps: be / pods, latency: flatLatency(podReqs, xtBe) }], spans: p === 0 ? beSpans : [] }));
  }
  if (withLiar && region === 'west') {
    out.push(encReport({ service: 'backend', region, pod: 'be-west-liar', sequence: tick, time_ns: t0,
      interval_ns: iv, inbound: [{ method: 'GET', path: '/api/items/1', requests: podReqs * 100,
        rate_rps: 100 * be / pods, latency: flatLatency(podReqs * 100, xtBe * 100) }] }));
  }
  return out;
}

async function post(ctl, body) {
  const r = await request(ctl.port, { method: 'POST', path: '/v1/report', body });
  if (r.status !== 200) throw new Error(`report rejected: ${r.status} ${r.body}`);
}

const shares = { honest: [], lied: [] };
for (let tick = 1; tick <= 70; tick++) {
  for (const region of ['west', 'east']) {
    for (const b of tickReports(tick, region, false)) await post(honest, b);
    for (const b of tickReports(tick, region, true)) await post(lied, b);
  }
  await sleep(TICK_MS);
  for (const [name, ctl] of [['honest', honest], ['lied', lied]]) {
    const ru = await getJSON(ctl.port, '/v1/rules');
    shares[name].push(ru.current ? westShare(ru.current.rules) : null);
  }
}
const last = (a) => a.filter((x) => x !== null).at(-1);
const h = last(shares.honest), l = last(shares.lied);
check(h !== undefined && h < 0.95, `the honest mesh moved traffic east (west share ${h})`);
check(l !== undefined && Math.abs(l - h) <= MAX_SHIFT + 1e-9,
  `one lying pod among ten moves the west->west share by at most the step ${MAX_SHIFT} (honest ${h && h.toFixed(4)}, with the liar ${l && l.toFixed(4)})`);
{
  const m = parseMetrics((await request(lied.port, { path: '/metrics' })).body.toString());
  check(metric(m, 'slate_controller_reports_clamped_total', { what: 'load' }) > 0 &&
    metric(m, 'slate_controller_reports_clamped_total', { what: 'latency' }) > 0, 'the liar\'s load and latency were clamped and counted');
  const hm = parseMetrics((await request(honest.port, { path: '/metrics' })).body.toString());
  check(metric(hm, 'slate_controller_reports_clamped_total', { what: 'load' }) === 0, 'honest pods are never clamped');
  // Learned load of backend/west against frontend/west in the same daemon (the
  // two are reported in the same ticks, so window timing mostly cancels): the
  // cap lets the liar count as three median pods, 13/10 of the honest load;
  // without it the ratio is 10 or more. The bound leaves room for a window
  // boundary falling between a tick's reports on a loaded machine.
  const st = await getJSON(lied.port, '/v1/state');
  const cell = (svc, region) => st.services.find((x) => x.name === svc).endpoints[0].regions
    .find((r) => r.region === region);
  const be = cell('backend', 'west'), fe = cell('frontend', 'west');
  const ratio = be && fe && fe.load_rps > 0 ? be.load_rps / fe.load_rps : NaN;
  check(ratio < 3, `learned backend/west load within the share cap: ${ratio.toFixed(2)}x the frontend's (honest 1, uncapped 10 or more)`);
}
const hsolve = (await getJSON(honest.port, '/v1/state')).solve;
console.log(`honest solver: ${hsolve.rounds} rounds, last ${hsolve.last_outcome}`);
finish([honest.proc, lied.proc]);
