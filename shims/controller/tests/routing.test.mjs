// End to end through a real daemon: two regions and two services report
// load, latency and sampled spans; the controller stitches the call graph
// across the services' reports, fits latency models, solves, and answers
// each proxy with its rules, moving at most --max-shift of traffic per
// round; SLATE's /proxyLoad gets the same rules as text; exports are
// written after the debounce; a measured latency regression rolls back.
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  check, decodeRules, encReport, finish, flatLatency, getJSON, parseArgs, parseMetrics, metric,
  request, sleep, startController,
} from './lib.mjs';

const args = parseArgs();
const regionsFile = path.join(args.workdir, 'regions.txt');
fs.writeFileSync(regionsFile, '# test topology\nregion west\nregion east\nlink west east 5 0.00000002\n');
const exportDir = path.join(args.workdir, 'export');
const MAX_SHIFT = 0.1;
const ctl = await startController(args.controller, args.workdir, 'routing', [
  '--regions-file', regionsFile, '--export-dir', exportDir, '--state-dir', args.workdir,
  '--solve-period-ms', '300', '--stitch-window-ms', '150', '--model-degree', '1',
  '--model-min-samples', '5', '--max-shift', String(MAX_SHIFT), '--min-gain-rel', '0.001',
  '--settle-ms', '0', '--rollback-samples', '1', '--rollback-tolerance', '0.2',
  '--debounce-quiet-ms', '400', '--debounce-max-ms', '1200', '--log-level', 'debug',
]);

const TICK_MS = 100;
const load = { fe: { west: 100, east: 10 } };
let feLatencyMs = 20;
let tick = 0;
let traceNo = 0;
const hex = (n, w) => n.toString(16).padStart(w, '0');

// One tick of reports from the four proxies (frontend and backend in each region).
async function sendTick(answers) {
  tick++;
  const now = BigInt(Date.now()) * 1000000n;
  for (const region of ['west', 'east']) {
    const fe = load.fe[region];
    // backend load swings around the frontend's so the model sees a range of loads
    const be = fe * (1 + 0.2 * Math.sin(tick / 3));
    const xtBe = 1 + 0.1 * be; // backend self time, ms
    const feSpans = [], beSpans = [];
    for (let k = 0; k < 4; k++) {
      traceNo++;
      const trace = hex(traceNo, 32), feSpan = hex(traceNo * 2, 16), beSpan = hex(traceNo * 2 + 1, 16);
      const start = now - 50000000n;
      const beStart = start + 1000000n;
      const beEnd = beStart + BigInt(Math.round(xtBe * 1e6));
      const feEnd = beEnd + 1000000n; // 2 ms of frontend self time
      feSpans.push({ trace_id: trace, span_id: feSpan, parent_span_id: '', method: 'GET',
        path: '/home', start_ns: start, end_ns: feEnd, body_size: 0,
        load: [{ method: 'GET', path: '/home', rps: fe }] });
      beSpans.push({ trace_id: trace, span_id: beSpan, parent_span_id: feSpan, method: 'GET',
        path: `/api/items/${1000 + (traceNo % 50)}`, start_ns: beStart, end_ns: beEnd,
        body_size: 300, load: [{ method: 'GET', path: `/api/items/${1000 + (traceNo % 50)}`, rps: be }] });
    }
    const reqs = Math.round(fe * TICK_MS / 1000);
    const beReqs = Math.round(be * TICK_MS / 1000);
    const bodies = [
      encReport({ service: 'frontend', region, pod: `fe-${region}`, sequence: tick, time_ns: now,
        interval_ns: TICK_MS * 1000000,
        inbound: [{ method: 'GET', path: '/home', requests: reqs, rate_rps: fe,
          latency: flatLatency(reqs, feLatencyMs) }],
        outbound: [{ dst_service: 'backend', method: 'GET', path: '/api/items/1', dst_region: region,
          requests: reqs, latency: flatLatency(reqs, xtBe + 0.5) }],
        spans: feSpans }),
      encReport({ service: 'backend', region, pod: `be-${region}`, sequence: tick, time_ns: now,
        interval_ns: TICK_MS * 1000000,
        inbound: [{ method: 'GET', path: `/api/items/${tick}`, requests: beReqs, rate_rps: be,
          latency: flatLatency(beReqs, xtBe) }],
        spans: beSpans }),
    ];
    // the backend's report may arrive before the frontend's: stitching must not care
    if (tick % 2) bodies.reverse();
    for (const body of bodies) {
      const r = await request(ctl.port, { method: 'POST', path: '/v1/report', body });
      if (r.status !== 200) throw new Error(`report rejected: ${r.status} ${r.body}`);
      if (answers) answers.push({ region, rules: decodeRules(r.body) });
    }
  }
}

