// A model gets samples of its own kind. A service's spans wait up to the 3 s
// stitch window for relatives while windows close every 300 ms: those
// windows' mean latency (20 ms as its proxy measured it) must not go into the
// model of the endpoint's own time, which comes from its spans (2 ms).
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import path from 'node:path';
import {
  check, encReport, finish, flatLatency, getJSON, parseArgs, request, sleep, startController,
} from './lib.mjs';
import { REGIONS_FILE } from './scenario.mjs';

const args = parseArgs();
const regionsFile = path.join(args.workdir, 'regions.txt');
fs.writeFileSync(regionsFile, REGIONS_FILE);
const ctl = await startController(args.controller, args.workdir, 'models', [
  '--regions-file', regionsFile, '--solve-period-ms', '300', '--stitch-window-ms', '3000',
  '--model-degree', '1', '--model-min-samples', '5',
]);

const TICK_MS = 100;
let tick = 0;
const hex = (n, w) => n.toString(16).padStart(w, '0');
async function step() {
  tick++;
  const now = BigInt(Date.now()) * 1000000n;
  const rps = 50 + 30 * Math.sin(tick / 4);
  const reqs = Math.round(rps * TICK_MS / 1000);
  const spans = [];
  for (let k = 0; k < 2; k++) {
    const t = tick * 4 + k;
    spans.push({ trace_id: hex(t, 32), span_id: hex(t, 16), parent_span_id: '', method: 'GET',
      path: '/leaf', start_ns: now - 10000000n, end_ns: now - 8000000n, body_size: 0,
      load: [{ method: 'GET', path: '/leaf', rps }] });
  }
  const body = encReport({ service: 'leaf', region: 'west', pod: 'leaf-1', sequence: tick,
    time_ns: now, interval_ns: TICK_MS * 1000000,
    inbound: [{ method: 'GET', path: '/leaf', requests: reqs, rate_rps: rps,
      latency: flatLatency(reqs, 20) }],
    spans });
  const r = await request(ctl.port, { method: 'POST', path: '/v1/report', body });
  if (r.status !== 200) throw new Error(`report rejected: ${r.status} ${r.body}`);
  await sleep(TICK_MS);
}

async function model() {
  const st = await getJSON(ctl.port, '/v1/state');
  const svc = st.services.find((s) => s.name === 'leaf');
  const cell = svc && svc.endpoints[0].regions.find((r) => r.region === 'west');
  return { model: cell ? cell.model : null, rounds: st.solve.rounds };
}

// Before any span leaves the stitch window: windows closed, none fed the model.
for (let i = 0; i < 12; i++) await step();
const early = await model();
check(early.rounds >= 2, `windows closed before the first span was stitched (${early.rounds})`);
check(early.model && early.model.samples === 0,
  `no window mean went into the self-time model (${early.model && early.model.samples} samples, a=${early.model && early.model.a_ms})`);

// After the stitch window: the model holds the spans' time only.
let m = null;
for (let i = 0; i < 60; i++) {
  await step();
  m = (await model()).model;
  if (m && m.samples >= 20) break;
}
check(m && m.samples >= 20, `spans went into the model (${m && m.samples} samples)`);
for (const x of [30, 50, 80]) {
  const pred = m ? m.a_ms + m.b_ms_per_rps * x + m.c_ms_per_rps2 * x * x : NaN;
  check(Math.abs(pred - 2) < 0.25, `at ${x} rps the model predicts the spans' 2 ms, not the window's 20 ms (${pred})`);
}
const { code } = await ctl.stop('SIGTERM');
check(code === 0, 'clean exit');
finish();
