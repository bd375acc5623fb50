// Reported per-endpoint rate: 4 workers taking requests round-robin, at
// 100, 10,000 and 100,000 requests per second of virtual time. SLATE's
// per-endpoint timestamp queue saturated at 1,750 requests per second.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, scheduleRequests, MS, S } = require('./harness.js');

async function measure(rps, hostOpts, startNs = 1 * MS) {
  const env = await setup({ workers: 4, host: hostOpts });
  const { host, ctl } = env;
  try {
    const duration = 3 * S;
    // One event per millisecond (or per request when slower): arrivals in
    // the same event share a timestamp, which the 1 ms estimator cannot tell
    // apart anyway; the rate is exactly `rps` over every whole second.
    const perMs = Math.max(1, Math.round(rps / 1000));
    const gapNs = S / rps;
    scheduleRequests(host, { start: startNs, gapNs,
      count: Math.round(rps * (duration - startNs) / S), perEvent: perMs });
    await host.run(duration);
    const reports = ctl.decoded();
    assert.ok(reports.length >= 4, `only ${reports.length} reports`);
    // Reports after the first full window (the workers flush every 500 ms).
    const steady = reports.filter((r) => Number(r.time_ns - host.epochNs) >= 1.6 * S + startNs &&
      Number(r.time_ns - host.epochNs) <= duration - 0.1 * S);
    assert.ok(steady.length >= 2, `only ${steady.length} steady reports`);
    for (const r of steady) {
      const cart = r.inbound.find((x) => x.method === 'GET' && x.path === '/cart');
      assert.ok(cart, 'no /cart endpoint in the report');
      const err = Math.abs(cart.rate_rps - rps) / rps;
      assert.ok(err <= 0.01, `rate ${cart.rate_rps} vs ${rps}: ${(err * 100).toFixed(3)}% off`);
    }
    return { env, reports };
  } finally {
    await env.close();
  }
}

for (const rps of [100, 10000, 100000]) {
  test(`4 workers round-robin at ${rps} req/s: reported rate within 1%`, async () => {
    await measure(rps);
  });
}

test('rate within 1% when workers start apart, clocks differ and queues deliver late', async () => {
  await measure(10000, { seed: 7, chaos: { clockSkewNs: 30 * MS, startSpreadNs: 200 * MS,
    queueDelayNs: [0, 300 * MS], tickJitterNs: 20 * MS } }, 250 * MS);
});

test('no request is lost: the reports\' request counts add up to what was sent', async () => {
  const env = await setup({ workers: 4, host: { seed: 3, chaos: { queueDelayNs: [0, 400 * MS],
    interleave: 0.5, casConflict: 0.3 } } });
  const { host, ctl } = env;
  try {
    const count = 20000;
    scheduleRequests(host, { start: 1 * MS, gapNs: 0.1 * MS, count, perEvent: 10,
      latencyNs: (i) => (i % 7) * MS });
    await host.run(5 * S); // traffic ends at 2 s; later ticks flush the rest
    let requests = 0;
    let completed = 0;
    for (const r of ctl.decoded()) {
      for (const e of r.inbound) {
        requests += e.requests;
        completed += e.latency.count;
      }
    }
    assert.equal(requests, count);
    assert.equal(completed, count);
    const last = ctl.decoded().at(-1);
    const cart = last.inbound.find((x) => x.path === '/cart');
    assert.equal(cart ? cart.rate_rps : 0, 0, 'the rate falls to 0 once traffic stops');
  } finally {
    await env.close();
  }
});
