// A two-region, two-service application for the process tests: a frontend
// (GET /home, the entry) calls a backend (GET /api/items/<id>) once per
// request; each tick every proxy reports load, latency and sampled spans.
// The backend's self time is 1 + 0.1 x load ms, the frontend's 2 ms; the
// regions are 5 ms apart, so the optimum sends part of west's calls east.
// SPDX-License-Identifier: Apache-2.0
import { encReport, flatLatency, request, decodeRules } from './lib.mjs';

const hex = (n, w) => n.toString(16).padStart(w, '0');

export class Scenario {
  constructor({ tickMs = 100, portOf, traceBase = 0 }) {
    this.tickMs = tickMs;
    this.portOf = portOf; // (region) -> port the region's proxies report to
    this.load = { west: 100, east: 10 };
    this.feLatencyMs = 20;
    this.tick = 0;
    this.traceNo = traceBase;
  }

  reports(region) {
    const now = BigInt(Date.now()) * 1000000n;
    const fe = this.load[region];
    const be = fe * (1 + 0.2 * Math.sin(this.tick / 3));
    const xtBe = 1 + 0.1 * be;
    const feSpans = [], beSpans = [];
    for (let k = 0; k < 4; k++) {
      const t = ++this.traceNo;
      const trace = hex(t, 32), feSpan = hex(t * 2, 16), beSpan = hex(t * 2 + 1, 16);
      const start = now - 50000000n, beStart = start + 1000000n;
      const beEnd = beStart + BigInt(Math.round(xtBe * 1e6));
      const bePath = `/api/items/${1000 + (t % 50)}`;
      feSpans.push({ trace_id: trace, span_id: feSpan, parent_span_id: '', method: 'GET',
        path: '/home', start_ns: start, end_ns: beEnd + 1000000n, body_size: 0,
        load: [{ method: 'GET', path: '/home', rps: fe }] });
      beSpans.push({ trace_id: trace, span_id: beSpan, parent_span_id: feSpan, method: 'GET',
        path: bePath, start_ns: beStart, end_ns: beEnd, body_size: 300,
        load: [{ method: 'GET', path: bePath, rps: be }] });
    }
    const reqs = Math.round(fe * this.tickMs / 1000), beReqs = Math.round(be * this.tickMs / 1000);
    const iv = this.tickMs * 1000000;
    return [
      { service: 'frontend', body: encReport({ service: 'frontend', region, pod: `fe-${region}`,
        sequence: this.tick, time_ns: now, interval_ns: iv,
        inbound: [{ method: 'GET', path: '/home', requests: reqs, rate_rps: fe,
          latency: flatLatency(reqs, this.feLatencyMs) }],
        outbound: [{ dst_service: 'backend', method: 'GET', path: '/api/items/1',
          dst_region: region, requests: reqs, latency: flatLatency(reqs, xtBe + 0.5) }],
        spans: feSpans }) },
      { service: 'backend', body: encReport({ service: 'backend', region, pod: `be-${region}`,
        sequence: this.tick, time_ns: now, interval_ns: iv,
        inbound: [{ method: 'GET', path: `/api/items/${this.tick}`, requests: beReqs,
          rate_rps: be, latency: flatLatency(beReqs, xtBe) }],
        spans: beSpans }) },
    ];
  }

  // Sends one tick; returns the decoded answers [{region, service, rules}].
  async step() {
    this.tick++;
    const answers = [];
    for (const region of ['west', 'east']) {
      const reps = this.reports(region);
      if (this.tick % 2) reps.reverse();
      for (const rep of reps) {
        const r = await request(this.portOf(region), { method: 'POST', path: '/v1/report', body: rep.body });
        if (r.status !== 200) throw new Error(`report rejected: ${r.status} ${r.body}`);
        answers.push({ region, service: rep.service, rules: decodeRules(r.body) });
      }
    }
    return answers;
  }
}

export const REGIONS_FILE = '# test topology\nregion west\nregion east\nlink west east 5 0.00000002\n';

export function westShare(rules) {
  const r = rules.find((x) => x.src_region === 'west' && x.dst_service === 'backend');
  if (!r) return null;
  const total = r.targets.reduce((a, t) => a + t.weight, 0);
  const w = r.targets.find((t) => t.region === 'west');
  return w ? w.weight / total : 0;
}
