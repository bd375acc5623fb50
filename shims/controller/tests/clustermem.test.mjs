// The cluster role under a flood of names, then idle: its memory is bounded
// while the flood lasts and handed back once the load falls (the arrays of a
// window are freed after each forward, and services that stop reporting are
// forgotten), instead of staying at the flood's peak.
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import {
  check, encReport, finish, flatLatency, getJSON, parseArgs, request, sleep, startController,
} from './lib.mjs';

const args = parseArgs();
const g = await startController(args.controller, args.workdir, 'global', ['--solve-period-ms', '1000']);
const cl = await startController(args.controller, args.workdir, 'cluster', ['--role', 'cluster',
  '--region', 'west', '--upstream', `http://127.0.0.1:${g.port}`, '--forward-period-ms', '200']);
const kb = (field) => parseInt(new RegExp(`${field}:\\s+(\\d+)`).exec(
  fs.readFileSync(`/proc/${cl.proc.pid}/status`, 'utf8'))[1], 10);

const start = kb('VmRSS');
// 250 services x 100 endpoints with latency histograms, twice over.
for (let round = 0; round < 2; round++)
  for (let i = 0; i < 250; i++) {
    const r = await request(cl.port, { method: 'POST', path: '/v1/report', body: encReport({
      service: `flood${i}`, region: 'west', pod: `p${i}-${round}`, interval_ns: 1e9,
      inbound: Array.from({ length: 100 }, (_, k) => ({ method: 'GET', path: `/w${k}`, requests: 1,
        latency: flatLatency(1, 1 + k) })) }) });
    if (r.status !== 200) throw new Error(`${r.status} ${r.body}`);
  }
const peak = kb('VmHWM');
await sleep(1500); // several forward periods without a report
const idle = kb('VmRSS');
console.log(`cluster RSS: start ${start} kB, peak ${peak} kB, idle ${idle} kB`);
const st = await getJSON(cl.adminPort, '/v1/state');
check(st.controller.role === 'cluster', 'cluster state still served');
check(st.cluster.pending.length === 0, `services that stopped reporting forgotten (${st.cluster.pending.length} left)`);
if (process.env.SLATE_SANITIZED) {
  // AddressSanitizer keeps freed blocks in quarantine and has its own
  // allocator, so RSS cannot show memory handed back; the gcc build checks it.
  console.log('RSS checks: the gcc build makes them (a sanitizer build holds freed memory)');
} else {
  check(peak - start < 400 * 1024, `peak growth under the flood bounded (${peak - start} kB)`);
  check(idle - start < (peak - start) / 2,
    `memory handed back when idle (start ${start} kB, peak ${peak} kB, idle ${idle} kB)`);
}
finish([cl.proc, g.proc]);
