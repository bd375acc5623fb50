// Shared data (compare-and-swap), shared queues and ticks across VMs.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Host, Status } = require('../host.js');
const { plugin, lines } = require('./helpers.js');

function op(vm, x) {
  const s = vm.newStream();
  s.requestHeaders({ ':path': '/', 'x-op': x });
  s.complete();
  return s;
}

test('shared data: NotFound, cas returned, stale cas → CasMismatch, cas 0 unconditional', () => {
  const host = new Host();
  const [a, b] = host.addWorkers(2, { module: plugin('probe'), rootId: 'r' });
  op(a, 'get:k');
  assert.deepEqual(lines(a, 'get'), ['get k st=1 cas=0 value=']);
  op(a, 'set:k:0:v1');
  op(b, 'get:k');
  const cas1 = Number(/cas=(\d+)/.exec(lines(b, 'get')[0])[1]);
  assert.ok(cas1 > 0);
  assert.equal(lines(b, 'get')[0], `get k st=0 cas=${cas1} value=v1`);
  // a writes with the current cas: ok; b's cas is now stale
  op(a, `set:k:${cas1}:v2`);
  op(b, `set:k:${cas1}:v3`);
  assert.deepEqual(lines(a, 'set'), ['set k st=0', 'set k st=0']);
  assert.deepEqual(lines(b, 'set'), [`set k st=${Status.CasMismatch}`]);
  assert.equal(host.sharedData.peek('k').value.toString(), 'v2');
  const cas2 = host.sharedData.peek('k').cas;
  assert.notEqual(cas2, cas1);
  // cas 0 always writes
  op(b, 'set:k:0:v4');
  assert.equal(host.sharedData.peek('k').value.toString(), 'v4');
  // a non-zero cas on an absent key succeeds (cpp-host)
  op(b, 'set:fresh:777:x');
  assert.equal(lines(b, 'set').pop(), 'set fresh st=0');
  assert.equal(b.stats.casMismatches, 1);
  assert.equal(host.stats.casMismatches, 1);
  assert.equal(a.stats.sharedDataBytesOut, 'v1'.length + 'v2'.length);
  assert.equal(b.stats.sharedDataBytesIn, 'v1'.length);
});

test('shared data is namespaced by vm_id, as in Envoy', () => {
  const host = new Host();
  const a = host.addVm({ module: plugin('probe'), vmId: 'one', rootId: 'r' });
  const b = host.addVm({ module: plugin('probe'), vmId: 'two', rootId: 'r' });
  op(a, 'set:k:0:A');
  op(b, 'get:k');
  assert.equal(lines(b, 'get')[0], 'get k st=1 cas=0 value=');
  assert.equal(host.sharedData.peek('k', 'one').value.toString(), 'A');
});

test('embedder writes bump the cas so a plugin holding the old one must retry', () => {
  const host = new Host();
  const [a] = host.addWorkers(1, { module: plugin('probe'), rootId: 'r' });
  host.sharedData.write('n', '41');
  const { cas } = host.sharedData.peek('n');
  host.sharedData.write('n', '41');
  assert.equal(host.sharedData.write('n', 'x', { cas }), Status.CasMismatch);
  op(a, 'incr:n');
  assert.deepEqual(lines(a, 'incr'), ['incr n value=42 retries=0']);
});

test('CAS increments from 4 workers under injected conflicts lose nothing', () => {
  const host = new Host({ seed: 7, chaos: { casConflict: 0.4 } });
  const ws = host.addWorkers(4, { module: plugin('probe'), rootId: 'r' });
  const N = 400;
  for (let i = 0; i < N; i++) op(ws[i % 4], 'incr:count');
  assert.equal(host.sharedData.peek('count').value.toString(), String(N));
  const retries = ws.flatMap((w) => lines(w, 'incr')).map((l) => Number(/retries=(\d+)/.exec(l)[1]));
  const total = retries.reduce((x, y) => x + y, 0);
  assert.equal(total, host.stats.injectedCasConflicts);
  assert.ok(total > 50, `expected many retries, got ${total}`);
  assert.ok(Math.max(...retries) <= 3, 'casConflictMaxRun bounds a run of conflicts');
});

