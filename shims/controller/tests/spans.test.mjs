// Span admission over real HTTP: spans posted faster than the span table
// holds them for their stitch window are stitched as a sample of whole
// traces (a parent and its child, reported by different services, kept or
// left out together), counted in /metrics and shown in /v1/state; with
// --span-admit-fill 0 every span goes into the table and the full table
// pushes spans out before their window.
// SPDX-License-Identifier: Apache-2.0
import {
  check, encReport, finish, flatLatency, getJSON, parseArgs, parseMetrics, metric, request,
  startController,
} from './lib.mjs';

const args = parseArgs();
const TABLE = 256, FILL = 0.5, BATCH = 50, REPORTS = 40;

// One side of BATCH traces numbered from id0: the parents (frontend /a) or
// their children (backend /b).
function side(id0, child) {
  const spans = [];
  for (let k = 0; k < BATCH; k++) {
    const t = (id0 + k).toString(16).padStart(32, '0');
    const parent = (2 * (id0 + k) + 1).toString(16).padStart(16, '0');
    const own = (2 * (id0 + k) + 2).toString(16).padStart(16, '0');
    spans.push({ trace_id: t, span_id: child ? own : parent, parent_span_id: child ? parent : '',
      method: 'GET', path: child ? '/b' : '/a', start_ns: 1000000,
      end_ns: child ? 2000000 : 5000000, body_size: 100 });
  }
  return encReport({
    service: child ? 'backend' : 'frontend', region: 'west',
    pod: child ? 'backend-1' : 'frontend-1', sequence: id0 + 1 + (child ? 1 : 0),
    interval_ns: 1000000000,
    inbound: [{ method: 'GET', path: child ? '/b' : '/a', requests: BATCH, rate_rps: BATCH,
      latency: flatLatency(BATCH, child ? 1 : 5) }],
    spans,
  });
}

async function run(name, fill) {
  const ctl = await startController(args.controller, args.workdir, name, [
    '--solve-period-ms', '60000', '--stitch-window-ms', '10000', '--span-table', String(TABLE),
    '--span-admit-fill', String(fill), '--pod-reports-per-s', '0',
  ]);
  let ok = 0;
  for (let i = 0; i < REPORTS; i++) {
    for (const child of [false, true]) {
      const r = await request(ctl.port, { method: 'POST', path: '/v1/report',
        body: side(i * BATCH, child) });
      ok += r.status === 200;
    }
  }
  const text = (await request(ctl.port, { path: '/metrics' })).body.toString();
  const m = parseMetrics(text);
  check(m.errors.length === 0, `${name}: /metrics parses (${m.errors.slice(0, 3).join('; ')})`);
  const st = await getJSON(ctl.port, '/v1/state');
  const out = {
    ok,
    received: metric(m, 'slate_controller_spans_received_total'),
    shed: metric(m, 'slate_controller_spans_shed_total'),
    stitched: metric(m, 'slate_controller_spans_stitched_total'),
    ratio: metric(m, 'slate_controller_span_admit_ratio'),
    evicted: metric(m, 'slate_controller_overflow_total', { kind: 'span_evicted' }),
    state: st.stitching,
  };
  console.log(`${name}: ${JSON.stringify(out)}`);
  const { code } = await ctl.stop();
  check(code === 0, `${name}: exits 0 on SIGTERM`);
  return out;
}

const offered = 2 * BATCH * REPORTS;
const all = await run('spans-all', 0);
check(all.ok === 2 * REPORTS, 'fill 0: every report accepted');
check(all.received === offered, `fill 0: ${offered} spans received`);
check(all.shed === 0 && all.ratio === 1, 'fill 0: nothing shed, every trace admitted');
check(all.stitched === offered / 2, 'fill 0: every child stitched to its parent just posted');
check(all.evicted > 0, 'fill 0: the full table pushed spans out before their window');
check(all.state && all.state.admit_ratio === 1 && all.state.spans_shed === 0,
  'fill 0: /v1/state stitching shows admit_ratio 1, spans_shed 0');

const some = await run('spans-sampled', FILL);
check(some.ok === 2 * REPORTS, 'fill 0.5: every report accepted (shedding is not refusing)');
check(some.received === offered, `fill 0.5: ${offered} spans received`);
check(some.shed > 0 && some.shed < offered, 'fill 0.5: some spans shed, not all');
check(some.ratio > 0 && some.ratio < 1, 'fill 0.5: the admitted share of traces is below 1');
const taken = offered - some.shed;
// whole traces: an admitted child finds its admitted parent, except where the
// share moved between the parent's report and the child's
check(some.stitched <= taken / 2 && some.stitched >= taken / 2 - 2 * BATCH,
  `fill 0.5: admitted children found their parents (${some.stitched} of ${taken / 2})`);
check(some.evicted === 0, 'fill 0.5: no span left the table before its window');
// /metrics prints the share to 6 significant digits, /v1/state in full
check(some.state && some.state.admit_fill === FILL &&
  Math.abs(some.state.admit_ratio - some.ratio) <= 1e-5 * some.ratio &&
  some.state.spans_shed === some.shed,
  '/v1/state stitching shows the fill, the admitted share and the spans shed');
finish();
