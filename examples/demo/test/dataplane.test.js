'use strict';
// The simulator through the real data plane: the libslate wasm module in the
// test host, reporting to a small stand-in controller on loopback that
// answers with fixed RoutingRules (protobuf, encoded here by hand). Checks
// that the routing header the filter sets decides where each call is served,
// that remote calls pay the round trip, and that every sidecar reports once
// per tick. Needs SLATE_DEMO_WASM_DIR (where slate_filter.wasm and
// slate_reporter.wasm are) and SLATE_DEMO_HOST (host.js), which CTest sets.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');

const scenario = require('../scenario.js');
const { World } = require('../sim.js');
const { Metrics } = require('../metrics.js');

const WASM_DIR = process.env.SLATE_DEMO_WASM_DIR;
const HOST = process.env.SLATE_DEMO_HOST || path.join(__dirname, '..', '..', '..', 'shims', 'wasm', 'host', 'host.js');

// Protobuf wire format, just what RoutingRules needs.
function varint(n) {
  const out = [];
  while (n >= 0x80) { out.push((n % 128) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return Buffer.from(out);
}
const u64 = (f, v) => Buffer.concat([varint(f * 8), varint(v)]);
const bytes = (f, b) => Buffer.concat([varint(f * 8 + 2), varint(b.length), b]);
const str = (f, s) => bytes(f, Buffer.from(s));
function rule({ src, dst, method, path: p, targets }) {
  return Buffer.concat([str(1, src), str(2, dst), str(3, method), str(4, p),
    ...targets.map(([region, w]) => bytes(5, Buffer.concat([str(1, region), u64(2, w)])))]);
}
function routingRules(version, rules) {
  return Buffer.concat([u64(1, version), u64(2, 0), u64(3, 1), ...rules.map((r) => bytes(4, rule(r)))]);
}

function standIn(body) {
  const seen = [];
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ url: req.url, service: req.headers['x-slate-servicename'], region: req.headers['x-slate-region'] });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(body);
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, seen, url: `http://127.0.0.1:${srv.address().port}` })));
}

test('the filter\'s routing header decides the region; remote calls pay the round trip; one report per tick per sidecar', async () => {
  assert.ok(WASM_DIR, 'set SLATE_DEMO_WASM_DIR to the directory of the built wasm modules');
  const { Host, Scheduler, LogLevel } = require(HOST);
  // Every frontend call made by the ingress in us-west goes to us-east.
  const ctl = await standIn(routingRules(7, [
    { src: 'us-west', dst: 'frontend', method: 'GET', path: '/home', targets: [['us-east', 1]] },
  ]));
  try {
    const sched = new Scheduler();
    const metrics = new Metrics();
    const world = new World({ name: 't', scheduler: sched, Host,
      filterModule: path.join(WASM_DIR, 'slate_filter.wasm'), reporterModule: path.join(WASM_DIR, 'slate_reporter.wasm'), controllerUrl: ctl.url, workers: 2,
      seed: 5, samplingRate: 0.5, tickMs: 1000, rulesTtlMs: 30000, httpTimeoutMs: 500, metrics, logLevel: LogLevel.Warn });
    // Before the first report (rules unknown) and well after it.
    const early = [100e6, 200e6, 300e6];
    const late = Array.from({ length: 40 }, (_, i) => 4e9 + i * 25e6);
    world.schedule({ 'us-west': early.concat(late), 'us-east': [4.5e9], 'eu-west': [] });
    await sched.run(7e9);
    assert.equal(world.inflight, 0);
    const reqs = metrics.worlds.get('t').requests;
    assert.equal(reqs.length, 44);
    const minLocal = ['ingress', 'frontend', 'recommend', 'catalog', 'catalog']
      .reduce((a, s) => a + scenario.SERVICES[s].baseMs, 0);
    for (const r of reqs) {
      const fromWest = r.region === 'us-west';
      const routed = fromWest && r.t0 >= 4e9;
      assert.equal(r.calls, 4);
      assert.equal(r.remote, routed ? 1 : 0, `request at ${r.t0 / 1e9} s from ${r.region}`);
      const rtt = routed ? scenario.RTT_MS['us-west']['us-east'] : 0;
      // Local hops pay 0.4 ms each way; service times have noise, so bound loosely from below.
      assert.ok(r.latencyMs >= rtt + 0.3 * minLocal, `latency ${r.latencyMs} ms for rtt ${rtt}`);
      assert.ok(r.latencyMs < rtt + 20 * minLocal);
      const usd = routed ? scenario.callEgressUsd('us-west', 'us-east', 2048, 16384) : 0;
      assert.ok(Math.abs(r.egressUsd - usd) < 1e-15);
    }
    // The served region is what the header said: frontend in us-east for late us-west requests.
    const shares = metrics.routingSeries('t', 'ingress>frontend@us-west');
    for (const b of shares) {
      if (b.t >= 4) assert.equal(b.share['us-east'], 1, `second ${b.t}`);
      if (b.t < 1) assert.equal(b.share['us-west'], 1);
    }
    // us-east's own calls stay local (the rule is for us-west only).
    assert.deepEqual(metrics.routingSeries('t', 'ingress>frontend@us-east').map((b) => b.share['us-east']), [1]);
    // Every sidecar reported, at most once per tick.
    for (const svc of Object.keys(scenario.SERVICES)) {
      for (const r of scenario.REGIONS) {
        const n = ctl.seen.filter((s) => s.service === svc && s.region === r).length;
        assert.ok(n >= 5 && n <= 7, `${svc}@${r} reported ${n} times in 7 ticks`);
      }
    }
    assert.ok(ctl.seen.every((s) => s.url === '/v1/report'));
  } finally {
    ctl.srv.close();
  }
});

