// Writes the seed corpus of fuzz/fuzz_ctl_inputs from real data: request
// paths from SLATE's Online Boutique trace, a rules file persisted by a real
// controller run, and the regions file the process tests use.
// Usage: node gen_fuzz_seeds.mjs --controller BIN --source REPO --workdir TMP
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import path from 'node:path';
import { getJSON, parseArgs, sleep, startController } from './lib.mjs';
import { REGIONS_FILE, Scenario } from './scenario.mjs';

const args = parseArgs();
const out = path.join(args.source, 'fuzz', 'corpus', 'fuzz_ctl_inputs');
fs.mkdirSync(out, { recursive: true });
const seed = (name, mode, bytes) =>
  fs.writeFileSync(path.join(out, name), Buffer.concat([Buffer.from([mode]), Buffer.from(bytes)]));

// Paths (modes 0 and 1) from the trace's url column, plus query strings and ids.
const csv = fs.readFileSync(path.join(args.source, '..', 'shared', 'data', 'slate', 'onlineboutique-trace.csv'), 'utf8');
const urls = [...new Set(csv.split('\n').slice(0, 5000).map((l) => l.split(',')[3]).filter(Boolean))];
urls.slice(0, 6).forEach((u, i) => seed(`path-${i}`, 0, u));
seed('path-ids', 0, `${urls[0]}/123e4567-e89b-12d3-a456-426614174000/5d0f416cca2d80da?x=1`);
urls.slice(0, 3).forEach((u, i) => seed(`json-${i}`, 1, `${u} "quoted" \\ \u00e9`));

// A real persisted rules file (modes 2 and 4) and the regions file (mode 3).
const regionsFile = path.join(args.workdir, 'regions.txt');
fs.writeFileSync(regionsFile, REGIONS_FILE);
seed('regions', 3, REGIONS_FILE + 'capacity frontend west 1000\nrtt east west 7\n');
const stateDir = path.join(args.workdir, 'state');
fs.mkdirSync(stateDir);
const c = await startController(args.controller, args.workdir, 'seed', ['--regions-file', regionsFile,
  '--state-dir', stateDir, '--solve-period-ms', '300', '--stitch-window-ms', '150',
  '--model-degree', '1', '--model-min-samples', '5', '--settle-ms', '0', '--rollback-samples', '1']);
const sc = new Scenario({ portOf: () => c.port });
for (let i = 0; i < 150; i++) {
  await sc.step();
  await sleep(sc.tickMs);
  const ru = await getJSON(c.port, '/v1/rules');
  if (ru.current && ru.current.version >= 2) break;
}
await c.stop('SIGTERM');
const file = fs.readFileSync(path.join(stateDir, 'rules.bin'));
seed('frame-rules', 2, file);
seed('rules', 4, file.subarray(32));
console.log(`seeds written to ${out}`);
