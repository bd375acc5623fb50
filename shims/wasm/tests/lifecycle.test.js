// Lifecycles the data plane must survive besides the host's default one:
// - Envoy's host library configures each plugin once in a throwaway "canary"
//   VM before the real ones (proxy-wasm-cpp-host createWasm): nothing with a
//   side effect outside the VM may happen in proxy_on_configure;
// - Envoy calls proxy_on_log before proxy_on_done, the specification's order
//   is the reverse, and other embedders may use either: both must give the
//   same measurements.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, scheduleRequests, MS, S } = require('./harness.js');

// Hostcalls whose effect outlives the VM that makes them.
const SIDE_EFFECTS = ['proxy_set_shared_data', 'proxy_register_shared_queue',
  'proxy_enqueue_shared_queue', 'proxy_dequeue_shared_queue', 'proxy_http_call',
  'proxy_grpc_call', 'proxy_set_property'];

function traffic(host, count) {
  // Three endpoints, every request traced and sampled (B3), distinct latencies.
  const hex = (n, w) => n.toString(16).padStart(w, '0');
  return scheduleRequests(host, { start: 10 * MS, gapNs: 1.3 * MS, count,
    headers: (i) => ({ ':method': i % 3 ? 'GET' : 'POST', ':path': `/items/${i}?q=${i % 7}`,
      ':authority': 'frontend', 'x-b3-traceid': hex(0xbeef0000 + i, 32),
      'x-b3-spanid': hex(0x1000 + i, 16) }),
    latencyNs: (i) => 2 * MS + (i % 13) * 37000 });
}

test('canary: configuring the plugins in a throwaway VM first has no effect outside it', async () => {
  const env = await setup({ workers: 4, host: { canary: true } });
  try {
    const { host, ctl } = env;
    assert.equal(host.canaries.length, 2, 'one canary for the filter, one for the reporter');
    for (const c of host.canaries) {
      assert.equal(c.roots[0].configured, true, `${c.name} configured`);
      for (const h of SIDE_EFFECTS)
        assert.equal(c.stats.hostcalls[h] || 0, 0, `${c.name} called ${h} in proxy_on_configure`);
    }
    const n = 600;
    traffic(host, n);
    await host.run(3 * S);
    // The queue's notifications go to the real reporter, not to the dead canary.
    const q = host.queues.get('slate', 'slate.frontend.batches');
    assert.ok(q, 'the reporter registered its queue');
    assert.equal(q.owner.vm, env.reporter);
    for (const c of host.canaries)
      assert.equal(c.stats.callbacks.proxy_on_tick || 0, 0, `${c.name} ticked after it was killed`);
    // Every request reached the controller, once.
    const reports = ctl.decoded();
    const counted = reports.flatMap((r) => r.inbound).reduce((a, e) => a + Number(e.requests), 0);
    assert.equal(counted, n);
    const ticks = new Set(reports.map((r) => r.sequence));
    assert.equal(ticks.size, reports.length, 'one report per tick');
  } finally {
    await env.close();
  }
});

async function measure(order) {
  const env = await setup({ workers: 2, host: { streamEndOrder: order },
    filter: { trace_sampling_rate: 1, limits: { max_spans_per_tick: 1000 } },
    reporter: { limits: { max_spans_per_tick: 1000 } } });
  try {
    traffic(env.host, 300);
    await env.host.run(3 * S);
    return env.ctl.decoded();
  } finally {
    await env.close();
  }
}

test('proxy_on_log before proxy_on_done (Envoy) and after it (specification): the same reports', async () => {
  const envoy = await measure('envoy');
  const spec = await measure('spec');
  const strip = (rs) => rs.map((r) => ({ inbound: r.inbound, spans: r.spans }));
  const total = (rs) => rs.flatMap((r) => r.inbound).reduce((a, e) => a + e.latency.count, 0);
  assert.equal(total(envoy), 300, 'every request completed once (Envoy order)');
  assert.equal(envoy.flatMap((r) => r.spans).length, 300, 'one span per request');
  assert.deepEqual(strip(spec), strip(envoy));
});
