// Plugin configuration: good ones start the role, bad ones fail
// proxy_on_configure with a log line that names the wrong key.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Host, FILTER, REPORTER, LogLevel } = require('./harness.js');

function configure(module, configuration) {
  const host = new Host();
  const vm = host.addVm({ module, rootId: 'r', configuration });
  return { ok: vm.root().configured, errors: vm.logs.filter((l) => l.level >= LogLevel.Error) };
}

const good = { service: 'frontend', region: 'us-west-1' };

test('a minimal filter configuration is accepted, with its defaults', () => {
  const host = new Host();
  const vm = host.addVm({ module: FILTER, rootId: 'r', configuration: JSON.stringify(good) });
  assert.equal(vm.root().configured, true);
  assert.equal(vm.root().tickPeriodMs, 1000); // tick_ms default
  assert.ok(vm.logs.some((l) => l.message.includes('filter ready: service frontend, region us-west-1')));
});

test('every documented key is accepted by the filter and the reporter', () => {
  const full = {
    role: 'filter', service: 'frontend', region: 'us-west-1', pod: 'frontend-1', vm_id: 'slate',
    direction: 'outbound', protocol: 'protobuf', controller_cluster: 'outbound|8080||ctl',
    controller_authority: 'ctl.slate', controller_path: '/v1/report', tick_ms: 250,
    http_timeout_ms: 100, trace_sampling_rate: 0.5, rules_ttl_ms: 10000,
    routing_header: 'x-route', route_local_when_no_rules: false,
    limits: { max_endpoints: 8, max_outbound: 8, max_spans_per_tick: 0, max_rules: 16,
      max_regions: 4, max_response_bytes: 4096, max_batch_bytes: 16384, max_workers: 8 },
  };
  assert.equal(configure(FILTER, JSON.stringify(full)).ok, true);
  assert.equal(configure(REPORTER, JSON.stringify(Object.assign({}, full, { role: 'reporter' }))).ok, true);
  // The reporter module defaults to its own role.
  const r = Object.assign({}, good, { controller_cluster: 'ctl' });
  assert.equal(configure(REPORTER, JSON.stringify(r)).ok, true);
});

// [configuration, module, the key the log line must name]
const bad = [
  ['{"service":"s","region":"r","tick_ms":5}', FILTER, 'tick_ms'],
  ['{"service":"s","region":"r","tick_ms":"1000"}', FILTER, 'tick_ms'],
  ['{"service":"s","region":"r","tick_ms":1.5}', FILTER, 'tick_ms'],
  ['{"service":"s","region":"r","trace_sampling_rate":2}', FILTER, 'trace_sampling_rate'],
  ['{"service":"s","region":"r","direction":"sideways"}', FILTER, 'direction'],
  ['{"service":"s","region":"r","protocol":"json"}', FILTER, 'protocol'],
  ['{"service":"s","region":"r","routing_header":"X-Upper"}', FILTER, 'routing_header'],
  ['{"service":"s","region":"r","service":"t"}', FILTER, 'service'],
  ['{"service":"s","region":"r","colour":"blue"}', FILTER, 'colour'],
  ['{"service":"s","region":"r","limits":{"max_endpoints":0}}', FILTER, 'limits.max_endpoints'],
  ['{"service":"s","region":"r","limits":{"max_things":1}}', FILTER, 'limits.max_things'],
  ['{"service":"s","region":"r","limits":[]}', FILTER, 'limits'],
  ['{"service":"a b","region":"r"}', FILTER, 'service'],
  // the controller's naming rules (slate/name.h): DNS-1123 services, label-value regions and pods
  ['{"service":"BE4","region":"r"}', FILTER, 'service'],
  ['{"service":"../../etc","region":"r"}', FILTER, 'service'],
  ['{"service":"s","region":"eu\\"west"}', FILTER, 'region'],
  ['{"service":"s","region":"-west"}', FILTER, 'region'],
  ['{"service":"s","region":"r","pod":"pod/1"}', FILTER, 'pod'],
  ['{"service":"s","region":"r","route_local_when_no_rules":1}', FILTER, 'route_local_when_no_rules'],
  ['{"service":"s","region":"r","role":"reporter","controller_cluster":"c"}', FILTER, 'role'],
  ['{"service":"s","region":"r"}', REPORTER, 'controller_cluster'],
  ['{"service":"s","region":"r","controller_cluster":"c","controller_path":"v1"}', REPORTER, 'controller_path'],
  ['{"service":"s","region":"r","controller_cluster":"c","http_timeout_ms":1000}', REPORTER, 'http_timeout_ms'],
  ['{"service":"s","region":"r","controller_cluster":"c","role":"filter"}', REPORTER, 'role'],
];

for (const [json, module, key] of bad) {
  test(`rejected, naming '${key}': ${json || '(empty)'}`, () => {
    const r = configure(module, json);
    assert.equal(r.ok, false);
    assert.ok(r.errors.some((l) => l.message.includes(`key '${key}'`)),
      `no error line names '${key}': ${JSON.stringify(r.errors.map((l) => l.message))}`);
  });
}

test('syntax errors are rejected too', () => {
  for (const json of ['{', '{"service":"s",}', '[1]', '{"service":"s" "region":"r"}',
    '{"service":"s","region":"r"} x', '{"service":"\\ud800","region":"r"}']) {
    const r = configure(FILTER, json);
    assert.equal(r.ok, false, json);
    assert.ok(r.errors.some((l) => l.message.startsWith('slate: bad plugin configuration')), json);
  }
});

// The configurations shipped in deploy/istio are checked by deploy.test.js.
