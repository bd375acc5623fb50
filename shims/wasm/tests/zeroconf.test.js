// Zero per-service configuration: a mesh-wide plugin configuration names no
// service and no region; each proxy takes them from what Envoy knows of it
// (Istio's node metadata and locality), explicit keys override, and a proxy
// that cannot tell logs it once and stays off (no header: the mesh routes).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Host, FILTER, REPORTER, LogLevel, outboundCall, MS, S } = require('./harness.js');

/** Envoy's node as Istio's agent describes a pod of `cart-v1` on a us-east-1 node. */
function node(o = {}) {
  const labels = 'labels' in o ? o.labels : { app: 'cart', 'app.kubernetes.io/name': 'cart-api', version: 'v1' };
  return { node: { id: 'sidecar~10.0.0.7~cart-v1-7d9f-abcde.shop~shop.svc.cluster.local',
    metadata: Object.assign({ NAME: 'cart-v1-7d9f-abcde', NAMESPACE: 'shop', LABELS: labels },
      'workload' in o ? (o.workload ? { WORKLOAD_NAME: o.workload } : {}) : { WORKLOAD_NAME: 'cart-v1' }),
    locality: 'region' in o ? (o.region ? { region: o.region, zone: 'b' } : {}) : { region: 'us-east-1', zone: 'b' } } };
}

function start(module, configuration, properties, workers = 1) {
  const host = new Host({ properties });
  const vms = host.addWorkers(workers, { module, rootId: 'r', configuration, vmId: '' });
  return { host, vms };
}

const ready = (vm) => vm.logs.find((l) => /(filter|reporter) ready/.test(l.message))?.message;

test('no keys at all: service from the label app, region from the node locality', () => {
  const { vms } = start(FILTER, '', node());
  assert.equal(vms[0].root().configured, true);
  assert.match(ready(vms[0]), /service cart, region us-east-1/);
  // what Istio's pluginConfig of wasmplugin.yaml sends (without service/region)
  const { vms: v2 } = start(FILTER, JSON.stringify({ direction: 'outbound', tick_ms: 1000 }), node());
  assert.match(ready(v2[0]), /service cart, region us-east-1, outbound/);
});

test('precedence: app, then app.kubernetes.io/name, then the workload name; explicit keys win', () => {
  const cases = [
    [node({ labels: { 'app.kubernetes.io/name': 'cart-api' } }), '{}', 'cart-api'],
    [node({ labels: {} }), '{}', 'cart-v1'],
    [node({ labels: { app: 'Cart' } }), '{}', 'cart-v1'], // not a DNS-1123 label: next one
    [node(), '{"service":"checkout","region":"eu-west-1"}', 'checkout'],
  ];
  for (const [props, cfg, svc] of cases) {
    const { vms } = start(FILTER, cfg, props);
    assert.match(ready(vms[0]), new RegExp(`service ${svc}, region `), `${cfg} ${JSON.stringify(props.node.metadata.LABELS)}`);
  }
  const { vms } = start(FILTER, '{"region":"eu-west-1"}', node());
  assert.match(ready(vms[0]), /service cart, region eu-west-1/);
});

test('the reporter role reports the pod name from the node metadata', () => {
  const { vms } = start(REPORTER, JSON.stringify({ controller_cluster: 'ctl' }), node());
  assert.equal(vms[0].root().configured, true);
  assert.match(ready(vms[0]), /service cart, region us-east-1/);
});

for (const [what, props, needle] of [
  ['no service', node({ labels: {}, workload: null }), /no service for this proxy: set 'service' or label the workload app/],
  ['an invalid service', node({ labels: { app: 'Cart' }, workload: 'Cart_v1' }), /no service for this proxy: label 'app' is invalid \(/],
  ['no region', node({ region: null }), /no region for this proxy: set 'region' or label the node topology.kubernetes.io\/region/],
]) {
  test(`${what}: one log line per proxy, then off: no header, nothing measured`, async () => {
    const { host, vms } = start(FILTER, JSON.stringify({ direction: 'outbound' }), props, 4);
    const warnings = vms.flatMap((vm) => vm.logs.filter((l) => l.level === LogLevel.Warn && needle.test(l.message)));
    assert.equal(warnings.length, 1, JSON.stringify(vms.map((vm) => vm.logs.map((l) => l.message))));
    assert.match(warnings[0].message, /slate stays off in this proxy/);
    for (const vm of vms) {
      assert.equal(vm.root().configured, true, 'the plugin starts (a failed plugin would be skipped the same way)');
      assert.equal(outboundCall(vm), undefined, 'no routing header');
    }
    await host.run(3 * S);
    assert.equal(host.queues?.size ?? 0, 0, 'nothing enqueued for a reporter');
  });
}

test('zero keys route by the rules like explicit ones (the identity names the shared data)', async () => {
  const { setup, TestController } = require('./harness.js');
  const env = await setup({ filter: { service: undefined, region: undefined, direction: 'outbound' },
    reporter: { service: undefined, region: undefined }, host: { properties: node() } });
  try {
    env.ctl.rules = { version: 1, rules: [{ src_region: 'us-east-1', dst_service: 'pay', method: 'GET',
      path: '/cart', targets: [{ region: 'eu-west-1', weight: 1 }] }] };
    await env.host.run(2 * S);
    assert.equal(outboundCall(env.workers[0], { ':authority': 'pay:8080' }), 'eu-west-1');
    const rep = env.ctl.decoded()[0];
    assert.equal(rep.service, 'cart');
    assert.equal(rep.region, 'us-east-1');
    assert.equal(rep.pod, 'cart-v1-7d9f-abcde');
  } finally {
    await env.close();
  }
  void TestController;
  void MS;
});

test("the once-per-proxy marker written in configure is harmless in Envoy's canary VM", () => {
  // Missing service: the canary configures first, logs the line and sets the
  // marker; the four real workers see the same line there and stay quiet.
  const host = new Host({ properties: node({ labels: {}, workload: null }), canary: true });
  const vms = host.addWorkers(4, { module: FILTER, rootId: 'r', configuration: '{}', vmId: '' });
  const needle = /no service for this proxy/;
  const lines = [...host.canaries, ...vms].flatMap((vm) => vm.logs.filter((l) => needle.test(l.message)));
  assert.equal(host.canaries.length, 1);
  assert.equal(lines.length, 1, 'one line for the proxy, canary included');
  for (const vm of vms) assert.equal(outboundCall(vm), undefined, 'off: no routing header');
});
