// Outbound routing: draws follow the rule weights across 4 workers, a rule
// change reaches every worker within one tick, and rules past their time to
// live fall back to local routing.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, outboundCall, logs, FILTER, MS, S } = require('./harness.js');

const TICK = 500 * MS;

function rule(targets, extra = {}) {
  return Object.assign({ src_region: 'us-west-1', dst_service: 'cart', method: 'GET',
    path: '/cart', targets }, extra);
}

async function outboundEnv(o = {}) {
  return setup(Object.assign({ workers: 4,
    filter: Object.assign({ direction: 'outbound' }, o.filter || {}),
    reporter: o.reporter }, o.setup || {}));
}

// Chi-square critical values at p = 0.001.
const CHI2_001 = { 1: 10.828, 2: 13.816, 3: 16.266 };

function chiSquare(counts, weights) {
  const n = Object.values(counts).reduce((a, b) => a + b, 0);
  const wsum = Object.values(weights).reduce((a, b) => a + b, 0);
  let x2 = 0;
  for (const [region, w] of Object.entries(weights)) {
    const expect = (n * w) / wsum;
    x2 += ((counts[region] || 0) - expect) ** 2 / expect;
  }
  return x2;
}

/** Time at which the reporter published rules `version` (its log line). */
function publishedAt(reporter, version) {
  const l = logs(reporter, `rules version ${version} published`)[0];
  return l ? l.timeNs : null;
}

test('outbound draws across 4 workers follow the rule weights (chi-square, 1e5 calls)', async () => {
  const env = await outboundEnv();
  const { host, ctl } = env;
  try {
    const weights = { 'us-west-1': 50, 'us-east-1': 30, 'eu-west-1': 20 };
    ctl.rules = { version: 1, rules: [rule(Object.entries(weights).map(([region, weight]) => ({ region, weight })))] };
    await host.run(2 * S); // first report at 1 s, then every worker's tick
    assert.ok(publishedAt(env.reporter, 1) !== null, 'rules were published');
    const counts = {};
    const perWorker = env.workers.map(() => ({}));
    for (let i = 0; i < 100000; i++) {
      const w = i % 4;
      const region = outboundCall(env.workers[w]);
      counts[region] = (counts[region] || 0) + 1;
      perWorker[w][region] = (perWorker[w][region] || 0) + 1;
    }
    assert.deepEqual(Object.keys(counts).sort(), Object.keys(weights).sort());
    const x2 = chiSquare(counts, weights);
    assert.ok(x2 < CHI2_001[2], `chi-square ${x2.toFixed(2)} over all workers`);
    for (const c of perWorker) {
      const xw = chiSquare(c, weights);
      assert.ok(xw < CHI2_001[2], `chi-square ${xw.toFixed(2)} on one worker`);
    }
    // The draws are not just the expected counts: a fixed 50/30/20 cycle
    // would pass too, so check that successive draws are not periodic.
    const seq = Array.from({ length: 2000 }, () => outboundCall(env.workers[0]));
    const repeats = seq.filter((r, i) => i >= 10 && r === seq[i - 10]).length;
    assert.ok(repeats < 0.6 * seq.length, 'draws look independent');
  } finally {
    await env.close();
  }
});

test('rules keyed by method or path wildcards apply, most specific first', async () => {
  const env = await outboundEnv();
  const { host, ctl } = env;
  try {
    ctl.rules = { version: 1, rules: [
      rule([{ region: 'eu-west-1', weight: 1 }], { method: 'GET', path: '/cart' }),
      rule([{ region: 'us-east-1', weight: 1 }], { method: '', path: '' }),
      rule([{ region: 'ap-south-1', weight: 1 }], { method: 'POST', path: '' }),
      rule([{ region: 'us-west-1', weight: 0 }, { region: 'eu-west-1', weight: 0 }],
        { dst_service: 'zero', method: '', path: '' }),
      // Another region's rule: not for this proxy.
      rule([{ region: 'ap-south-1', weight: 1 }], { src_region: 'eu-west-1', dst_service: 'other' }),
    ] };
    await host.run(2 * S);
    const w = env.workers[1];
    assert.equal(outboundCall(w, { ':path': '/cart?x=1' }), 'eu-west-1');
    assert.equal(outboundCall(w, { ':path': '/items' }), 'us-east-1');
    assert.equal(outboundCall(w, { ':method': 'POST', ':path': '/cart' }), 'ap-south-1');
    assert.equal(outboundCall(w, { ':authority': 'CART.default.svc.cluster.local:8080' }), 'eu-west-1');
    assert.equal(outboundCall(w, { ':authority': 'other' }), undefined, 'no rule: no header');
    assert.equal(outboundCall(w, { ':authority': 'zero' }), undefined, 'all-zero rule: no header');
  } finally {
    await env.close();
  }
});