test('interleaving runs another worker between a get and its set: real CAS conflicts', () => {
  const host = new Host({ seed: 3, chaos: { interleave: 0.5 } });
  const ws = host.addWorkers(4, { module: plugin('probe'), rootId: 'r' });
  host.sharedData.write('c', '0'); // created once, so every update is a CAS
  const N = 200;
  for (let i = 0; i < N; i++) {
    const vm = ws[i % 4];
    host.schedule(1e6, () => op(vm, 'incr:c'), { vm });
  }
  host.advance(2e6);
  assert.equal(host.sharedData.peek('c').value.toString(), String(N));
  assert.ok(host.stats.interleavings > 10);
  assert.equal(host.stats.injectedCasConflicts, 0);
  assert.ok(host.stats.casMismatches > 0, 'interleaving produced genuine mismatches');
  const lost = ws.flatMap((w) => lines(w, 'incr')).filter((l) => l.includes('retries=-1'));
  assert.deepEqual(lost, []);
});

test('interleaving exposes the create race: cas 0 on a missing key is unconditional', () => {
  // Two workers both read NotFound and both "create" the key with cas 0; in
  // Envoy, as here, the second write wins and increments are lost.
  const host = new Host({ seed: 3, chaos: { interleave: 0.5 } });
  const ws = host.addWorkers(4, { module: plugin('probe'), rootId: 'r' });
  for (let i = 0; i < 40; i++) {
    const vm = ws[i % 4];
    host.schedule(1e6, () => op(vm, 'incr:racy'), { vm });
  }
  host.advance(2e6);
  assert.ok(Number(host.sharedData.peek('racy').value.toString()) < 40);
});

test('chaos is deterministic for a seed', () => {
  const run = (seed) => {
    const host = new Host({ seed, chaos: { casConflict: 0.3, interleave: 0.3 } });
    const ws = host.addWorkers(3, { module: plugin('probe'), rootId: 'r' });
    for (let i = 0; i < 60; i++) {
      const vm = ws[i % 3];
      host.schedule(1000 * (i % 5), () => op(vm, 'incr:d'), { vm });
    }
    host.advance(1e6);
    return host.logs.map((l) => `${l.vm} ${l.message}`).join('\n');
  };
  assert.equal(run(11), run(11));
  assert.notEqual(run(11), run(12));
});

test('queues: delivery goes to the registering VM root only, FIFO, Empty after drain', () => {
  const host = new Host();
  const [a, b, c] = host.addWorkers(3, { module: plugin('probe'), rootId: 'r' });
  const single = host.addSingleton({ module: plugin('probe'), rootId: 'rep', configuration: 'queue=reports' });
  op(a, 'enqueue:reports');
  op(b, 'enqueue:reports');
  op(c, 'enqueue:nosuch');
  assert.match(lines(c, 'enqueue')[0], /st=1 /); // resolve → NotFound
  // nothing is delivered inside the stream calls
  assert.deepEqual(lines(single, 'queue_ready'), []);
  host.advance(0);
  const root = single.root();
  assert.deepEqual(lines(single, 'queue_ready'), [
    `queue_ready ${root.id} root=rep token=1`, `queue_ready ${root.id} root=rep token=1`]);
  const sa = a.logs.find((l) => l.message.startsWith('enqueue')).message;
  assert.match(sa, /st=0 token=1/);
  // first notification drains both items in order; the second finds it empty
  assert.deepEqual(lines(single, 'dequeued'), ['dequeued 1 stream 2', 'dequeued 1 stream 2']);
  assert.equal(lines(single, 'queue_empty').length, 2);
  for (const w of [a, b, c]) assert.deepEqual(lines(w, 'queue_ready'), []);
  assert.equal(host.queues.get('', 'reports').items.length, 0);
  assert.equal(a.stats.queueBytesOut, 'stream 2'.length);
  assert.equal(single.stats.queueBytesIn, 2 * 'stream 2'.length);
});

