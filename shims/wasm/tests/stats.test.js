// Latency statistics and sampled spans in the report match the timings the
// test injected, exactly.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, MS, S } = require('./harness.js');

const hex = (n, w) => n.toString(16).padStart(w, '0');

// Histogram scheme of slate.proto: bucket 0 holds v <= 1000 ns; bucket i
// holds 1000 * g^(i-1) < v <= 1000 * g^i, g = (1 + 0.0095) / (1 - 0.0095).
function bucketOf(v) {
  const g = (1 + 0.0095) / (1 - 0.0095);
  if (v <= 1000) return 0;
  return Math.ceil(Math.log(v / 1000) / Math.log(g));
}

/**
 * Sends `n` requests; request i arrives at start + i * gap + i (odd ns so no
 * two events coincide) on vm(i) and completes after lat(i) ns.
 */
function traffic(host, n, o) {
  const sent = [];
  for (let i = 0; i < n; i++) {
    const arrive = o.start + i * o.gap + i;
    const lat = o.lat(i);
    const headers = { ':method': i % 3 === 0 ? 'POST' : 'GET', ':path': `/cart?item=${i}`,
      ':authority': 'frontend' };
    const trace = hex(0xabc000 + i, 32);
    const span = hex(0x5000 + i, 16);
    const parent = i % 2 ? hex(0x7000 + i, 16) : '';
    // Three ways to carry the trace context.
    if (i % 5 === 1) headers.b3 = `${trace}-${span}-1${parent ? '-' + parent : ''}`;
    else if (i % 5 === 2) headers.traceparent = `00-${trace}-${span}-01`;
    else {
      headers['x-b3-traceid'] = trace;
      headers['x-b3-spanid'] = span;
      if (parent) headers['x-b3-parentspanid'] = parent;
    }
    const body = i % 4 === 0 ? Buffer.alloc(100 + i) : null;
    // W3C carries the caller's span id: it becomes the parent, and the filter
    // gives the request a span id of its own, passed on in traceparent.
    const w3c = i % 5 === 2;
    sent.push({ i, arrive, lat, method: headers[':method'], trace, span: w3c ? null : span,
      parent: w3c ? span : parent, w3c, body: body ? body.length : 0 });
    host.schedule(arrive, () => {
      const vm = o.vm(i);
      const s = vm.newStream();
      sent[i].stream = s;
      s.requestHeaders(headers, !body);
      if (body) s.requestBody(body, true);
      host.schedule(arrive + lat, () => {
        s.responseHeaders({ ':status': '200' }, true);
        s.complete();
      }, { vm });
    }, { vm: o.vm(i) });
  }
  return sent;
}

function expectStats(lats) {
  const count = lats.length;
  const sum = lats.reduce((a, b) => a + b, 0);
  const mean = sum / count;
  const m2 = lats.reduce((a, x) => a + (x - mean) * (x - mean), 0);
  return { count, sum, min: Math.min(...lats), max: Math.max(...lats), mean, m2 };
}

function checkLatency(got, lats, label) {
  const e = expectStats(lats);
  assert.equal(got.count, e.count, `${label} count`);
  assert.equal(got.sum_ns, BigInt(e.sum), `${label} sum`);
  assert.equal(got.min_ns, BigInt(e.min), `${label} min`);
  assert.equal(got.max_ns, BigInt(e.max), `${label} max`);
  assert.ok(Math.abs(got.mean_ns - e.mean) <= 1e-9 * e.mean, `${label} mean ${got.mean_ns} vs ${e.mean}`);
  assert.ok(Math.abs(got.m2 - e.m2) <= 1e-9 * e.m2 + 1e-6, `${label} m2 ${got.m2} vs ${e.m2}`);
  const hist = got.hist_counts;
  assert.equal(hist.reduce((a, b) => a + b, 0), e.count, `${label} histogram total`);
  // Exact bucket counts from the documented scheme.
  const want = new Map();
  for (const x of lats) want.set(bucketOf(x), (want.get(bucketOf(x)) || 0) + 1);
  for (let k = 0; k < hist.length; k++)
    assert.equal(hist[k], want.get(got.hist_offset + k) || 0, `${label} bucket ${got.hist_offset + k}`);
}