test('a rule change reaches every worker within one tick', async () => {
  const env = await outboundEnv({ setup: { host: { seed: 5, chaos: { startSpreadNs: 300 * MS,
    tickJitterNs: 0 } } } });
  const { host, ctl } = env;
  try {
    ctl.rules = { version: 1, rules: [rule([{ region: 'us-east-1', weight: 1 }])] };
    await host.run(2.5 * S);
    for (const w of env.workers) assert.equal(outboundCall(w), 'us-east-1');
    ctl.rules = { version: 2, rules: [rule([{ region: 'eu-west-1', weight: 1 }])] };
    // Step through time until the reporter publishes version 2 ...
    let p = null;
    for (let i = 0; i < 40 && p === null; i++) {
      await host.run(25 * MS);
      p = publishedAt(env.reporter, 2);
    }
    assert.ok(p !== null, 'version 2 published');
    // ... then every worker must route by it within one tick of that.
    const seen = new Map();
    while (host.now() <= p + TICK) {
      for (const [i, w] of env.workers.entries()) {
        if (!seen.has(i) && outboundCall(w) === 'eu-west-1') seen.set(i, host.now() - p);
      }
      await host.run(10 * MS);
    }
    assert.equal(seen.size, 4, `workers on the new rules within a tick: ${[...seen.keys()]}`);
    for (const [, delay] of seen) assert.ok(delay <= TICK + 10 * MS);
  } finally {
    await env.close();
  }
});

test('rules past their time to live: no header, or the local region with route_local_when_no_rules', async () => {
  const env = await outboundEnv({ reporter: { rules_ttl_ms: 2000 }, filter: { route_local_when_no_rules: true } });
  const { host, ctl } = env;
  try {
    ctl.rules = { version: 1, rules: [rule([{ region: 'eu-west-1', weight: 1 }])] };
    await host.run(2 * S);
    assert.equal(outboundCall(env.workers[0]), 'eu-west-1');
    // The controller goes away; the last good rules stay until they expire.
    await ctl.stop();
    const lastOk = Math.max(...ctl.reports.map((r) => r.timeNs));
    await host.run(lastOk + 1.5 * S - host.now());
    for (const w of env.workers) assert.equal(outboundCall(w), 'eu-west-1', 'kept before the TTL');
    await host.run(lastOk + 2 * S + TICK + 10 * MS - host.now());
    for (const w of env.workers) assert.equal(outboundCall(w), 'us-west-1', 'local after the TTL');
  } finally {
    await env.close();
  }
});

test("the controller's ttl_ns bounds the rules too; without rules no header is written (the default)", async () => {
  const env = await outboundEnv();
  const { host, ctl } = env;
  try {
    // Rules generated at host time 0.5 s that live 1.5 s: gone at 2 s.
    ctl.rules = { version: 1, ttl_ns: 1.5 * S, generated_ns: host.epochNs + BigInt(0.5 * S),
      rules: [rule([{ region: 'eu-west-1', weight: 1 }])] };
    assert.equal(outboundCall(env.workers[0]), undefined, 'no rules yet: header unset');
    await host.run(1.9 * S);
    assert.equal(outboundCall(env.workers[0]), 'eu-west-1');
    await host.run(0.2 * S);
    assert.equal(outboundCall(env.workers[0]), undefined, 'expired: header unset');
  } finally {
    await env.close();
  }
});

