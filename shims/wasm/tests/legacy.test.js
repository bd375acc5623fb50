// The reporter speaking SLATE's legacy text (protocol "slate-legacy"), as
// SLATE's own controller expects it: POST /proxyLoad with the x-slate-*
// headers, and the comma-separated rules in the answer.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, outboundCall, MS, S } = require('./harness.js');

const base = { service: 'frontend', region: 'us-west-1', tick_ms: 500 };

test('legacy protocol: /proxyLoad body and headers as SLATE writes them; CSV rules route', async () => {
  const env = await setup({
    workers: 2,
    roots: [
      { rootId: 'in', configuration: JSON.stringify(Object.assign({ direction: 'inbound',
        trace_sampling_rate: 1 }, base)) },
      { rootId: 'out', configuration: JSON.stringify(Object.assign({ direction: 'outbound' }, base)) },
    ],
    reporter: { protocol: 'slate-legacy', pod: 'frontend-abc' },
  });
  const { host, ctl } = env;
  try {
    // Caller-specific rules (SLATE's always name the caller endpoint) and a
    // caller-agnostic one ("@@").
    ctl.legacyRules =
      'frontend@GET@/home,cart@GET@/cart,us-west-1,eu-west-1,0.7\n' +
      'frontend@GET@/home,cart@GET@/cart,us-west-1,us-east-1,0.3\n' +
      '@@,cart@POST@/pay,us-west-1,ap-south-1,1.0\n' +
      'frontend@GET@/home,cart@GET@/cart,eu-west-1,us-west-1,1.0\n';
    // Inbound traffic on GET /home (so the caller endpoint has a rate).
    for (let t = 0; t < 3 * S; t += 10 * MS) {
      host.schedule(t + MS, () => {
        const vm = env.workers[(t / (10 * MS)) % 2];
        const s = vm.newStream({ rootId: 'in' });
        s.requestHeaders({ ':method': 'GET', ':path': '/home', ':authority': 'frontend',
          'x-b3-traceid': (0x1000 + t / MS).toString(16).padStart(32, '0'),
          'x-b3-spanid': 'a2fb4a1d1a96d312' }, true);
        host.schedule(host.now() + 2 * MS, () => {
          s.responseHeaders({ ':status': '200' }, true);
          s.complete();
        }, { vm });
      }, { vm: env.workers[(t / (10 * MS)) % 2] });
    }
    await host.run(3 * S);

    const posts = ctl.reports;
    assert.ok(posts.length >= 4);
    for (const p of posts) {
      assert.equal(p.path, '/proxyLoad');
      assert.equal(p.headers['x-slate-servicename'], 'frontend');
      assert.equal(p.headers['x-slate-region'], 'us-west-1');
      assert.equal(p.headers['x-slate-podname'], 'frontend-abc');
    }
    // A steady report: line 1 the requests of the interval, line 2 the load
    // list, then one line of 11 space-separated fields per span.
    const lines = posts.at(-2).text.split('\n').filter((l, i) => i < 2 || l.length);
    assert.match(lines[0], /^\d+$/);
    assert.equal(Number(lines[0]), 50, '0.5 s of 100 req/s');
    assert.match(lines[1], /^GET@\/home,\d+,\d+\|$/);
    const rps = Number(lines[1].split(',')[1]);
    assert.ok(Math.abs(rps - 100) <= 1, `rps ${rps}`);
    const spans = lines.slice(2);
    assert.equal(spans.length, 50);
    for (const l of spans) {
      const f = l.split(' ');
      assert.equal(f.length, 11, l);
      assert.deepEqual(f.slice(0, 4), ['us-west-1', 'frontend', 'GET', '/home']);
      assert.equal(Number(f[8]) - Number(f[7]), 2, 'end - start = 2 ms');
      assert.match(f[10], /^GET@\/home,\d+,\d+\|$/);
    }

    // Routing by the CSV rules: GET /cart follows the caller-specific split
    // (one caller endpoint, so exactly its weights), POST /pay the agnostic
    // rule, and the eu-west-1 line is another region's.
    const counts = {};
    for (let i = 0; i < 20000; i++) {
      const r = outboundCall(env.workers[i % 2], {}, 'x-slate-routeto', 'out');
      counts[r] = (counts[r] || 0) + 1;
    }
    assert.deepEqual(Object.keys(counts).sort(), ['eu-west-1', 'us-east-1']);
    const x2 = (counts['eu-west-1'] - 14000) ** 2 / 14000 + (counts['us-east-1'] - 6000) ** 2 / 6000;
    assert.ok(x2 < 10.828, `chi-square ${x2}`);
    assert.equal(outboundCall(env.workers[0], { ':method': 'POST', ':path': '/pay' },
      'x-slate-routeto', 'out'), 'ap-south-1');
    // An unchanged text keeps its version: published once.
    assert.equal(env.reporter.logs.filter((l) => l.message.includes('published')).length, 1);
  } finally {
    await env.close();
  }
});

test('legacy protocol: a malformed rules text is rejected and the old rules stay', async () => {
  const env = await setup({ workers: 1, filter: { direction: 'outbound' },
    reporter: { protocol: 'slate-legacy' } });
  const { host, ctl } = env;
  try {
    ctl.legacyRules = '@@,cart@GET@/cart,us-west-1,eu-west-1,1.0\n';
    await host.run(2 * S);
    assert.equal(outboundCall(env.workers[0]), 'eu-west-1');
    ctl.legacyRules = 'this is not a rule line\n';
    await host.run(1.5 * S);
    assert.equal(outboundCall(env.workers[0]), 'eu-west-1');
    assert.ok(env.reporter.logs.some((l) => l.message.includes('rules rejected')));
  } finally {
    await env.close();
  }
});
