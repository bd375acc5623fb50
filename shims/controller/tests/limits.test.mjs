// Limits and overflow buckets: past max-services, max-endpoints-per-service,
// max-regions and max-spans-per-report the data goes to overflow buckets (or
// is dropped) and is counted; ids in paths never make new endpoints; the
// state stays bounded under a flood of distinct names.
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import {
  check, encReport, finish, flatLatency, getJSON, parseArgs, parseMetrics, metric, request,
  sleep, startController,
} from './lib.mjs';

const args = parseArgs();
const ctl = await startController(args.controller, args.workdir, 'limits', [
  '--max-services', '3', '--max-endpoints-per-service', '4', '--max-regions', '2',
  '--max-spans-per-report', '5', '--max-edges', '2', '--max-outbound', '3',
  '--solve-period-ms', '200']);
const post = async (rep) => {
  const r = await request(ctl.port, { method: 'POST', path: '/v1/report', body: encReport(rep) });
  if (r.status !== 200) throw new Error(`${r.status} ${r.body}`);
};
const ep = (path, requests = 10) => ({ method: 'GET', path, requests, latency: flatLatency(requests, 5) });

// Services: 3 real, the rest in "~overflow".
for (let i = 0; i < 6; i++)
  await post({ service: `svc${i}`, region: 'r0', pod: `p${i}`, interval_ns: 1e9, inbound: [ep('/x')] });
// Endpoints: 4 real for svc0 (/x and 3 of these), 5 more in its overflow endpoint; the last
// 2 are past the report's share (a report may create at most 8 endpoints) and dropped.
await post({ service: 'svc0', region: 'r0', pod: 'p0', interval_ns: 1e9,
  inbound: Array.from({ length: 10 }, (_, k) => ep(`/e${k}`, 100 + k)) });
// Regions: 2 real, the rest in "~overflow".
for (let i = 1; i < 5; i++)
  await post({ service: 'svc1', region: `r${i}`, pod: `q${i}`, interval_ns: 1e9, inbound: [ep('/x')] });
// Spans: 5 used of 12.
await post({ service: 'svc2', region: 'r0', pod: 'p2', interval_ns: 1e9, inbound: [ep('/x')],
  spans: Array.from({ length: 12 }, (_, k) => ({ trace_id: `${k}abc`, span_id: `${k}1`,
    method: 'GET', path: '/x', start_ns: 1, end_ns: 2 })) });
// Outbound cells: 3 kept.
await post({ service: 'svc2', region: 'r0', pod: 'p2', interval_ns: 1e9,
  outbound: Array.from({ length: 5 }, (_, k) => ({ dst_service: 'svc1', method: 'GET',
    path: ['/x', '/y', '/z'][k >> 1], dst_region: k % 2 ? 'r0' : 'r1', requests: 1 + k,
    latency: flatLatency(1, 1) })) });
// 2000 ids under one path: one endpoint.
for (let i = 0; i < 20; i++)
  await post({ service: 'svc1', region: 'r0', pod: 'q0', interval_ns: 1e9,
    inbound: Array.from({ length: 100 }, (_, k) => ep(`/orders/${i * 100 + k}/lines`, 1)) });

const st = await getJSON(ctl.port, '/v1/state');
const names = st.services.map((s) => s.name);
check(names.length === 4 && names.includes('~overflow'), `3 services and the overflow service (${names})`);
const ovf = st.services.find((s) => s.name === '~overflow');
check(ovf && ovf.reports === 3, `the overflow service took the 3 extra services' reports (${ovf && ovf.reports})`);
const s0 = st.services.find((s) => s.name === 'svc0');
check(s0.endpoints.length === 5, `svc0: 4 endpoints + overflow (${s0.endpoints.length})`);
const oe = s0.endpoints.find((e) => e.overflow);
check(oe && oe.method === '*' && oe.path === '{overflow}', 'overflow endpoint named "* {overflow}"');
check(st.regions.length === 3 && st.regions.some((r) => r.name === '~overflow' && r.overflow),
  `2 regions and the overflow region (${st.regions.map((r) => r.name)})`);
const s1 = st.services.find((s) => s.name === 'svc1');
const orders = s1.endpoints.filter((e) => e.path.startsWith('/orders'));
check(orders.length === 1 && orders[0].path === '/orders/{id}/lines', `2000 ids, one endpoint (${orders.map((e) => e.path)})`);
check(st.outbound.length === 3, `outbound cells capped at 3 (${st.outbound.length})`);
check(st.limits.max_services === 3 && st.limits.max_endpoints_per_service === 4, 'limits in the state');

const m = parseMetrics((await request(ctl.port, { path: '/metrics' })).body.toString());
check(m.errors.length === 0, 'metrics parse');
check(metric(m, 'slate_controller_overflow_total', { kind: 'service' }) === 3, 'service overflow counted');
check(metric(m, 'slate_controller_overflow_total', { kind: 'report_share' }) === 2, `endpoints past the report's share counted (${metric(m, 'slate_controller_overflow_total', { kind: 'report_share' })})`);
check(metric(m, 'slate_controller_overflow_total', { kind: 'endpoint' }) === 5, `endpoint overflow counted (${metric(m, 'slate_controller_overflow_total', { kind: 'endpoint' })})`);
check(metric(m, 'slate_controller_overflow_total', { kind: 'region' }) === 3, `region overflow counted (${metric(m, 'slate_controller_overflow_total', { kind: 'region' })})`);
check(metric(m, 'slate_controller_overflow_total', { kind: 'span_per_report' }) === 7, 'dropped spans counted');
check(metric(m, 'slate_controller_overflow_total', { kind: 'outbound' }) === 2, `outbound overflow counted (${metric(m, 'slate_controller_overflow_total', { kind: 'outbound' })})`);
check(metric(m, 'slate_controller_endpoints') <= (3 + 1) * (4 + 1), 'endpoints within (services+1)*(per-service+1)');

