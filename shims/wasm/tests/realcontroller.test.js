// The data plane against the real controller: slate-controller runs as a
// process on a loopback port; four proxies (frontend and backend, in regions
// west and east), each with 4 worker VMs and a reporter, serve a frontend ->
// backend call chain on one virtual clock (paced to real time, since the
// controller's windows are real time), over real HTTP. The controller runs
// its waterfall policy with a backend capacity in west below west's demand,
// so it must spill part of west's calls east.
//
// Checked end to end: one report per tick per proxy reaches the controller,
// which stitches the two services' spans into the call graph; its
// RoutingRules answer is decoded and compiled by each reporter and reaches
// every worker, whose routing header then follows the controller's weights
// (and the simulated mesh sends the call where the header says); SLATE's
// legacy protocol against the controller's /proxyLoad; and a SIGKILL of the
// controller: the data plane keeps serving on its last good rules, and
// recovers with the restarted controller (same port, rules restored from its
// state directory).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { Host, Scheduler } = require('../host/host.js');
const { FILTER, REPORTER, MS, S, pb } = require('./harness.js');

const BIN = process.env.SLATE_CONTROLLER_BIN;
const TICK_MS = 250;
const SOLVE_PERIOD_MS = 1000; // 4 reports per proxy per window: the measured load varies little
const STEP_MS = 100; // virtual time run between pacing checks
const RTT_MS = 10; // west <-> east
const BACKEND_MS = 4; // backend service time
const LOAD = { west: 100, east: 10 }; // frontend requests per second, per region
const BACKEND_CAPACITY_WEST = 40; // rps: well below west's demand of 100, so waterfall spills
const CHI2_1DOF_P1E4 = 15.14; // chi-square critical value, 1 degree of freedom, p = 1e-4

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hex = (n, w) => n.toString(16).padStart(w, '0');

// ---------------------------------------------------------------------------
// The controller process.

class Controller {
  constructor(dir) {
    this.dir = dir;
    this.regions = path.join(dir, 'regions.txt');
    this.stateDir = path.join(dir, 'state');
    this.portFile = path.join(dir, 'port');
    this.logFile = path.join(dir, 'controller.log');
    this.port = 0;
    this.proc = null;
    fs.mkdirSync(this.stateDir, { recursive: true });
    fs.writeFileSync(this.regions, [
      'region west', 'region east', `rtt west east ${RTT_MS}`, `rtt east west ${RTT_MS}`,
      `capacity backend west ${BACKEND_CAPACITY_WEST}`, 'capacity backend east 1000', '',
    ].join('\n'));
  }

  /** Starts it (on `port`, 0 = any) and resolves once it listens. */
  async start(port = 0) {
    fs.rmSync(this.portFile, { force: true });
    const log = fs.openSync(this.logFile, 'a');
    this.proc = spawn(BIN, ['--port', String(port), '--port-file', this.portFile,
      '--regions-file', this.regions, '--state-dir', this.stateDir, '--routing', 'waterfall',
      '--solve-period-ms', String(SOLVE_PERIOD_MS), '--stitch-window-ms', '3000', '--log-level', 'debug'],
    { stdio: ['ignore', 'ignore', log] });
    fs.closeSync(log);
    this.exited = new Promise((r) => this.proc.on('exit', (code, sig) => r({ code, sig })));
    for (let i = 0; i < 200; i++) {
      if (fs.existsSync(this.portFile)) {
        const p = parseInt(fs.readFileSync(this.portFile, 'utf8'), 10);
        if (p > 0) {
          this.port = p;
          return this;
        }
      }
      if (this.proc.exitCode !== null) break;
      await sleep(25);
    }
    throw new Error(`slate-controller did not start:\n${this.logTail()}`);
  }

  async kill(sig = 'SIGKILL') {
    this.proc.kill(sig);
    return this.exited;
  }

  url() { return `http://127.0.0.1:${this.port}`; }

  logTail(n = 40) {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  }

  get(p) {
    return new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: this.port, path: p, agent: false }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      }).on('error', reject);
    });
  }

  async json(p) { return JSON.parse(await this.get(p)); }

  /** slate_controller_reports_received_total{format=...} */
  async reportsReceived(format) {
    const text = await this.get('/metrics');
    const m = new RegExp(`^slate_controller_reports_received_total\\{format="${format}"\\} (\\d+)$`, 'm')
      .exec(text);
    assert.ok(m, `metric for ${format} in /metrics`);
    return Number(m[1]);
  }
}

