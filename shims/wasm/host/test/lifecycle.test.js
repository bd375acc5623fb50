// VM start, root and stream context lifecycle, header maps, properties, logs.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Host, Status, LogLevel, Action, encodePairs, decodePairs } = require('../host.js');
const { plugin, lines } = require('./helpers.js');

test('root context start order matches Envoy: create, vm_start, configure', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'filter', configuration: 'x=1',
    vmConfiguration: 'vmconf' });
  const msgs = vm.logs.map((l) => l.message);
  assert.deepEqual(msgs.slice(0, 3), [
    'context_create 1 0',
    'vm_start 1 size=6 st=0 cfg=vmconf',
    'configure 1 root=filter st=0 cfg=x=1',
  ]);
  assert.equal(vm.root().configured, true);
  assert.equal(vm.vmStarted, true);
});

test('a second root on the same VM gets no second on_vm_start', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), roots: [
    { rootId: 'a', configuration: 'one' }, { rootId: 'b', configuration: 'two' }] });
  assert.equal(lines(vm, 'vm_start').length, 1);
  assert.deepEqual(lines(vm, 'configure'), [
    'configure 1 root=a st=0 cfg=one', 'configure 2 root=b st=0 cfg=two']);
});

test('on_configure returning false is reported with the module log line', () => {
  const host = new Host();
  const seen = [];
  host.on('configure_failed', (e) => seen.push(e));
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r', configuration: 'fail' });
  assert.equal(vm.root().configured, false);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].rootId, 'r');
  assert.ok(vm.logs.some((l) => l.level === LogLevel.Error && l.message.includes("key 'fail'")));
});

test('plugin configuration is only readable inside on_configure', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r', configuration: 'cfg' });
  // During on_configure the probe read it with status 0 ...
  assert.match(lines(vm, 'configure')[0], /st=0 cfg=cfg$/);
  // ... a later read (vm_start of a new VM reads VM config, always available)
  const vm2 = host.addVm({ module: plugin('probe'), rootId: 'r', configuration: 'c2',
    vmConfiguration: '' });
  assert.match(lines(vm2, 'vm_start')[0], /size=0 st=0 cfg=$/);
});

test('stream callbacks run in order and end with on_log, on_done, on_delete', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  const s = vm.newStream();
  assert.equal(s.requestHeaders({ ':method': 'GET', ':path': '/p', ':authority': 'a' }, true),
    Action.Continue);
  s.responseHeaders({ ':status': '200' }, false);
  s.responseTrailers({ 'grpc-status': '0' });
  s.complete();
  const msgs = vm.logs.map((l) => l.message).slice(3);
  assert.deepEqual(msgs, [
    `context_create ${s.id} 1`,
    `request_headers ${s.id} n=3 eos=1 path=/p`,
    `response_headers ${s.id} n=1 eos=0 status=200`,
    `response_trailers ${s.id} n=1`,
    `on_log ${s.id} st=0 path=/p trailers=1`,
    `on_done ${s.id}`,
    `on_delete ${s.id}`,
  ]);
  assert.equal(vm.streams.size, 0);
  assert.throws(() => s.requestHeaders({}), /already complete/);
});

test('spec end order is available: on_done, on_log, on_delete', () => {
  const host = new Host({ streamEndOrder: 'spec' });
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  const s = vm.newStream();
  s.requestHeaders({ ':path': '/q' }, true);
  s.complete();
  const tail = vm.logs.map((l) => l.message).slice(-3);
  assert.deepEqual(tail.map((m) => m.split(' ')[0]), ['on_done', 'on_log', 'on_delete']);
});

test('canary: each plugin is configured once in a throwaway VM first, which never runs again', () => {
  const host = new Host({ canary: true });
  const events = [];
  host.on('canary', (e) => events.push(e));
  const [a, b] = host.addWorkers(2, { module: plugin('probe'), rootId: 'r',
    configuration: 'tick=10 queue=q' });
  assert.equal(host.canaries.length, 1, 'one canary per addWorkers, before the first worker');
  const c = host.canaries[0];
  assert.deepEqual(events.map((e) => [e.vm, e.configured]), [[c.name, true]]);
  assert.ok(!host.workers.includes(c) && !host.vms.includes(c));
  assert.deepEqual(c.logs.map((l) => l.message.split(' ')[0]).slice(0, 3),
    ['context_create', 'vm_start', 'configure']);
  assert.equal(c.killed, true);
  // The canary registered the queue first; the workers registered it after,
  // so its notifications reach the last registrant, never the canary.
  assert.equal(host.queues.get('', 'q').owner.vm, b);
  host.advance(50e6);
  assert.equal(lines(c, 'tick').length, 0, 'a killed canary gets no tick');
  assert.equal(lines(a, 'tick').length, 5);
  assert.equal(c.stats.callbacks.proxy_on_tick || 0, 0);
});

