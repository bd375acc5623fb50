// The cluster role relaying to the global role, as real processes: each
// region's proxies report to their cluster controller, which forwards one
// aggregated batch per tick to the global controller and answers its proxies
// with the global controller's rules (same version).
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import path from 'node:path';
import {
  check, finish, getJSON, parseArgs, parseMetrics, metric, request, sleep, startController,
} from './lib.mjs';
import { REGIONS_FILE, Scenario, westShare } from './scenario.mjs';

const args = parseArgs();
const regionsFile = path.join(args.workdir, 'regions.txt');
fs.writeFileSync(regionsFile, REGIONS_FILE);
const g = await startController(args.controller, args.workdir, 'global', ['--regions-file', regionsFile,
  '--solve-period-ms', '300', '--stitch-window-ms', '400', '--model-degree', '1',
  '--model-min-samples', '5', '--settle-ms', '0', '--rollback-samples', '1']);
const upstream = `http://127.0.0.1:${g.port}`;
const cw = await startController(args.controller, args.workdir, 'cluster-west', ['--role', 'cluster',
  '--region', 'west', '--upstream', upstream, '--forward-period-ms', '100']);
const ce = await startController(args.controller, args.workdir, 'cluster-east', ['--role', 'cluster',
  '--region', 'east', '--upstream', upstream, '--forward-period-ms', '100']);

const sc = new Scenario({ portOf: (r) => (r === 'west' ? cw.port : ce.port) });
let relayed = null;
for (let i = 0; i < 200 && !relayed; i++) {
  const answers = await sc.step();
  await sleep(sc.tickMs);
  const fe = answers.find((a) => a.region === 'west' && a.service === 'frontend');
  // Wait for rules that move traffic: the first sets can be all-local while
  // the global controller's models are still untrusted.
  if (fe && fe.rules.rules.length > 0 && westShare(fe.rules.rules) < 1) relayed = fe.rules;
}
check(relayed !== null, 'a proxy behind the west cluster controller gets rules that move traffic');
if (relayed) {
  const gr = await getJSON(g.port, '/v1/rules');
  check(relayed.version <= BigInt(gr.current.version) && relayed.version > 0n,
    `relayed version ${relayed.version} comes from the global controller (now v${gr.current.version})`);
  check(relayed.rules.every((r) => r.src_region === 'west'), 'only west rules relayed to a west proxy');
  const share = westShare(relayed.rules);
  check(share !== null && share < 1, `relayed routing sends some west calls east (west share ${share})`);
}
// The global controller saw one aggregated reporter per service and cluster.
{
  const st = await getJSON(g.port, '/v1/state');
  const fe = st.services.find((s) => s.name === 'frontend');
  check(fe && fe.regions.length === 2, 'global knows the frontend in both regions');
  const edge = st.call_graph.find((e) => e.parent.service === 'frontend' && e.child.service === 'backend');
  check(edge && Math.abs(edge.calls_per_request - 1) < 0.2, `spans forwarded and stitched at the global controller (${edge && edge.calls_per_request})`);
  const west = fe.regions.find((r) => r.region === 'west');
  check(west && west.pods_estimate === 1, 'one aggregated reporter per cluster');
  const m = parseMetrics((await request(g.port, { path: '/metrics' })).body.toString());
  // At least one batch from each cluster; how many depends on how fast the
  // rules converged, which a loaded machine changes.
  const batches = metric(m, 'slate_controller_reports_received_total', { format: 'protobuf_batch' });
  check(batches >= 2, `global received batches (${batches})`);
  check(metric(m, 'slate_controller_reports_received_total', { format: 'protobuf' }) === 0, 'no proxy talked to the global controller');
  const mc = parseMetrics((await request(cw.port, { path: '/metrics' })).body.toString());
  const fwd = metric(mc, 'slate_controller_forwards_total', { outcome: 'ok' });
  check(fwd >= 2, `cluster forwards succeeded (${fwd})`);
  check(mc.errors.length === 0, 'cluster metrics parse');
  const cs = await getJSON(cw.port, '/v1/state');
  check(cs.controller.role === 'cluster' && cs.cluster.region === 'west' && cs.cluster.forwards_ok >= fwd, 'cluster state JSON');
}
// While the global controller is down the cluster keeps answering with the
// last rules it relayed: two answers 400 ms (four failed forwards) apart are
// the same set, no older than what it served before the kill.
const ruleText = (r) => JSON.stringify(r, (k, v) => (typeof v === 'bigint' ? v.toString() : v));
const westFe = (ans) => ans.find((a) => a.region === 'west' && a.service === 'frontend');
const before = westFe(await sc.step());
await g.stop('SIGKILL');
const fe = westFe(await sc.step());
await sleep(400);
const fe2 = westFe(await sc.step());
check(fe && fe2 && before && fe.rules.version >= before.rules.version &&
  fe2.rules.version === fe.rules.version && ruleText(fe2.rules.rules) === ruleText(fe.rules.rules) &&
  (fe.rules.version !== before.rules.version || ruleText(fe.rules.rules) === ruleText(before.rules.rules)),
  `cluster keeps serving its last rules while the global controller is down (v${fe && fe.rules.version})`);
const mc = parseMetrics((await request(cw.port, { path: '/metrics' })).body.toString());
check(metric(mc, 'slate_controller_forwards_total', { outcome: 'failed' }) >= 1, 'failed forwards counted');
const c1 = await cw.stop('SIGTERM');
const c2 = await ce.stop('SIGTERM');
check(c1.code === 0 && c2.code === 0, 'cluster controllers exit cleanly');
finish();
