// Real traffic through a real nginx (master + 2 workers) with the module:
// 1. reports reach a real slate-controller with the request count and
//    latency the test sent, and sampled spans with their load at arrival;
// 2. `nginx -s reload` onto a rules server keeps the zone (the report
//    sequence continues) and the served weights split traffic as published
//    (chi-square);
// 3. `kill -9` of the lease holder: another worker takes the lease over and
//    the rules survive;
// 4. a failing controller: failures are counted and logged once, the last
//    good rules stay until their TTL, then routing is local;
// 5. slow, oversized and refused answers: each counted by kind while the
//    last good rules stay live; after the TTL routing is local.
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import http from 'node:http';
import { check, finish, getJSON, metric, parseMetrics, request, startController } from '../../controller/tests/lib.mjs';
import { backend, encRules, findCell, get, parseArgs, slateHttp, startServing, status, waitFor, writeConf } from './lib.mjs';

const args = parseArgs();
const procs = [];
const ctl = await startController(args.controller, args.workdir, 'controller', ['--solve-period-ms', '500']);
procs.push(ctl.proc);
process.on('exit', () => ctl.proc.kill('SIGKILL'));
const west = await backend('west', 20), east = await backend('east', 0);
let port = 0;

// A rules server standing in for the controller when the test needs exact weights.
let rulesMode = 'ok', rulesSeen = 0, rulesAuth = '';
const RULES = encRules({ version: 7, ttl_ns: 3_000_000_000,
  rules: [{ src_region: 'west', dst_service: 'be', targets: [['west', 70], ['east', 30]] }] });
const rsrv = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    rulesSeen++;
    rulesAuth = req.headers.authorization || '';
    if (rulesMode === 'ok') { res.setHeader('content-type', 'application/x-protobuf'); res.end(RULES); }
    else if (rulesMode === 'garbage') res.end(Buffer.from([0xff, 0xff, 0xff]));
    else if (rulesMode === 'slow') setTimeout(() => { res.setHeader('content-type', 'application/x-protobuf'); res.end(RULES); }, 1000);
    else if (rulesMode === 'big') { res.setHeader('content-type', 'application/x-protobuf'); res.end(Buffer.concat([RULES, Buffer.alloc(64 * 1024)])); }
    else { res.statusCode = 500; res.end('broken'); }
  });
});
await new Promise((r) => rsrv.listen(0, '127.0.0.1', r));

const tokenFile = `${args.workdir}/token`;
fs.writeFileSync(tokenFile, 's3cret-token\n');
function body(controllerPort) {
  return slateHttp(`slate_controller_token_file ${tokenFile};
  slate_zone slate 2m; slate_service fe; slate_region west;
  slate_controller 127.0.0.1:${controllerPort}; slate_report_period 300ms; slate_controller_timeout 200ms;
  slate_rules_ttl 3s; slate_trace_sampling 1; slate_max_response 4k;`, port, west.port, east.port);
}
// A free port can be taken by another test between probing and nginx's bind: retry.
let ng = null;
({ ng, port } = await startServing(args, (p) => { port = p; return body(ctl.port); }));
check(ng !== null, 'nginx with the module serves');
if (!ng) finish(procs);
procs.push(ng.proc);

// 1. measured traffic reaches the controller
const N = 60;
for (let i = 0; i < N; i++) {
  const r = await get(port, `/api/items/${i}`, { 'x-b3-traceid': (i + 1).toString(16).padStart(32, '0'),
    'x-b3-spanid': (i + 1).toString(16).padStart(16, '0') });
  if (r.status !== 200) check(false, `request ${i} answered ${r.status}`);
}
const st1 = await waitFor(async () => { const s = await status(port); return s.reports_ok >= 2 ? s : null; }, 5000);
check(st1 && st1.reports_ok >= 2, `nginx reported to the controller (${st1 && st1.reports_ok} good answers)`);
check(ng.workers().includes(st1.lease_pid), `a worker holds the report lease (${st1.lease_pid})`);
const ep = st1.endpoints.find((e) => e.kind === 'in');
check(ep && ep.path === '/api/items/{id}', `the inbound endpoint is normalised: ${ep && ep.path}`);
// the controller closes a window every solve period: wait until every window holding the requests closed
let state = null, text = '';
await waitFor(async () => {
  state = await getJSON(ctl.port, '/v1/state');
  text = JSON.stringify(state);
  return (text.match(/"requests":(\d+)/g) || []).length > 0 && findCell(state) &&
    findCell(state).history.reduce((a, h) => a + h.requests, 0) >= N;
}, 4000, 250);
check(text.includes('"fe"') && text.includes('/api/items/{id}'), 'the controller knows service fe and its endpoint');
// find the endpoint record under fe and compare its request count and latency with what was sent
const found = findCell(state);
check(found !== null, 'the controller has the endpoint in region west');
if (found) {
  const got = found.history.reduce((a, h) => a + h.requests, 0);
  const lat = found.history.filter((h) => h.requests > 0).map((h) => h.latency_ms);
  console.log(`controller: ${got} requests, latency_ms per window ${lat.map((x) => x.toFixed(1))}`);
  check(got === N, `the controller counted the ${N} requests the test sent (${got})`);
  // the backend answers after 20 ms; nginx adds little on loopback
  check(lat.length > 0 && lat.every((x) => x >= 20 && x < 500), `reported latency covers the backend's 20 ms (${lat.map((x) => x.toFixed(1))})`);
}
// A report takes the interval's spans first, then the entries one lock hold
// at a time: a request that completes in between is counted in this report
// and its span rides in the next one.
let spansIn = 0;
await waitFor(async () => {
  const mtext = (await request(ctl.port, { path: '/metrics' })).body.toString();
  spansIn = metric(parseMetrics(mtext), 'slate_controller_spans_received_total');
  return spansIn >= N;
}, 3000, 100);
check(spansIn === N, `every traced request arrived as a span (sampling 1): ${spansIn} of ${N}`);