test('header maps: get/add/replace/remove/size/pairs round trip', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  const s = vm.newStream();
  s.requestHeaders([
    [':method', 'GET'], [':path', '/h'], [':authority', 'svc'], ['X-Op', 'headers'],
    ['x-get', 'v1'], ['x-get', 'v2'], ['x-replace', 'a'], ['x-replace', 'b'], ['x-remove', 'gone'],
  ]);
  // Expected per Envoy: lowercase keys, first value returned, replace keeps
  // one entry in place, remove drops all, add appends; then the probe read
  // all pairs, appended one and wrote them back.
  assert.deepEqual(s.request.headers.toArray(), [
    [':method', 'GET'], [':path', '/h'], [':authority', 'svc'], ['x-op', 'headers'],
    ['x-get', 'v1'], ['x-get', 'v2'], ['x-replace', 'new'], ['x-got', 'v1'], ['x-added', '1'],
    ['x-pairs', 'roundtrip'],
  ]);
  const size = [':method', 'GET', ':path', '/h', ':authority', 'svc', 'x-op', 'headers', 'x-get',
    'v1', 'x-get', 'v2', 'x-replace', 'new', 'x-got', 'v1', 'x-added', '1']
    .reduce((n, x) => n + x.length, 0);
  // missing key → NotFound (1); response headers not yet received → BadArgument (2)
  assert.deepEqual(lines(vm, 'headers'), [`headers get=0 missing=1 resp=2 size=${size}`]);
  const serialized = encodePairs(s.request.headers.toArray().slice(0, 9));
  assert.deepEqual(lines(vm, 'pairs_roundtrip'),
    [`pairs_roundtrip count=9 size=${serialized.length} st=0`]);
});

test('pairs encoding matches the spec example byte for byte', () => {
  const b = encodePairs([['a', '1'], ['b', '22']]);
  assert.deepEqual([...b], [2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
    0x61, 0, 0x31, 0, 0x62, 0, 0x32, 0x32, 0]);
  assert.deepEqual(decodePairs(b), [['a', '1'], ['b', '22']]);
  assert.deepEqual(decodePairs(Buffer.alloc(0)), []);
  assert.deepEqual(decodePairs(Buffer.from([0])), []);
  // a count larger than the buffer decodes to nothing instead of over-reading
  assert.deepEqual(decodePairs(Buffer.from([9, 0, 0, 0, 1, 0, 0, 0])), []);
  const truncated = Buffer.from(b.subarray(0, b.length - 2));
  assert.deepEqual(decodePairs(truncated), []);
});

test('response headers are modifiable in on_response_headers', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  const s = vm.newStream();
  s.requestHeaders({ ':path': '/' });
  s.responseHeaders({ ':status': '503', server: 'x' });
  assert.deepEqual(s.response.headers.toArray(),
    [[':status', '503'], ['server', 'x'], ['x-probe-seen', '1']]);
});

test('send_local_response records the reply and pauses the stream', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  const s = vm.newStream();
  const action = s.requestHeaders({ ':path': '/', 'x-op': 'local' });
  assert.equal(action, Action.Pause);
  assert.equal(s.localResponse.status, 403);
  assert.equal(s.localResponse.details, 'denied_by_probe');
  assert.equal(s.localResponse.body.toString(), 'denied');
  assert.deepEqual(s.localResponse.headers, [['x-local', '1']]);
  assert.equal(s.localResponse.grpcStatus, -1);
});

test('a paused stream returns Pause', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  assert.equal(vm.newStream().requestHeaders({ 'x-op': 'pause' }), Action.Pause);
});

test('request body: readable and rewritable with Envoy copyFrom semantics', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  const s = vm.newStream();
  s.requestHeaders({ ':path': '/b', 'x-op': 'body' });
  s.requestBody('middle', true);
  assert.deepEqual(lines(vm, 'request_body'), [`request_body ${s.id} size=6 eos=1 text=middle`]);
  assert.equal(s.request.body.toString(), 'pre-middle-post');
});