test('queues: register from a stream acts for its root; last registrant receives', () => {
  const host = new Host();
  const [a, b] = host.addWorkers(2, { module: plugin('probe'), rootId: 'r' });
  op(a, 'register:q');
  op(b, 'register:q');
  assert.match(lines(a, 'register')[0], /st=0 token=1/);
  assert.match(lines(b, 'register')[0], /st=0 token=1/);
  op(a, 'enqueue:q');
  host.advance(0);
  assert.deepEqual(lines(a, 'queue_ready'), []);
  assert.deepEqual(lines(b, 'queue_ready'), [`queue_ready ${b.root().id} root=r token=1`]);
  // dequeue from anyone: Empty now, NotFound for an unknown token
  op(a, 'dequeue:q');
  assert.deepEqual(lines(a, 'dequeue'), [
    `dequeue q resolve=0 dequeue=${Status.Empty} unknown=${Status.NotFound} value=`]);
});

test('queues: chaos delays notifications and reorders them across queues', () => {
  const host = new Host({ seed: 5, chaos: { queueDelayNs: [1e6, 50e6] } });
  const [w] = host.addWorkers(1, { module: plugin('probe'), rootId: 'r' });
  const s1 = host.addSingleton({ module: plugin('probe'), rootId: 'x', vmId: '', configuration: 'queue=q1' });
  const s2 = host.addVm({ kind: 'singleton', module: plugin('probe'), rootId: 'y', configuration: 'queue=q2' });
  for (let i = 0; i < 10; i++) { op(w, 'enqueue:q1'); op(w, 'enqueue:q2'); }
  host.advance(0);
  assert.equal(lines(s1, 'queue_ready').length + lines(s2, 'queue_ready').length, 0);
  const times = [];
  host.on('event', () => {});
  host.advance(60e6);
  for (const s of [s1, s2]) {
    for (const l of s.logs.filter((x) => x.message.startsWith('queue_ready'))) times.push([l.timeNs, s.name]);
  }
  assert.equal(times.length, 20);
  for (const [t] of times) assert.ok(t >= 1e6 && t <= 50e6, `delivered at ${t}`);
  times.sort((x, y) => x[0] - y[0]);
  const order = times.map(([, n]) => n).join(',');
  assert.notEqual(order, Array(10).fill('singleton-0,singleton-1').join(','));
  // every item arrives exactly once, in FIFO order per queue
  assert.equal(lines(s1, 'dequeued').length, 10);
  assert.equal(lines(s2, 'dequeued').length, 10);
});

test('ticks: per root context at exact virtual times; period change restarts', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), roots: [
    { rootId: 'fast', configuration: 'tick=100' }, { rootId: 'slow', configuration: 'tick=250' }] });
  const other = host.addVm({ module: plugin('probe'), rootId: 'none', configuration: '' });
  host.advance(600e6);
  const ticks = vm.logs.filter((l) => l.message.startsWith('tick'))
    .map((l) => [l.timeNs / 1e6, /root=(\w+)/.exec(l.message)[1]]);
  assert.deepEqual(ticks, [
    [100, 'fast'], [200, 'fast'], [250, 'slow'], [300, 'fast'], [400, 'fast'],
    [500, 'slow'], [500, 'fast'], [600, 'fast']]); // equal times: armed first, fires first
  assert.deepEqual(lines(other, 'tick'), []);
  // the wall clock the module reads moves with virtual time
  assert.match(lines(vm, 'tick')[0], /now=1700000000100000000$/);
  // a stream context sets its root's period (50 ms), restarting the timer
  const s = vm.newStream({ rootId: 'slow' });
  s.requestHeaders({ 'x-op': 'tick' });
  assert.deepEqual(lines(vm, 'stream_tick'), ['stream_tick st=0']);
  assert.equal(vm.root('slow').tickPeriodMs, 50);
  const before = lines(vm, 'tick 2 root=slow').length;
  host.advance(100e6);
  assert.equal(lines(vm, 'tick 2 root=slow').length - before, 2); // at 650 and 700
});