// ---------------------------------------------------------------------------
// The proxies and the traffic between them.

const sched = new Scheduler();
let ctl = null;
const proxies = []; // every proxy
const fe = {}; // region -> frontend proxy (protobuf)
const be = {}; // region -> backend proxy
let legacy = null; // a frontend proxy in west speaking SLATE's legacy protocol

function addProxy(name, service, region, protocol = 'protobuf') {
  const host = new Host({ scheduler: sched, seed: name,
    clusters: { controller: ctl.url() } });
  const base = { service, region, tick_ms: TICK_MS };
  const workers = host.addWorkers(4, { module: FILTER, vmId: 'slate', roots: [
    { rootId: 'in', configuration: JSON.stringify({ ...base, direction: 'inbound', trace_sampling_rate: 1 }) },
    { rootId: 'out', configuration: JSON.stringify({ ...base, direction: 'outbound' }) },
  ] });
  const reporter = host.addSingleton({ module: REPORTER, rootId: 'slate_reporter', vmId: 'slate',
    configuration: JSON.stringify({ service, region, pod: name, protocol,
      controller_cluster: 'controller', tick_ms: TICK_MS, http_timeout_ms: 200 }) });
  for (const vm of [...workers, reporter]) {
    assert.ok(vm.roots.every((r) => r.configured), `${name}: ${vm.name} configured`);
  }
  const p = { name, service, region, protocol, host, workers, reporter, rate: 0, nextNs: 0,
    routes: {} };
  proxies.push(p);
  return p;
}

let traceNo = 0;

/** One frontend request at virtual time t: the frontend calls the backend once. */
function chain(t, f) {
  const i = ++traceNo;
  const trace = hex(0x5eed0000 + i, 32), s1 = hex(2 * i, 16), s2 = hex(2 * i + 1, 16);
  const w = f.host.nextWorker();
  f.host.schedule(t, () => {
    const sIn = w.newStream({ rootId: 'in' });
    sIn.requestHeaders({ ':method': 'GET', ':path': '/home', ':authority': 'frontend:8080',
      'x-b3-traceid': trace, 'x-b3-spanid': s1, 'x-b3-sampled': '1' }, true);
    f.host.schedule(t + MS, () => {
      const sOut = w.newStream({ rootId: 'out' });
      sOut.requestHeaders({ ':method': 'GET', ':path': '/api/items?page=2',
        ':authority': 'backend.default.svc.cluster.local:8080', 'x-b3-traceid': trace,
        'x-b3-spanid': s2, 'x-b3-parentspanid': s1, 'x-b3-sampled': '1' }, true);
      // The mesh routes the call on the header (a VirtualService per region).
      const to = sOut.request.headers.get('x-slate-routeto');
      f.routes[to] = (f.routes[to] || 0) + 1;
      const dst = be[to] || be[f.region];
      const oneWay = dst.region === f.region ? 0 : (RTT_MS / 2) * MS;
      const bw = dst.host.nextWorker();
      const tb = t + MS + oneWay;
      dst.host.schedule(tb, () => {
        const sBe = bw.newStream({ rootId: 'in' });
        sBe.requestHeaders({ ':method': 'GET', ':path': '/api/items?page=2',
          ':authority': 'backend:8080', 'x-b3-traceid': trace, 'x-b3-spanid': s2,
          'x-b3-parentspanid': s1, 'x-b3-sampled': '1' }, true);
        dst.received = (dst.received || 0) + 1;
        dst.host.schedule(tb + BACKEND_MS * MS, () => {
          sBe.responseHeaders({ ':status': '200' }, true);
          sBe.complete();
          const tr = tb + BACKEND_MS * MS + oneWay;
          f.host.schedule(tr, () => {
            sOut.responseHeaders({ ':status': '200' }, true);
            sOut.complete();
            f.host.schedule(tr + MS, () => {
              sIn.responseHeaders({ ':status': '200' }, true);
              sIn.complete();
            }, { vm: w });
          }, { vm: w });
        }, { vm: bw });
      }, { vm: bw });
    }, { vm: w });
  }, { vm: w });
}

