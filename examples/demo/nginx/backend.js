#!/usr/bin/env node
'use strict';
// One service instance of demo-nginx: a real HTTP server with a real capacity
// limit. It serves `concurrency` requests at a time, each for a service time
// of concurrency / mu seconds (the scenario's capacity mu) with log-normal
// noise (sigma 0.25), and queues the rest in arrival order. After its own
// work it makes the scenario's calls, one after the other, through its own
// nginx's outbound ports (which choose the region), and answers with the
// call's response size.
//
// What the demo measures travels back in the `x-demo-trace` answer header:
// "c:<caller>><callee>@<region>=<served region>:<ms>" per call and
// "s:<service>@<region>:<load rps>:<self ms>:<ms>" per service visit (ms
// since the epoch; the load in the scenario's units, i.e. divided by `scale`),
// so the load generator sees the whole tree. `scale` runs the scenario at a
// fraction of its rates: capacity mu * scale.
//
//   node backend.js '<JSON {service, region, host, port, concurrency, scale, dir, seed, out: {callee: {host, port}}}>'
// (dir, the run's directory, only names the process for pgrep)

const http = require('http');
const scenario = require('../scenario.js');
const { Prng } = require('../sim.js');

const cfg = JSON.parse(process.argv[2]);
const svc = scenario.SERVICES[cfg.service];
const scale = cfg.scale || 1;
const meanMs = (cfg.concurrency / (svc.mu * scale)) * 1000;
const rng = new Prng((cfg.seed >>> 0) || 1);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const bodies = new Map();
const body = (n) => { if (!bodies.has(n)) bodies.set(n, Buffer.alloc(n, 0x61)); return bodies.get(n); };
const now = () => Date.now() - (cfg.t0 || 0);

let busy = 0;
const queue = [];
const stamps = [];
function loadRps(t) {
  stamps.push(t);
  while (stamps.length && stamps[0] <= t - 1000) stamps.shift();
  return stamps.length / Math.min(1, Math.max(t, 50) / 1000);
}

function hex(n) { let s = ''; for (let i = 0; i < n; i++) s += ((rng.next() * 16) | 0).toString(16); return s; }

function call(c, traceId, parentSpan) {
  const o = cfg.out[c.service];
  return new Promise((resolve) => {
    const t = now();
    const req = http.request({ host: o.host, port: o.port, method: c.method, path: c.path, agent,
      headers: { 'content-length': c.reqBytes, 'x-demo-resp-bytes': c.respBytes, 'x-b3-traceid': traceId,
        'x-b3-spanid': hex(16), 'x-b3-parentspanid': parentSpan } }, (res) => {
      res.resume();
      res.on('end', () => {
        const served = res.headers['x-demo-region'] || '?';
        const sub = res.headers['x-demo-trace'] || '';
        const mine = `c:${cfg.service}>${c.service}@${cfg.region}=${served}:${t}`;
        resolve({ ok: res.statusCode === 200, trace: sub ? `${mine},${sub}` : mine });
      });
    });
    req.on('error', (e) => resolve({ ok: false, trace: `e:${cfg.service}>${c.service}@${cfg.region}:${e.code || e.message}` }));
    req.end(body(c.reqBytes));
  });
}

async function handle(job) {
  const { req, res, tArr, load } = job;
  const sigma = 0.25;
  const ms = meanMs * Math.exp(sigma * rng.normal() - sigma * sigma / 2);
  await new Promise((r) => setTimeout(r, ms));
  const selfMs = now() - tArr;
  busy--;
  next();
  const trace = [`s:${cfg.service}@${cfg.region}:${(load / scale).toFixed(1)}:${selfMs.toFixed(2)}:${tArr}`];
  let ok = true;
  for (const c of svc.calls) {
    const r = await call(c, req.headers['x-b3-traceid'] || hex(32), req.headers['x-b3-spanid'] || hex(16));
    ok = ok && r.ok;
    trace.push(r.trace);
  }
  const n = Number(req.headers['x-demo-resp-bytes']) || 0;
  res.writeHead(ok ? 200 : 502, { 'content-length': n, 'x-demo-region': cfg.region, 'x-demo-trace': trace.join(',') });
  res.end(body(n));
}

function next() {
  while (busy < cfg.concurrency && queue.length) { busy++; handle(queue.shift()); }
}

const srv = http.createServer((req, res) => {
  const t = now();
  const load = loadRps(t);
  req.resume();
  req.on('end', () => { queue.push({ req, res, tArr: t, load }); next(); });
});
srv.keepAliveTimeout = 120000;
srv.listen(cfg.port, cfg.host, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