test('ticks: jitter fires late, skew shifts clocks, spread staggers starts', () => {
  const host = new Host({ seed: 9, chaos: { tickJitterNs: 5e6, clockSkewNs: 2e6, startSpreadNs: 30e6 } });
  const ws = host.addWorkers(4, { module: plugin('probe'), rootId: 'r', configuration: 'tick=100' });
  assert.ok(ws.some((w) => !w.ready), 'some workers start later');
  assert.throws(() => ws.find((w) => !w.ready).newStream(), /not started/);
  host.advance(1e9);
  assert.ok(ws.every((w) => w.ready));
  const skews = new Set(ws.map((w) => w.clockSkewNs));
  assert.equal(skews.size, 4);
  for (const w of ws) {
    assert.ok(Math.abs(w.clockSkewNs) <= 2e6);
    const t = w.logs.filter((l) => l.message.startsWith('tick')).map((l) => l.timeNs);
    assert.ok(t.length >= 8 && t.length <= 10, `${w.name} ticked ${t.length} times`);
    for (let i = 1; i < t.length; i++) {
      const gap = t[i] - t[i - 1];
      assert.ok(gap >= 100e6 && gap <= 105e6, `gap ${gap}`);
    }
    // what the module read: host time + skew
    const first = w.logs.find((l) => l.message.startsWith('tick'));
    const now = BigInt(/now=(\d+)/.exec(first.message)[1]);
    assert.equal(now, host.epochNs + BigInt(first.timeNs + w.clockSkewNs));
  }
  const firstTicks = ws.map((w) => w.logs.find((l) => l.message.startsWith('tick')).timeNs);
  assert.ok(new Set(firstTicks).size > 1, 'tick phases differ between workers');
});

test('ticks drive CAS and queues across workers and the singleton', () => {
  const host = new Host({ seed: 2, chaos: { casConflict: 0.2, interleave: 0.3 } });
  host.addWorkers(4, { module: plugin('probe'), rootId: 'f', configuration: 'tick=10 tick_incr=n tick_enqueue=agg' });
  const rep = host.addSingleton({ module: plugin('probe'), rootId: 'rep', configuration: 'queue=agg' });
  host.sharedData.write('n', '0');
  // The workers' first ticks at 10 ms resolve 'agg', which the singleton registered at start.
  host.advance(1000e6);
  assert.equal(host.sharedData.peek('n').value.toString(), String(4 * 100));
  assert.equal(lines(rep, 'dequeued').length, 400);
  assert.ok(host.stats.casMismatches > 0);
});

test('several proxies share one scheduler: one clock, separate shared data', () => {
  const { Scheduler } = require('../host.js');
  const scheduler = new Scheduler();
  const east = new Host({ scheduler, seed: 1 });
  const west = new Host({ scheduler, seed: 2 });
  const e = east.addVm({ module: plugin('probe'), rootId: 'r', configuration: 'tick=10 tick_incr=n' });
  const w = west.addVm({ module: plugin('probe'), rootId: 'r', configuration: 'tick=25 tick_incr=n' });
  east.sharedData.write('n', '0');
  west.sharedData.write('n', '100');
  west.advance(100e6); // either host drives the shared clock
  assert.equal(east.now(), 100e6);
  assert.equal(lines(e, 'tick ').length, 10);
  assert.equal(lines(w, 'tick ').length, 4);
  assert.equal(east.sharedData.peek('n').value.toString(), '10');
  assert.equal(west.sharedData.peek('n').value.toString(), '104');
  assert.equal(east.stats.events.tick, 10);
  assert.equal(west.stats.events.tick, 4);
});

test('load under interleaving: arrivals of one worker run inside another worker\'s CAS', () => {
  const host = new Host({ seed: 8, chaos: { interleave: 0.5 } });
  host.addWorkers(4, { module: plugin('probe'), rootId: 'r' });
  host.sharedData.write('hits', '0');
  // many arrivals at the same instant, so there is always other work due
  const st = host.load({ intervalNs: 0, count: 300, stream: () => ({
    request: { headers: { ':path': '/', 'x-op': 'incr:hits' } }, latencyNs: 1e6 }) });
  host.advance(2e6);
  assert.equal(st.completed, 300);
  assert.equal(host.sharedData.peek('hits').value.toString(), '300');
  assert.ok(host.stats.interleavings > 20);
  assert.ok(host.stats.casMismatches > 0);
});
