// SLATE's legacy protocol from nginx (`slate_protocol slate-legacy`): the
// same measurements as text to a real slate-controller's /proxyLoad, and
// SLATE's rules lines back, both through the core's legacy codecs:
// 1. the controller takes the reports (SLATE's text carries a rate per
//    endpoint, which SLATE's controller counts as that tick's requests, so
//    the count it keeps is not the requests sent); the text's first line,
//    the requests of the interval, sums to exactly what the test sent;
// 2. a rules text routes calls as it says; the same text again only renews
//    it (the version stays), a new text is a new version;
// 3. a text that does not parse is counted as bad rules, the rules stay.
// SPDX-License-Identifier: Apache-2.0
import http from 'node:http';
import { check, finish, getJSON, startController } from '../../controller/tests/lib.mjs';
import { backend, findCell, get, parseArgs, slateHttp, startServing, status, waitFor, writeConf } from './lib.mjs';

const args = parseArgs();
const procs = [];
const ctl = await startController(args.controller, args.workdir, 'controller', ['--solve-period-ms', '500']);
procs.push(ctl.proc);
process.on('exit', () => ctl.proc.kill('SIGKILL'));
const west = await backend('west', 5), east = await backend('east', 0);

// A stand-in for SLATE's controller when the test needs exact rules text.
let text = 'fe@GET@/call/x,be@GET@/call/x,west,east,1.0\n';
let seen = 0, lastType = '';
const bodies = [];
const rsrv = http.createServer((req, res) => {
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    seen++;
    lastType = `${req.url} ${req.headers['content-type']}`;
    bodies.push(Buffer.concat(parts).toString());
    res.end(text);
  });
});
await new Promise((r) => rsrv.listen(0, '127.0.0.1', r));

let port = 0;
function body(controllerPort) {
  return slateHttp(`slate_zone slate 1m; slate_service fe; slate_region west; slate_protocol slate-legacy;
  slate_controller 127.0.0.1:${controllerPort}; slate_report_period 300ms; slate_controller_timeout 200ms;
  slate_rules_ttl 5s;`, port, west.port, east.port);
}
let ng = null;
({ ng, port } = await startServing(args, (p) => { port = p; return body(ctl.port); }));
check(ng !== null, 'nginx with the module serves');
if (!ng) finish(procs);
procs.push(ng.proc);

// 1. the controller counts what was sent, from SLATE's text
const N = 40;
for (let i = 0; i < N; i++) {
  const r = await get(port, `/api/items/${i}`);
  if (r.status !== 200) check(false, `request ${i} answered ${r.status}`);
}
const st1 = await waitFor(async () => { const s = await status(port); return s.reports_ok >= 2 ? s : null; }, 5000);
check(st1 && Object.values(st1.failures).every((n) => n === 0),
  `the controller answered the legacy reports (${st1 && st1.reports_ok} good, failures ${JSON.stringify(st1 && st1.failures)})`);
let got = 0;
await waitFor(async () => {
  const cell = findCell(await getJSON(ctl.port, '/v1/state'));
  got = cell ? cell.history.reduce((a, h) => a + h.requests, 0) : 0;
  return got >= N;
}, 5000, 250);
check(got > 0, `the controller has the endpoint's load from SLATE's text (${got} by SLATE's count)`);

// 2. rules text from a SLATE-style controller
writeConf(args.workdir, args.module, body(rsrv.address().port));
ng.signal('reload');
const st2 = await waitFor(async () => { const s = await status(port); return s.rules_live && s.rules.length === 1 ? s : null; }, 8000);
check(st2 !== null, `the rules text is live (${st2 && JSON.stringify(st2.rules)})`);
check(lastType === '/proxyLoad text/plain', `reports go to /proxyLoad as text (${lastType})`);
const c = { west: 0, east: 0 };
for (let i = 0; i < 50; i++) c[(await get(port, '/call/x')).body]++;
check(c.east === 50, `calls route as the text says (east ${c.east} of 50)`);
// the interval counts in line 1 of the text sum to what was sent
bodies.length = 0;
const M = 30;
for (let i = 0; i < M; i++) await get(port, `/api/items/${i}`);
let total = 0;
await waitFor(async () => {
  total = bodies.reduce((a, b) => a + Number(b.split('\n')[0]), 0);
  return total >= M;
}, 4000, 100);
await new Promise((r) => setTimeout(r, 700)); // two more reports: nothing counted twice
total = bodies.reduce((a, b) => a + Number(b.split('\n')[0]), 0);
check(total === M, `line 1 of the reports sums to the ${M} requests sent (${total})`);
check(bodies.some((b) => b.split('\n')[1].startsWith('GET@/api/items/{id},')), `line 2 lists the endpoint (${bodies.map((b) => b.split('\n')[1]).find((l) => l) || ''})`);
const idle = (await status(port)).endpoints.find((e) => e.kind === 'in');
check(idle && idle.in_flight === 0, `with no request open the endpoint has none in flight (${idle && idle.in_flight})`);
const v = st2 ? st2.rules_version : -1;
const before = seen;
await waitFor(async () => seen >= before + 3, 5000);
const st3 = await status(port);
check(st3.rules_version === v, `the same text again renews the rules without a new version (${v} -> ${st3.rules_version})`);
text = 'fe@GET@/call/x,be@GET@/call/x,west,west,1.0\n';
const st4 = await waitFor(async () => { const s = await status(port); return s.rules_version === v + 1 ? s : null; }, 5000);
check(st4 !== null, 'a new text is a new version');
c.west = c.east = 0;
for (let i = 0; i < 50; i++) c[(await get(port, '/call/x')).body]++;
check(c.west === 50, `and routing follows it (west ${c.west} of 50)`);

// 3. text that does not parse
text = 'this is not, a rules line\n';
const st5 = await waitFor(async () => { const s = await status(port); return s.failures.bad_rules >= 1 ? s : null; }, 5000);
check(st5 && st5.rules_live && st5.rules_version === v + 1, `bad text is counted as bad rules (${st5 && st5.failures.bad_rules}) and the rules stay`);

await ng.stop();
west.close(); east.close(); rsrv.close();
finish(procs);