test('command line: defaults, --ctl options, and the errors that name what is wrong', () => {
  assert.ok(WASM_DIR, 'set SLATE_DEMO_WASM_DIR to the directory of the built wasm modules');
  const { parseArgs, controllerArgs, printTable } = require('../demo.js');
  const base = ['node', 'demo.js', '--controller', process.execPath, '--wasm-dir', WASM_DIR];
  const o = parseArgs(base.concat(['--ctl', 'max-shift=0.1', '--ctl=egress-weight=0', '--duration=30']));
  assert.equal(o.duration, 30);
  assert.equal(o.tickMs, 500);
  assert.deepEqual(o.ctl, { 'max-shift': '0.1', 'egress-weight': '0' });
  assert.deepEqual(o.policies, ['local', 'waterfall', 'slate']);
  assert.match(o.json, /report\.json$/);
  // The demo runs the shipped settings: it overrides none of the headline ones.
  const { SHIPPED_CONF } = require('../demo.js');
  const args = controllerArgs(30);
  assert.equal(args.config, SHIPPED_CONF);
  for (const k of ['solve-period-ms', 'max-shift', 'min-gain-rel', 'rollback-tolerance', 'settle-ms',
    'rollback-samples', 'egress-weight', 'rules-ttl-ms', 'stitch-window-ms', 'model-min-samples']) {
    assert.equal(args[k], undefined, `the demo overrides ${k}`);
  }
  const conf = Object.fromEntries(require('node:fs').readFileSync(SHIPPED_CONF, 'utf8').split('\n')
    .filter((l) => /^[a-z-]+ = /.test(l)).map((l) => l.split(' = ')));
  assert.deepEqual([conf['solve-period-ms'], conf['max-shift'], conf['min-gain-rel'], conf['rollback-tolerance'],
    conf['egress-weight']], ['1000', '0.35', '0.1', '0.25', '5e8']);
  assert.throws(() => parseArgs(base.concat(['--ctl', 'nokey'])), /KEY=VALUE/);
  assert.throws(() => parseArgs(base.concat(['--policies', 'local,best'])), /unknown policy 'best'/);
  assert.throws(() => parseArgs(base.concat(['--duration', '5'])), /at least 10/);
  assert.throws(() => parseArgs(['node', 'demo.js', '--wasm-dir', WASM_DIR]), /--controller/);
  assert.throws(() => parseArgs(base.concat(['--bogus'])), /unknown argument '--bogus'/);
  let out = '';
  const s = { requests: 10, meanMs: 12.34, p99Ms: 50, remoteShare: 0.25, egressGB: 0.0012, usdPerMillion: 1.5 };
  printTable([{ policy: 'a', window: 'overall', s }, { policy: 'a', window: 'overload', s }], { write: (x) => { out += x; } });
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[2], /^a\s+overall\s+10\s+12\.3\s+50\.0\s+25\.0\s+0\.001\s+1\.50$/);
  assert.match(lines[3], /^\s+overload\s+10/);
});
