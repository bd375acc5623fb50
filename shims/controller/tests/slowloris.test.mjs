// One client cannot starve the others: 1,100 connections from one address
// send the headers of a POST /v1/report with Content-Length: 100000 and then
// stay silent. Meanwhile /healthz on the admin port answers, a second client
// (another loopback address) gets its valid reports merged, the flood's
// excess connections are answered 503 with Retry-After or refused, the silent
// bodies are cut, and the controller's memory stays small.
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import net from 'node:net';
import {
  check, encReport, finish, flatLatency, getJSON, metric, parseArgs, parseMetrics, request, sleep,
  startController,
} from './lib.mjs';

const args = parseArgs();
const ctl = await startController(args.controller, args.workdir, 'slowloris', [
  '--body-grace-ms', '2000', '--header-timeout-ms', '3000']);
const rss = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${ctl.proc.pid}/status`, 'utf8'));
  return m ? parseInt(m[1], 10) / 1024 : NaN;
};
const rss0 = rss();

const ATTACKER = '127.0.0.3';
const HONEST = '127.0.0.2';
const N = 1100;
const socks = [];
const outcome = { r503: 0, retryAfter: 0, closedBeforeAnswer: 0, other: 0 };
let opened = 0;
await Promise.all(Array.from({ length: N }, () => new Promise((resolve) => {
  const s = net.connect({ port: ctl.port, host: '127.0.0.1', localAddress: ATTACKER });
  let data = '';
  let settled = false;
  const done = () => { if (!settled) { settled = true; resolve(); } };
  s.on('connect', () => {
    opened++;
    s.write('POST /v1/report HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n' +
      'Content-Length: 100000\r\n\r\n');
    done();
  });
  s.on('data', (d) => { data += d; });
  s.on('close', () => {
    if (/^HTTP\/1\.1 503/.test(data)) {
      outcome.r503++;
      if (/\r\nRetry-After: \d+/i.test(data)) outcome.retryAfter++;
    } else if (data === '') outcome.closedBeforeAnswer++;
    else outcome.other++;
    done();
  });
  s.on('error', () => done());
  socks.push(s);
})));
await sleep(300);
console.log(`flood: ${opened} connected`);

// While the flood holds its connections: health and another client's reports.
const t0 = Date.now();
const hz = await request(ctl.adminPort, { path: '/healthz' });
check(hz.status === 200, `admin /healthz answers during the flood (${hz.status}, ${Date.now() - t0} ms)`);
const hzData = await request(ctl.port, { path: '/healthz', localAddress: HONEST });
check(hzData.status === 200, `data-port /healthz from another client answers (${hzData.status})`);
let ok = 0;
for (let i = 0; i < 20; i++) {
  const r = await request(ctl.port, { method: 'POST', path: '/v1/report', localAddress: HONEST,
    body: encReport({ service: 'honest', region: 'r0', pod: 'h', interval_ns: 1e9,
      inbound: [{ method: 'GET', path: '/x', requests: 10, latency: flatLatency(10, 5) }] }) });
  if (r.status === 200) ok++;
}
check(ok === 20, `20 valid reports from another client served during the flood (${ok})`);
const st = await getJSON(ctl.adminPort, '/v1/state');
const honest = st.services.find((s) => s.name === 'honest');
check(honest && honest.reports === 20, 'and merged');
const rssFlood = rss();
check(rssFlood - rss0 < 64, `memory under the flood: ${rss0.toFixed(1)} -> ${rssFlood.toFixed(1)} MiB`);

// The silent bodies are cut after the grace; nobody keeps a slot for nothing.
await sleep(4000);
const open = socks.filter((s) => !s.destroyed && s.readyState === 'open').length;
check(open === 0, `every flood connection closed by the server within the deadlines (${open} open)`);
console.log(`flood outcome: ${JSON.stringify(outcome)}`);
check(outcome.r503 > 0 && outcome.r503 === outcome.retryAfter, `excess connections answered 503 with Retry-After (${outcome.r503})`);
const m = parseMetrics((await request(ctl.adminPort, { path: '/metrics' })).body.toString());
const slow = metric(m, 'slate_controller_requests_rejected_total', { reason: 'too_slow' });
const over = metric(m, 'slate_controller_requests_rejected_total', { reason: 'overload' });
check(slow >= 1 && over === outcome.r503, `counted: too_slow ${slow}, overload ${over}`);
const after = await request(ctl.port, { path: '/healthz', localAddress: ATTACKER });
check(after.status === 200, 'the flooding address is served again once its connections are gone');
for (const s of socks) s.destroy();
await ctl.stop();
finish([ctl.proc]);
