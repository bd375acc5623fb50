// The state directory is checked at start: a missing one, a file in its place
// and an unwritable one stop the daemon with exit code 2 and a clear line;
// temporary files a crash left are removed; a publish that cannot be
// persisted turns /healthz into 503 "degraded" and the shutdown log says the
// rules were NOT persisted.
// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { check, finish, getJSON, parseArgs, request, sleep, startController } from './lib.mjs';
import { REGIONS_FILE, Scenario } from './scenario.mjs';

const args = parseArgs();

function runBad(dir, why) {
  const r = spawnSync(args.controller, ['--port', '0', '--state-dir', dir], { encoding: 'utf8', timeout: 10000 });
  check(r.status === 2 && /cannot use --state-dir/.test(r.stderr + r.stdout),
    `${why}: exit 2 naming --state-dir (${r.status}: ${(r.stderr + r.stdout).trim().split('\n').pop()})`);
}
runBad(path.join(args.workdir, 'no-such-dir'), 'missing state directory');
const file = path.join(args.workdir, 'a-file');
fs.writeFileSync(file, 'x');
runBad(file, 'a file as state directory');

// Leftovers of a crash: rules.bin.tmp.<pid> go, other files stay.
const stateDir = path.join(args.workdir, 'state');
fs.mkdirSync(stateDir);
fs.writeFileSync(path.join(stateDir, 'rules.bin.tmp.4242'), 'torn');
fs.writeFileSync(path.join(stateDir, 'rules.bin.tmp.notapid'), 'keep');
const regionsFile = path.join(args.workdir, 'regions.txt');
fs.writeFileSync(regionsFile, REGIONS_FILE);
const ctl = await startController(args.controller, args.workdir, 'statedir', ['--regions-file', regionsFile,
  '--state-dir', stateDir, '--solve-period-ms', '300', '--stitch-window-ms', '150', '--model-degree', '1',
  '--model-min-samples', '5', '--settle-ms', '0', '--rollback-samples', '1']);
check(!fs.existsSync(path.join(stateDir, 'rules.bin.tmp.4242')), 'a crash\'s temporary file removed at start');
check(fs.existsSync(path.join(stateDir, 'rules.bin.tmp.notapid')), 'files of other names kept');
const h0 = await request(ctl.adminPort, { path: '/healthz' });
check(h0.status === 200 && h0.body.toString() === 'ok\n', 'healthy at start');

// rules.bin becomes a directory: the atomic rename over it fails at every publish.
fs.mkdirSync(path.join(stateDir, 'rules.bin'));
const sc = new Scenario({ portOf: () => ctl.port });
let published = false;
for (let i = 0; i < 150 && !published; i++) {
  await sc.step();
  await sleep(sc.tickMs);
  const ru = await getJSON(ctl.port, '/v1/rules');
  published = !!(ru.current && ru.current.version >= 1);
}
check(published, 'rules published');
await sleep(100);
const h1 = await request(ctl.adminPort, { path: '/healthz' });
check(h1.status === 503 && /degraded: persisting the rules/.test(h1.body.toString()),
  `healthz reports the persistence failure (${h1.status} ${h1.body.toString().trim()})`);
await ctl.stop('SIGTERM');
const log = fs.readFileSync(path.join(args.workdir, 'statedir.log'), 'utf8');
check(/NOT persisted/.test(log) && !/\(persisted\)/.test(log), 'the shutdown log does not claim the rules were persisted');
finish();