let v0 = 0, r0 = 0;

/**
 * Runs ms of virtual time with traffic, paced to real time: virtual time never
 * runs ahead of real time, and when it falls behind (a busy machine) it does
 * not race to catch up, so no real-time window of the controller sees a burst
 * of reports.
 */
async function advance(ms) {
  for (let done = 0; done < ms; done += STEP_MS) {
    const from = sched.now(), to = from + STEP_MS * MS;
    for (const p of proxies) {
      if (p.rate <= 0) continue;
      if (p.nextNs < from) p.nextNs = from;
      for (; p.nextNs < to; p.nextNs += S / p.rate) chain(Math.round(p.nextNs), p);
    }
    await sched.run(STEP_MS * MS);
    const lead = (sched.now() - v0) / 1e6 - (performance.now() - r0);
    if (lead > 0) await sleep(lead);
    else r0 -= lead; // behind: forget the lag
  }
}

/** The proxy's report calls (all made by its reporter), in order. */
const calls = (p) => p.host.http.log;
const ok = (c) => c.outcome && c.outcome.kind === 'response' &&
  c.response.headers.get(':status') === '200';

/**
 * The rules every worker of p routes on now: workers refresh on their tick,
 * which at each tick time runs before the reporter's post (same phase, and
 * the workers were added first), so they hold what the answers up to the
 * previous tick published. Returns {version, weights: {region: fraction}} for
 * the backend destination, or null when no answer carried such a rule.
 */
function rulesInForce(p, before = Math.floor(sched.now() / (TICK_MS * MS)) * TICK_MS * MS) {
  let found = null;
  for (const c of calls(p)) {
    if (c.startNs >= before || !ok(c)) continue;
    const w = p.protocol === 'protobuf' ? protobufWeights(c.response.body, p.region)
      : legacyWeights(c.response.body.toString('utf8'), p.region);
    if (w) found = w;
  }
  return found;
}

function protobufWeights(body, region) {
  if (body.length === 0) return null;
  const rr = pb.decodeRoutingRules(body);
  const r = rr.rules.find((x) => x.src_region === region && x.dst_service === 'backend');
  if (!r) return null;
  const total = r.targets.reduce((a, t) => a + t.weight, 0);
  const weights = {};
  for (const t of r.targets) weights[t.region] = t.weight / total;
  return { version: rr.version, rule: r, weights };
}

function legacyWeights(text, region) {
  // src_svc@src_method@src_path,dst_svc@method@path,src_region,dst_region,fraction
  const lines = text.split('\n').filter((l) => l.length)
    .map((l) => l.split(',')).filter((f) => f[1].startsWith('backend@') && f[2] === region);
  if (lines.length === 0) return null;
  const total = lines.reduce((a, f) => a + Number(f[4]), 0);
  const weights = {};
  for (const f of lines) weights[f[3]] = Number(f[4]) / total;
  return { text, weights };
}

/**
 * Routes n outbound calls on each worker of p now (on its outbound plugin,
 * the one the traffic uses); chi-square of each worker against weights.
 * These are real calls to the filter: the proxy reports them as outbound
 * calls of no latency, which only the controller's network estimate would
 * use (the regions file gives it the RTT).
 */
function checkWorkersFollow(p, weights, n = 2000) {
  for (const [k, vm] of p.workers.entries()) {
    const got = {};
    for (let i = 0; i < n; i++) {
      const s = vm.newStream({ rootId: 'out' });
      s.requestHeaders({ ':method': 'GET', ':path': '/api/items', ':authority': 'backend:8080' }, true);
      const to = s.request.headers.get('x-slate-routeto');
      got[to] = (got[to] || 0) + 1;
      s.responseHeaders({ ':status': '200' }, true);
      s.complete();
    }
    for (const r of Object.keys(got)) assert.ok(weights[r] > 0, `${p.name} worker ${k} routed to ${r}, which has no weight`);
    let chi2 = 0;
    for (const [r, w] of Object.entries(weights)) {
      const e = n * w;
      if (e > 0) chi2 += ((got[r] || 0) - e) ** 2 / e;
    }
    assert.ok(chi2 < CHI2_1DOF_P1E4 * Math.max(1, Object.keys(weights).length - 1),
      `${p.name} worker ${k}: ${JSON.stringify(got)} vs weights ${JSON.stringify(weights)} (chi2 ${chi2.toFixed(2)})`);
  }
}

