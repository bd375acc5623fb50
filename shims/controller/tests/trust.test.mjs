// Trust of the control path over real HTTP: bearer tokens on every report
// and rules endpoint (401 + WWW-Authenticate, nothing merged), rotation and
// SIGHUP reload, the admin listener, refusing a non-loopback listener without
// a credential, a batch answered once, a body that trickles is cut, and the
// cluster role's forwarder sending its token upstream.
// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import {
  check, delimited, encReport, finish, flatLatency, getJSON, metric, parseArgs, parseMetrics,
  request, sleep, startController, undelimit,
} from './lib.mjs';

const args = parseArgs();
const T1 = 'tokenONE-abcdefghijklmnop';
const T2 = 'tokenTWO-qrstuvwxyz012345';
const T3 = 'tokenTHREE-6789ABCDEFGHIJ';
const tokFile = path.join(args.workdir, 'tokens');
fs.writeFileSync(tokFile, `# rotation: old and new\n${T1}\n  ${T2}  \n`);

const procs = [];
const ctl = await startController(args.controller, args.workdir, 'trust', [
  '--auth-token-file', tokFile, '--solve-period-ms', '200', '--body-grace-ms', '300',
  '--body-min-rate', '2000', '--header-timeout-ms', '1000']);
procs.push(ctl.proc);
check(ctl.adminPort > 0 && ctl.adminPort !== ctl.port, `admin port ${ctl.adminPort} apart from data port ${ctl.port}`);

const rep = (svc) => encReport({ service: svc, region: 'r0', pod: `${svc}-p`, interval_ns: 1e9,
  inbound: [{ method: 'GET', path: '/x', requests: 10, latency: flatLatency(10, 5) }] });
const bearer = (t) => ({ authorization: `Bearer ${t}` });

// 1. Every report and rules endpoint wants a credential.
const endpoints = [
  { method: 'POST', path: '/v1/report', body: rep('intruder') },
  { method: 'POST', path: '/v1/reports', body: delimited([rep('intruder')]) },
  { method: 'POST', path: '/proxyLoad', body: '17\nGET@/cart,12,0|\n',
    headers: { 'x-slate-servicename': 'intruder', 'x-slate-region': 'r0' } },
  { method: 'POST', path: '/hillclimbingLatency', body: 'inbound\nGET /cart 6 40 1234.500000\n',
    headers: { 'x-slate-servicename': 'intruder', 'x-slate-region': 'r0' } },
  { method: 'GET', path: '/v1/rules' },
  { method: 'GET', path: '/v1/state' },
  { method: 'GET', path: '/metrics' },
];
let n401 = 0;
for (const e of endpoints) {
  for (const h of [{}, bearer('wrong-token-wrong-token'), { authorization: `Basic ${T1}` }]) {
    const r = await request(ctl.port, { ...e, headers: { ...(e.headers || {}), ...h } });
    if (r.status === 401 && /^Bearer realm=/.test(r.headers['www-authenticate'] || '')) n401++;
    else console.error(`${e.method} ${e.path} ${JSON.stringify(h)}: ${r.status}`);
  }
}
check(n401 === endpoints.length * 3, `401 with WWW-Authenticate on all ${endpoints.length} endpoints x 3 bad credentials (${n401})`);
const h = await request(ctl.port, { path: '/healthz' });
check(h.status === 200, '/healthz on the data port needs no credential');
let st = await getJSON(ctl.adminPort, '/v1/state');
check(!st.services.some((s) => s.name === 'intruder'), 'nothing from unauthenticated requests was merged');
let m = parseMetrics((await request(ctl.adminPort, { path: '/metrics' })).body.toString());
check(metric(m, 'slate_controller_requests_rejected_total', { reason: 'unauthorized' }) === n401,
  `401s counted (${metric(m, 'slate_controller_requests_rejected_total', { reason: 'unauthorized' })})`);
const log = fs.readFileSync(path.join(args.workdir, 'trust.log'), 'utf8');
check(!log.includes(T1) && !log.includes(T2) && !log.includes('wrong-token'), 'no token in the log');

// 2. Both tokens of a rotation work, on every endpoint.
let okAll = true;
for (const t of [T1, T2]) {
  for (const e of endpoints) {
    const r = await request(ctl.port, { ...e, headers: { ...(e.headers || {}), ...bearer(t) } });
    if (r.status !== 200) { okAll = false; console.error(`${e.path} with token: ${r.status} ${r.body}`); }
  }
}
check(okAll, 'both tokens accepted on every endpoint');
const r1 = await request(ctl.port, { method: 'POST', path: '/v1/report', body: rep('frontend'),
  headers: { authorization: `bearer   ${T1}  ` } });
check(r1.status === 200, 'scheme is case-insensitive, spaces tolerated');

// 3. SIGHUP reload: T1 retired, T3 added; a broken file keeps the tokens in force.
fs.writeFileSync(tokFile, `${T2}\n${T3}\n`);
ctl.proc.kill('SIGHUP');
await sleep(300);
const post = (t) => request(ctl.port, { method: 'POST', path: '/v1/report', body: rep('frontend'), headers: bearer(t) });
check((await post(T1)).status === 401, 'retired token refused after SIGHUP');
check((await post(T3)).status === 200, 'new token accepted after SIGHUP, no restart');
fs.writeFileSync(tokFile, 'short\n');
ctl.proc.kill('SIGHUP');
await sleep(300);
check((await post(T3)).status === 200, 'a broken token file on SIGHUP keeps the tokens in force');
m = parseMetrics((await request(ctl.adminPort, { path: '/metrics' })).body.toString());
check(metric(m, 'slate_controller_token_reloads_total', { outcome: 'ok' }) === 1 &&
  metric(m, 'slate_controller_token_reloads_total', { outcome: 'failed' }) === 1, 'reloads counted by outcome');
