'use strict';
// A short end-to-end run of demo-nginx (one policy, a 12 s trace, targets not
// judged): every process starts and stays up, traffic crosses every hop
// (load generator -> ingress nginx -> service -> outbound nginx -> callee
// nginx -> service, and a request through every WAN relay route), every
// nginx reports to the controller, the controller publishes rules, and the
// report is written. The demo itself fails on any of these; this test also
// reads what it wrote.
//   node --test test/smoke.test.js   (env SLATE_DEMO_NGINX, SLATE_DEMO_MODULE,
//                                     SLATE_DEMO_CONTROLLER, SLATE_DEMO_OUT)
const { test } = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const scenario = require('../../scenario.js');

test('demo-nginx runs end to end on real processes', () => {
  const out = path.join(process.env.SLATE_DEMO_OUT, 'report.html');
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'demo-nginx.js'),
    '--nginx', process.env.SLATE_DEMO_NGINX, '--module', process.env.SLATE_DEMO_MODULE,
    '--controller', process.env.SLATE_DEMO_CONTROLLER, '--duration', '12', '--policies', 'slate',
    '--no-targets', '--out', out], { encoding: 'utf8', timeout: 120000 });
  assert.strictEqual(r.status, 0, `demo-nginx failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /libslate\s+overall/);
  const html = fs.readFileSync(out, 'utf8');
  assert.match(html, /<h1>libslate demo with nginx<\/h1>/);
  assert.match(html, /<svg/);
  const res = JSON.parse(fs.readFileSync(out.replace(/\.html$/, '.json'), 'utf8'));
  const p = res.policies.slate;
  assert.deepStrictEqual(res.failures, []);
  assert.ok(p.overall.requests > 0.9 * 12 * 125 * 0.5, `only ${p.overall.requests} user requests answered`);
  for (const svc of Object.keys(scenario.SERVICES)) {
    for (const r2 of scenario.REGIONS) assert.ok(p.hops[`${svc}@${r2}`] > 0, `no request served by ${svc}@${r2}`);
  }
  assert.strictEqual(p.wan.length, 18);
  for (const w of p.wan) assert.ok(w.measuredMs >= w.rttMs, `relay ${w.from}->${w.to} took ${w.measuredMs} ms < ${w.rttMs}`);
  assert.ok(p.controllerMetrics.some((m) => m.reports > 0), 'the controller counted no reports');
  assert.ok(res.rules.slate.some((s) => s.version > 0), 'the controller published no rules');
  // every process the demo started is gone
  const left = spawnSync('pgrep', ['-f', path.join(path.dirname(out), 'work')], { encoding: 'utf8' }).stdout.trim();
  assert.strictEqual(left, '', `processes left behind: ${left}`);
});
