#!/usr/bin/env node
// Per-request cost of the data-plane filter in the proxy-wasm host on V8, as a
// ratio to a no-op proxy-wasm module built by the same toolchain and driven
// the same way, in the same run; and as a ratio to an "ABI floor" module that
// makes the filter's per-request hostcalls and nothing else (what any filter
// reading those headers and the clock pays in this host). Also: hostcalls,
// shared-data calls and bytes copied per request, and the module sizes.
//
//   node shims/wasm/bench/bench.js [--modules <dir>] [--requests N] [--rounds R]
//
// Cases (4 worker VMs, round-robin, realistic Istio request headers):
//   inbound        - rate estimator, latency statistics, trace sampling (1%)
//   inbound+spans  - the same with every request sampled into a span
//   outbound       - rules lookup, alias-table draw, routing header written
//                    (rules published by the reporter from a loopback controller)
// Each case runs first with the virtual clock still (the per-request path
// alone), then at 10,000 req/s of virtual time per proxy so the workers'
// ticks (queue flush, rules version check) are amortized in.
// Times are wall-clock medians of R alternating rounds; the ratio is the
// figure to read, the absolute numbers depend on the machine. Nothing here
// asserts a time.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Host, benchStreams } = require('../host/host.js');
const { TestController, pb } = require('../tests/harness.js');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const MODULES = opt('modules', process.env.SLATE_WASM_MODULES ||
  path.join(__dirname, '..', '..', '..', 'build', 'shims', 'wasm'));
const REQUESTS = Number(opt('requests', 50000));
const ROUNDS = Number(opt('rounds', 5));
const FILTER = path.join(MODULES, 'slate_filter.wasm');
const REPORTER = path.join(MODULES, 'slate_reporter.wasm');
const NOOP = path.join(MODULES, 'slate_noop.wasm');
const FLOOR = path.join(MODULES, 'slate_abi_floor.wasm');

const hex = (n, w) => n.toString(16).padStart(w, '0');

// A fixed set of requests, built once, so the generator costs the same
// (almost nothing) for every module.
const REQS = { in: [], out: [] };
for (let i = 0; i < 256; i++) {
  REQS.in.push(makeHeaders(i, false));
  REQS.out.push(makeHeaders(i, true));
}
function requestHeaders(i, outbound) {
  return (outbound ? REQS.out : REQS.in)[i & 255];
}

function makeHeaders(i, outbound) {
  return {
    ':authority': outbound ? 'cart.default.svc.cluster.local:8080' : 'frontend:8080',
    ':path': `/cart?session=${i % 97}`,
    ':method': 'GET',
    ':scheme': 'http',
    'user-agent': 'Go-http-client/1.1',
    accept: 'application/json',
    'x-request-id': `4f1c${hex(i, 12)}-9b2e-4c1d-a8f3-0d9e${hex(i, 8)}`,
    'x-forwarded-proto': 'http',
    'x-b3-traceid': hex(0x51ade000 + i, 32),
    'x-b3-spanid': hex(0xa1b2 + i, 16),
    'x-b3-parentspanid': hex(0xc3d4 + i, 16),
    'x-b3-sampled': '1',
    'x-envoy-attempt-count': '1',
  };
}

