// The scale benchmark's checks on a small mesh (10 services, 3 regions): real
// cluster controllers (one per region) forwarding to a real global one, pods'
// reports encoded with the core codec. It asserts what bench_scale checks,
// never a time: every (source region, caller, destination) the mesh calls has
// a rule whose weights sum to 1,000,000 and target only regions where the
// destination is deployed; the routing in force leaves no region over
// capacity; the global holds exactly the requests the pods reported (the
// cluster tier's sums add up); the rules follow a load change.
// Registered by shims/controller/CMakeLists.txt when the benchmarks are built.
// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { check, finish } from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const bench = opt('--bench');
const controller = opt('--controller');
check(bench && controller, 'usage: scale.mjs --bench BENCH_SCALE --controller SLATE_CONTROLLER');
if (!bench || !controller) finish();

// Seed 1 (about 15 s). Generous tick budget for the load change (a loaded
// machine), 3 measured ticks. Cluster controllers forward every tick, so a
// batch can miss services whose pods reported before the forward: the
// cluster controller must answer them with the rules they were last given
// (carry-over, docs/scale.md), or the rule checks fail.
for (const seed of ['1']) {
  const r = spawnSync(bench, ['--services', '10', '--regions', '3', '--seed', seed, '--ticks', '3',
    '--change-ticks', '30', '--forward-ticks', '1', '--controller', controller], { encoding: 'utf8', timeout: 120000 });
  const out = r.stdout || '';
  process.stdout.write(out);
  if (r.stderr) process.stderr.write(r.stderr);
  check(r.status === 0, `seed ${seed}: bench_scale exits 0 (every check passed), got ${r.status}`);
  const rules = /rules: (\d+) \(proxy, call\) pairs checked/.exec(out);
  check(rules && Number(rules[1]) > 0, `seed ${seed}: rules were checked (${rules && rules[1]})`);
  check(/aggregates: the global holds the \d+ requests the pods reported/.test(out),
    `seed ${seed}: the aggregate check ran and passed (not skipped)`);
  check(/capacity: the routing in force leaves 0\.\d rps over a capacity/.test(out),
    `seed ${seed}: no region over capacity`);
  check(/load change: the rules in force keep/.test(out), `seed ${seed}: the rules followed the load change`);
  check(!/FAIL/.test(out), `seed ${seed}: no FAIL line`);
}
finish();