fs.writeFileSync(tokFile, `${T2}\n${T3}\n`);

// 4. The admin port: read-only views, no credential, no intake.
for (const p of ['/healthz', '/v1/state', '/metrics', '/v1/rules']) {
  const r = await request(ctl.adminPort, { path: p });
  check(r.status === 200, `admin ${p}: ${r.status}`);
}
const ar = await request(ctl.adminPort, { method: 'POST', path: '/v1/report', body: rep('x') });
check(ar.status === 404, `admin port takes no reports (${ar.status})`);

// 5. A batch is answered once: one RoutingRules whatever the number of reports.
await sleep(600); // a solve publishes rules
const batch = delimited(Array.from({ length: 2000 }, () => rep('frontend')));
const br = await request(ctl.port, { method: 'POST', path: '/v1/reports', body: batch, headers: bearer(T2) });
const parts = br.status === 200 ? undelimit(br.body) : [];
const rulesAll = await request(ctl.port, { path: '/v1/rules', headers: bearer(T2) });
check(br.status === 200 && parts.length === 1, `2000 reports, one answer (${br.status}, ${parts.length} messages, ${br.body.length} bytes)`);
check(br.body.length < 4096 + rulesAll.body.length, 'the answer is bounded by the rule set, not the batch');
// A length prefix of 10 bytes carrying bits above 2^64 is malformed (it used to
// wrap and be read as a small length).
const overlong = Buffer.concat([Buffer.from([0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]), rep('frontend')]);
const ol = await request(ctl.port, { method: 'POST', path: '/v1/reports', body: overlong, headers: bearer(T2) });
check(ol.status === 400 && /length prefix malformed/.test(ol.body.toString()),
  `a 10-byte length prefix above 2^64: 400 (${ol.status} ${ol.body.toString().trim()})`);

// 6. A body that trickles below the minimum rate is cut; memory follows bytes that came.
const trickle = await new Promise((resolve) => {
  const s = net.connect(ctl.port, '127.0.0.1', () => {
    s.write(`POST /v1/report HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T2}\r\nContent-Length: 100000\r\n\r\n`);
    const iv = setInterval(() => s.write('a'), 100);
    const t0 = Date.now();
    s.on('close', () => { clearInterval(iv); resolve(Date.now() - t0); });
    s.on('error', () => {});
    setTimeout(() => { clearInterval(iv); s.destroy(); resolve(-1); }, 15000);
  });
});
check(trickle > 0, `a trickling body was cut by the server (after ${trickle} ms)`);
// Headers that never finish are cut at the header deadline.
const stalled = await new Promise((resolve) => {
  const s = net.connect(ctl.port, '127.0.0.1', () => s.write('POST /v1/report HTTP/1.1\r\nHost: x\r\n'));
  const t0 = Date.now();
  s.on('close', () => resolve(Date.now() - t0));
  s.on('error', () => {});
  setTimeout(() => { s.destroy(); resolve(-1); }, 15000);
});
check(stalled > 0, `headers that never finish were cut (after ${stalled} ms)`);
m = parseMetrics((await request(ctl.adminPort, { path: '/metrics' })).body.toString());
check(metric(m, 'slate_controller_requests_rejected_total', { reason: 'too_slow' }) >= 1, 'cut counted as too_slow');

// 7. No credential: a non-loopback listener is refused unless --insecure 1.
const bad = spawnSync(args.controller, ['--listen', '0.0.0.0', '--port', '0', '--admin-port', '0'], { encoding: 'utf8', timeout: 10000 });
check(bad.status === 2 && /no credential is configured/.test(bad.stderr), `0.0.0.0 without a credential: exit ${bad.status}`);
const ins = await startController(args.controller, args.workdir, 'insecure', ['--listen', '0.0.0.0', '--insecure', '1']);
procs.push(ins.proc);
check((await request(ins.port, { method: 'POST', path: '/v1/report', body: rep('a') })).status === 200,
  '--insecure 1 starts and accepts without a credential');

// 8. The cluster role forwards with its token; without it the global refuses.
const upTok = path.join(args.workdir, 'up-token');
fs.writeFileSync(upTok, `${T3}\n`);
const up = `http://127.0.0.1:${ctl.port}`;
const cl = await startController(args.controller, args.workdir, 'cluster', ['--role', 'cluster',
  '--upstream', up, '--region', 'r1', '--forward-period-ms', '100', '--upstream-token-file', upTok]);
const nocl = await startController(args.controller, args.workdir, 'cluster-notoken', ['--role', 'cluster',
  '--upstream', up, '--region', 'r2', '--forward-period-ms', '100']);
procs.push(cl.proc, nocl.proc);
for (const c of [cl, nocl])
  check((await request(c.port, { method: 'POST', path: '/v1/report', body: encReport({ service: 'checkout', region: c === cl ? 'r1' : 'r2', pod: 'p', interval_ns: 1e9,
    inbound: [{ method: 'GET', path: '/x', requests: 10, latency: flatLatency(10, 5) }] }) })).status === 200, `${c.name} takes a report`);
await sleep(800);
st = await getJSON(ctl.adminPort, '/v1/state');
const checkout = st.services.find((s) => s.name === 'checkout');
check(checkout && checkout.reports >= 1, 'the forward with the token was merged');
const cst = await getJSON(nocl.adminPort, '/v1/state');
check(cst.cluster.forwards_failed >= 1 && /401/.test(cst.cluster.last_error), `a forward without the token got 401 (${cst.cluster.last_error})`);

await ctl.stop();
finish(procs);
