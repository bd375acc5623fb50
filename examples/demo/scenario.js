'use strict';
// The demo's application and load: three regions, their round trips and
// egress prices, a four-service call tree, each service's queueing curve, and
// the load trace that pushes one region past its capacity. Pure data and pure
// functions: no I/O, no clock, so the tests can check them directly.

/** Regions, in the order the report and the controller's files list them. */
const REGIONS = ['us-west', 'us-east', 'eu-west'];

/**
 * Round-trip times between regions, milliseconds (public cloud inter-region
 * medians of the right order: the two US regions ~60 ms apart, Europe 76 ms
 * from the US east coast and 138 ms from the west coast). A call inside a
 * region pays 0.4 ms.
 */
const RTT_MS = {
  'us-west': { 'us-west': 0.4, 'us-east': 62, 'eu-west': 138 },
  'us-east': { 'us-west': 62, 'us-east': 0.4, 'eu-west': 76 },
  'eu-west': { 'us-west': 138, 'us-east': 76, 'eu-west': 0.4 },
};

/**
 * Egress price per GB sent from one region to another, US dollars (list
 * prices of the usual order: inside a continent $0.02, across the Atlantic
 * $0.05, inside a region free).
 */
const PRICE_PER_GB = {
  'us-west': { 'us-west': 0, 'us-east': 0.02, 'eu-west': 0.05 },
  'us-east': { 'us-west': 0.02, 'us-east': 0, 'eu-west': 0.05 },
  'eu-west': { 'us-west': 0.05, 'us-east': 0.05, 'eu-west': 0 },
};

/**
 * The call tree. Every user request enters the ingress gateway of its
 * region, which calls the frontend; the frontend calls `recommend` once and
 * `catalog` twice, one after the other. Each service runs in every region
 * with the same capacity `mu` (requests per second it can serve) and the
 * same unloaded service time `baseMs`. Calls carry a request body and a
 * response eight times larger.
 */
const SERVICES = {
  ingress: {
    baseMs: 0.5,
    mu: 2500,
    endpoint: { method: 'GET', path: '/' },
    calls: [{ service: 'frontend', method: 'GET', path: '/home', reqBytes: 2048, respBytes: 16384 }],
  },
  frontend: {
    baseMs: 6,
    mu: 250,
    endpoint: { method: 'GET', path: '/home' },
    calls: [
      { service: 'recommend', method: 'GET', path: '/recommend', reqBytes: 1024, respBytes: 8192 },
      { service: 'catalog', method: 'GET', path: '/products', reqBytes: 4096, respBytes: 32768 },
      { service: 'catalog', method: 'GET', path: '/products', reqBytes: 4096, respBytes: 32768 },
    ],
  },
  recommend: { baseMs: 8, mu: 250, endpoint: { method: 'GET', path: '/recommend' }, calls: [] },
  catalog: { baseMs: 10, mu: 160, endpoint: { method: 'GET', path: '/products' }, calls: [] },
};

/** The root of the call tree (where user requests enter). */
const ROOT = 'ingress';

/**
 * The capacity the operators declare to the controller (its regions file):
 * the load a service takes before its latency passes about six times its
 * unloaded time, 85% of what it can serve at all. Waterfall fills a region up
 * to it; the optimiser never plans past it.
 */
const DECLARED_UTILISATION = 0.85;

/**
 * Service time multiplier at utilisation rho (load / mu): the M/M/1 mean
 * response time 1/(1-rho) up to rho = 0.9, continued past it along its
 * tangent (so it stays convex and finite when a region is overloaded), capped
 * at 60x (where a real client would time out and retry).
 */
function queueingFactor(rho) {
  if (!(rho > 0)) return 1;
  if (rho <= 0.9) return 1 / (1 - rho);
  return Math.min(60, 10 + 100 * (rho - 0.9));
}

/**
 * Mean service time in milliseconds of `service` under `loadRps` requests
 * per second in one region.
 */
function serviceTimeMs(service, loadRps) {
  const s = SERVICES[service];
  return s.baseMs * queueingFactor(loadRps / s.mu);
}

