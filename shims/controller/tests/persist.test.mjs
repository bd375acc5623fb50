// Persistence across a kill: rules published by one controller are served by
// a restarted one (same --state-dir) before its first solve; rules older than
// their time to live are not served again; a damaged rules file is refused
// and the controller starts without rules.
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import path from 'node:path';
import { check, decodeRules, finish, getJSON, parseArgs, sleep, startController } from './lib.mjs';
import { REGIONS_FILE, Scenario, westShare } from './scenario.mjs';

const args = parseArgs();
const regionsFile = path.join(args.workdir, 'regions.txt');
fs.writeFileSync(regionsFile, REGIONS_FILE);
const stateDir = path.join(args.workdir, 'state');
fs.mkdirSync(stateDir);
const common = ['--regions-file', regionsFile, '--state-dir', stateDir, '--stitch-window-ms', '150',
  '--model-degree', '1', '--model-min-samples', '5', '--settle-ms', '0', '--rollback-samples', '1'];

const a = await startController(args.controller, args.workdir, 'first', [...common, '--solve-period-ms', '300']);
const sc = new Scenario({ portOf: () => a.port });
let rules = null;
for (let i = 0; i < 150; i++) {
  await sc.step();
  await sleep(sc.tickMs);
  const ru = await getJSON(a.port, '/v1/rules');
  if (ru.current && ru.current.version >= 2) { rules = ru.current; break; }
}
check(rules !== null, 'first controller published rules');
await sleep(50);
const final = (await getJSON(a.port, '/v1/rules')).current;
const { sig } = await a.stop('SIGKILL');
check(sig === 'SIGKILL', 'first controller killed with SIGKILL');
check(fs.existsSync(path.join(stateDir, 'rules.bin')), 'rules file on disk');
check(fs.readdirSync(stateDir).every((f) => !f.includes('.tmp.')), 'no temporary file left behind');

// The restarted controller solves only after a minute: what it serves comes from disk.
// It stamps what it serves with a 1 s time to live.
const b = await startController(args.controller, args.workdir, 'second', [...common,
  '--solve-period-ms', '60000', '--rules-ttl-ms', '1000']);
const answers = await new Scenario({ portOf: () => b.port, traceBase: 1e6 }).step();
const fe = answers.find((x) => x.region === 'west' && x.service === 'frontend');
const share = fe ? westShare(fe.rules.rules) : null;
check(fe && fe.rules.rules.length > 0, 'restarted controller answers rules before its first solve');
check(share !== null && Math.abs(share - westShare(final.rules)) < 1e-9,
  `same routing as before the kill (west share ${share} vs ${westShare(final.rules)})`);
check(fe && fe.rules.version > BigInt(final.version), `version keeps increasing (${fe && fe.rules.version} > ${final.version})`);
const ru = await getJSON(b.port, '/v1/rules');
check(ru.current.origin === 'restored' && ru.current.rules.length === final.rules.length, 'restored set is whole');
const st = await getJSON(b.port, '/v1/state');
check(st.solve.rounds === 0, 'no solve has run yet');
const lastB = (await getJSON(b.port, '/v1/rules')).current;
await b.stop('SIGTERM');

// Restarted after that time to live: the persisted set has expired everywhere
// and is not served as new.
await sleep(Math.max(0, lastB.generated_ns / 1e6 + 1500 - Date.now()));
const e = await startController(args.controller, args.workdir, 'expired', [...common, '--solve-period-ms', '60000']);
const rue = await getJSON(e.port, '/v1/rules');
check(rue.current === null, `rules past their time to live are not served (${rue.current && rue.current.origin})`);
const loge = fs.readFileSync(path.join(args.workdir, 'expired.log'), 'utf8');
check(/past their time to live/.test(loge), 'the expiry is logged');
await e.stop('SIGTERM');

// A damaged file: refused, logged, and the controller still starts.
const f = path.join(stateDir, 'rules.bin');
const bytes = fs.readFileSync(f);
bytes[bytes.length - 3] ^= 0x40;
fs.writeFileSync(f, bytes);
const c = await startController(args.controller, args.workdir, 'third', [...common, '--solve-period-ms', '60000']);
const ru3 = await getJSON(c.port, '/v1/rules');
check(ru3.current === null, 'damaged rules are not served');
const log = fs.readFileSync(path.join(args.workdir, 'third.log'), 'utf8');
check(/checksum mismatch/.test(log), 'the damage is logged');
await c.stop('SIGTERM');
finish();
