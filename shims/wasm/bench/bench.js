#!/usr/bin/env node
// Per-request cost of the data-plane filter on V8, in absolute nanoseconds and
// as a ratio to a no-op proxy-wasm module (noop.c) built by the same
// toolchain, given the same request and response headers, the same callback
// sequence, driven the same way, in interleaved blocks of the same run. Also
// an "ABI floor" module (abi_floor.c) that makes the filter's per-request
// hostcalls and nothing else.
//
//   node shims/wasm/bench/bench.js [--modules <dir>] [--block N] [--rounds R]
//                                  [--baseline <another slate_filter.wasm>]
//                                  [--dump-rules <file>]
//
// --baseline adds another build of the filter (say, the previous commit's)
// to the same interleaved rounds: a before/after comparison on one machine
// under one load. --dump-rules writes the rules the real reporter published
// to <file> and exits (bench/cpp_host runs the same cases in Envoy's host
// library with them).
//
// Cases, each at 1 and at 4 worker VMs (round-robin):
//   inbound   - rate estimator, latency statistics, trace sampling at 1%
//   outbound  - rules for 16 destination services, lookup, alias-table draw,
//               routing header written
// Requests carry the headers Istio's sidecar forwards (14 request headers:
// B3 multi-header, traceparent, x-request-id, ...; 3 response headers), at
// 10,000 requests per second of virtual time per proxy, so every worker also
// ticks once per virtual second (flush to the reporter's queue, rules version
// check) and that work is amortized in.
//
// The modules run in a minimal host (lean_host.js) whose own per-request work
// is small, as in a production host; the full test host's bookkeeping would
// dilute the ratio. Rounds alternate the modules' blocks (the order rotates),
// each block timed on its own; the figure is the median over rounds, and the
// ratio's spread is over the per-round ratios. Wall-clock numbers depend on
// the machine and its load: read the ratio, and bench/wasm_native's
// instruction counts for a figure that does not move. Nothing here asserts a
// time.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Host } = require('../host/host.js');
const { TestController } = require('../tests/harness.js');
const { LeanHost, encodeHeaders } = require('./lean_host.js');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const MODULES = opt('modules', process.env.SLATE_WASM_MODULES ||
  path.join(__dirname, '..', '..', '..', 'build', 'shims', 'wasm'));
const BLOCK = Number(opt('block', 20000));
const ROUNDS = Number(opt('rounds', 15));
const FILTER = path.join(MODULES, 'slate_filter.wasm');
const REPORTER = path.join(MODULES, 'slate_reporter.wasm');
const NOOP = path.join(MODULES, 'slate_noop.wasm');
const FLOOR = path.join(MODULES, 'slate_abi_floor.wasm');
const BASELINE = opt('baseline', null);
const DUMP_RULES = opt('dump-rules', null);
const STEP_NS = 100000; // 10,000 requests per second per proxy
const LATENCY_NS = 40000; // each request completes before the next arrives
const DESTS = 16;

const hex = (n, w) => n.toString(16).padStart(w, '0');

