'use strict';
// What the demo measures, per policy: every user request's end-to-end
// latency, calls, remote calls and egress; per second, which region served
// each kind of call and the load and service time of every (service, region).

const { REGIONS } = require('./scenario.js');

/** Quantile q of a sorted array (nearest rank). */
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[k];
}

class Series {
  constructor() { this.requests = []; this.calls = new Map(); this.services = new Map(); }
}

class Metrics {
  constructor() { this.worlds = new Map(); }

  _w(name) {
    let s = this.worlds.get(name);
    if (!s) { s = new Series(); this.worlds.set(name, s); }
    return s;
  }

  /** A user request finished at tEnd (ns). */
  request(world, req, tEnd) {
    this._w(world).requests.push({
      t0: req.t0, region: req.region, latencyMs: (tEnd - req.t0) / 1e6,
      calls: req.calls, remote: req.remote, egressUsd: req.egressUsd, egressBytes: req.egressBytes,
    });
  }

  /** A call from callerSvc in callerRegion to dstSvc, served in dstRegion, at t (ns). */
  call(world, callerSvc, callerRegion, dstSvc, dstRegion, t) {
    const m = this._w(world).calls;
    const key = `${callerSvc}>${dstSvc}@${callerRegion}`;
    let perSec = m.get(key);
    if (!perSec) { perSec = []; m.set(key, perSec); }
    const sec = Math.floor(t / 1e9);
    while (perSec.length <= sec) perSec.push(null);
    if (!perSec[sec]) perSec[sec] = Object.fromEntries(REGIONS.map((r) => [r, 0]));
    perSec[sec][dstRegion]++;
  }

  /** svc in region served a request at t under load (rps), taking selfMs. */
  serviceSample(world, svc, region, t, load, selfMs) {
    const m = this._w(world).services;
    const key = `${svc}@${region}`;
    let perSec = m.get(key);
    if (!perSec) { perSec = []; m.set(key, perSec); }
    const sec = Math.floor(t / 1e9);
    while (perSec.length <= sec) perSec.push(null);
    const b = perSec[sec] || (perSec[sec] = { n: 0, load: 0, selfMs: 0 });
    b.n++; b.load += load; b.selfMs += selfMs;
  }

  /**
   * Summary of requests that arrived in [fromNs, toNs): count, mean, p50 and
   * p99 latency (ms), share of calls served in another region, egress bytes
   * and dollars, dollars per million requests.
   */
  summary(world, fromNs = 0, toNs = Infinity) {
    const reqs = this._w(world).requests.filter((r) => r.t0 >= fromNs && r.t0 < toNs);
    const lat = reqs.map((r) => r.latencyMs).sort((a, b) => a - b);
    let sum = 0, calls = 0, remote = 0, usd = 0, bytes = 0;
    for (const r of reqs) { sum += r.latencyMs; calls += r.calls; remote += r.remote; usd += r.egressUsd; bytes += r.egressBytes; }
    const n = reqs.length;
    return {
      requests: n,
      meanMs: n ? sum / n : NaN,
      p50Ms: quantile(lat, 0.5),
      p99Ms: quantile(lat, 0.99),
      remoteShare: calls ? remote / calls : 0,
      egressGB: bytes / 1e9,
      egressUsd: usd,
      usdPerMillion: n ? usd / n * 1e6 : 0,
    };
  }

  /** Per-second mean and p99 latency of requests by arrival second: [{t, n, meanMs, p99Ms}]. */
  latencySeries(world, region = null) {
    const by = [];
    for (const r of this._w(world).requests) {
      if (region && r.region !== region) continue;
      const s = Math.floor(r.t0 / 1e9);
      (by[s] || (by[s] = [])).push(r.latencyMs);
    }
    const out = [];
    for (let s = 0; s < by.length; s++) {
      const l = by[s];
      if (!l || !l.length) continue;
      l.sort((a, b) => a - b);
      out.push({ t: s, n: l.length, meanMs: l.reduce((a, b) => a + b, 0) / l.length, p99Ms: quantile(l, 0.99) });
    }
    return out;
  }

  /** Per-second share of the calls of `key` (caller>callee@region) served in each region. */
  routingSeries(world, key) {
    const perSec = this._w(world).calls.get(key) || [];
    const out = [];
    for (let s = 0; s < perSec.length; s++) {
      const b = perSec[s];
      if (!b) continue;
      let n = 0;
      for (const r of REGIONS) n += b[r];
      if (!n) continue;
      out.push({ t: s, n, share: Object.fromEntries(REGIONS.map((r) => [r, b[r] / n])) });
    }
    return out;
  }

  /** Per-second mean load (rps) and service time (ms) of svc in region. */
  serviceSeries(world, svc, region) {
    const perSec = this._w(world).services.get(`${svc}@${region}`) || [];
    const out = [];
    for (let s = 0; s < perSec.length; s++) {
      const b = perSec[s];
      if (b) out.push({ t: s, loadRps: b.load / b.n, selfMs: b.selfMs / b.n });
    }
    return out;
  }
}

module.exports = { Metrics, quantile };
