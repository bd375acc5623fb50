// Intake over real HTTP: protobuf and SLATE legacy reports, every bad-input
// case (400 naming the problem, 413 declared and streamed, 404, 405 with
// Allow), nothing accepted is changed by a bad request, /metrics follows the
// exposition format, /v1/state and /v1/rules are valid JSON, SIGTERM exits 0.
// SPDX-License-Identifier: Apache-2.0
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  check, decodeRules, encReport, finish, flatLatency, getJSON, parseArgs, parseMetrics, metric,
  request, startController,
} from './lib.mjs';

const args = parseArgs();
const LIMIT = 65536;
const ctl = await startController(args.controller, args.workdir, 'intake', [
  '--solve-period-ms', '60000', '--max-body-bytes', String(LIMIT),
  '--state-dir', args.workdir,
]);
check(/listening on 127\.0\.0\.1:\d+/.test(ctl.stdout), 'prints the bound port on stdout');

const report = {
  service: 'frontend', region: 'us-west-1', pod: 'frontend-7d9f', sequence: 3,
  time_ns: 1700000000000000000n, interval_ns: 1000000000,
  inbound: [
    { method: 'GET', path: '/cart', requests: 120, rate_rps: 118.5, in_flight: 4,
      latency: flatLatency(120, 12.5) },
    { method: 'POST', path: '/cart/checkout?x=1', requests: 7, rate_rps: 7, latency: flatLatency(7, 40) },
  ],
  outbound: [
    { dst_service: 'cartservice', method: 'POST', path: '/hipstershop.CartService/AddItem',
      dst_region: 'us-east-1', requests: 9, latency: flatLatency(9, 30) },
  ],
  spans: [
    { trace_id: '00027e85013ca8a85d0f416cca2d80da', span_id: '5d0f416cca2d80da',
      parent_span_id: '', method: 'GET', path: '/cart', start_ns: 1000000, end_ns: 7000000,
      body_size: 10, load: [{ method: 'GET', path: '/cart', rps: 118.5, in_flight: 4 }] },
  ],
};
const good = encReport(report);

// The test's encoder agrees byte for byte with stock protoc.
{
  const text = `service: "frontend" region: "us-west-1" pod: "p" sequence: 7 interval_ns: 1000000000
inbound { method: "GET" path: "/cart" requests: 5 rate_rps: 4.5 in_flight: 1
  latency { count: 5 sum_ns: 50000000 min_ns: 10000000 max_ns: 10000000 mean_ns: 10000000
            hist_offset: 3 hist_counts: [1, 0, 4] } }
spans { trace_id: "ab" span_id: "cd" method: "GET" path: "/cart" start_ns: 1 end_ns: 2
        load { method: "GET" path: "/cart" rps: 4.5 } }`;
  const mine = encReport({
    service: 'frontend', region: 'us-west-1', pod: 'p', sequence: 7, interval_ns: 1000000000,
    inbound: [{ method: 'GET', path: '/cart', requests: 5, rate_rps: 4.5, in_flight: 1,
      latency: { count: 5, sum_ns: 50000000, min_ns: 10000000, max_ns: 10000000,
        mean_ns: 10000000, hist_offset: 3, hist_counts: [1, 0, 4] } }],
    spans: [{ trace_id: 'ab', span_id: 'cd', method: 'GET', path: '/cart', start_ns: 1,
      end_ns: 2, load: [{ method: 'GET', path: '/cart', rps: 4.5 }] }],
  });
  let theirs = null;
  try {
    theirs = execFileSync('protoc', ['--encode=slate.v1.LoadReport', '-I',
      path.join(args.source, 'proto'), 'slate/v1/slate.proto'], { input: text });
  } catch (e) {
    console.log(`note: protoc unavailable (${e.message}); encoder cross-check skipped`);
  }
  if (theirs) check(Buffer.compare(mine, theirs) === 0, 'test encoder matches protoc --encode');
}