// The request set, encoded once: the generator costs nothing per request.
// Inbound paths: four endpoints, two with ids in the path.
function requestHeaders(i, outbound) {
  const paths = [`/api/items/${1000 + (i % 500)}?session=${i % 97}`, '/cart',
    `/api/users/${hex(0x5d0f416c + i, 16)}/orders`, '/healthz'];
  const trace = hex(0x51ade000 + i * 7919, 16) + hex(0x9e3779b9 * (i + 1) >>> 0, 16);
  const span = hex(0xa1b20000 + i, 16);
  return encodeHeaders({
    ':authority': outbound ? `svc${String(i % DESTS).padStart(2, '0')}.default.svc.cluster.local:8080`
      : 'frontend.default.svc.cluster.local:8080',
    ':path': outbound ? `/api/items/${1000 + (i % 500)}?session=${i % 97}` : paths[i % 4],
    ':method': 'GET',
    ':scheme': 'http',
    'user-agent': 'Go-http-client/1.1',
    accept: 'application/json',
    'x-request-id': `4f1c${hex(i, 4)}-9b2e-4c1d-a8f3-0d9e${hex(i, 8)}`,
    'x-forwarded-proto': 'http',
    'x-envoy-attempt-count': '1',
    'x-b3-traceid': trace,
    'x-b3-spanid': span,
    'x-b3-parentspanid': hex(0xc3d40000 + i, 16),
    'x-b3-sampled': '1',
    traceparent: `00-${trace}-${span}-01`,
  });
}
const REQS = { in: [], out: [] };
for (let i = 0; i < 512; i++) {
  REQS.in.push(requestHeaders(i, false));
  REQS.out.push(requestHeaders(i, true));
}
const RESPONSE = encodeHeaders({ ':status': '200', 'content-type': 'application/json',
  'x-envoy-upstream-service-time': '3' });

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Rules for 16 destinations, compiled and published by the real reporter
// (from a loopback controller) in the full test host; the lean host serves
// the published records to the filters.
async function publishedRules() {
  const host = new Host({ seed: 1 });
  const ctl = await new TestController().start();
  host.clusters.controller = ctl.url();
  const regions = ['us-west-1', 'us-east-1', 'eu-west-1'];
  ctl.rules = { version: 1, rules: [] };
  for (let d = 0; d < DESTS; d++) {
    ctl.rules.rules.push({ src_region: 'us-west-1', dst_service: `svc${String(d).padStart(2, '0')}`,
      method: 'GET', path: '/api/items/{id}',
      targets: regions.map((r, k) => ({ region: r, weight: [60, 30, 10][(k + d) % 3] })) });
  }
  host.addSingleton({ module: REPORTER, rootId: 'slate_reporter', vmId: 'slate',
    configuration: JSON.stringify({ service: 'frontend', region: 'us-west-1',
      controller_cluster: 'controller', tick_ms: 1000, http_timeout_ms: 500,
      rules_ttl_ms: 86400000 }) });
  await host.run(3e9);
  await ctl.stop();
  const out = {};
  for (const k of ['slate.frontend.rules', 'slate.frontend.rules.version']) {
    const e = host.sharedData.peek(k, 'slate');
    if (!e) throw new Error(`benchmark: the reporter published no ${k}`);
    out[k] = { value: new Uint8Array(e.value), cas: e.cas };
  }
  out.epochNs = Number(host.epochNs) + host.now();
  host.close?.();
  return out;
}

function makeEnv(kind, c, workers, rules) {
  const host = new LeanHost();
  host.epochNs = rules.epochNs;
  for (const [k, v] of Object.entries(rules)) if (k.startsWith('slate.')) host.sharedData.set(k, v);
  const file = kind === 'noop' ? NOOP : kind === 'floor' ? FLOOR : kind === 'base' ? BASELINE : FILTER;
  const config = kind === 'noop' ? '{}' : kind === 'floor' ? (c.outbound ? 'outbound' : 'inbound')
    : JSON.stringify({ service: 'frontend', region: 'us-west-1', vm_id: 'slate', tick_ms: 1000,
      direction: c.outbound ? 'outbound' : 'inbound', trace_sampling_rate: 0.01 });
  const vms = host.addVms(LeanHost.loadModule(file), config, workers);
  // The filter reads the published rules in configure and at its ticks; a
  // --baseline build from before the configure-time read (c1f41cb and
  // earlier) only at its ticks, the first a virtual second (10,000 requests)
  // after configure. Every VM ticks once before any block, as a proxy that
  // has run for a while has, so that no block of either build, whatever its
  // size, is measured on a filter that has not seen the rules yet.
  for (const vm of vms) vm.tick();
  return { kind, host, vms, i: 0 };
}

function runBlock(env, c, n) {
  const reqs = c.outbound ? REQS.out : REQS.in;
  const vms = env.vms;
  let routed = 0;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < n; k++) {
    const i = env.i++;
    const vm = vms[i % vms.length];
    const start = i * STEP_NS;
    const req = vm.stream(reqs[i & 511], RESPONSE, start, start + LATENCY_NS);
    if (req.length > reqs[i & 511].length) routed++;
    vm.tickIfDue();
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { ns: ns / n, routed };
}

async function bench(c, workers, rules) {
  const kinds = BASELINE ? ['noop', 'floor', 'filter', 'base'] : ['noop', 'floor', 'filter'];
  const envs = kinds.map((k) => makeEnv(k, c, workers, rules));
  for (const e of envs) runBlock(e, c, BLOCK); // warm-up: JIT tiers, tables filled
  const ns = { noop: [], floor: [], filter: [], base: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (let j = 0; j < envs.length; j++) {
      const e = envs[(j + r) % envs.length];
      const res = runBlock(e, c, BLOCK);
      ns[e.kind].push(res.ns);
      if ((e.kind === 'filter' || e.kind === 'base') && c.outbound && res.routed !== BLOCK)
        throw new Error(`outbound benchmark: ${BLOCK - res.routed} requests not routed (rules missing?)`);
    }
  }
  const per = ns.filter.map((f, r) => f / ns.noop[r]);
  const perBase = ns.base.map((f, r) => f / ns.noop[r]);
  const perFloor = ns.floor.map((f, r) => f / ns.noop[r]);
  const over = (k) => median(ns[k].map((f, r) => f - ns.floor[r]));
  const mem = (k) => Math.max(...envs[kinds.indexOf(k)].vms.map((v) => v.memoryBytes()));
  return { noop: median(ns.noop), floor: median(ns.floor), filter: median(ns.filter),
    ratio: median(per), lo: Math.min(...per), hi: Math.max(...per),
    floorRatio: median(perFloor), overFloor: over('filter'), baseOverFloor: BASELINE ? over('base') : 0,
    memFilter: mem('filter'), memNoop: mem('noop'),
    base: BASELINE ? median(ns.base) : 0, baseRatio: BASELINE ? median(perBase) : 0,
    memBase: BASELINE ? mem('base') : 0 };
}