test('properties: embedder tree, per-stream overrides, built-ins and set_property', () => {
  const host = new Host({
    properties: { node: { metadata: { REGION: 'us-west-1' }, id: 'sidecar~1' },
      source: { address: '10.0.0.1:5555' }, listener_direction: 1 },
  });
  const vm = host.addVm({ module: plugin('probe'), rootId: 'my_root', vmId: 'vm7' });
  const run = (op, props) => {
    const s = vm.newStream({ properties: props });
    s.requestHeaders({ ':method': 'POST', ':path': '/x?y', ':authority': 'svc.ns', 'x-op': op });
    return lines(vm, 'prop').pop();
  };
  assert.equal(run('prop:node/metadata/REGION'), 'prop node/metadata/REGION st=0 len=9 hex=75732d776573742d31 text=us-west-1');
  assert.match(run('prop:source/address', { source: { address: '1.2.3.4:80' } }), /text=1\.2\.3\.4:80$/);
  assert.match(run('prop:source/address'), /text=10\.0\.0\.1:5555$/);
  assert.match(run('prop:plugin_root_id'), /st=0 len=7 .*text=my_root$/);
  assert.match(run('prop:plugin_vm_id'), /text=vm7$/);
  assert.match(run('prop:request/path'), /text=\/x\?y$/);
  assert.match(run('prop:request/url_path'), /text=\/x$/);
  assert.match(run('prop:request/method'), /text=POST$/);
  // integers are 8-byte little-endian
  assert.match(run('prop:listener_direction'), /st=0 len=8 hex=0100000000000000 /);
  // request.time: int64 ns at stream creation
  host.advance(5e6);
  const t = run('prop:request/time');
  const hex = /hex=([0-9a-f]+)/.exec(t)[1];
  const ns = Buffer.from(hex, 'hex').readBigInt64LE(0);
  assert.equal(ns, host.epochNs + 5000000n);
  assert.match(run('prop:no/such/thing'), /st=1 len=0/);
  assert.match(run('prop:node'), /st=3 /); // a map: SerializationFailure
  const s = vm.newStream();
  s.requestHeaders({ 'x-op': 'setprop' });
  assert.deepEqual(lines(vm, 'setprop'), ['setprop st=0 get=0 value=marked']);
});

test('logs: levels, bad memory and bad level return codes, WASI time', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  vm.newStream().requestHeaders({ 'x-op': 'badmem' });
  assert.deepEqual(lines(vm, 'badmem'),
    [`badmem st=${Status.InvalidMemoryAccess} level=${Status.BadArgument}`]);
  host.advance(1234);
  const s = vm.newStream();
  s.requestHeaders({ 'x-op': 'time' });
  assert.equal(BigInt(s.request.headers.get('x-time')), host.epochNs + 1234n);
  assert.ok(vm.logs.every((l) => l.vm === vm.name));
});

test('metrics: define, increment, get; counters refuse negative deltas', () => {
  const host = new Host();
  const vms = host.addWorkers(2, { module: plugin('probe'), rootId: 'r' });
  vms[0].newStream().requestHeaders({ 'x-op': 'metric' });
  vms[1].newStream().requestHeaders({ 'x-op': 'metric' });
  assert.equal(host.metrics.get('probe_requests'), 2n);
  assert.match(lines(vms[1], 'metric')[0], / value=2 decrement=2$/);
});

test('a module importing an unknown function fails to load, as in Envoy', () => {
  const host = new Host();
  assert.throws(() => host.addVm({ module: plugin('bad_import') }),
    /missing import: env\.proxy_not_in_any_abi/);
});

test('hostcall counters count per VM and per host', () => {
  const host = new Host();
  const [a, b] = host.addWorkers(2, { module: plugin('probe'), rootId: 'r' });
  host.resetStats();
  a.newStream().requestHeaders({ ':path': '/' });
  a.newStream().requestHeaders({ ':path': '/' });
  b.newStream().requestHeaders({ ':path': '/' });
  // each request_headers: get :path, log, get x-op (missing)
  assert.equal(a.stats.hostcalls.proxy_get_header_map_value, 4);
  assert.equal(b.stats.hostcalls.proxy_get_header_map_value, 2);
  assert.equal(host.stats.hostcalls.proxy_get_header_map_value, 6);
  assert.equal(host.stats.callbacks.proxy_on_request_headers, 3);
});