function reporterLogs(p, needle) {
  return p.reporter.logs.filter((l) => l.message.includes(needle));
}

function noTraps() {
  for (const p of proxies) {
    assert.deepEqual(p.host.events.filter((e) => e.type === 'trap'), [], `${p.name}: no VM trapped`);
  }
}

// ---------------------------------------------------------------------------

let workDir;

test.before(async () => {
  assert.ok(BIN && fs.existsSync(BIN),
    `SLATE_CONTROLLER_BIN must name the slate-controller binary (got ${BIN})`);
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slate-realctl-'));
  ctl = await new Controller(workDir).start();
  for (const region of ['west', 'east']) {
    fe[region] = addProxy(`frontend-${region}`, 'frontend', region);
    fe[region].rate = LOAD[region];
    be[region] = addProxy(`backend-${region}`, 'backend', region);
  }
  v0 = sched.now();
  r0 = performance.now();
});

test.after(async () => {
  for (const p of proxies) await p.host.close();
  if (ctl && ctl.proc && ctl.proc.exitCode === null && ctl.proc.signalCode === null) await ctl.kill('SIGTERM');
  if (process.exitCode) process.stderr.write(`controller log (tail):\n${ctl.logTail()}\n`);
  fs.rmSync(workDir, { recursive: true, force: true });
});

test('protobuf: reports arrive once per tick per proxy; the controller spills west -> east; every worker follows', async (t) => {
  // Run until the answer to frontend-west carries a rule that spills east by
  // about the backend's excess (a first spill computed from a window the
  // slow, loaded machine only half measured may be smaller), and the workers
  // have had a tick to pick it up.
  let spill = null;
  for (let i = 0; i < 40 && !spill; i++) {
    await advance(TICK_MS);
    const w = rulesInForce(fe.west);
    if (w && w.weights.east > 0.2) spill = w;
  }
  assert.ok(spill, `the controller published a rule sending part of west's calls east\n${ctl.logTail()}`);
  noTraps();

  // Reports: every proxy's reporter posted exactly once per tick, from one
  // VM, and the controller received every one of them.
  let answered = 0;
  for (const p of proxies) {
    const cs = calls(p);
    assert.ok(cs.length >= 3, `${p.name}: ${cs.length} reports`);
    assert.ok(cs.every((c) => c.vm === p.reporter && c.path === '/v1/report'), `${p.name}: reports from its reporter`);
    for (let i = 1; i < cs.length; i++) {
      assert.equal(cs[i].startNs - cs[i - 1].startNs, TICK_MS * MS, `${p.name}: one report per tick`);
    }
    assert.ok(cs.every(ok), `${p.name}: every report answered 200`);
    answered += cs.length;
    const seqs = cs.map((c) => Number(pb.decodeLoadReport(c.body).sequence));
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `${p.name}: sequence numbers 1, 2, 3, ...`);
  }
  assert.equal(await ctl.reportsReceived('protobuf'), answered, 'the controller counted every report');
  t.diagnostic(`${answered} reports from ${proxies.length} proxies; rules v${spill.version} for west: ` +
    JSON.stringify(spill.weights));

  // What the controller learned from the reports: the two services in both
  // regions, and the call graph stitched from their spans.
  const st = await ctl.json('/v1/state');
  for (const svc of ['frontend', 'backend']) {
    const s = st.services.find((x) => x.name === svc);
    assert.ok(s, `service ${svc} known`);
    assert.deepEqual(s.regions.map((r) => r.region).sort(), ['east', 'west'], `${svc} in both regions`);
  }
  const edge = st.call_graph.find((e) => e.parent.service === 'frontend' && e.child.service === 'backend');
  assert.ok(edge, 'call graph edge frontend -> backend from stitched spans');
  assert.equal(edge.parent.path, '/home');
  assert.equal(edge.child.path, '/api/items', 'query string dropped by the filter');
  assert.ok(Math.abs(edge.calls_per_request - 1) < 0.05, `one call per request (${edge.calls_per_request})`);

  // The answer: waterfall's spill for west, local for east.
  assert.equal(spill.rule.src_service, 'frontend');
  assert.equal(spill.rule.method, 'GET');
  assert.equal(spill.rule.path, '/api/items');
  assert.ok(spill.weights.west > 0.2 && spill.weights.east > 0.2,
    `west keeps about ${BACKEND_CAPACITY_WEST}/${LOAD.west} locally: ${JSON.stringify(spill.weights)}`);
  const east = rulesInForce(fe.east);
  assert.ok(east, 'frontend-east got rules');
  assert.deepEqual(east.weights, { east: 1 }, 'east serves its own calls');
  const ru = await ctl.json('/v1/rules');
  assert.equal(ru.current.origin, 'waterfall');

  // The reporter decoded, compiled and published the controller's version...
  const published = reporterLogs(fe.west, 'rules version ');
  assert.ok(published.some((l) => l.message.startsWith(`slate: rules version ${spill.version} published`)),
    `reporter published version ${spill.version}`);
  const rec = fe.west.host.sharedData.peek('slate.frontend.rules.version', 'slate');
  assert.ok(rec && rec.value.readBigUInt64LE(8) >= spill.version, 'version record in shared data');

  // ...and every worker routes on it: the weights in force, per worker.
  checkWorkersFollow(fe.west, rulesInForce(fe.west).weights);
  checkWorkersFollow(fe.east, rulesInForce(fe.east).weights);

  // The mesh followed the headers: the controller sees frontend-west's calls
  // reaching backend in east (the filter reports outbound calls per region).
  const before = { ...fe.west.routes };
  await advance(2 * SOLVE_PERIOD_MS);
  const eastCalls = (fe.west.routes.east || 0) - (before.east || 0);
  const westCalls = (fe.west.routes.west || 0) - (before.west || 0);
  assert.ok(eastCalls > 0 && westCalls > 0, `traffic split west ${westCalls}, east ${eastCalls}`);
  const st2 = await ctl.json('/v1/state');
  const cell = st2.outbound.find((o) => o.caller_service === 'frontend' && o.caller_region === 'west' &&
    o.dst_region === 'east');
  assert.ok(cell && cell.requests > 0, `controller sees frontend-west -> backend-east calls: ${JSON.stringify(cell)}`);
  // ...and backend-east's proxy reports the spilled calls as its own load:
  // more than east's frontend alone sends it.
  const inbound = (svc, region) => st2.services.find((x) => x.name === svc).endpoints[0].regions
    .find((r) => r.region === region).requests;
  assert.ok(inbound('backend', 'east') > 2 * inbound('frontend', 'east'),
    `backend-east serves west's spill: ${inbound('backend', 'east')} requests vs ` +
    `${inbound('frontend', 'east')} from frontend-east in the last window`);
  noTraps();
});