// A flood of distinct names stays bounded.
const hwm = () => parseInt(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${ctl.proc.pid}/status`, 'utf8'))[1], 10);
const before = hwm();
for (let i = 0; i < 300; i++)
  await post({ service: `flood${i}`, region: `region${i}`, pod: `f${i}`, interval_ns: 1e9,
    inbound: Array.from({ length: 50 }, (_, k) => ep(`/w${i}x${k}`, 1)),
    outbound: Array.from({ length: 10 }, (_, k) => ({ dst_service: `dst${i}-${k}`, method: 'GET',
      path: `/p${k}`, dst_region: `dr${i}`, requests: 1, latency: flatLatency(1, 1) })) });
const st2 = await getJSON(ctl.port, '/v1/state');
const eps = st2.services.reduce((a, s) => a + s.endpoints.length, 0);
check(st2.services.length === 4 && st2.regions.length === 3 && eps <= 20,
  `after 300 new services and regions: ${st2.services.length} services, ${st2.regions.length} regions, ${eps} endpoints`);
const after = hwm();
console.log(`peak RSS ${before} kB -> ${after} kB`);
check(after - before < 20000, `peak RSS grew by ${after - before} kB (< 20 MB)`);
await ctl.stop('SIGTERM');

// One report naming 300 services in 40 regions (default limits: 256 services,
// 31 regions) claims only its share of each table, so the services that
// report next still get their own entries instead of the overflow bucket.
{
  const big = await startController(args.controller, args.workdir, 'share', ['--solve-period-ms', '200']);
  const r = await request(big.port, { method: 'POST', path: '/v1/report', body: encReport({
    service: 'greedy', region: 'r0', pod: 'g', interval_ns: 1e9,
    outbound: Array.from({ length: 300 }, (_, k) => ({ dst_service: `s${k}`, method: 'GET',
      path: '/p', dst_region: `region${k % 40}`, requests: 1, latency: flatLatency(1, 1) })) }) });
  check(r.status === 200, `the greedy report is accepted (${r.status})`);
  let st = await getJSON(big.port, '/v1/state');
  check(st.services.length <= 1 + 32 && st.regions.length <= 1 + 7 + 1,
    `one report claims at most its share: ${st.services.length} services, ${st.regions.length} regions`);
  for (let k = 0; k < 20; k++) {
    const ok = await request(big.port, { method: 'POST', path: '/v1/report', body: encReport({
      service: `real${k}`, region: `west${k % 5}`, pod: 'p', interval_ns: 1e9, inbound: [ep('/x')] }) });
    check(ok.status === 200, `real service ${k} reports`);
  }
  st = await getJSON(big.port, '/v1/state');
  check(Array.from({ length: 20 }, (_, k) => `real${k}`).every((n) => st.services.some((s) => s.name === n)),
    'every real service that reported next has its own entry');
  check(!st.services.some((s) => s.name === '~overflow'), 'nothing went to the overflow service');
  await big.stop('SIGTERM');
}
// Names that stop reporting leave the tables after table-ttl-s: a flood of
// junk services fills max-services, the real service lands in the overflow
// bucket, and once the junk has been silent for the TTL the real service
// gets its own entry back.
{
  const aging = await startController(args.controller, args.workdir, 'aging', [
    '--solve-period-ms', '200', '--max-services', '8', '--table-ttl-s', '1']);
  const post = (service, region) => request(aging.port, { method: 'POST', path: '/v1/report',
    body: encReport({ service, region, pod: 'p', interval_ns: 1e9, inbound: [ep('/x')] }) });
  for (let k = 0; k < 8; k++) check((await post(`junk${k}`, `junkland${k}`)).status === 200, `junk ${k} accepted`);
  check((await post('real', 'west')).status === 200, 'the real service reports');
  let st = await getJSON(aging.port, '/v1/state');
  check(!st.services.some((s) => s.name === 'real') && st.services.some((s) => s.name === '~overflow'),
    'with the table full of junk, the real service is in the overflow bucket');
  let back = false;
  for (let i = 0; i < 40 && !back; i++) {
    await sleep(100);
    check((await post('real', 'west')).status === 200, 'the real service keeps reporting');
    st = await getJSON(aging.port, '/v1/state');
    back = st.services.some((s) => s.name === 'real');
  }
  check(back, 'after the junk was silent for table-ttl-s, the real service has its own entry');
  check(!st.services.some((s) => /^junk/.test(s.name)) && !st.regions.some((r) => /^junkland/.test(r.name)),
    `the junk services and regions left the tables (${st.services.map((s) => s.name)}; ${st.regions.map((r) => r.name)})`);
  const m = parseMetrics((await request(aging.port, { path: '/metrics' })).body.toString());
  check(metric(m, 'slate_controller_retired_total', { kind: 'service' }) === 8, `8 services retired (${metric(m, 'slate_controller_retired_total', { kind: 'service' })})`);
  check(metric(m, 'slate_controller_retired_total', { kind: 'region' }) >= 7, `the junk regions retired (${metric(m, 'slate_controller_retired_total', { kind: 'region' })})`);
  await aging.stop('SIGTERM');
}
finish();