// A good report: 200, protobuf answer (no rules yet: an empty RoutingRules).
{
  const r = await request(ctl.port, { method: 'POST', path: '/v1/report', body: good,
    headers: { 'content-type': 'application/x-protobuf' } });
  check(r.status === 200, `good report accepted (${r.status} ${r.body})`);
  check(r.headers['content-type'] === 'application/x-protobuf', 'answer is application/x-protobuf');
  const rules = decodeRules(r.body);
  check(rules.rules.length === 0, 'no rules before any solve');
}

const before = await getJSON(ctl.port, '/v1/state');
const fe = before.services.find((s) => s.name === 'frontend');
check(fe && fe.endpoints.length === 2, 'the report created two frontend endpoints');
check(fe && fe.endpoints.some((e) => e.path === '/cart/checkout'), 'query string dropped from the path');
check(before.services.some((s) => s.name === 'cartservice'), 'outbound destination service known');
check(before.regions.map((r) => r.name).sort().join() === 'us-east-1,us-west-1', 'both regions known');

// Bad bodies: each a 400 whose text names the problem.
const bad = [];
{
  // truncated inside the first string
  bad.push(['truncated', good.subarray(0, 5), /SLATE_ETRUNCATED|SLATE_ELENGTH/]);
  // a string that is not UTF-8, deep inside a span
  const utf = encReport({ ...report, spans: [{ ...report.spans[0], path: '/a\u00ffb' }] });
  const i = utf.indexOf(Buffer.from('/a\u00c3\u00bfb', 'latin1'));
  const broken = Buffer.from(utf);
  broken[i + 2] = 0xff; broken[i + 3] = 0xfe;
  bad.push(['bad utf8', broken, /SLATE_EUTF8.*LoadReport\.spans\[0\]\.path/]);
  // an 11-byte varint as the sequence number
  bad.push(['varint', Buffer.concat([good, Buffer.from([0x20, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]), /SLATE_EVARINT/]);
  // wire type 7
  bad.push(['wire type', Buffer.concat([good, Buffer.from([0x0f])]), /SLATE_EWIRETYPE/]);
  // a length running past the end inside an inbound entry
  bad.push(['length', Buffer.concat([good, Buffer.from([0x3a, 0x7f, 0x0a])]), /SLATE_E(LENGTH|TRUNCATED)/]);
  // no service
  bad.push(['missing service', encReport({ ...report, service: '' }), /LoadReport\.service/]);
  // a NUL inside a name (valid UTF-8, but names are keys)
  bad.push(['nul in name', encReport({ ...report, inbound: [{ ...report.inbound[0], method: 'G\u0000T' }] }),
    /SLATE_ENAME in LoadReport\.inbound\[0\]\.method: the method is not an HTTP token/]);
  // names a Kubernetes mesh could never have (issue: names validated at the door)
  bad.push(['quote in region', encReport({ ...report, region: 'eu"west' }),
    /SLATE_ENAME in LoadReport\.region: the region may hold only/]);
  bad.push(['path as service', encReport({ ...report, service: '../../etc' }),
    /SLATE_ENAME in LoadReport\.service: the service may hold only lowercase/]);
  bad.push(['upper-case destination', encReport({ ...report, outbound: [{ ...report.outbound[0], dst_service: 'BE4' }] }),
    /SLATE_ENAME in LoadReport\.outbound\[0\]\.dst_service/]);
  bad.push(['space in span path', encReport({ ...report, spans: [{ ...report.spans[0], path: '/a b' }] }),
    /SLATE_ENAME in LoadReport\.spans\[0\]\.path/]);
}
let decodeRejects = 0, missingRejects = 0, nameRejects = 0;
for (const [name, body, re] of bad) {
  const r = await request(ctl.port, { method: 'POST', path: '/v1/report', body });
  const text = r.body.toString();
  check(r.status === 400 && re.test(text), `${name}: 400 naming the problem (${r.status} ${text.trim()})`);
  if (name === 'missing service') missingRejects++;
  else if (/SLATE_ENAME/.test(text)) nameRejects++;
  else decodeRejects++;
}

// Too large: declared, and streamed without a length.
{
  const big = Buffer.alloc(LIMIT + 1, 0x0a);
  const r1 = await request(ctl.port, { method: 'POST', path: '/v1/report', body: big });
  check(r1.status === 413, `declared body over the limit: 413 (${r1.status})`);
  const huge = Buffer.alloc(LIMIT * 3, 0x0a);
  const r2 = await request(ctl.port, { method: 'POST', path: '/v1/report', body: huge,
    chunked: true, headers: { 'transfer-encoding': 'chunked' } });
  check(r2.status === 413, `streamed (chunked) body over the limit: 413 (${r2.status})`);
  const r3 = await request(ctl.port, { method: 'POST', path: '/proxyLoad', body: big,
    headers: { 'x-slate-servicename': 'a', 'x-slate-region': 'b' } });
  check(r3.status === 413, `legacy body over the limit: 413 (${r3.status})`);
}

// Paths and methods.
{
  const r = await request(ctl.port, { path: '/v2/nothing' });
  check(r.status === 404, `unknown path: 404 (${r.status})`);
  const m1 = await request(ctl.port, { path: '/v1/report' });
  check(m1.status === 405 && m1.headers.allow === 'POST', `GET /v1/report: 405 Allow: POST (${m1.status} ${m1.headers.allow})`);
  const m2 = await request(ctl.port, { method: 'POST', path: '/v1/state', body: 'x' });
  check(m2.status === 405 && m2.headers.allow === 'GET, HEAD', `POST /v1/state: 405 Allow: GET, HEAD (${m2.headers.allow})`);
  const m3 = await request(ctl.port, { method: 'DELETE', path: '/metrics' });
  check(m3.status === 405, `DELETE /metrics: 405 (${m3.status})`);
  const h = await request(ctl.port, { method: 'HEAD', path: '/healthz' });
  check(h.status === 200 && h.body.length === 0, 'HEAD /healthz: 200, no body');
}

// SLATE's legacy bodies, with SLATE's headers.
const legacyHeaders = { 'x-slate-servicename': 'frontend-us-west-1', 'x-slate-region': 'us-west-1',
  'x-slate-podname': 'frontend-us-west-1-5d9c7' };
{
  const body = '17\nGET@/cart,12,0|POST@/cart/checkout,5,1|\n' +
    'us-west-1 frontend-us-west-1 GET /cart 3d9a00000000000000000000000000e1 a1b2c3d4e5f60718  ' +
    '1709763447436 1709763447540 0 GET@/cart,12,0|\n';
  const r = await request(ctl.port, { method: 'POST', path: '/proxyLoad', body, headers: legacyHeaders });
  check(r.status === 200 && r.body.length === 0, `legacy /proxyLoad accepted, no rules yet (${r.status} ${r.body})`);
  const noHdr = await request(ctl.port, { method: 'POST', path: '/proxyLoad', body });
  check(noHdr.status === 400 && /x-slate-servicename/.test(noHdr.body), 'legacy without headers: 400 naming the header');
  const badBody = '17\nGET@/cart,twelve,0|\n';
  const r2 = await request(ctl.port, { method: 'POST', path: '/proxyLoad', body: badBody, headers: legacyHeaders });
  check(r2.status === 400 && /line 2/.test(r2.body) && /SLATE_ENUMBER/.test(r2.body),
    `malformed legacy body: 400 naming line and status (${r2.body.toString().trim()})`);
  const hc = 'outbound\ncartservice POST /hipstershop.CartService/AddItem 3 41\ninbound\nGET /cart 6 40 1234.500000\n';
  const r3 = await request(ctl.port, { method: 'POST', path: '/hillclimbingLatency', body: hc, headers: legacyHeaders });
  check(r3.status === 200, `legacy /hillclimbingLatency accepted (${r3.status})`);
  const r4 = await request(ctl.port, { method: 'POST', path: '/hillclimbingLatency', body: 'inbound\nGET /cart x 40 0\n', headers: legacyHeaders });
  check(r4.status === 400, `malformed latency body: 400 (${r4.body.toString().trim()})`);
}

// Loads no proxy can carry (SLATE's plugin wraps its counter to ~4.6e18 rps):
// refused with the field and a counted reason, nothing merged.
{
  const wrapped = 4611686018427387904n;
  const p1 = await request(ctl.port, { method: 'POST', path: '/v1/report',
    body: encReport({ ...report, inbound: [{ ...report.inbound[0], requests: wrapped }] }) });
  check(p1.status === 400 && /inbound\[0\]\.requests/.test(p1.body) && /plausible/.test(p1.body),
    `wrapped request count: 400 naming the field (${p1.status} ${p1.body.toString().trim()})`);
  const p2 = await request(ctl.port, { method: 'POST', path: '/v1/report',
    body: encReport({ ...report, spans: [{ ...report.spans[0], load: [{ method: 'GET', path: '/cart', rps: 4.6e18 }] }] }) });
  check(p2.status === 400 && /spans\[0\]\.load\[0\]\.rps/.test(p2.body),
    `wrapped span load: 400 naming the field (${p2.body.toString().trim()})`);
  const p3 = await request(ctl.port, { method: 'POST', path: '/proxyLoad',
    body: `17\nGET@/cart,${wrapped},0|\n`, headers: legacyHeaders });
  check(p3.status === 400 && /proxyLoad/.test(p3.body) && /inbound\[0\]/.test(p3.body),
    `wrapped legacy load: 400 (${p3.body.toString().trim()})`);
}

// Nothing accepted was lost or changed by the bad requests.
{
  const after = await getJSON(ctl.port, '/v1/state');
  check(after.window.reports_total === before.window.reports_total + 2,
    `only the 2 good legacy reports were added (${before.window.reports_total} -> ${after.window.reports_total})`);
  const names = after.services.map((s) => s.name).sort();
  check(names.join() === 'cartservice,frontend', `no service from a bad request (${names})`);
  const fe2 = after.services.find((s) => s.name === 'frontend');
  check(fe2.endpoints.length === 2, 'legacy service name stripped of its region suffix and merged');
  check(fe2.reports === 3, `frontend has its 3 good reports (${fe2.reports})`);
}

// Keep-alive: several requests on one connection.
{
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let ok = 0;
  for (let i = 0; i < 20; i++) {
    const r = await request(ctl.port, { method: 'POST', path: '/v1/report', body: good, agent });
    if (r.status === 200) ok++;
  }
  agent.destroy();
  check(ok === 20, `20 reports over one keep-alive connection (${ok})`);
}

// /metrics: strict exposition format and the right counts.
{
  const r = await request(ctl.port, { path: '/metrics' });
  check(r.headers['content-type'].startsWith('text/plain; version=0.0.4'), 'metrics content type');
  const m = parseMetrics(r.body.toString());
  check(m.errors.length === 0, `metrics parse cleanly${m.errors.length ? ': ' + m.errors.slice(0, 5).join('; ') : ''}`);
  for (const f of Object.keys(m.families))
    check(m.families[f].help !== null && m.families[f].type !== null, `family ${f} has HELP and TYPE`);
  check(metric(m, 'slate_controller_reports_received_total', { format: 'protobuf' }) === 21, 'protobuf reports counted');
  check(metric(m, 'slate_controller_reports_received_total', { format: 'legacy_proxyload' }) === 1, 'legacy reports counted');
  check(metric(m, 'slate_controller_reports_received_total', { format: 'legacy_latency' }) === 1, 'latency reports counted');
  check(metric(m, 'slate_controller_requests_rejected_total', { reason: 'too_large' }) === 3, 'too_large rejections counted');
  check(metric(m, 'slate_controller_requests_rejected_total', { reason: 'decode_error' }) === decodeRejects, 'decode rejections counted');
  check(nameRejects === 5 && metric(m, 'slate_controller_requests_rejected_total', { reason: 'bad_name' }) === nameRejects, `name rejections counted (${nameRejects})`);
  check(metric(m, 'slate_controller_requests_rejected_total', { reason: 'missing_identity' }) === missingRejects + 1, 'missing identity counted');
  check(metric(m, 'slate_controller_requests_rejected_total', { reason: 'legacy_parse_error' }) === 2, 'legacy parse errors counted');
  check(metric(m, 'slate_controller_requests_rejected_total', { reason: 'implausible_load' }) === 3, 'implausible loads counted');
  check(metric(m, 'slate_controller_requests_rejected_total', { reason: 'not_found' }) === 1, '404 counted');
  check(metric(m, 'slate_controller_requests_rejected_total', { reason: 'method_not_allowed' }) === 3, '405 counted');
  check(metric(m, 'slate_controller_decode_errors_total', { status: 'SLATE_EUTF8' }) === 1, 'decode errors by status');
  const hist = m.samples.filter((x) => x.name === 'slate_controller_solve_duration_seconds_bucket');
  check(hist.length > 1 && hist[hist.length - 1].labels.le === '+Inf', 'histogram ends with le="+Inf"');
  for (let i = 1; i < hist.length; i++)
    check(hist[i].value >= hist[i - 1].value, `histogram buckets cumulative (${hist[i].labels.le})`);
}

// A server thread keeps request contexts and their body buffers for its next
// requests: bodies of every size, good and bad, on one connection, each read
// as itself (a kept buffer's old bytes never join a new body), and no body
// byte left charged to the guard once they are answered.
{
  const spans = [];
  for (let i = 0; i < 300; i++)
    spans.push({ ...report.spans[0], trace_id: `${'0'.repeat(24)}${(0x1000 + i).toString(16).padStart(8, '0')}`,
      span_id: (0x5d0f0000 + i).toString(16).padStart(16, '0') });
  const big = encReport({ ...report, spans });
  check(big.length > 16384 && big.length < LIMIT, `a large report of ${big.length} bytes`);
  const before = await getJSON(ctl.port, '/v1/state');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seq = [['big', big, 200], ['small', good, 200], ['big cut short', big.subarray(0, big.length - 7), 400],
    ['small cut short', good.subarray(0, good.length - 3), 400], ['small again', good, 200], ['big again', big, 200]];
  const seen = [];
  for (const [name, body, want] of seq) {
    const r = await request(ctl.port, { method: 'POST', path: '/v1/report', body, agent });
    seen.push(`${name} ${r.status}`);
    check(r.status === want, `${name} (${body.length} bytes) on the kept connection: ${r.status}, want ${want}` +
      (r.status === 200 ? '' : `: ${r.body.toString().trim()}`));
    if (want === 400)
      check(/bad LoadReport: SLATE_E/.test(r.body.toString()), `${name}: the decode error is named`);
  }
  agent.destroy();
  const after = await getJSON(ctl.port, '/v1/state');
  check(after.window.reports_total === before.window.reports_total + 4,
    `the 4 good reports merged, the 2 cut short not (${before.window.reports_total} -> ${after.window.reports_total}; ${seen.join(', ')})`);
  const m = parseMetrics((await request(ctl.port, { path: '/metrics' })).body.toString());
  check(metric(m, 'slate_controller_body_bytes_buffered', {}) === 0, 'no body bytes charged once every request is answered');
}

// /v1/state and /v1/rules are valid JSON with the documented members.
{
  const st = await request(ctl.port, { path: '/v1/state' });
  let j = null;
  try { j = JSON.parse(st.body.toString()); } catch (e) { check(false, `state JSON: ${e}`); }
  if (j) {
    for (const k of ['controller', 'window', 'regions', 'services', 'call_graph', 'outbound',
      'network', 'rules', 'solve', 'limits', 'overflow'])
      check(k in j, `state has "${k}"`);
    const ep = j.services.find((s) => s.name === 'frontend').endpoints.find((e) => e.path === '/cart');
    check(ep.regions[0].region === 'us-west-1' && Array.isArray(ep.regions[0].history), 'endpoint cells per region with history');
    check(j.rules.current === null && j.rules.previous === null, 'no rules yet');
  }
  const ru = await getJSON(ctl.port, '/v1/rules');
  check(ru.current === null, '/v1/rules: current null before any solve');
}

// SIGTERM: clean exit 0.
{
  const { code, sig } = await ctl.stop('SIGTERM');
  check(code === 0 && sig === null, `SIGTERM exits 0 (code ${code}, signal ${sig})`);
  const log = fs.readFileSync(path.join(args.workdir, 'intake.log'), 'utf8');
  check(/shutting down/.test(log) && /stopped/.test(log), 'shutdown logged');
  check(log.split('\n').filter(Boolean).every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARN |ERROR) /.test(l)),
    'every log line is timestamped with a level');
}
finish();