const f = (n, w = 8, d = 0) => n.toFixed(d).padStart(w);

(async () => {
  for (const file of [FILTER, REPORTER, NOOP, FLOOR]) {
    if (!fs.existsSync(file)) {
      console.error(`bench: ${file} not found (build first: make)`);
      process.exit(1);
    }
  }
  if (DUMP_RULES) {
    const rules = await publishedRules();
    // The published records, for another host's benchmark (bench/cpp_host):
    // "<key> <hex value>" lines, then the virtual time they were published at.
    const lines = Object.keys(rules).filter((k) => k.startsWith('slate.'))
      .map((k) => `${k} ${Buffer.from(rules[k].value).toString('hex')}`);
    fs.writeFileSync(DUMP_RULES, `${lines.join('\n')}\nepoch ${rules.epochNs}\n`);
    return;
  }
  console.log(`module sizes: slate_filter.wasm ${fs.statSync(FILTER).size} B, ` +
    `slate_reporter.wasm ${fs.statSync(REPORTER).size} B, slate_noop.wasm ${fs.statSync(NOOP).size} B`);
  console.log(`${BLOCK} requests per block, ${ROUNDS} interleaved rounds, medians; Node ${process.version}`);
  const flags = process.execArgv.join(' ');
  console.log(`V8 tiers: ${/--liftoff-only|--no-wasm-tier-up/.test(flags) ? 'Liftoff (baseline compiler) only'
    : 'default (Liftoff, then TurboFan)'}${flags ? ` [${flags}]` : ''}\n`);
  const rules = await publishedRules();
  const baseRows = [];
  console.log('case       VMs   no-op   floor  filter  floor/no-op  filter/no-op  (rounds)     filter-floor   memory/VM');
  console.log('                ns/req  ns/req  ns/req                                              ns/req  filter  no-op');
  for (const c of [{ name: 'inbound', outbound: false }, { name: 'outbound', outbound: true }]) {
    for (const workers of [1, 4]) {
      const m = await bench(c, workers, rules);
      console.log(`${c.name.padEnd(10)} ${String(workers).padStart(3)} ${f(m.noop)}${f(m.floor)}${f(m.filter)}` +
        `     ${f(m.floorRatio, 8, 2)}      ${f(m.ratio, 8, 2)}  ${(m.lo.toFixed(2) + '-' + m.hi.toFixed(2)).padEnd(12)}` +
        ` ${f(m.overFloor)}  ${f(m.memFilter / 1024, 6)}K ${f(m.memNoop / 1024, 5)}K`);
      if (BASELINE) baseRows.push(`${c.name.padEnd(10)} ${String(workers).padStart(3)} ${f(m.base)}` +
        `${f(m.filter)}      ${f(m.baseRatio, 8, 2)}  ${f(m.ratio, 8, 2)}     ${f(m.baseOverFloor)}      ${f(m.overFloor)}` +
        `   ${f(m.memBase / 1024, 6)}K ${f(m.memFilter / 1024, 6)}K`);
    }
  }
  if (BASELINE) {
    console.log(`\nbaseline ${BASELINE} (same rounds):`);
    console.log('case       VMs    base  filter   base/no-op  filter/no-op  base-floor  filter-floor   memory/VM base  filter');
    console.log('                ns/req  ns/req                                  ns/req        ns/req');
    for (const row of baseRows) console.log(row);
  }
  console.log('\ninbound: 4 endpoints (two with ids in the path), trace sampling 1%; outbound: 16');
  console.log('destination services, each with a 3-region rule. floor: a module making only the');
  console.log('filter\'s per-request hostcalls (what any module reading those headers pays);');
  console.log('filter-floor: the filter\'s own work (median of per-round differences). memory/VM:');
  console.log('linear memory after the run (largest VM).');
  console.log('Targets: filter/no-op <= 2 on V8; <= 256 KiB of linear memory per filter VM. A floor');
  console.log('above 2x the no-op puts the first out of reach of any module making those hostcalls.');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
