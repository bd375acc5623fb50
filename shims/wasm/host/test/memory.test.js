// The host's memory access and the hostcall fast paths: views of linear
// memory survive memory.grow (by the module's malloc inside a hostcall, or by
// the module between hostcalls), header keys are matched in place as get()
// would, values and serialized maps are written straight into the module's
// memory byte for byte, and the clocks are written without BigInt yet equal
// the BigInt values.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Host, encodePairs } = require('../host.js');
const { plugin, lines } = require('./helpers.js');

const PAGE = 65536;

function fnv(bytes) {
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function probeStream(vm, headers) {
  const s = vm.newStream();
  s.requestHeaders(headers, true);
  return s;
}

test('a header value larger than the free heap: malloc grows memory inside the hostcall', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  const pagesBefore = vm.memory.buffer.byteLength / PAGE;
  // 3 MiB of varied ASCII: the probe's malloc must grow memory by many pages
  // after the host looked at the key, before the host writes the value.
  const big = Array.from({ length: 3 * 1024 * 1024 }, (_, i) => String.fromCharCode(33 + (i * 7919) % 94))
    .join('');
  const s = probeStream(vm, { 'x-op': 'echo:x-big', 'x-big': big });
  assert.ok(vm.memory.buffer.byteLength / PAGE > pagesBefore + 40, 'memory grew during the call');
  assert.deepEqual(lines(vm, 'echo'), [`echo st=0 len=${big.length}`]);
  assert.equal(s.request.headers.get('x-echo'), big, 'value arrived byte for byte');
  // And the host keeps working on the grown memory.
  const s2 = probeStream(vm, { 'x-op': 'echo:x-small', 'x-small': 'after' });
  assert.equal(s2.request.headers.get('x-echo'), 'after');
});

test('memory grown by the module between hostcalls: later hostcalls write into the new memory', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  host.advance(777);
  const s = probeStream(vm, { 'x-op': 'grow:3', 'x-get': 'value-after-grow' });
  const [line] = lines(vm, 'grow');
  const m = /grow before=(\d+) old=(\d+) after=(\d+) time=0 get=0/.exec(line);
  assert.ok(m, line);
  assert.equal(Number(m[2]), Number(m[1]), 'memory.grow answered the old size');
  assert.equal(Number(m[3]), Number(m[1]) + 3);
  assert.equal(s.request.headers.get('x-got'), 'value-after-grow');
  assert.equal(BigInt(s.request.headers.get('x-time')), host.epochNs + 777n);
});

test('header keys: matched case-insensitively in place; non-ASCII keys and values round trip', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  // The module asks with upper-case letters; the map's keys are lower case.
  let s = probeStream(vm, { 'x-op': 'echo:X-Trace-ID', 'x-trace-id': 'abc' });
  assert.equal(s.request.headers.get('x-echo'), 'abc');
  // The first of repeated keys, as get() answers.
  s = probeStream(vm, [['x-op', 'echo:x-rep'], ['x-rep', 'one'], ['x-rep', 'two']]);
  assert.equal(s.request.headers.get('x-echo'), 'one');
  // A key that is a prefix of another, and one that differs in the last byte.
  s = probeStream(vm, { 'x-op': 'echo:x-ab', 'x-abc': 'no', 'x-ac': 'no', 'x-ab': 'yes' });
  assert.equal(s.request.headers.get('x-echo'), 'yes');
  // Not found.
  probeStream(vm, { 'x-op': 'echo:x-none', 'x-nonf': 'no' });
  assert.equal(lines(vm, 'echo').at(-1), 'echo st=1 len=0');
  // Non-ASCII value: UTF-8 bytes.
  s = probeStream(vm, { 'x-op': 'echo:x-utf', 'x-utf': 'grüße ✓ 𝄞' });
  assert.equal(s.request.headers.get('x-echo'), 'grüße ✓ 𝄞');
  assert.equal(lines(vm, 'echo').at(-1), `echo st=0 len=${Buffer.byteLength('grüße ✓ 𝄞')}`);
  // Non-ASCII key (decoded and looked up as get() does).
  s = probeStream(vm, { 'x-op': 'echo:x-ä', 'x-ä': 'umlaut' });
  assert.equal(s.request.headers.get('x-echo'), 'umlaut');
  // An empty value is (0, 0): Ok with length 0.
  s = probeStream(vm, { 'x-op': 'echo:x-empty', 'x-empty': '' });
  assert.equal(lines(vm, 'echo').at(-1), 'echo st=0 len=0');
});

test('get_header_map_pairs writes exactly encodePairs() bytes, also for large and non-ASCII maps', () => {
  const host = new Host();
  const vm = host.addVm({ module: plugin('probe'), rootId: 'r' });
  const cases = [
    [['x-op', 'pairs_hash'], [':path', '/a'], ['x-b3-traceid', '0af7651916cd43dd8448eb211c80319c']],
    [['x-op', 'pairs_hash'], ['x-utf', 'grüße ✓ 𝄞'], ['x-ä', 'ö'], ['x-empty', '']],
    // Long values (written with the bulk path) and enough bytes to grow memory.
    [['x-op', 'pairs_hash'], ...Array.from({ length: 64 }, (_, i) => [`x-h${i}`, 'v'.repeat(40000 + i)])],
  ];
  for (const pairs of cases) {
    const s = probeStream(vm, pairs);
    const want = encodePairs(s.request.headers.toArray());
    assert.equal(lines(vm, 'pairs_hash').at(-1), `pairs_hash st=0 size=${want.length} fnv=${fnv(want)}`);
  }
});

test('clocks: proxy and WASI time equal the BigInt values, with skew, before the epoch, and wrapping', () => {
  const cases = [
    { epochNs: 1700000000000000000n, skew: 0, at: 123456789 },
    { epochNs: 1700000000000000000n, skew: 987654321, at: 4294967295 }, // carries across 32 bits
    { epochNs: 1700000000000000000n, skew: -5e9, at: 1e9 }, // host time + skew < 0: BigInt path
    { epochNs: (1n << 64n) - 10n, skew: 0, at: 25 }, // wraps modulo 2^64
    { epochNs: 0xffffffffn, skew: 0, at: 1 }, // low half carries into the high half
  ];
  for (const c of cases) {
    const host = new Host({ epochNs: c.epochNs });
    const vm = host.addVm({ module: plugin('probe'), rootId: 'r', clockSkewNs: c.skew });
    host.advance(c.at);
    const s = probeStream(vm, { 'x-op': 'clocks' });
    const rt = BigInt.asUintN(64, vm.realtimeNs());
    assert.equal(BigInt(s.request.headers.get('x-time')), rt, `proxy clock ${JSON.stringify(String(c.epochNs))}`);
    // wasi-libc's clock_gettime goes through timespec (signed seconds); only
    // compare where that representation is exact.
    if (rt < (1n << 63n)) {
      assert.equal(BigInt(s.request.headers.get('x-wasi-realtime')), rt);
      assert.equal(BigInt(s.request.headers.get('x-wasi-monotonic')),
        BigInt.asUintN(64, vm.monotonicNs()));
    }
  }
});
