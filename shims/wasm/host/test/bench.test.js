// The benchmark helper and the command line (small runs; no timing asserted).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Host, benchStreams } = require('../host.js');
const { plugin } = require('./helpers.js');

test('benchStreams counts hostcalls per request over the measured part only', () => {
  const host = new Host();
  host.addWorkers(2, { module: plugin('probe'), rootId: 'r' });
  const r = benchStreams(host, { requests: 100, warmup: 10,
    request: (i) => ({ ':path': `/b/${i}`, 'x-op': 'incr:k' }) });
  assert.equal(r.requests, 100);
  assert.ok(r.elapsedNs > 0);
  // per request: incr does one get + one set (no conflicts without chaos)
  assert.equal(r.sharedDataCallsPerRequest, 2);
  assert.equal(host.sharedData.peek('k').value.toString(), '110');
  // bytes into the VM per get: the decimal value read ("10".."109")
  const expectedIn = Array.from({ length: 100 }, (_, i) => String(10 + i).length).reduce((a, b) => a + b);
  assert.equal(r.sharedDataBytesInPerRequest, expectedIn / 100);
  assert.equal(r.hostcalls.proxy_set_shared_data, 100);
});

test('cli bench prints both modules and their ratio', () => {
  const out = execFileSync(process.execPath, [path.join(__dirname, '..', 'cli.js'), 'bench',
    '--module', plugin('probe'), '--baseline', plugin('noop'), '--requests', '200',
    '--workers', '2', '--json']).toString();
  const rows = JSON.parse(out);
  assert.deepEqual(rows.map((r) => r.label), ['baseline', 'module']);
  assert.equal(rows[0].hostcallsPerRequest, 0);
  assert.ok(rows[1].hostcallsPerRequest > 0);
});