async function run(workers, { n = 400, gap = 2.5 * MS } = {}) {
  const env = await setup({ workers,
    filter: { trace_sampling_rate: 1, limits: { max_spans_per_tick: 1000 } },
    reporter: { limits: { max_spans_per_tick: 1000 } } });
  const { host, ctl } = env;
  try {
    const lat = (i) => 1 * MS + ((i * 7919) % 997) * 13 * 1000 + (i % 11) * 17; // 1..14 ms, distinct
    const sent = traffic(host, n, { start: 10 * MS, gap, lat,
      vm: (i) => env.workers[i % workers] });
    await host.run(4 * S);
    const reports = ctl.decoded();
    const spans = reports.flatMap((r) => r.spans);
    assert.equal(spans.length, n, 'one span per request');
    const byTrace = new Map(spans.map((s) => [s.trace_id, s]));
    for (const q of sent) {
      const s = byTrace.get(q.trace);
      assert.ok(s, `no span for ${q.trace}`);
      if (q.w3c) {
        assert.match(s.span_id, /^[0-9a-f]{16}$/);
        assert.notEqual(s.span_id, q.parent, 'a W3C hop gets a span id of its own');
        assert.equal(q.stream.request.headers.get('traceparent'), `00-${q.trace}-${s.span_id}-01`,
          'the app sees this hop as the parent');
      } else {
        assert.equal(s.span_id, q.span);
      }
      assert.equal(s.parent_span_id, q.parent);
      assert.equal(s.method, q.method);
      assert.equal(s.path, '/cart');
      assert.equal(s.start_ns, host.epochNs + BigInt(q.arrive));
      assert.equal(s.end_ns, host.epochNs + BigInt(q.arrive + q.lat));
      assert.equal(s.body_size, q.body);
      assert.ok(s.load.some((l) => l.method === q.method && l.path === '/cart'), 'own endpoint load');
    }
    // Latency per endpoint and per report: each report holds the requests
    // that completed in the interval its workers flushed; check each
    // report's statistics against the injected latencies of exactly the
    // requests it counted (identified through its spans).
    for (const r of reports) {
      for (const e of r.inbound) {
        if (!e.latency.count) continue;
        const ids = new Set(r.spans.filter((s) => s.method === e.method).map((s) => s.trace_id));
        const lats = sent.filter((q) => q.method === e.method && ids.has(q.trace)).map((q) => q.lat);
        assert.equal(lats.length, e.latency.count, 'spans and statistics cover the same requests');
        checkLatency(e.latency, lats, `${e.method} seq ${r.sequence}`);
      }
    }
    return { sent, spans, host, env };
  } finally {
    await env.close();
  }
}

// With one worker the load at arrival is exact: arrivals of the endpoint in
// the trailing second (1 ms ticks) and requests in flight, both including
// this one.
function checkLoadAtArrival(sent, spans) {
  const tick = (t) => Math.floor(t / MS);
  for (const q of sent) {
    const s = spans.find((x) => x.trace_id === q.trace);
    const own = s.load.find((l) => l.method === q.method && l.path === '/cart');
    const same = sent.filter((x) => x.method === q.method && x.arrive <= q.arrive);
    const inWindow = same.filter((x) => tick(x.arrive) > tick(q.arrive) - 1000).length;
    const inFlight = same.filter((x) => x.arrive + x.lat > q.arrive).length;
    assert.equal(own.rps, inWindow, `rps at arrival of ${q.i}`);
    assert.equal(own.in_flight, inFlight, `in flight at arrival of ${q.i}`);
  }
}

test('one worker: latency statistics and spans match the injected timings', async () => {
  const { sent, spans, host } = await run(1);
  checkLoadAtArrival(sent, spans);
  assert.ok(host.now() > 0);
});

