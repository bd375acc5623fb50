// Paths with ids: the filter keys endpoints by slate_path_normalize() (the
// same function the controller uses), so rules published for a template
// route calls with concrete ids, and ids do not make new endpoints.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, scheduleRequests, outboundCall, MS, S } = require('./harness.js');

// Ids of every shape the normalisation collapses: digits, UUIDs, long hex, tokens.
function id(i) {
  switch (i % 4) {
    case 0: return String(100000 + i * 7919);
    case 1: return `123e4567-e89b-12d3-a456-${String(i).padStart(12, '0')}`;
    case 2: return (0x5d0f416cca2d80n + BigInt(i)).toString(16);
    default: return `01ARZ3NDEKTSV4RRFF${String(i).padStart(8, '0')}`;
  }
}

test('rules for a templated path route calls with concrete ids', async () => {
  const env = await setup({ workers: 2, filter: { direction: 'outbound' } });
  const { host, ctl } = env;
  try {
    ctl.rules = { version: 1, rules: [
      { src_region: 'us-west-1', dst_service: 'backend', method: 'GET', path: '/api/items/{id}',
        targets: [{ region: 'eu-west-1', weight: 1 }] },
      { src_region: 'us-west-1', dst_service: 'backend', method: 'GET', path: '/api/items/{id}/reviews',
        targets: [{ region: 'us-east-1', weight: 1 }] },
    ] };
    await host.run(2 * S);
    for (let i = 0; i < 200; i++) {
      const vm = env.workers[i % 2];
      const call = (p) => outboundCall(vm, { ':path': p, ':authority': 'backend:8080' });
      assert.equal(call(`/api/items/${id(i)}`), 'eu-west-1', `/api/items/${id(i)}`);
      assert.equal(call(`/api/items/${id(i)}?page=${i}`), 'eu-west-1', 'query string ignored');
      assert.equal(call(`/api/items/${id(i)}/reviews`), 'us-east-1', 'deeper template');
    }
    // Words are not ids: no rule, so no header (the mesh routes the call).
    assert.equal(outboundCall(env.workers[0], { ':path': '/api/items/list', ':authority': 'backend:8080' }),
      undefined);
    assert.equal(outboundCall(env.workers[0], { ':path': '/api/items/', ':authority': 'backend:8080' }),
      undefined);
    // The outbound measurements carry the template too.
    await host.run(host.now() + 2 * S);
    const paths = new Set(ctl.decoded().flatMap((r) => r.outbound).map((o) => o.path));
    assert.deepEqual([...paths].sort(), ['/api/items/', '/api/items/list', '/api/items/{id}',
      '/api/items/{id}/reviews']);
  } finally {
    await env.close();
  }
});

test('1,000 distinct ids make one inbound endpoint in the report', async () => {
  const env = await setup({ workers: 4 });
  const { host, ctl } = env;
  try {
    const n = 1000;
    scheduleRequests(host, { start: 10 * MS, gapNs: 1 * MS, count: n, latencyNs: 2 * MS,
      headers: (i) => ({ ':method': 'GET', ':path': `/api/items/${id(i)}?user=${i}`, ':authority': 'frontend' }) });
    await host.run(4 * S);
    const reports = ctl.decoded();
    const inbound = reports.flatMap((r) => r.inbound);
    const paths = new Set(inbound.map((e) => `${e.method} ${e.path}`));
    assert.deepEqual([...paths], ['GET /api/items/{id}']);
    assert.equal(inbound.reduce((a, e) => a + e.requests, 0), n, 'every request counted');
    assert.equal(inbound.reduce((a, e) => a + e.latency.count, 0), n, 'every completion measured');
    for (const r of reports) assert.equal(r.drops.endpoints_overflowed, 0, 'no endpoint overflow');
  } finally {
    await env.close();
  }
});