function westRow(rules) {
  const r = rules.rules.find((x) => x.src_region === 'west' && x.dst_service === 'backend');
  if (!r) return null;
  const total = r.targets.reduce((a, t) => a + t.weight, 0);
  const w = {};
  for (const t of r.targets) w[t.region] = t.weight / total;
  return { rule: r, west: w.west || 0, east: w.east || 0 };
}

// Phase 1: run until the routing converges; check every step against the cap.
let converged = false;
let steps = 0;
const seenVersions = new Set();
let maxStepSeen = 0;
for (let i = 0; i < 200 && !converged; i++) {
  await sendTick();
  await sleep(TICK_MS);
  const ru = await getJSON(ctl.port, '/v1/rules');
  if (!ru.current) continue;
  if (!seenVersions.has(ru.current.version)) {
    seenVersions.add(ru.current.version);
    const cur = westRow({ rules: ru.current.rules });
    const prev = ru.previous ? westRow({ rules: ru.previous.rules }) : { west: 1, east: 0 };
    if (cur && prev && ru.current.origin === 'optimiser') {
      steps++;
      const step = Math.abs(cur.west - prev.west);
      maxStepSeen = Math.max(maxStepSeen, step);
      check(step <= MAX_SHIFT + 1e-4,
        `v${ru.current.version}: west->west share ${prev.west.toFixed(4)} -> ${cur.west.toFixed(4)} moves at most ${MAX_SHIFT}`);
    }
    if (cur && cur.west < 0.8 && cur.west > 0.55) converged = steps >= 3;
  }
}
check(converged, `routing converged toward the optimum in capped steps (${steps} steps, largest ${maxStepSeen.toFixed(4)})`);

// What the controller learned.
{
  const st = await getJSON(ctl.port, '/v1/state');
  const edge = st.call_graph.find((e) => e.parent.service === 'frontend' && e.child.service === 'backend');
  check(edge && edge.child.path === '/api/items/{id}', 'call graph edge frontend -> backend /api/items/{id} (ids collapsed)');
  check(edge && Math.abs(edge.calls_per_request - 1) < 0.15, `one call per parent request (${edge && edge.calls_per_request})`);
  check(edge && Math.abs(edge.bytes_per_call - 300) < 1, `bytes per call from the spans (${edge && edge.bytes_per_call})`);
  const be = st.services.find((s) => s.name === 'backend');
  const ep = be.endpoints.find((e) => e.path === '/api/items/{id}');
  check(be.endpoints.length === 1, `one backend endpoint despite 50 ids (${be.endpoints.map((e) => e.path)})`);
  const west = ep.regions.find((r) => r.region === 'west');
  check(west.model && west.model.trusted, 'backend/west latency model trusted');
  check(west.model && Math.abs(west.model.b_ms_per_rps - 0.1) < 0.02 && Math.abs(west.model.a_ms - 1) < 1,
    `backend/west model ~ 1 + 0.1 x (a=${west.model && west.model.a_ms}, b=${west.model && west.model.b_ms_per_rps})`);
  const pts = west.history.filter((h) => h.exclusive_ms !== null && h.load_rps > 0);
  // the backend's self time is 1 + 0.1 x its load, which swings between 80 and 120 rps
  check(pts.length > 0 && pts.every((h) => h.exclusive_ms > 8.5 && h.exclusive_ms < 13.5),
    `exclusive (self) time from stitched spans (${pts.map((h) => `${h.load_rps.toFixed(0)}rps:${h.exclusive_ms.toFixed(2)}ms`).join(' ')})`);
  const fe = st.services.find((s) => s.name === 'frontend').endpoints[0].regions.find((r) => r.region === 'west');
  check(fe.exclusive_ms !== null && Math.abs(fe.exclusive_ms - 2) < 0.01,
    `frontend self time excludes its child's (${fe.exclusive_ms} ms)`);
  check(st.network.source === 'regions-file' && st.network.rtt_ms[0][1] === 5, 'network from the regions file');
  check(st.solve.rounds >= 3 && st.solve.method === 'lp', `solves ran (${st.solve.rounds}, ${st.solve.last_outcome})`);
  check(st.solve.problem.classes >= 1 && st.solve.problem.edges >= 1, 'problem has a class and an edge');
}