/**
 * Phases of the load trace, as fractions of the run: warm-up (every region
 * at its base load, with a slow swell so the controller sees a range of
 * loads), a ramp of us-west to 1.9x its base, the overload, and recovery.
 */
const PHASES = [
  { name: 'warm-up', from: 0, to: 0.25 },
  { name: 'ramp', from: 0.25, to: 0.4 },
  { name: 'overload', from: 0.4, to: 0.85 },
  { name: 'recovery', from: 0.85, to: 1 },
];

/** Base load per region (user requests per second at its ingress). */
const BASE_RPS = { 'us-west': 50, 'us-east': 40, 'eu-west': 35 };
/** us-west's peak load: catalog there then needs 190 of its 160 calls/s. */
const PEAK_RPS = 95;
const OVERLOADED = 'us-west';

function phaseAt(frac) {
  for (const p of PHASES) if (frac >= p.from && frac < p.to) return p.name;
  return PHASES[PHASES.length - 1].name;
}

/**
 * User requests per second entering `region` at time `tS` of a run lasting
 * `durationS` seconds.
 */
function loadRps(region, tS, durationS) {
  const f = tS / durationS;
  // A gentle swell (+-8%), out of phase per region, so each service is seen
  // at several loads before the overload.
  const k = REGIONS.indexOf(region);
  const swell = 1 + 0.08 * Math.sin(2 * Math.PI * (tS / Math.max(durationS / 3, 1)) + k * 2.1);
  const base = BASE_RPS[region] * swell;
  if (region !== OVERLOADED) return base;
  const ramp = PHASES[1], over = PHASES[2];
  let peak;
  if (f < ramp.from) peak = 0;
  else if (f < ramp.to) peak = (f - ramp.from) / (ramp.to - ramp.from);
  else if (f < over.to) peak = 1;
  else peak = Math.max(0, 1 - (f - over.to) / 0.05);
  return base + peak * (PEAK_RPS - BASE_RPS[region]);
}

/** Highest rate loadRps can return for a region (for thinning). */
function maxLoadRps(region) {
  return (region === OVERLOADED ? PEAK_RPS : BASE_RPS[region]) * 1.1;
}

/** Calls per user request that reach each service (1 for the root). */
function callsPerRequest() {
  const out = { [ROOT]: 1 };
  const walk = (svc, mult) => {
    for (const c of SERVICES[svc].calls) {
      out[c.service] = (out[c.service] || 0) + mult;
      walk(c.service, mult);
    }
  };
  walk(ROOT, 1);
  return out;
}

/**
 * The controller's regions file: regions, RTT and egress price matrices
 * (price per byte, as the controller's optimiser takes it) and the declared
 * capacity of every service in every region.
 */
function regionsFile() {
  const lines = ['# libslate demo: three regions, RTT (ms), egress price ($/byte), capacities (rps)'];
  for (const r of REGIONS) lines.push(`region ${r}`);
  for (const a of REGIONS) {
    for (const b of REGIONS) {
      lines.push(`rtt ${a} ${b} ${a === b ? 0 : RTT_MS[a][b]}`);
      lines.push(`price ${a} ${b} ${(PRICE_PER_GB[a][b] / 1e9).toExponential(6)}`);
    }
  }
  for (const [name, s] of Object.entries(SERVICES)) {
    for (const r of REGIONS) lines.push(`capacity ${name} ${r} ${(s.mu * DECLARED_UTILISATION).toFixed(1)}`);
  }
  return lines.join('\n') + '\n';
}

/** Egress cost in dollars of one call from `src` to `dst` and its answer. */
function callEgressUsd(src, dst, reqBytes, respBytes) {
  return (reqBytes * PRICE_PER_GB[src][dst] + respBytes * PRICE_PER_GB[dst][src]) / 1e9;
}

module.exports = {
  REGIONS,
  RTT_MS,
  PRICE_PER_GB,
  SERVICES,
  ROOT,
  DECLARED_UTILISATION,
  PHASES,
  BASE_RPS,
  PEAK_RPS,
  OVERLOADED,
  queueingFactor,
  serviceTimeMs,
  phaseAt,
  loadRps,
  maxLoadRps,
  callsPerRequest,
  regionsFile,
  callEgressUsd,
};