// 2. reload onto the rules server: the zone and its sequence survive
const seqBefore = (await status(port)).sequence;
writeConf(args.workdir, args.module, body(rsrv.address().port));
ng.signal('reload');
const st2 = await waitFor(async () => { const s = await status(port); return s.rules_version === 7 && s.rules_live ? s : null; }, 8000);
check(st2 && st2.sequence > seqBefore, `after reload the report sequence continues (${seqBefore} -> ${st2 && st2.sequence}) and rules v7 are live`);
check(rulesAuth === 'Bearer s3cret-token', `reports carry the token of slate_controller_token_file (${rulesAuth})`);
const M = 1000;
const count = async (n) => {
  const c = { west: 0, east: 0 };
  for (let i = 0; i < n; i++) c[(await get(port, '/call/x')).body]++;
  return c;
};
let c = await count(M);
const chi = (c) => (c.west - 0.7 * M) ** 2 / (0.7 * M) + (c.east - 0.3 * M) ** 2 / (0.3 * M);
// chi-square, 1 degree of freedom: 10.83 is the 0.1% critical value
check(chi(c) < 10.83, `routing follows the 70/30 weights (west ${c.west}, east ${c.east}, chi2 ${chi(c).toFixed(2)})`);
const st2b = await status(port);
const outs = st2b.endpoints.filter((e) => e.kind === 'out').map((e) => e.region).sort();
check(outs.join(',') === 'east,west', `outbound calls are measured per chosen region (${outs})`);

// 3. kill -9 of the lease holder
const victim = (await status(port)).lease_pid;
process.kill(victim, 'SIGKILL');
const st3 = await waitFor(async () => {
  const s = await status(port).catch(() => null);
  return s && s.lease_pid !== victim && s.lease_pid !== 0 && s.reports_ok > st2b.reports_ok ? s : null;
}, 8000);
check(st3 !== null, `after kill -9 of worker ${victim} another worker (${st3 && st3.lease_pid}) holds the lease and reports`);
check(st3 && st3.rules_version === 7 && st3.rules_live, 'the rules survive the crash');

// 4. fail-static, then local routing after the TTL
rulesMode = 'fail';
const st4 = await waitFor(async () => { const s = await status(port); return s.failures.status >= 2 ? s : null; }, 5000);
check(st4 && st4.rules_live, `failed answers are counted (${st4 && st4.failures.status}) and the last good rules stay live`);
c = await count(100);
check(c.east > 10, `during the outage routing still follows the rules (east ${c.east} of 100)`);
const st5 = await waitFor(async () => { const s = await status(port); return !s.rules_live ? s : null; }, 5000);
check(st5 !== null, 'the rules expire after their TTL');
c = await count(100);
check(c.west === 100, `after the TTL every call routes locally (west ${c.west} of 100)`);
const log = ng.log();
const warned = log.split('\n').filter((l) => l.includes('report to the controller failed (status)')).length;
check(warned === 1, `the failure kind is logged once (${warned} lines)`);
check(log.includes('routing rules expired'), 'the expiry is logged');
rulesMode = 'garbage';
const st6 = await waitFor(async () => { const s = await status(port); return s.failures.bad_rules >= 1 ? s : null; }, 5000);
check(st6 !== null, 'an answer that does not decode is counted as bad rules');


// 5. slow, oversized, refused: the last good rules stay until their TTL
async function goodAgain() {
  rulesMode = 'ok';
  const before = (await status(port)).reports_ok;
  return waitFor(async () => { const s = await status(port); return s.rules_live && s.reports_ok > before ? s : null; }, 5000);
}
check(await goodAgain() !== null, 'good answers again: the rules are live');
rulesMode = 'slow';
const st7 = await waitFor(async () => { const s = await status(port); return s.failures.timeout >= 1 ? s : null; }, 5000);
check(st7 && st7.rules_live, `a slow answer (1 s against a 200 ms timeout) is counted as a timeout (${st7 && st7.failures.timeout}) and the rules stay live`);
check(await goodAgain() !== null, 'good answers after the slow ones');
rulesMode = 'big';
const st8 = await waitFor(async () => { const s = await status(port); return s.failures.oversized >= 1 ? s : null; }, 5000);
check(st8 && st8.rules_live && st8.rules_version === 7, `an answer over slate_max_response (64 KiB against 4k) is refused as oversized (${st8 && st8.failures.oversized}) and the rules stay`);
check(await goodAgain() !== null, 'good answers after the oversized ones');
await new Promise((r) => rsrv.close(r)); // the controller is gone: connections are refused
rsrv.closeAllConnections?.();
const st9 = await waitFor(async () => { const s = await status(port); return s.failures.connect >= 1 ? s : null; }, 5000);
check(st9 && st9.rules_live, `with the controller gone, refused connections are counted (${st9 && st9.failures.connect}) and the rules stay live`);
c = await count(100);
check(c.east > 10, `fail-static: routing still follows the rules (east ${c.east} of 100)`);
const st10 = await waitFor(async () => { const s = await status(port); return !s.rules_live ? s : null; }, 6000);
check(st10 !== null, 'without a controller the rules expire after their TTL');
c = await count(100);
check(c.west === 100, `and then every call routes locally (west ${c.west} of 100)`);
const log2 = ng.log();
for (const kind of ['timeout', 'oversized', 'connect']) {
  const n = log2.split('\n').filter((l) => l.includes(`report to the controller failed (${kind})`)).length;
  check(n === 1, `the ${kind} failure is logged once per outage (${n} lines)`);
}

await ng.stop();
west.close(); east.close();
finish(procs);
