'use strict';
// The simulated application, driven through the real data plane: every
// (service, region) is a sidecar (a proxy-wasm Host running the libslate
// module in several worker VMs plus its reporter singleton), every call goes
// through the caller sidecar's outbound filter (whose x-slate-routeto header
// picks the region that serves it) and the callee sidecar's inbound filter.
// Service times follow each service's queueing curve of its current load in
// that region; remote calls pay the round trip. All times are the shared
// virtual clock's.

const scenario = require('./scenario.js');

const { REGIONS, RTT_MS, SERVICES, ROOT } = scenario;

const INBOUND = { listener_direction: 1 }; // Envoy's listener direction property
const OUTBOUND = { listener_direction: 2 };
const MS = 1e6;

/** A small deterministic PRNG (mulberry32) with a normal draw. */
class Prng {
  constructor(seed) { this.s = seed >>> 0; this.spare = null; }
  next() {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal() {
    if (this.spare !== null) { const v = this.spare; this.spare = null; return v; }
    let u = 0, v = 0, s = 0;
    do { u = 2 * this.next() - 1; v = 2 * this.next() - 1; s = u * u + v * v; } while (s >= 1 || s === 0);
    const m = Math.sqrt(-2 * Math.log(s) / s);
    this.spare = v * m;
    return u * m;
  }
  exp(rate) { return -Math.log(1 - this.next()) / rate; }
}

/** 32-bit finaliser (murmur3's fmix32). */
function mix32(h) {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hex64(hi, lo) {
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** The trace id of request `i` entering `region` (the same in every policy's run). */
function traceId(seed, region, i) {
  const k = REGIONS.indexOf(region);
  const hi = mix32((seed * 0x9e3779b1) ^ (k * 0x7f4a7c15) ^ 0x1234567);
  const lo = mix32(hi ^ mix32(i + 1));
  return hex64(mix32(hi ^ i), lo || 1);
}

/**
 * Arrival times (ns) of user requests at each region's ingress: a
 * non-homogeneous Poisson process following scenario.loadRps, by thinning.
 * Generated once and replayed identically under every policy.
 */
function arrivals(seed, durationS) {
  const out = {};
  for (const r of REGIONS) {
    const rng = new Prng(mix32(seed ^ mix32(REGIONS.indexOf(r) + 17)));
    const max = scenario.maxLoadRps(r);
    const list = [];
    let t = 0;
    for (;;) {
      t += rng.exp(max);
      if (t >= durationS) break;
      if (rng.next() * max < scenario.loadRps(r, t, durationS)) list.push(Math.round(t * 1e9));
    }
    out[r] = list;
  }
  return out;
}

/** Arrivals in a trailing window, in buckets: the load a service sees now. */
class LoadMeter {
  constructor(windowNs = 1e9, buckets = 20) {
    this.width = windowNs / buckets;
    this.n = buckets;
    this.counts = new Float64Array(buckets);
    this.stamp = new Float64Array(buckets).fill(-1);
    this.windowS = windowNs / 1e9;
  }
  _slot(t) {
    const b = Math.floor(t / this.width);
    const i = b % this.n;
    if (this.stamp[i] !== b) { this.stamp[i] = b; this.counts[i] = 0; }
    return i;
  }
  add(t) { this.counts[this._slot(t)]++; }
  /** Requests per second over the window ending at t. */
  rate(t) {
    const b = Math.floor(t / this.width);
    let sum = 0;
    for (let i = 0; i < this.n; i++) if (this.stamp[i] > b - this.n && this.stamp[i] <= b) sum += this.counts[i];
    const span = Math.min(this.windowS, Math.max(t / 1e9, this.width / 1e9));
    return sum / span;
  }
}

/**
 * One policy's copy of the application: 4 services x 3 regions sidecars on
 * the shared scheduler, reporting to that policy's controller.
 */
class World {
  /**
   * opts: name, scheduler, Host (the host class), filterModule and
   * reporterModule (wasm paths or WebAssembly.Modules), controllerUrl, workers (per sidecar), seed,
   * samplingRate, tickMs, rulesTtlMs, httpTimeoutMs, metrics (a Metrics),
   * logSink(entry, sidecar)
   */
  constructor(opts) {
    this.opts = opts;
    this.name = opts.name;
    this.metrics = opts.metrics;
    this.noise = new Prng(mix32(opts.seed ^ 0x5bd1e995));
    this.sidecars = {};
    this.meters = {};
    this.spanSeq = 0;
    this.bodies = new Map();
    this.inflight = 0;
    this.badRoutes = 0;
    for (const svc of Object.keys(SERVICES)) {
      this.sidecars[svc] = {};
      this.meters[svc] = {};
      for (const r of REGIONS) {
        this.sidecars[svc][r] = this._sidecar(svc, r);
        this.meters[svc][r] = new LoadMeter();
      }
    }
  }

  _sidecar(svc, region) {
    const o = this.opts;
    const sc = { service: svc, region, name: `${svc}@${region}` };
    sc.host = new o.Host({
      scheduler: o.scheduler,
      seed: `${o.seed}/${svc}/${region}`,
      clusters: { controller: { url: o.controllerUrl, latencyMs: 1 } },
      logLevel: o.logLevel,
      logSink: o.logSink ? (e) => o.logSink(e, sc) : null,
    });
    const base = {
      service: svc,
      region,
      pod: `${svc}-${region}-0`,
      tick_ms: o.tickMs,
      trace_sampling_rate: o.samplingRate,
      rules_ttl_ms: o.rulesTtlMs,
    };
    // Workers and the reporter share data and a queue through their vm_id,
    // as Envoy's worker VMs and its singleton service do.
    sc.workers = sc.host.addWorkers(o.workers, {
      module: o.filterModule, rootId: 'slate_filter', vmId: 'slate', configuration: JSON.stringify(base),
    });
    sc.reporter = sc.host.addSingleton({
      module: o.reporterModule, rootId: 'slate_reporter', vmId: 'slate',
      configuration: JSON.stringify(Object.assign({}, base, {
        controller_cluster: 'controller', http_timeout_ms: o.httpTimeoutMs,
      })),
    });
    for (const vm of sc.host.vms) {
      const root = vm.root();
      if (vm.failed || (root && root.configured === false)) {
        const why = vm.failure ? vm.failure.message : vm.logs.map((l) => l.message).join('; ');
        throw new Error(`${sc.name}: the module did not start: ${why || 'configure failed'}`);
      }
    }
    return sc;
  }

  _body(n) {
    let b = this.bodies.get(n);
    if (!b) { b = Buffer.alloc(n, 0x61); this.bodies.set(n, b); }
    return b;
  }

  _span(trace) {
    this.spanSeq = (this.spanSeq + 1) >>> 0;
    return hex64(mix32(parseInt(trace.slice(0, 8), 16) ^ this.spanSeq), mix32(this.spanSeq) || 1);
  }

  /** Schedules the user requests of every region (shared arrival lists). */
  schedule(arrivalLists) {
    for (const r of REGIONS) {
      const list = arrivalLists[r];
      const host = this.sidecars[ROOT][r].host;
      let i = 0;
      const next = () => {
        const t = list[i];
        this._request(r, i, t);
        i++;
        if (i < list.length) host.schedule(list[i], next);
      };
      if (list.length) host.schedule(list[0], next);
    }
  }

  _request(region, i, t0) {
    const trace = traceId(this.opts.seed, region, i);
    const req = { region, t0, calls: 0, remote: 0, egressUsd: 0, egressBytes: 0 };
    this.inflight++;
    const span = this._span(trace);
    const headers = {
      ':method': SERVICES[ROOT].endpoint.method, ':path': SERVICES[ROOT].endpoint.path,
      ':authority': ROOT, ':scheme': 'https', 'x-b3-traceid': trace, 'x-b3-spanid': span,
    };
    this._serve(region, ROOT, headers, 0, t0, trace, span, req, (tEnd) => {
      this.inflight--;
      this.metrics.request(this.name, req, tEnd);
    });
  }

  /** Inbound at svc@region at time t (inside an event at t); done(tEnd) runs at tEnd. */
  _serve(region, svc, headers, reqBytes, t, trace, span, req, done) {
    const sc = this.sidecars[svc][region];
    const s = SERVICES[svc];
    const st = sc.host.nextWorker().newStream({ properties: INBOUND });
    st.requestHeaders(headers, reqBytes === 0);
    if (reqBytes) st.requestBody(this._body(reqBytes), true);
    const meter = this.meters[svc][region];
    meter.add(t);
    const load = meter.rate(t);
    const sigma = 0.25;
    const selfMs = scenario.serviceTimeMs(svc, load) * Math.exp(sigma * this.noise.normal() - sigma * sigma / 2);
    this.metrics.serviceSample(this.name, svc, region, t, load, selfMs);
    const finish = (tEnd) => {
      st.responseHeaders({ ':status': '200', 'content-type': 'application/json' }, true);
      st.complete();
      done(tEnd);
    };
    const step = (k, tk) => {
      if (k === s.calls.length) { finish(tk); return; }
      this._call(sc, s.calls[k], trace, span, tk, req, (tEnd) => step(k + 1, tEnd));
    };
    const tSelf = t + Math.max(0.05, selfMs) * MS;
    sc.host.schedule(tSelf, () => step(0, tSelf));
  }

  /** An outbound call from caller sidecar `sc` at time t (inside an event at t). */
  _call(sc, c, trace, parentSpan, t, req, done) {
    const st = sc.host.nextWorker().newStream({ properties: OUTBOUND });
    const span = this._span(trace);
    const headers = {
      ':method': c.method, ':path': c.path, ':authority': c.service, ':scheme': 'https',
      'x-b3-traceid': trace, 'x-b3-spanid': span, 'x-b3-parentspanid': parentSpan,
    };
    st.requestHeaders(headers, true);
    // The mesh routes on the header the filter set (a VirtualService matching
    // it to per-region subsets); no header or an unknown region stays local.
    let dst = st.request.headers.get('x-slate-routeto');
    if (dst === undefined) dst = sc.region;
    else if (!RTT_MS[dst]) { this.badRoutes++; dst = sc.region; }
    const oneWay = RTT_MS[sc.region][dst] / 2 * MS;
    const remote = dst !== sc.region;
    req.calls++;
    if (remote) {
      req.remote++;
      req.egressUsd += scenario.callEgressUsd(sc.region, dst, c.reqBytes, c.respBytes);
      req.egressBytes += c.reqBytes + c.respBytes;
    }
    this.metrics.call(this.name, sc.service, sc.region, c.service, dst, t);
    const inHeaders = Object.assign({}, headers);
    if (dst !== sc.region || st.request.headers.get('x-slate-routeto') !== undefined) inHeaders['x-slate-routeto'] = dst;
    const dstHost = this.sidecars[c.service][dst].host;
    dstHost.schedule(t + oneWay, () => {
      this._serve(dst, c.service, inHeaders, c.reqBytes, t + oneWay, trace, span, req, (tEnd) => {
        const tBack = tEnd + oneWay;
        sc.host.schedule(tBack, () => {
          st.responseHeaders({ ':status': '200', 'content-length': String(c.respBytes) }, true);
          st.complete();
          done(tBack);
        });
      });
    });
  }

  /** Every sidecar, flat. */
  allSidecars() {
    const out = [];
    for (const svc of Object.keys(this.sidecars)) for (const r of REGIONS) out.push(this.sidecars[svc][r]);
    return out;
  }
}

module.exports = { World, LoadMeter, Prng, arrivals, traceId, mix32 };
