// Capacity from the regions file takes effect: the backend in west may take
// at most 40 rps while west's frontend sends it about 100. The routing in
// force breaks the limit, so it may not win the gain comparison; the
// controller steps toward a split that respects the limit every round (at
// most --max-shift per step) and gets there within a bounded number of
// rounds.
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import path from 'node:path';
import { check, finish, getJSON, parseArgs, sleep, startController } from './lib.mjs';
import { REGIONS_FILE, Scenario, westShare } from './scenario.mjs';

const args = parseArgs();
const regionsFile = path.join(args.workdir, 'regions.txt');
fs.writeFileSync(regionsFile, REGIONS_FILE + 'capacity backend west 40\n');
const MAX_SHIFT = 0.1;
const ctl = await startController(args.controller, args.workdir, 'capacity', [
  '--regions-file', regionsFile, '--solve-period-ms', '300', '--stitch-window-ms', '150',
  '--model-degree', '1', '--model-min-samples', '5', '--max-shift', String(MAX_SHIFT),
  // a gain threshold no feasible proposal can pass against an infeasible
  // routing judged by its modelled latency alone
  '--min-gain-rel', '0.5', '--settle-ms', '0', '--rollback-samples', '1',
  '--rollback-tolerance', '0.2',
]);

const sc = new Scenario({ portOf: () => ctl.port });
// west's frontend sends ~100 rps to the backend; at most 40 may stay in west
const LIMIT = 40 / 100;
let seen = 0, steps = 0, prev = 1, reached = -1;
const ROUNDS = 40; // 0.6 to move at 0.1 a round is 6 rounds; the rest is for learning
for (let i = 0; i < 150 && reached < 0; i++) {
  await sc.step();
  await sleep(sc.tickMs);
  const ru = await getJSON(ctl.port, '/v1/rules');
  if (!ru.current || ru.current.version === seen || ru.current.origin !== 'optimiser') continue;
  seen = ru.current.version;
  const w = westShare(ru.current.rules);
  if (w === null) continue;
  steps++;
  check(Math.abs(w - prev) <= MAX_SHIFT + 1e-4, `step ${steps}: west share ${prev.toFixed(3)} -> ${w.toFixed(3)} within the cap`);
  prev = w;
  if (w <= LIMIT + 1e-3) reached = i;
}
const st = await getJSON(ctl.port, '/v1/state');
check(reached >= 0, `the split respects the capacity (west share ${prev.toFixed(3)} <= ${LIMIT}) after ${steps} rule sets; last outcome: ${st.solve.last_outcome}`);
check(steps <= ROUNDS, `within ${ROUNDS} rule sets (${steps})`);
check(typeof st.solve.overload_current_rps === 'number', `the overload of the routing in force is shown (${st.solve.overload_current_rps})`);
// once feasible, it stays feasible
for (let i = 0; i < 10; i++) {
  await sc.step();
  await sleep(sc.tickMs);
}
const ru = await getJSON(ctl.port, '/v1/rules');
const w = westShare(ru.current.rules);
check(w !== null && w <= LIMIT + 1e-3, `still within the capacity after more rounds (${w})`);
const { code } = await ctl.stop('SIGTERM');
check(code === 0, 'clean exit');
finish();