test('outbound latency is reported per destination region', async () => {
  const env = await outboundEnv();
  const { host, ctl } = env;
  try {
    ctl.rules = { version: 1, rules: [rule([{ region: 'eu-west-1', weight: 1 }])] };
    await host.run(2 * S);
    const t0 = host.now();
    for (let i = 0; i < 40; i++) {
      host.schedule(t0 + i * MS, () => {
        const vm = env.workers[i % 4];
        const s = vm.newStream();
        s.requestHeaders({ ':method': 'GET', ':path': '/cart', ':authority': 'cart' }, true);
        host.schedule(host.now() + (i + 1) * 100000, () => {
          s.responseHeaders({ ':status': '200' }, true);
          s.complete();
        }, { vm });
      }, { vm: env.workers[i % 4] });
    }
    await host.run(2 * S);
    const out = ctl.decoded().flatMap((r) => r.outbound)
      .filter((o) => o.dst_service === 'cart' && o.dst_region === 'eu-west-1');
    const count = out.reduce((a, o) => a + o.requests, 0);
    const sum = out.reduce((a, o) => a + o.latency.sum_ns, 0n);
    assert.equal(count, 40);
    assert.equal(sum, BigInt(Array.from({ length: 40 }, (_, i) => (i + 1) * 100000).reduce((a, b) => a + b)));
  } finally {
    await env.close();
  }
});

test('calls to one region counted as the local fallback and drawn by a rule are one tuple', async () => {
  // One outbound tuple allowed: calls before the rules count against the
  // local region (no header written); once a rule draws that same region,
  // its calls must land in the same tuple, not overflow the table.
  const env = await outboundEnv({ setup: { workers: 1 },
    filter: { limits: { max_outbound: 1 } } });
  const { host, ctl } = env;
  try {
    const call = (i, vm) => {
      const s = vm.newStream();
      s.requestHeaders({ ':method': 'GET', ':path': '/cart', ':authority': 'cart' }, true);
      const got = s.request.headers.get('x-slate-routeto');
      host.schedule(host.now() + (i + 1) * 1000, () => {
        s.responseHeaders({ ':status': '200' }, true);
        s.complete();
      }, { vm });
      return got;
    };
    const vm = env.workers[0];
    for (let i = 0; i < 5; i++) assert.equal(call(i, vm), undefined, 'no rules yet: no header');
    ctl.rules = { version: 1, rules: [rule([{ region: 'us-west-1', weight: 1 }])] };
    await host.run(2 * S);
    assert.equal(outboundCall(vm), 'us-west-1');
    const t0 = host.now();
    for (let i = 0; i < 10; i++) host.schedule(t0 + i * MS, () => call(i, vm), { vm });
    await host.run(2 * S);
    const reports = ctl.decoded();
    const out = reports.flatMap((r) => r.outbound).filter((o) => o.dst_service === 'cart');
    assert.ok(out.every((o) => o.dst_region === 'us-west-1'));
    assert.equal(out.reduce((a, o) => a + o.requests, 0), 5 + 1 + 10, 'every call measured');
    assert.equal(reports.reduce((a, r) => a + r.drops.outbound_overflowed, 0), 0, 'no overflow');
  } finally {
    await env.close();
  }
});

test('direction "auto" follows the listener_direction property of each stream', async () => {
  const env = await outboundEnv({ filter: { direction: 'auto' } });
  const { host, ctl } = env;
  try {
    ctl.rules = { version: 1, rules: [rule([{ region: 'eu-west-1', weight: 1 }])] };
    await host.run(2 * S);
    const call = (dir) => {
      const s = env.workers[0].newStream({ properties: { listener_direction: dir } });
      s.requestHeaders({ ':method': 'GET', ':path': '/cart', ':authority': 'cart' }, true);
      const h = s.request.headers.get('x-slate-routeto');
      s.responseHeaders({ ':status': '200' }, true);
      s.complete();
      return h;
    };
    assert.equal(call(2), 'eu-west-1', 'outbound listener: routed');
    assert.equal(call(1), undefined, 'inbound listener: measured, not routed');
    await host.run(1.5 * S);
    const inbound = ctl.decoded().flatMap((r) => r.inbound).filter((e) => e.path === '/cart');
    assert.equal(inbound.reduce((a, e) => a + e.requests, 0), 1);
    const outbound = ctl.decoded().flatMap((r) => r.outbound).filter((o) => o.dst_service === 'cart');
    assert.equal(outbound.reduce((a, o) => a + o.requests, 0), 1);
  } finally {
    await env.close();
  }
});

