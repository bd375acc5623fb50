// A VM that traps is reported; the others keep serving; streams fail open.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Host, Action, LogLevel } = require('../host.js');
const { plugin, lines } = require('./helpers.js');

test('a trap in a stream callback fails only that VM; its streams continue (fail open)', () => {
  const host = new Host();
  const traps = [];
  host.on('trap', (e) => traps.push(e));
  const [a, b] = host.addWorkers(2, { module: plugin('probe'), rootId: 'r', configuration: 'tick=10' });
  const s = a.newStream();
  assert.equal(s.requestHeaders({ ':path': '/t', 'x-op': 'trap' }), Action.Continue);
  assert.equal(a.failed, true);
  assert.equal(traps.length, 1);
  assert.equal(traps[0].vm, 'worker-0');
  assert.equal(traps[0].callback, 'proxy_on_request_headers');
  assert.equal(traps[0].contextId, s.id);
  assert.match(traps[0].message, /unreachable/);
  assert.ok(host.logs.some((l) => l.level === LogLevel.Critical && l.message.includes('worker-0 failed')));
  // the failed VM's callbacks are skipped: its stream goes on as if Continue
  const before = a.logs.length;
  s.responseHeaders({ ':status': '200' });
  s.complete();
  const s2 = a.newStream();
  assert.equal(s2.requestHeaders({ ':path': '/after', 'x-op': 'pause' }), Action.Continue);
  assert.equal(a.logs.length, before);
  // no more ticks on the failed VM, the other one keeps ticking and serving
  host.advance(50e6);
  assert.equal(lines(a, 'tick').length, 0);
  assert.equal(lines(b, 'tick').length, 5);
  const sb = b.newStream();
  assert.equal(sb.requestHeaders({ ':path': '/b', 'x-op': 'pause' }), Action.Pause);
  assert.equal(host.events.filter((e) => e.type === 'trap').length, 1);
});

test('a trap in on_tick fails the singleton; workers keep serving', () => {
  const host = new Host();
  const [w] = host.addWorkers(1, { module: plugin('probe'), rootId: 'f', configuration: 'tick=10' });
  const rep = host.addSingleton({ module: plugin('probe'), rootId: 'rep', configuration: 'tick=10 tick_trap' });
  host.advance(30e6);
  assert.equal(rep.failed, true);
  assert.equal(rep.failure.callback, 'proxy_on_tick');
  assert.equal(lines(rep, 'tick').length, 1); // logged, then trapped
  assert.equal(lines(w, 'tick').length, 3);
});

test('on_vm_start returning false leaves the VM failed (cpp-host StartFailed)', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r', vmConfiguration: 'vm_start_fail',
    configuration: 'tick=10' });
  assert.equal(vm.vmStarted, false);
  assert.equal(vm.failed, true);
  assert.ok(host.events.some((e) => e.type === 'vm_start_failed' && e.vm === vm.name));
  assert.deepEqual(lines(vm, 'configure'), []); // never configured
  host.advance(50e6);
  assert.deepEqual(lines(vm, 'tick'), []);
});

test('a plugin whose on_configure failed gets no callbacks: streams pass through', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r', configuration: 'fail' });
  assert.equal(vm.root().configured, false);
  const n = vm.logs.length;
  const s = vm.newStream();
  assert.equal(s.passThrough, true);
  assert.equal(s.requestHeaders({ ':path': '/', 'x-op': 'pause' }), Action.Continue);
  s.complete();
  assert.equal(vm.logs.length, n);
});

test('the singleton takes no streams', () => {
  const host = new Host();
  const rep = host.addSingleton({ module: plugin('probe'), rootId: 'rep' });
  assert.throws(() => rep.newStream(), /singleton/);
});