// Each proxy's answer carries its rules; SLATE's text carries the same.
{
  const answers = [];
  await sendTick(answers);
  const feWest = answers.find((a) => a.region === 'west' && a.rules.rules.length > 0);
  check(feWest, 'the frontend proxy in west gets rules in its report response');
  if (feWest) {
    const row = westRow(feWest.rules);
    check(row && row.rule.src_service === 'frontend' && row.rule.method === 'GET' &&
      row.rule.path === '/api/items/{id}', 'rule names caller service, destination method and path');
    check(feWest.rules.ttl_ns > 0n && feWest.rules.version > 0n, 'rules carry version and TTL');
    check(feWest.rules.rules.every((r) => r.src_region === 'west'), 'only rules for the proxy\'s region');
    const sum = row.rule.targets.reduce((a, t) => a + t.weight, 0);
    check(sum === 1000000, `weights sum to the scale (${sum})`);
  }
  const beAnswer = answers.filter((a) => a.rules.rules.length === 0);
  check(beAnswer.length >= 2, 'the backend proxies (no callees) get no rules');
  const legacy = await request(ctl.port, { method: 'POST', path: '/proxyLoad',
    body: '10\nGET@/home,10,0|\n',
    headers: { 'x-slate-servicename': 'frontend-west', 'x-slate-region': 'west', 'x-slate-podname': 'fe-legacy' } });
  const lines = legacy.body.toString().trim().split('\n');
  check(legacy.status === 200 && lines.length >= 1 &&
    lines.every((l) => /^frontend@@,backend@GET@\/api\/items\/\{id\},west,(west|east),[0-9.e-]+$/.test(l)),
    `legacy /proxyLoad answers SLATE's text (${lines.join(' | ')})`);
  const sum = lines.reduce((a, l) => a + parseFloat(l.split(',')[4]), 0);
  check(Math.abs(sum - 1) < 1e-6, `legacy fractions sum to 1 (${sum})`);
}