const response = () => ({ ':status': '200', 'content-type': 'application/json',
  'x-envoy-upstream-service-time': '3' });

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function makeHost(kind, c) {
  const host = new Host({ seed: 1 });
  let ctl = null;
  if (kind === 'host') {
    // A plugin whose configuration fails: as in Envoy, its streams pass
    // through with no module callback. What remains is this host's own work
    // per stream (contexts, header maps built from the request objects),
    // which every module's figure includes.
    host.addWorkers(4, { module: FILTER, rootId: 'slate_filter', configuration: '{}' });
    if (host.workers.some((w) => w.root().configured !== false)) throw new Error('host-only case configured');
    return { host, ctl };
  }
  if (kind === 'noop') {
    host.addWorkers(4, { module: NOOP, rootId: 'noop', configuration: '{}' });
    return { host, ctl };
  }
  if (kind === 'floor') {
    host.addWorkers(4, { module: FLOOR, rootId: 'floor',
      configuration: c.outbound ? 'outbound' : 'inbound' });
    return { host, ctl };
  }
  const cfg = { service: 'frontend', region: 'us-west-1', vm_id: 'slate', tick_ms: 1000,
    direction: c.outbound ? 'outbound' : 'inbound',
    trace_sampling_rate: c.spans ? 1 : 0.01 };
  host.addWorkers(4, { module: FILTER, rootId: 'slate_filter', vmId: 'slate',
    configuration: JSON.stringify(cfg) });
  // The reporter singleton is there in every case: the workers' ticks
  // enqueue to its queue, and its own per-tick work runs in the same
  // measured time (conservative: in Envoy it runs on the main thread).
  ctl = await new TestController().start();
  host.clusters.controller = ctl.url();
  if (c.outbound)
    ctl.rules = { version: 1, rules: [{ src_region: 'us-west-1', dst_service: 'cart',
      method: 'GET', path: '/cart', targets: [{ region: 'us-west-1', weight: 60 },
        { region: 'us-east-1', weight: 30 }, { region: 'eu-west-1', weight: 10 }] }] };
  host.addSingleton({ module: REPORTER, rootId: 'slate_reporter', vmId: 'slate',
    configuration: JSON.stringify({ service: 'frontend', region: 'us-west-1',
      controller_cluster: 'controller', tick_ms: 1000, http_timeout_ms: 500 }) });
  await host.run(3e9); // rules fetched, compiled, published and picked up by every worker
  if (c.outbound) {
    const probe = host.workers[0].newStream();
    probe.requestHeaders(requestHeaders(0, true), true);
    if (!probe.request.headers.get('x-slate-routeto'))
      throw new Error('outbound benchmark: no routing header, rules missing');
    probe.complete();
  }
  return { host, ctl };
}

function runOnce(host, c, ticking) {
  // 4 workers at 10,000 req/s of virtual time per proxy: 100 us between requests.
  const c0 = process.cpuUsage();
  const res = benchStreams(host, { requests: REQUESTS, warmup: 2000,
    request: (i) => requestHeaders(i, c.outbound), response, stepNs: ticking ? 100000 : 0 });
  const cpu = process.cpuUsage(c0); // includes the warmup: per request of both
  res.cpuNsPerRequest = (cpu.user + cpu.system) * 1000 / (REQUESTS + 2000);
  return res;
}

async function bench(c) {
  const out = {};
  for (const ticking of [false, true]) {
    const kinds = ['noop', 'floor', 'filter', 'host'];
    const envs = {};
    const ns = {};
    const cpu = {};
    for (const k of kinds) {
      envs[k] = await makeHost(k, c);
      ns[k] = [];
      cpu[k] = [];
    }
    const last = {};
    for (let r = 0; r < ROUNDS; r++) {
      for (const k of kinds) {
        const res = runOnce(envs[k].host, c, ticking);
        ns[k].push(res.nsPerRequest);
        cpu[k].push(res.cpuNsPerRequest);
        last[k] = res;
      }
    }
    for (const k of kinds) if (envs[k].ctl) await envs[k].ctl.stop();
    const perRound = ns.filter.map((f, r) => f / ns.noop[r]);
    out[ticking ? 'ticking' : 'still'] = { noop: median(ns.noop), floor: median(ns.floor),
      filter: median(ns.filter), host: median(ns.host), stats: last.filter,
      cpuNoop: median(cpu.noop), cpuFilter: median(cpu.filter),
      roundMin: Math.min(...perRound), roundMax: Math.max(...perRound) };
  }
  return out;
}

function fmt(n, d = 0) {
  return n.toFixed(d).padStart(8);
}

