// Against a real HTTP server on loopback standing in for the controller:
// one report per tick per proxy from one VM, and every way the controller
// can fail leaves the data plane serving on its last good rules, logged once
// and counted, until the controller is back.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, outboundCall, logs, MS, S } = require('./harness.js');

const TICK = 500 * MS;
const base = { service: 'frontend', region: 'us-west-1', tick_ms: 500 };

function rules(version, region) {
  return { version, rules: [{ src_region: 'us-west-1', dst_service: 'cart', method: 'GET',
    path: '/cart', targets: [{ region, weight: 1 }] }] };
}

async function twoRootEnv(extra = {}) {
  return setup(Object.assign({
    workers: 4,
    roots: [
      { rootId: 'in', configuration: JSON.stringify(Object.assign({ direction: 'inbound' }, base)) },
      { rootId: 'out', configuration: JSON.stringify(Object.assign({ direction: 'outbound' }, base)) },
    ],
  }, extra));
}

/** Inbound requests and outbound calls on every worker; returns the routes seen. */
function serve(env) {
  env.served = (env.served || 0) + env.workers.length;
  const routes = [];
  for (const vm of env.workers) {
    const s = vm.newStream({ rootId: 'in' });
    s.requestHeaders({ ':method': 'GET', ':path': '/home', ':authority': 'frontend' }, true);
    routes.push(outboundCall(vm, {}, 'x-slate-routeto', 'out'));
    s.responseHeaders({ ':status': '200' }, true);
    s.complete();
  }
  return routes;
}

test('one report per tick per proxy, from one VM, even with two reporters configured', async () => {
  const env = await twoRootEnv({ reporters: 2,
    host: { seed: 11, chaos: { interleave: 0.5, casConflict: 0.3 } } });
  const { host, ctl } = env;
  try {
    for (let t = 0; t < 6 * S; t += 50 * MS) host.schedule(t + MS, () => serve(env));
    await host.run(6 * S);
    const calls = host.http.log;
    assert.ok(calls.length >= 9, `${calls.length} reports in 6 s`);
    assert.equal(new Set(calls.map((c) => c.vm)).size, 1, 'every report from the same VM');
    for (let i = 1; i < calls.length; i++)
      assert.equal(calls[i].startNs - calls[i - 1].startNs, TICK, 'one report per tick');
    const seqs = ctl.decoded().map((r) => r.sequence);
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'sequence numbers 1, 2, 3, ...');
    assert.ok(host.stats.casMismatches + host.stats.injectedCasConflicts > 0,
      'the lease saw compare-and-swap conflicts');
    const rep = ctl.decoded().at(-1);
    assert.equal(rep.service, 'frontend');
    assert.equal(rep.region, 'us-west-1');
  } finally {
    await env.close();
  }
});

const failures = [
  { mode: 'down', counter: 'post_failed_network', log: 'cannot reach the controller' },
  { mode: 'slow', counter: 'post_failed_timeout', log: 'report timed out' },
  { mode: 'status500', counter: 'post_failed_status', log: 'controller answered HTTP 500' },
  { mode: 'garbage', counter: 'rules_rejected', log: 'rules rejected, keeping the last good ones' },
  { mode: 'oversized', counter: 'rules_rejected', log: 'rules rejected: response larger than' },
];

for (const f of failures) {
  test(`controller ${f.mode}: the data plane keeps serving on its last rules, logs once, counts, recovers`, async () => {
    const env = await twoRootEnv();
    const { host, ctl } = env;
    const port = ctl.port;
    try {
      ctl.rules = rules(1, 'eu-west-1');
      // Traffic every 50 ms until 5 s: inbound requests and outbound calls.
      for (let t = 0; t < 5 * S; t += 50 * MS) host.schedule(t + MS, () => serve(env));
      await host.run(2 * S);
      assert.deepEqual(serve(env), ['eu-west-1', 'eu-west-1', 'eu-west-1', 'eu-west-1']);
      const before = host.http.log.length;

      // Fail for 2 s (4 ticks).
      const failAt = host.now();
      if (f.mode === 'down') await ctl.stop();
      else if (f.mode === 'slow') host.clusters.controller = { url: ctl.url(), latencyMs: 300 };
      else ctl.mode = f.mode;
      await host.run(2 * S);
      const failed = host.http.log.slice(before);
      assert.ok(failed.length >= 3, `${failed.length} reports while failing`);
      assert.deepEqual(serve(env), ['eu-west-1', 'eu-west-1', 'eu-west-1', 'eu-west-1'],
        'still routing on the last good rules');
      assert.equal(logs(env.reporter, f.log).length, 1, `logged once: ${f.log}`);
      assert.equal(host.events.filter((e) => e.type === 'trap').length, 0, 'no VM trapped');

      // Recover with new rules.
      if (f.mode === 'down') await ctl.start(port);
      else if (f.mode === 'slow') host.clusters.controller = { url: ctl.url(), latencyMs: 0 };
      ctl.mode = 'rules';
      ctl.rules = rules(2, 'us-east-1');
      const recoverAt = host.now();
      await host.run(1.5 * S);
      assert.deepEqual(serve(env), ['us-east-1', 'us-east-1', 'us-east-1', 'us-east-1'],
        'new rules after recovery');
      if (f.log.startsWith('rules rejected'))
        assert.equal(logs(env.reporter, 'rules version 2 published').length, 1);
      else
        assert.equal(logs(env.reporter, 'controller reachable again').length, 1, 'recovery logged');
      // The first report after recovery counts every failed post (cumulative).
      const nFailed = host.http.log.filter((c) => c.startNs > failAt && c.startNs <= recoverAt)
        .length;
      assert.equal(nFailed, 4);
      const first = ctl.reports.find((r) => r.timeNs > recoverAt && r.report).report;
      assert.equal(first.drops[f.counter], nFailed, `${f.counter} in the first report after recovery`);
      // Every inbound request is counted in the reports the controller
      // received. A report that failed to arrive (controller down, or the
      // call timed out before it was sent) is lost with its interval: the
      // proxy cannot know whether a timed-out report arrived, so it does not
      // send its counts again.
      await host.run(1.5 * S);
      const reported = ctl.decoded().flatMap((r) => r.inbound).filter((e) => e.path === '/home')
        .reduce((a, e) => a + e.requests, 0);
      if (f.mode === 'down' || f.mode === 'slow') assert.ok(reported > 0 && reported < env.served);
      else assert.equal(reported, env.served, 'every inbound request reported');
    } finally {
      await env.close();
    }
  });
}