test('streamAt: request and response phases at virtual times, interleaved with ticks', () => {
  const host = new Host();
  const ws = host.addWorkers(4, { module: plugin('probe'), rootId: 'r', configuration: 'tick=5' });
  const done = [];
  for (let i = 0; i < 1000; i++) {
    host.streamAt(i * 10e3, { request: { headers: { ':path': `/s/${i}` } },
      latencyNs: 1e6, onComplete: (s) => done.push([host.now(), s.vm.name]) });
  }
  host.advance(20e6);
  assert.equal(done.length, 1000);
  assert.deepEqual(done.slice(0, 4).map(([t]) => t), [1e6, 1e6 + 10e3, 1e6 + 20e3, 1e6 + 30e3]);
  // round-robin over the 4 workers
  for (const w of ws) assert.equal(done.filter(([, n]) => n === w.name).length, 250);
  // the 5 ms tick fires between requests, on every worker
  const w0 = ws[0].logs.map((l) => l.message);
  const tick = w0.findIndex((m) => m.startsWith('tick'));
  assert.ok(tick > 0 && w0.slice(tick + 1).some((m) => m.startsWith('request_headers')));
  assert.equal(ws[0].streams.size, 0);
});

test('shutdown: on_done then on_delete for every root; ticks stop', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), roots: [
    { rootId: 'a', configuration: 'tick=10' }, { rootId: 'b' }] });
  host.advance(10e6);
  assert.deepEqual(vm.shutdown(), []);
  const tail = vm.logs.map((l) => l.message).slice(-4);
  assert.deepEqual(tail, ['on_done 1', 'on_delete 1', 'on_done 2', 'on_delete 2']);
  host.advance(50e6);
  assert.equal(lines(vm, 'tick').length, 1);
});

test('real clock: the module sees real wall-clock time', () => {
  const host = new Host({ clock: 'real' });
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  const s = vm.newStream();
  const before = BigInt(Date.now()) * 1000000n;
  s.requestHeaders({ 'x-op': 'time' });
  const t = BigInt(s.request.headers.get('x-time'));
  // A loaded machine can delay the call by many milliseconds; what matters is
  // that this is the wall clock (the virtual epoch is years away from it).
  assert.ok(t >= before - 1000000000n && t <= BigInt(Date.now()) * 1000000n + 1000000000n, `${t} vs ${before}`);
});

test('load: lazy arrivals at an exact rate, round-robin, latency per stream', () => {
  const host = new Host();
  const ws = host.addWorkers(4, { module: plugin('noop'), rootId: 'r' });
  const seen = [];
  const st = host.load({ rps: 100000, durationNs: 10e6, startNs: 1e6,
    stream: (i) => ({ request: { headers: { ':path': `/l/${i}` } }, latencyNs: (i % 3) * 1e6 }),
    onComplete: (s, i) => seen.push([i, host.now(), s.vm.name, s.startNs]) });
  assert.equal(st.count, 1000);
  host.advance(5e6);
  assert.ok(st.started > 0 && st.started < 1000);
  assert.ok(host.scheduler.queue.size < 400, 'arrivals are not all queued up front');
  host.advance(10e6);
  assert.deepEqual([st.started, st.completed], [1000, 1000]);
  seen.sort((a, b) => a[0] - b[0]);
  for (const [i, end, vm, startNs] of seen) {
    assert.equal(startNs, 1e6 + i * 10e3);
    assert.equal(end, startNs + (i % 3) * 1e6);
    assert.equal(vm, ws[i % 4].name);
  }
});

test('hostcall edge cases answer as cpp-host and Envoy do', () => {
  const host = new Host({ logLevel: LogLevel.Warn });
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r', vmConfiguration: 'abc' });
  vm.newStream().requestHeaders({ ':path': '/', 'x-op': 'edge' });
  // empty range: Ok without touching the out-pointers; start past the end:
  // BadArgument; plugin config outside on_configure: NotFound; buffer type 9
  // and map type 8: BadArgument; set_pairs on a map not yet received:
  // BadArgument; get_pairs on it: Ok and an empty (NULL, 0) map; call
  // response map outside the callback: BadArgument; buffer status: size and
  // flags 0; log level as configured; unknown stream type: BadArgument.
  assert.deepEqual(lines(vm, 'edge'), ['edge empty=0 untouched=1 past=2 plugin_cfg=1 bad_buf=2 ' +
    'bad_map=2 set_unavail=2 pairs_unavail=0 pairs=(1,0) call_map=2 status=0 size=3 flags=0 ' +
    `level=0/${LogLevel.Warn} cont=2`]);
});