// Exports, after the debounce.
{
  await sleep(1300);
  const yamlPath = path.join(exportDir, 'istio', 'backend.yaml');
  const envoyPath = path.join(exportDir, 'envoy', 'backend@west.json');
  check(fs.existsSync(yamlPath), 'Istio export written');
  if (fs.existsSync(yamlPath)) {
    const y = fs.readFileSync(yamlPath, 'utf8');
    check(/kind: VirtualService/.test(y) && /kind: DestinationRule/.test(y), 'VirtualService and DestinationRule');
    const docs = y.split(/^---$/m).filter((d) => /kind:/.test(d));
    const vs = docs.filter((d) => /kind: VirtualService/.test(d));
    check(vs.length === 2 && vs.every((d) => !/^ {2}hosts:/m.test(d)),
      'two delegate VirtualServices, no hosts (they join the user\'s VirtualService)');
    check(/name: "backend\.slate"\n/.test(vs[0]) && /name: "backend\.slate-weights"\n/.test(vs[1]), 'delegate names <service>.slate and <service>.slate-weights');
    check(!/sourceLabels/.test(vs[0]) && !/name: "?default/.test(y), 'header delegate: header routes only, no catch-all');
    check(/x-slate-routeto:\n\s+exact: "east"/.test(vs[0]), 'header match to a per-region subset');
    check((y.match(/outlierDetection:/g) || []).length >= 2, 'outlier detection on the host and the subsets');
    // Read as Kubernetes reads it: every object of a kind and version Istio
    // 1.21+ serves, every delegated route's subset defined by the
    // DestinationRule, selected by the region label.
    const { yamlDocs, checkServed } = createRequire(import.meta.url)(
      path.join(args.source, 'shims', 'wasm', 'tests', 'istio_schema.js'));
    const objs = yamlDocs(yamlPath);
    let served = true;
    try {
      for (const o of objs) checkServed(o, o.metadata.name);
    } catch (e) {
      served = false;
      console.error(e.message);
    }
    check(served && objs.length === 3, 'exported objects are served by Istio 1.21+ with known fields');
    const dr = objs.find((o) => o.kind === 'DestinationRule');
    const subsets = new Map(dr.spec.subsets.map((s) => [s.name, s.labels]));
    const routed = objs.filter((o) => o.kind === 'VirtualService').flatMap((o) => o.spec.http)
      .flatMap((r) => r.route.map((d) => d.destination.subset));
    check(routed.length > 0 && routed.every((s) => subsets.has(s)), 'every routed subset is defined');
    check([...subsets.values()].every((l) => Object.keys(l).join() === 'topology.kubernetes.io/region'),
      'subsets select topology.kubernetes.io/region');
    check(/sourceLabels:\n\s+"topology.kubernetes.io\/region": "west"/.test(y), 'weights per source region');
    const weights = [...y.matchAll(/weight: (\d+)/g)].map((m) => +m[1]);
    check(weights.length >= 2, 'weighted routes present');
    check(/regex: "\^\/api\/items\/\[\^\/\]\+\$"/.test(y), 'id paths become a regex match');
  }
  check(fs.existsSync(envoyPath), 'Envoy ClusterLoadAssignment written');
  if (fs.existsSync(envoyPath)) {
    const j = JSON.parse(fs.readFileSync(envoyPath, 'utf8'));
    check(j.cluster_name === 'backend' && j.endpoints.length === 2 &&
      j.endpoints.every((e) => e.locality.region && e.load_balancing_weight > 0), 'locality weights');
  }
  const m = parseMetrics((await request(ctl.port, { path: '/metrics' })).body.toString());
  check(metric(m, 'slate_controller_exports_total', { outcome: 'ok' }) >= 1, 'exports counted');
  const w = m.samples.filter((x) => x.name === 'slate_controller_published_weight' &&
    x.labels.source_region === 'west' && x.labels.destination === 'backend');
  const wsum = w.reduce((a, x) => a + x.value, 0);
  check(m.errors.length === 0 && w.length === 2 && Math.abs(wsum - 1) < 1e-4 &&
    w.find((x) => x.labels.target_region === 'east').value > 0,
  `published weights per (source region, destination, target region): ${JSON.stringify(w.map((x) => [x.labels.target_region, x.value]))}`);
  const published = metric(m, 'slate_controller_rules_published_total');
  const exported = metric(m, 'slate_controller_exports_total', { outcome: 'ok' });
  check(exported < published, `debounce merged pushes (${exported} exports for ${published} publishes)`);
  check(metric(m, 'slate_controller_spans_stitched_total') > 20, 'spans stitched');
  check(metric(m, 'slate_controller_persist_total', { outcome: 'ok' }) >= published, 'every publish persisted');
}

// Phase 2: the next change makes measured latency worse: it is rolled back.
{
  const before = await getJSON(ctl.port, '/v1/rules');
  const v0 = before.current.version;
  load.fe.east = 60; // the optimum moves; a new step follows
  let changed = false;
  for (let i = 0; i < 60 && !changed; i++) {
    await sendTick();
    await sleep(TICK_MS);
    const ru = await getJSON(ctl.port, '/v1/rules');
    changed = ru.current.version > v0 && ru.current.origin === 'optimiser';
  }
  check(changed, 'a new step was applied after the load change');
  feLatencyMs = 80; // ... and the entry latency quadruples
  let rolled = false;
  for (let i = 0; i < 40 && !rolled; i++) {
    await sendTick();
    await sleep(TICK_MS);
    const ru = await getJSON(ctl.port, '/v1/rules');
    rolled = ru.current.origin === 'rollback';
  }
  check(rolled, 'worse measured latency: the change was rolled back');
  const m = parseMetrics((await request(ctl.port, { path: '/metrics' })).body.toString());
  check(metric(m, 'slate_controller_rollbacks_total') >= 1, 'rollback counted');
  const log = fs.readFileSync(path.join(args.workdir, 'routing.log'), 'utf8');
  check(/rollback: measured latency/.test(log), 'rollback logged');
}

const { code } = await ctl.stop('SIGTERM');
check(code === 0, 'clean exit');
finish();