(async () => {
  for (const f of [FILTER, REPORTER, NOOP, FLOOR]) {
    if (!fs.existsSync(f)) {
      console.error(`bench: ${f} not found (build first: make)`);
      process.exit(1);
    }
  }
  console.log(`module sizes: slate_filter.wasm ${fs.statSync(FILTER).size} B, ` +
    `slate_reporter.wasm ${fs.statSync(REPORTER).size} B, slate_noop.wasm ${fs.statSync(NOOP).size} B ` +
    '(budget 65536 B each; SLATE\'s TinyGo filter and service: 818 KB, 758 KB)');
  console.log(`${REQUESTS} requests per round, ${ROUNDS} rounds, median; 4 worker VMs; Node ${process.version}\n`);
  console.log('case           clock   no-op   floor  filter  filter/no-op  filter/floor  hostcalls  sd calls  sd bytes in  sd bytes out');
  console.log('                       ns/req  ns/req  ns/req                               /req      /req         /req          /req');
  const cases = [
    { name: 'inbound', outbound: false, spans: false },
    { name: 'inbound+spans', outbound: false, spans: true },
    { name: 'outbound', outbound: true, spans: false },
  ];
  const results = [];
  for (const c of cases) {
    const r = await bench(c);
    results.push([c, r]);
    for (const mode of ['still', 'ticking']) {
      const m = r[mode];
      const s = m.stats;
      console.log(`${c.name.padEnd(14)} ${(mode === 'still' ? 'still' : '10k/s').padEnd(5)} ` +
        `${fmt(m.noop)}${fmt(m.floor)}${fmt(m.filter)}      ${fmt(m.filter / m.noop, 2)}      ` +
        `${fmt(m.filter / m.floor, 2)} ${fmt(s.hostcallsPerRequest, 2)}  ${fmt(s.sharedDataCallsPerRequest, 4)}` +
        `     ${fmt(s.sharedDataBytesInPerRequest, 2)}      ${fmt(s.sharedDataBytesOutPerRequest, 2)}`);
    }
  }
  // The same rounds, read other ways: the spread of the per-round ratio
  // (rounds alternate, so each round's filter and no-op ran back to back),
  // CPU time instead of wall time (less sensitive to other load on the
  // machine), and the ratio without this host's own per-stream work.
  console.log('\ncase           clock  filter/no-op    filter/no-op  host-only  (filter-host)/');
  console.log('                      per round         CPU time    ns/req    (no-op-host)');
  for (const [c, r] of results) {
    for (const mode of ['still', 'ticking']) {
      const m = r[mode];
      console.log(`${c.name.padEnd(14)} ${(mode === 'still' ? 'still' : '10k/s').padEnd(5)}  ` +
        `${m.roundMin.toFixed(2)}-${m.roundMax.toFixed(2)}`.padEnd(12) +
        `${fmt(m.cpuFilter / m.cpuNoop, 2)}    ${fmt(m.host)}     ${fmt((m.filter - m.host) / (m.noop - m.host), 2)}`);
    }
  }
  console.log('\nstill: the virtual clock does not move (the per-request path alone); 10k/s: it moves');
  console.log('100 us per request, so every worker ticks once per virtual second (flush to the');
  console.log('reporter\'s queue, rules version check) and that work is amortized per request.');
  console.log('floor: a module making only the filter\'s per-request hostcalls (3 header reads, 2 clock');
  console.log('reads; outbound also the header write); filter/floor is the filter\'s own work.');
  console.log('host-only: streams with no module callback (a plugin whose configuration failed passes');
  console.log('them through, as in Envoy): this host\'s own per-stream work (contexts, header maps built');
  console.log('from the request objects), included in every figure above; Envoy charges no wasm filter');
  console.log('for it, so (filter-host)/(no-op-host) is the stricter reading of the same runs.');
  console.log('Target: filter/no-op <= 3.');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
