// Network latency between regions measured from the reports, when no regions
// file is given: outbound latency to an endpoint in a region minus that
// endpoint's own latency there, relative to the caller's own region.
// SPDX-License-Identifier: Apache-2.0
import {
  check, encReport, finish, flatLatency, getJSON, parseArgs, request, sleep, startController,
} from './lib.mjs';

const args = parseArgs();
const ctl = await startController(args.controller, args.workdir, 'network', ['--solve-period-ms', '200']);
const post = async (rep) => {
  const r = await request(ctl.port, { method: 'POST', path: '/v1/report', body: encReport(rep) });
  if (r.status !== 200) throw new Error(`${r.status} ${r.body}`);
};
let st = null;
for (let i = 0; i < 40; i++) {
  for (const region of ['west', 'east'])
    await post({ service: 'b', region, pod: `b-${region}`, interval_ns: 100000000,
      inbound: [{ method: 'GET', path: '/v', requests: 10, latency: flatLatency(10, 10) }] });
  await post({ service: 'a', region: 'west', pod: 'a-west', interval_ns: 100000000,
    inbound: [{ method: 'GET', path: '/', requests: 20, latency: flatLatency(20, 50) }],
    outbound: [
      { dst_service: 'b', method: 'GET', path: '/v', dst_region: 'west', requests: 10, latency: flatLatency(10, 11) },
      { dst_service: 'b', method: 'GET', path: '/v', dst_region: 'east', requests: 10, latency: flatLatency(10, 41) },
    ] });
  await sleep(60);
  st = await getJSON(ctl.port, '/v1/state');
  if (st.window.count >= 4 && st.network.rtt_ms.length === 2 && st.network.rtt_ms[0][1] > 0) break;
}
const names = st.regions.map((r) => r.name);
const w = names.indexOf('west'), e = names.indexOf('east');
check(st.network.source === 'measured', 'network measured when no regions file is given');
check(Math.abs(st.network.rtt_ms[w][e] - 30) < 0.5,
  `west -> east: (41 - 10) - (11 - 10) = 30 ms (${st.network.rtt_ms[w][e]})`);
check(st.network.rtt_ms[w][w] === 0, 'within a region: 0');
check(st.network.rtt_ms[e][w] === 0, 'east -> west: not measured, 0');
const out = st.outbound.find((o) => o.dst_region === 'east');
check(out && out.caller_service === 'a' && Math.abs(out.latency_ms - 41) < 1e-6, 'outbound cell keeps the caller-side latency');
await ctl.stop('SIGTERM');
finish();
