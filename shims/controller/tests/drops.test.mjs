// The proxies' Drops counters and report sequence: counters are cumulative
// since a proxy started, so the controller adds their growth per pod; a
// falling sequence is a proxy restart (its counters count whole again); a
// pod first seen mid-life is a baseline; a repeated sequence adds nothing.
// Both show in /v1/state and /metrics.
// SPDX-License-Identifier: Apache-2.0
import {
  check, encReport, finish, flatLatency, getJSON, metric, parseArgs, parseMetrics, request,
  startController,
} from './lib.mjs';

const args = parseArgs();
const ctl = await startController(args.controller, args.workdir, 'drops', ['--solve-period-ms', '60000']);

async function post(pod, sequence, drops) {
  const body = encReport({ service: 'svc', region: 'west', pod, sequence,
    time_ns: BigInt(Date.now()) * 1000000n, interval_ns: 1000000000,
    inbound: [{ method: 'GET', path: '/a', requests: 10, rate_rps: 10, latency: flatLatency(10, 5) }],
    drops });
  const r = await request(ctl.port, { method: 'POST', path: '/v1/report', body });
  check(r.status === 200, `${pod} #${sequence} accepted (${r.status} ${r.body})`);
}

await post('p1', 1, { spans_dropped: 5 });                  // just started: +5
await post('p1', 2, { spans_dropped: 8, late_stamps: 2 });  // +3, +2
await post('p1', 2, { spans_dropped: 8, late_stamps: 2 });  // a repeat: +0
await post('p1', 1, { spans_dropped: 1 });                  // restarted: +1, one restart
await post('p2', 50, { spans_dropped: 100, rules_rejected: 7 }); // first seen mid-life: baseline
await post('p2', 51, { spans_dropped: 104, rules_rejected: 7 }); // +4

const st = await getJSON(ctl.port, '/v1/state');
const svc = st.services.find((s) => s.name === 'svc');
check(svc && svc.proxy_drops.spans_dropped === 13, `spans dropped differenced per pod: 5+3+1+4 (${svc && svc.proxy_drops.spans_dropped})`);
check(svc && svc.proxy_drops.late_stamps === 2, `late stamps (${svc && svc.proxy_drops.late_stamps})`);
check(svc && svc.proxy_drops.rules_rejected === 0, `a mid-life baseline is not counted (${svc && svc.proxy_drops.rules_rejected})`);
check(svc && svc.proxy_restarts === 1, `one proxy restart (${svc && svc.proxy_restarts})`);
const m = parseMetrics((await request(ctl.port, { path: '/metrics' })).body.toString());
check(m.errors.length === 0, 'metrics parse cleanly');
check(metric(m, 'slate_controller_proxy_drops_total', { kind: 'spans_dropped' }) === 13, 'drops in /metrics');
check(metric(m, 'slate_controller_proxy_drops_total', { kind: 'late_stamps' }) === 2, 'late stamps in /metrics');
check(metric(m, 'slate_controller_proxy_restarts_total') === 1, 'restarts in /metrics');
const { code } = await ctl.stop('SIGTERM');
check(code === 0, 'clean exit');
finish();