test('legacy protocol against the controller\'s /proxyLoad: text report, CSV rules, workers follow', async (t) => {
  const before = await ctl.reportsReceived('legacy_proxyload');
  legacy = addProxy('frontend-west-legacy', 'frontend', 'west', 'slate-legacy');
  legacy.rate = 5;
  let w = null;
  for (let i = 0; i < 10 && !(w && w.weights.east > 0); i++) {
    await advance(TICK_MS);
    w = rulesInForce(legacy);
  }
  const cs = calls(legacy);
  assert.ok(cs.length >= 2, `${cs.length} legacy reports`);
  for (const c of cs) {
    assert.equal(c.path, '/proxyLoad');
    const h = Object.fromEntries(c.headers);
    assert.equal(h['x-slate-servicename'], 'frontend');
    assert.equal(h['x-slate-region'], 'west');
    assert.equal(h['x-slate-podname'], 'frontend-west-legacy');
    assert.ok(ok(c), 'answered 200');
  }
  for (let i = 1; i < cs.length; i++) assert.equal(cs[i].startNs - cs[i - 1].startNs, TICK_MS * MS);
  assert.equal(await ctl.reportsReceived('legacy_proxyload') - before, cs.length,
    'the controller counted every legacy report');
  assert.ok(w, 'a CSV answer with rules for frontend in west');
  assert.match(w.text, /^frontend@[^,]*,backend@GET@\/api\/items,west,(west|east),[0-9.e-]+$/m);
  assert.ok(w.weights.east > 0.2, `the legacy answer spills east too: ${JSON.stringify(w.weights)}`);
  t.diagnostic(`${cs.length} /proxyLoad reports; CSV answer: ${JSON.stringify(w.text)}`);
  checkWorkersFollow(legacy, w.weights);
  noTraps();
});