/** One outbound call on vm answered with `status` (0: reset, no response); returns the region. */
function callWith(vm, statusOf) {
  const s = vm.newStream();
  s.requestHeaders({ ':method': 'GET', ':path': '/cart', ':authority': 'cart:8080' }, true);
  const got = s.request.headers.get('x-slate-routeto');
  const st = statusOf(got);
  if (st) s.responseHeaders({ ':status': String(st) }, true);
  s.complete();
  return got;
}

test('fast failover: a region whose calls fail stops being drawn, per worker, and comes back after the hold', async () => {
  const env = await outboundEnv();
  const { host, ctl } = env;
  try {
    ctl.rules = { version: 1, rules: [rule([{ region: 'eu-west-1', weight: 1 }, { region: 'us-east-1', weight: 1 }])] };
    await host.run(2 * S);
    const vm = env.workers[0];
    // eu-west-1 answers 503 (and every fourth call there is reset): after
    // 10 calls there (min_calls) at >= 50% failures it is excluded.
    let n = 0;
    const failing = (r) => (r === 'eu-west-1' ? (n++ % 4 === 3 ? 0 : 503) : 200);
    const before = {};
    for (let i = 0; i < 40; i++) { const r = callWith(vm, failing); before[r] = (before[r] || 0) + 1; }
    assert.ok(before['eu-west-1'] >= 10, `eu-west-1 drawn ${before['eu-west-1']} times before exclusion`);
    const during = {};
    for (let i = 0; i < 400; i++) { const r = callWith(vm, failing); during[r] = (during[r] || 0) + 1; }
    assert.equal(during['eu-west-1'] || 0, 0, `excluded: ${JSON.stringify(during)}`);
    assert.equal(during['us-east-1'], 400, 'every call to the healthy region');
    // Per worker: another worker saw no failure and still draws both.
    const other = {};
    for (let i = 0; i < 400; i++) { const r = callWith(env.workers[1], () => 200); other[r] = (other[r] || 0) + 1; }
    assert.ok(other['eu-west-1'] > 100, `worker 1 still draws eu-west-1: ${JSON.stringify(other)}`);
    // Counted as an Envoy stat at the next tick.
    await host.run(TICK);
    assert.equal(Number(host.metrics.get('slate_failover_exclusions_total.slate_region=.=eu-west-1;.;')), 1);
    // After the hold (10 s) the region is drawn again, and judged afresh.
    await host.run(11 * S);
    const after = {};
    for (let i = 0; i < 400; i++) { const r = callWith(vm, () => 200); after[r] = (after[r] || 0) + 1; }
    assert.ok(after['eu-west-1'] > 100, `eu-west-1 back after the hold: ${JSON.stringify(after)}`);
    // Every region of the rule failing: no region left, so no routing header
    // (the mesh's own locality failover decides).
    // (the 400 good calls just made are in the window: fail more than that)
    for (let i = 0; i < 1000; i++) callWith(vm, (r) => (r ? 503 : 200));
    const none = callWith(vm, () => 200);
    assert.equal(none, undefined, `no header when every region is excluded (got ${none})`);
  } finally {
    await env.close();
  }
});

test('a worker started after the rules were published routes its first call by them', async () => {
  const env = await outboundEnv();
  const { host, ctl } = env;
  try {
    ctl.rules = { version: 1, rules: [rule([{ region: 'eu-west-1', weight: 1 }])] };
    await host.run(2 * S);
    assert.ok(publishedAt(env.reporter, 1) !== null, 'rules were published');
    // A new worker, as Envoy adds one (or restarts them all on a
    // configuration push): its first call, before any tick of its own.
    const [late] = host.addWorkers(1, { module: FILTER, rootId: 'slate_filter', vmId: 'slate', configuration: JSON.stringify(env.filterCfg) });
    assert.equal(outboundCall(late), 'eu-west-1');
  } finally {
    await env.close();
  }
});