test('hundreds of streams in flight at once in one VM: each keeps its own timings', async () => {
  // 600 arrivals 20 us apart, each lasting 1..14 ms: up to ~600 streams open
  // at once, so their context ids share the entries of the filter's stream
  // table (64 direct entries, the rest in its map) and streams end in an
  // order unrelated to their ids.
  const { sent, spans } = await run(1, { n: 600, gap: 0.02 * MS });
  const open = (t) => sent.filter((q) => q.arrive <= t && q.arrive + q.lat > t).length;
  assert.ok(Math.max(...sent.map((q) => open(q.arrive))) > 200, 'streams overlap');
  checkLoadAtArrival(sent, spans);
});

test('four workers: latency statistics and spans match the injected timings', async () => {
  await run(4);
});

test('W3C-only traffic: each hop passes its own span id on, so the next hop records it as parent', async () => {
  const env = await setup({ workers: 1, filter: { trace_sampling_rate: 1 } });
  const { host, ctl } = env;
  try {
    const trace = hex(0xfeed, 32), caller = hex(0xcafe, 16);
    const hops = [];
    // Three hops of one trace; an app that only propagates the header hands
    // each hop's forwarded traceparent to the next.
    let tp = `00-${trace}-${caller}-01`;
    for (let k = 0; k < 3; k++) {
      host.schedule(MS * (k + 1), () => {
        const s = env.workers[0].newStream();
        s.requestHeaders({ ':method': 'GET', ':path': `/hop${k}`, ':authority': 'frontend',
          traceparent: tp }, true);
        tp = s.request.headers.get('traceparent');
        hops.push(tp);
        host.schedule(MS * 10, () => { s.responseHeaders({ ':status': '200' }, true); s.complete(); });
      });
    }
    await host.run(3 * S);
    const spans = ctl.decoded().flatMap((r) => r.spans);
    const byPath = (p) => spans.find((x) => x.path === p);
    assert.equal(spans.length, 3, 'one span per hop');
    assert.equal(byPath('/hop0').parent_span_id, caller, 'the first hop\'s parent is the caller in the header');
    for (let k = 0; k < 3; k++) {
      const sp = byPath(`/hop${k}`);
      assert.equal(sp.trace_id, trace);
      assert.equal(hops[k], `00-${trace}-${sp.span_id}-01`, `hop ${k} passes its own span id on`);
      if (k > 0) assert.equal(sp.parent_span_id, byPath(`/hop${k - 1}`).span_id, `hop ${k} stitches to hop ${k - 1}`);
    }
  } finally {
    await env.close();
  }
});

test('trace sampling is a function of the trace id: every worker samples the same traces', async () => {
  const env = await setup({ workers: 2, filter: { trace_sampling_rate: 0.3,
    limits: { max_spans_per_tick: 1000 } }, reporter: { limits: { max_spans_per_tick: 2000 } } });
  const { host, ctl } = env;
  try {
    const ids = Array.from({ length: 500 }, (_, i) => hex(0x1234567 * (i + 1), 32));
    ids.forEach((t, i) => {
      host.schedule(MS + i * 100000, () => {
        for (const vm of env.workers) {
          const s = vm.newStream();
          s.requestHeaders({ ':method': 'GET', ':path': '/p', 'x-b3-traceid': t,
            'x-b3-spanid': hex(i + 1, 16) }, true);
          s.responseHeaders({ ':status': '200' }, true);
          s.complete();
        }
      });
    });
    await host.run(3 * S);
    const spans = ctl.decoded().flatMap((r) => r.spans);
    const count = new Map();
    for (const s of spans) count.set(s.trace_id, (count.get(s.trace_id) || 0) + 1);
    // Every sampled trace was sampled by both workers.
    for (const [t, c] of count) assert.equal(c, 2, `trace ${t} sampled ${c} times`);
    // About 30% of the ids.
    assert.ok(count.size > 100 && count.size < 200, `${count.size} of 500 sampled at 0.3`);
  } finally {
    await env.close();
  }
});