test('controller SIGKILL and restart: the data plane keeps serving on its last good rules and recovers', async (t) => {
  const protobufProxies = proxies.filter((p) => p.protocol === 'protobuf');
  // The last answer before the kill: the workers route on it from their next tick on.
  const lastGood = rulesInForce(fe.west, Infinity);
  assert.ok(lastGood && lastGood.weights.east > 0);
  const port = ctl.port;
  const { sig } = await ctl.kill('SIGKILL');
  assert.equal(sig, 'SIGKILL');
  const killedAt = sched.now();

  // Down for 3 ticks: every post fails; routing stays on the last good rules.
  await advance(3 * TICK_MS);
  for (const p of proxies) {
    const failed = calls(p).filter((c) => c.startNs > killedAt);
    assert.ok(failed.length >= 2 && failed.every((c) => !ok(c)), `${p.name}: posts fail while down`);
    assert.equal(reporterLogs(p, 'cannot reach the controller').length, 1, `${p.name}: logged once`);
  }
  assert.deepEqual(rulesInForce(fe.west), lastGood, 'no new rules while down');
  checkWorkersFollow(fe.west, lastGood.weights);
  checkWorkersFollow(fe.east, rulesInForce(fe.east).weights);
  const servedBefore = be.east.received;
  await advance(TICK_MS);
  assert.ok(be.east.received > servedBefore, 'calls still spill east while the controller is down');
  noTraps();

  // Restarted on the same port with the same state directory.
  await ctl.start(port);
  assert.equal(ctl.port, port);
  const restartedAt = sched.now();
  const ruRestored = await ctl.json('/v1/rules');
  assert.equal(ruRestored.current.origin, 'restored', 'rules restored from the state directory');
  await advance(3 * TICK_MS);
  for (const p of proxies) {
    const after = calls(p).filter((c) => c.startNs > restartedAt);
    assert.ok(after.length >= 2 && after.every(ok), `${p.name}: reports flow again`);
    assert.equal(reporterLogs(p, 'controller reachable again').length, 1, `${p.name}: recovery logged once`);
  }
  // The first protobuf report after the restart counts every failed post.
  for (const p of protobufProxies) {
    const nFailed = calls(p).filter((c) => c.startNs > killedAt && c.startNs <= restartedAt).length;
    const first = calls(p).find((c) => c.startNs > restartedAt);
    const drops = pb.decodeLoadReport(first.body).drops;
    assert.equal(drops.post_failed_network, nFailed, `${p.name}: ${nFailed} failed posts reported`);
  }
  // New rules (the restored set re-stamped with a higher version, then the
  // restarted controller's own) reach the workers.
  const now = rulesInForce(fe.west);
  assert.ok(now.version > lastGood.version, `version ${now.version} > ${lastGood.version}`);
  assert.ok(now.weights.east > 0, `still spilling: ${JSON.stringify(now.weights)}`);
  assert.ok(reporterLogs(fe.west, `rules version ${now.version} published`).length === 1);
  checkWorkersFollow(fe.west, now.weights);

  // Then the restarted controller solves again (from the reports since its
  // restart) and its own rules reach the workers.
  let solved = null;
  for (let i = 0; i < 24 && !solved; i++) {
    await advance(TICK_MS);
    const ru = await ctl.json('/v1/rules');
    const w = rulesInForce(fe.west);
    if (ru.current.origin === 'waterfall' && w && w.version >= BigInt(ru.current.version)) solved = w;
  }
  assert.ok(solved, 'the restarted controller published its own rules and the workers route on them');
  assert.ok(solved.weights.east > 0.2, `spilling again: ${JSON.stringify(solved.weights)}`);
  checkWorkersFollow(fe.west, solved.weights);
  t.diagnostic(`before the kill v${lastGood.version} ${JSON.stringify(lastGood.weights)}; ` +
    `restored after the restart v${now.version} ${JSON.stringify(now.weights)}; ` +
    `solved again v${solved.version} ${JSON.stringify(solved.weights)}`);
  noTraps();
});
