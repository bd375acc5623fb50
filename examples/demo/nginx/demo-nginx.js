#!/usr/bin/env node
'use strict';
// libslate's demo with real processes: the demo's three regions and call
// tree (../scenario.js), every service instance a real HTTP server process
// with a capacity limit (backend.js), every hop through a real nginx with
// ngx_http_slate_module (inbound measured, outbound routed by $slate_region),
// round trips between regions paid on real sockets through a delaying TCP
// relay (relay.js, the WAN model), and a real slate-controller per policy.
// The three policies run one after the other on the same open-loop arrivals;
// the table, the targets and the HTML report are the simulated demo's.
//
//   node examples/demo/nginx/demo-nginx.js --nginx /usr/sbin/nginx \
//       --module build/shims/nginx/ngx_http_slate_module.so \
//       --controller build/shims/controller/slate-controller [--duration 60] [--out FILE]
//
// See docs/demo.md ("make demo-nginx").

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');

const scenario = require('../scenario.js');
const { Prng, arrivals, mix32, traceId } = require('../sim.js');
const { Metrics } = require('../metrics.js');
const { Controller, promSum, sleep } = require('../controller.js');
const { convergence, largestShift, rulesSnapshot } = require('../rules.js');
const { evaluateTargets, printTable, controllerArgs, fmt, POLICIES } = require('../demo.js');
const report = require('../report.js');

const { REGIONS, SERVICES, RTT_MS, ROOT } = scenario;

/** Each region's loopback address: its nginx, services and outgoing relays listen there. */
const REGION_ADDR = { 'us-west': '127.0.0.11', 'us-east': '127.0.0.12', 'eu-west': '127.0.0.13' };

const HELP = `usage: demo-nginx.js --nginx BIN --module SO --controller BIN [options]
  --nginx BIN        the nginx binary (Debian's /usr/sbin/nginx)
  --module SO        ngx_http_slate_module.so
  --controller BIN   the slate-controller binary
  --duration S       length of the load trace per policy, seconds (default 60)
  --policies LIST    comma-separated subset of local,waterfall,slate (default all)
  --out FILE         the HTML report (default build/demo-nginx/report.html)
  --json FILE        the numbers as JSON (default next to the report)
  --workdir DIR      nginx prefixes and logs (default next to the report)
  --concurrency N    requests each service instance serves at once (default 2)
  --seed N           seed of the arrivals (default 1)
  --scale F          run the scenario at F times its rates: arrivals thinned to F, every
                     capacity (and declared capacity) times F, so utilisations are the
                     scenario's at F times the CPU (default 0.5)
  --no-targets       check only that every process and hop worked (the CTest run)
`;

function parseArgs(argv) {
  const repo = path.resolve(__dirname, '..', '..', '..');
  const o = { duration: 60, policies: Object.keys(POLICIES), out: path.join(repo, 'build', 'demo-nginx', 'report.html'),
    json: null, workdir: null, concurrency: 2, seed: 1, scale: 0.5, targets: true, nginx: null, module: null, controller: null };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i];
    switch (a) {
      case '--nginx': o.nginx = path.resolve(val()); break;
      case '--module': o.module = path.resolve(val()); break;
      case '--controller': o.controller = path.resolve(val()); break;
      case '--duration': o.duration = Number(val()); break;
      case '--policies': o.policies = val().split(',').filter(Boolean); break;
      case '--out': o.out = path.resolve(val()); break;
      case '--json': o.json = path.resolve(val()); break;
      case '--workdir': o.workdir = path.resolve(val()); break;
      case '--concurrency': o.concurrency = Number(val()); break;
      case '--seed': o.seed = Number(val()); break;
      case '--scale': o.scale = Number(val()); break;
      case '--no-targets': o.targets = false; break;
      case '--help': process.stdout.write(HELP); process.exit(0); break;
      default: throw new Error(`unknown argument '${a}'\n${HELP}`);
    }
  }
  for (const k of ['nginx', 'module', 'controller']) {
    if (!o[k] || !fs.existsSync(o[k])) throw new Error(`--${k}: no file at '${o[k]}'\n${HELP}`);
  }
  if (!(o.duration >= 5)) throw new Error('--duration must be at least 5 seconds');
  if (!(o.scale > 0 && o.scale <= 1)) throw new Error('--scale must be in (0, 1]');
  if (!(o.concurrency >= 1 && o.concurrency <= 64)) throw new Error('--concurrency must be 1..64');
  for (const p of o.policies) if (!POLICIES[p]) throw new Error(`--policies: unknown policy '${p}'`);
  if (!o.json) o.json = o.out.replace(/\.html?$/, '') + '.json';
  if (!o.workdir) o.workdir = path.join(path.dirname(o.out), 'work');
  return o;
}

/**
 * Free ports: each is bound and held until release(), so no two of a run's
 * ports are the same; the process that needs one binds it right after.
 */
class PortPool {
  constructor() { this.held = []; }

  take(host) {
    return new Promise((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, host, () => { this.held.push(s); resolve(s.address().port); });
    });
  }

  release() { return Promise.all(this.held.splice(0).map((s) => new Promise((r) => s.close(r)))); }
}

function httpGet(host, port, p, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: p, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Every process one policy's run starts, so that all of them are stopped and any early death is seen. */
class Procs {
  constructor() { this.list = []; this.stopping = false; this.deaths = []; }

  spawn(name, bin, args, logFile, { ready = null } = {}) {
    const log = fs.openSync(logFile, 'w');
    const proc = spawn(bin, args, { stdio: ['ignore', ready ? 'pipe' : log, log] });
    fs.closeSync(log);
    const e = { name, proc, logFile, exited: null };
    this.list.push(e);
    proc.on('exit', (code, signal) => {
      e.exited = { code, signal };
      if (!this.stopping) this.deaths.push(`${name} exited during the run (${JSON.stringify(e.exited)}); see ${logFile}`);
    });
    if (!ready) return Promise.resolve(e);
    return new Promise((resolve, reject) => {
      let buf = '';
      proc.stdout.on('data', (d) => {
        buf += d;
        if (buf.includes(ready)) resolve(e);
      });
      proc.on('exit', () => reject(new Error(`${name} exited before it was ready; see ${logFile}`)));
    });
  }

  /** SIGTERM to all, SIGKILL to whatever (including nginx workers) is left after a grace period. */
  async stopAll(graceMs = 5000) {
    this.stopping = true;
    const children = [];
    for (const e of this.list) {
      if (e.exited) continue;
      const r = spawnSync('pgrep', ['-P', String(e.proc.pid)], { encoding: 'utf8' });
      for (const pid of (r.stdout || '').split('\n').filter(Boolean)) children.push(Number(pid));
      e.proc.kill('SIGTERM');
    }
    const end = Date.now() + graceMs;
    while (this.list.some((e) => !e.exited) && Date.now() < end) await sleep(50);
    for (const e of this.list) if (!e.exited) e.proc.kill('SIGKILL');
    while (this.list.some((e) => !e.exited)) await sleep(20);
    for (const pid of children) { try { process.kill(pid, 'SIGKILL'); } catch (err) { /* already gone */ } }
  }

  killNow() {
    for (const e of this.list) {
      if (e.exited) continue;
      const r = spawnSync('pgrep', ['-P', String(e.proc.pid)], { encoding: 'utf8' });
      for (const pid of (r.stdout || '').split('\n').filter(Boolean)) { try { process.kill(Number(pid), 'SIGKILL'); } catch (err) { /* gone */ } }
      e.proc.kill('SIGKILL');
    }
  }
}

/** nginx.conf of the sidecar of `svc` in `region`. */
function nginxConf({ o, dir, svc, region, ctlPort, ports }) {
  const t = path.join(dir, 'tmp');
  const addr = REGION_ADDR[region];
  const up = [`  upstream app { server ${addr}:${ports.backend[svc][region]}; keepalive 64; }`];
  const outServers = [];
  for (const callee of new Set(SERVICES[svc].calls.map((c) => c.service))) {
    for (const dst of REGIONS) {
      // Local calls go straight to the callee's nginx; remote ones through the WAN relay.
      const target = dst === region ? `${REGION_ADDR[dst]}:${ports.inbound[callee][dst]}`
        : `${addr}:${ports.relay[region][dst][callee]}`;
      up.push(`  upstream ${callee}_${dst} { server ${target}; keepalive 64; }`);
    }
    outServers.push(`  server {
    listen ${addr}:${ports.outbound[svc][region][callee]};
    location / {
      slate_route ${callee};
      proxy_pass http://${callee}_$slate_region;
      proxy_set_header Connection "";
      proxy_set_header x-slate-routeto $slate_region;
    }
  }`);
  }
  return `load_module ${o.module};
worker_processes 1;
error_log ${dir}/error.log notice;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${t}/body; proxy_temp_path ${t}/proxy; fastcgi_temp_path ${t}/fcgi;
  uwsgi_temp_path ${t}/uwsgi; scgi_temp_path ${t}/scgi;
  slate_zone slate 2m;
  slate_service ${svc};
  slate_region ${region};
  slate_pod ${svc}-${region};
  slate_controller 127.0.0.1:${ctlPort};
  slate_report_period 500ms;
  slate_rules_ttl 30s;
  slate_trace_sampling 1;
  slate_max_spans 2048;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_read_timeout 300s;
  keepalive_requests 1000000;
${up.join('\n')}
  server {
    listen ${addr}:${ports.inbound[svc][region]};
    location / { slate_measure on; proxy_pass http://app; }
    location = /slate-status { slate_status; }
  }
${outServers.join('\n')}
}
`;
}

/** The controller's regions file with every declared capacity times `scale`. */
function scaledRegionsFile(scale) {
  return scenario.regionsFile().replace(/^capacity (\S+) (\S+) ([\d.]+)$/gm,
    (m, svc, r, c) => `capacity ${svc} ${r} ${(Number(c) * scale).toFixed(1)}`);
}

/** The scenario's arrivals, each kept with probability `scale` (seeded), so the load is `scale` times the trace. */
function scaledArrivals(seed, durationS, scale) {
  const arr = arrivals(seed, durationS);
  if (scale >= 1) return arr;
  const rng = new Prng(mix32(seed ^ 0x2545f491));
  for (const r of REGIONS) arr[r] = arr[r].filter(() => rng.next() < scale);
  return arr;
}

/** The calls a service makes, by callee (the scenario's sizes). */
function callDef(caller, callee) { return SERVICES[caller].calls.find((c) => c.service === callee); }

/** One policy: start every process, replay the arrivals open loop, collect, stop. */
async function runPolicy({ o, p, arr, metrics, say, procsOut }) {
  const D = o.duration;
  const dir = path.join(o.workdir, p);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const procs = new Procs();
  procsOut.push(procs);
  const failures = [];
  const ctl = new Controller({ binary: o.controller, routing: POLICIES[p].routing, dir: path.join(dir, 'controller'),
    regionsFile: scaledRegionsFile(o.scale), args: controllerArgs(D) });
  procsOut.push({ killNow: () => { if (ctl.proc && !ctl.exited) ctl.proc.kill('SIGKILL'); } });
  const out = { ctl, failures, timeline: [], solves: [], ctlMetrics: [], errors: 0, bad: 0, maxLateMs: 0, hops: {}, wan: [] };
  try {
    await ctl.start();
    out.controllerArgs = ctl.args;

    // Ports: per (service, region) its nginx inbound, its service, one outbound per callee;
    // per (caller region, callee region, callee) a relay on the caller region's address.
    const pool = new PortPool();
    const freePort = (host) => pool.take(host);
    const ports = { inbound: {}, backend: {}, outbound: {}, relay: {} };
    for (const svc of Object.keys(SERVICES)) {
      ports.inbound[svc] = {}; ports.backend[svc] = {}; ports.outbound[svc] = {};
      for (const r of REGIONS) {
        ports.inbound[svc][r] = await freePort(REGION_ADDR[r]);
        ports.backend[svc][r] = await freePort(REGION_ADDR[r]);
        ports.outbound[svc][r] = {};
        for (const c of SERVICES[svc].calls) ports.outbound[svc][r][c.service] = await freePort(REGION_ADDR[r]);
      }
    }
    const routes = [];
    const callees = [...new Set(Object.values(SERVICES).flatMap((s) => s.calls.map((c) => c.service)))];
    for (const a of REGIONS) {
      ports.relay[a] = {};
      for (const b of REGIONS) {
        if (a === b) continue;
        ports.relay[a][b] = {};
        for (const c of callees) {
          const port = await freePort(REGION_ADDR[a]);
          ports.relay[a][b][c] = port;
          routes.push({ from: a, to: b, callee: c, listenHost: REGION_ADDR[a], listenPort: port,
            toHost: REGION_ADDR[b], toPort: ports.inbound[c][b], oneWayMs: RTT_MS[a][b] / 2 });
        }
      }
    }
    await pool.release();
    await procs.spawn('wan relay', process.execPath, [path.join(__dirname, 'relay.js'), JSON.stringify(routes), dir],
      path.join(dir, 'relay.log'), { ready: 'ready' });

    // Service instances and their nginx sidecars.
    const starting = [];
    let k = 0;
    for (const svc of Object.keys(SERVICES)) {
      for (const r of REGIONS) {
        const outTo = {};
        for (const c of SERVICES[svc].calls) outTo[c.service] = { host: REGION_ADDR[r], port: ports.outbound[svc][r][c.service] };
        const cfg = { service: svc, region: r, host: REGION_ADDR[r], port: ports.backend[svc][r],
          concurrency: o.concurrency, scale: o.scale, dir, seed: o.seed * 1000 + (++k), out: outTo };
        starting.push(procs.spawn(`${svc}@${r} service`, process.execPath, [path.join(__dirname, 'backend.js'), JSON.stringify(cfg)],
          path.join(dir, `${svc}-${r}.log`), { ready: 'ready' }));
        const ndir = path.join(dir, `nginx-${svc}-${r}`);
        for (const d of ['tmp']) fs.mkdirSync(path.join(ndir, d), { recursive: true });
        const conf = path.join(ndir, 'nginx.conf');
        fs.writeFileSync(conf, nginxConf({ o, dir: ndir, svc, region: r, ctlPort: ctl.port, ports }));
        const t = spawnSync(o.nginx, ['-t', '-q', '-p', ndir, '-c', conf], { encoding: 'utf8' });
        if (t.status !== 0) throw new Error(`nginx -t refused ${conf}: ${t.stderr}`);
        starting.push(procs.spawn(`nginx ${svc}@${r}`, o.nginx, ['-p', ndir, '-c', conf, '-g', 'daemon off;'],
          path.join(ndir, 'stderr.log')));
      }
    }
    await Promise.all(starting);
    // Every nginx answers its status page.
    for (const svc of Object.keys(SERVICES)) {
      for (const r of REGIONS) {
        let ok = false;
        for (let i = 0; i < 100 && !ok; i++) {
          ok = await httpGet(REGION_ADDR[r], ports.inbound[svc][r], '/slate-status', 1000).then((x) => x.status === 200, () => false);
          if (!ok) await sleep(50);
        }
        if (!ok) throw new Error(`nginx ${svc}@${r} did not answer on ${REGION_ADDR[r]}:${ports.inbound[svc][r]}; see ${path.join(dir, `nginx-${svc}-${r}`)}`);
      }
    }
    // The WAN model is wired: a status request through every relay takes at least its round trip.
    for (const rt of routes) {
      const t0 = Date.now();
      const r = await httpGet(rt.listenHost, rt.listenPort, '/slate-status', 5000).catch((e) => ({ status: 0, body: e.message }));
      const ms = Date.now() - t0;
      out.wan.push({ from: rt.from, to: rt.to, callee: rt.callee, rttMs: RTT_MS[rt.from][rt.to], measuredMs: ms });
      if (r.status !== 200 || ms < RTT_MS[rt.from][rt.to]) {
        failures.push(`WAN relay ${rt.from}->${rt.to} (${rt.callee}): HTTP ${r.status} in ${ms} ms, expected 200 after at least ${RTT_MS[rt.from][rt.to]} ms`);
      }
    }
    say(`  ${POLICIES[p].label}: controller ${ctl.url}, 12 nginx (master + worker), 12 service processes, 1 WAN relay (${routes.length} routes); ` +
        `round trips through the relay ${fmt(Math.min(...out.wan.map((w) => w.measuredMs - w.rttMs)), 0)}..${fmt(Math.max(...out.wan.map((w) => w.measuredMs - w.rttMs)), 0)} ms over the model`);

    // The open-loop load: every arrival is sent at its time, whatever the answers.
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    let inflight = 0;
    const start = process.hrtime.bigint();
    const startMs = Date.now();
    const nowNs = () => Number(process.hrtime.bigint() - start);
    const send = (region, i, t0) => {
      inflight++;
      const req = { region, t0, calls: 0, remote: 0, egressUsd: 0, egressBytes: 0 };
      const hreq = http.request({ host: REGION_ADDR[region], port: ports.inbound[ROOT][region], method: SERVICES[ROOT].endpoint.method,
        path: SERVICES[ROOT].endpoint.path, agent, headers: { 'x-b3-traceid': traceId(o.seed, region, i), 'x-b3-spanid': traceId(o.seed + 7, region, i) } },
      (res) => {
        res.resume();
        res.on('end', () => {
          const tEnd = nowNs();
          if (res.statusCode !== 200) out.bad++;
          for (const e of String(res.headers['x-demo-trace'] || '').split(',')) {
            let m = /^c:([^>]+)>([^@]+)@([^=]+)=([^:]+):(\d+)$/.exec(e);
            if (m) {
              const [, caller, callee, src, served, ms] = m;
              req.calls++;
              out.hops[`${caller}>${callee}@${src}=${served}`] = (out.hops[`${caller}>${callee}@${src}=${served}`] || 0) + 1;
              if (served !== src && REGIONS.includes(served)) {
                const c = callDef(caller, callee);
                req.remote++;
                req.egressUsd += scenario.callEgressUsd(src, served, c.reqBytes, c.respBytes);
                req.egressBytes += c.reqBytes + c.respBytes;
              }
              if (REGIONS.includes(served)) metrics.call(p, caller, src, callee, served, (Number(ms) - startMs) * 1e6);
              continue;
            }
            m = /^s:([^@]+)@([^:]+):([\d.]+):([\d.]+):(\d+)$/.exec(e);
            if (m) {
              metrics.serviceSample(p, m[1], m[2], (Number(m[5]) - startMs) * 1e6, Number(m[3]), Number(m[4]));
              out.hops[`${m[1]}@${m[2]}`] = (out.hops[`${m[1]}@${m[2]}`] || 0) + 1;
            }
          }
          metrics.request(p, req, tEnd);
          inflight--;
        });
      });
      hreq.on('error', () => { out.errors++; metrics.request(p, req, nowNs()); inflight--; });
      hreq.end();
    };
    const queue = [];
    for (const r of REGIONS) arr[r].forEach((t, i) => queue.push([t, r, i]));
    queue.sort((a, b) => a[0] - b[0]);
    let qi = 0;
    let nextPoll = 1;
    const pending = new Set();
    const track = (pr) => { pending.add(pr); pr.finally(() => pending.delete(pr)); };
    const endNs = D * 1e9;
    while (qi < queue.length || (inflight > 0 && nowNs() < endNs + 60e9)) {
      const t = nowNs();
      while (qi < queue.length && queue[qi][0] <= t) {
        out.maxLateMs = Math.max(out.maxLateMs, (t - queue[qi][0]) / 1e6);
        send(queue[qi][1], queue[qi][2], queue[qi][0]);
        qi++;
      }
      if (t >= nextPoll * 1e9) {
        const tS = nextPoll++;
        track(ctl.json('/v1/rules').then((x) => out.timeline.push({ t: tS, version: x.current ? x.current.version : 0,
          origin: x.current ? x.current.origin : '', rules: rulesSnapshot(x) })).catch(() => {}));
        track(ctl.json('/v1/state').then((st) => {
          const v = st.solve || {};
          out.solves.push({ t: tS, rounds: v.rounds, outcome: v.last_outcome, measuredMs: v.measured_latency_ms,
            modelledMs: v.modelled_latency_ms, objCurrent: v.objective_current, objProposed: v.objective_proposed,
            guard: v.rollback_guard_active, cooldown: v.cooldown_rounds });
        }).catch(() => {}));
        if (tS % 5 === 0) {
          track(ctl.metrics().then((m) => out.ctlMetrics.push({ t: tS, reports: promSum(m, 'slate_controller_reports_received_total'),
            solves: promSum(m, 'slate_controller_solves_total'), rollbacks: promSum(m, 'slate_controller_rollbacks_total'),
            version: promSum(m, 'slate_controller_rules_version') })).catch(() => {}));
        }
        if (tS % 10 === 0 && tS <= D) {
          const s = metrics.summary(p, (tS - 10) * 1e9, tS * 1e9);
          say(`    t=${String(tS).padStart(3)} s  ${scenario.phaseAt(Math.min(tS / D, 0.9999)).padEnd(8)}  mean latency of the last 10 s: ${fmt(s.meanMs, 0)} ms`);
        }
      }
      if (procs.deaths.length) break;
      await sleep(1);
    }
    await Promise.allSettled([...pending]);
    agent.destroy();
    if (inflight > 0) failures.push(`${inflight} user requests still unanswered 60 s after the trace ended`);

    // What every nginx's zone holds, and the controller's final counters.
    out.status = {};
    for (const svc of Object.keys(SERVICES)) {
      for (const r of REGIONS) {
        try {
          out.status[`${svc}@${r}`] = JSON.parse((await httpGet(REGION_ADDR[r], ports.inbound[svc][r], '/slate-status')).body);
        } catch (e) { failures.push(`nginx ${svc}@${r}: no status (${e.message})`); }
      }
    }
    try { out.finalMetrics = await ctl.metrics(); } catch (e) { failures.push(`controller metrics: ${e.message}`); }
    try { out.finalRules = await ctl.json('/v1/rules'); } catch (e) { failures.push(`controller rules: ${e.message}`); }
  } finally {
    failures.push(...procs.deaths);
    if (ctl.exited) failures.push(`slate-controller died during the run (${JSON.stringify(ctl.exited)}); see ${ctl.logPath}`);
    await procs.stopAll();
    await ctl.stop().catch(() => {});
  }
  // nginx workers that crashed were restarted by their master: a death all the same.
  for (const svc of Object.keys(SERVICES)) {
    for (const r of REGIONS) {
      const log = path.join(dir, `nginx-${svc}-${r}`, 'error.log');
      const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
      if (/exited on signal/.test(text)) failures.push(`nginx ${svc}@${r}: a worker died (see ${log})`);
    }
  }
  return out;
}

/** The structural checks: every process, every hop, reports, rules. */
function structuralChecks(o, p, run, nReq) {
  const f = [];
  const label = POLICIES[p].label;
  const D = o.duration;
  for (const svc of Object.keys(SERVICES)) {
    for (const r of REGIONS) {
      if (!run.hops[`${svc}@${r}`]) f.push(`${label}: no request reached ${svc} in ${r}`);
      const st = run.status && run.status[`${svc}@${r}`];
      if (st && !(st.reports_ok > 0)) f.push(`${label}: nginx ${svc}@${r} never had a report accepted`);
      if (st && !(st.endpoints || []).some((e) => e.kind === 'in')) f.push(`${label}: nginx ${svc}@${r} measured no inbound request`);
      for (const c of SERVICES[svc].calls) {
        if (!REGIONS.some((d) => run.hops[`${svc}>${c.service}@${r}=${d}`])) f.push(`${label}: no call ${svc} -> ${c.service} made in ${r}`);
        if (st && !(st.endpoints || []).some((e) => e.kind === 'out' && e.dst === c.service)) {
          f.push(`${label}: nginx ${svc}@${r} measured no outbound call to ${c.service}`);
        }
      }
    }
  }
  const reports = run.finalMetrics ? promSum(run.finalMetrics, 'slate_controller_reports_received_total') : NaN;
  const expected = 12 * 2 * (D - 2);
  if (!(reports >= 0.7 * expected)) f.push(`${label}: the controller received ${reports} reports, expected about ${12 * 2 * D}`);
  if (!(run.finalRules && run.finalRules.current && run.finalRules.current.version > 0)) f.push(`${label}: the controller published no rules`);
  const answered = nReq - run.errors;
  if (run.errors > 0.01 * nReq) f.push(`${label}: ${run.errors} of ${nReq} user requests failed (connection errors)`);
  if (run.bad > 0.01 * answered) f.push(`${label}: ${run.bad} user requests answered with an error status`);
  return f;
}

async function main() {
  const o = parseArgs(process.argv);
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  const D = o.duration;
  const phases = scenario.PHASES.map((ph) => ({ name: ph.name, from: ph.from * D, to: ph.to * D }));
  const over = phases.find((ph) => ph.name === 'overload');
  const say = (s) => process.stdout.write(s + '\n');
  const procsOut = [];
  const onSignal = (sig) => { for (const ps of procsOut) ps.killNow(); process.exit(sig === 'SIGINT' ? 130 : 143); };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => { for (const ps of procsOut) ps.killNow(); });

  say(`libslate demo with nginx: ${REGIONS.length} regions (${REGIONS.map((r) => `${r} ${REGION_ADDR[r]}`).join(', ')}), ` +
      `services ${Object.keys(SERVICES).join(' -> ')}, ${D} s load trace per policy (${scenario.OVERLOADED} overloaded ` +
      `${fmt(over.from, 0)}-${fmt(over.to, 0)} s), policies ${o.policies.map((p) => POLICIES[p].label).join(', ')} one after the other`);
  const arr = scaledArrivals(o.seed, D, o.scale);
  const nReq = Object.values(arr).reduce((a, l) => a + l.length, 0);
  say(`  load: ${nReq} user requests per policy (the scenario's rates x ${o.scale}), open loop; service instances serve ` +
      `${o.concurrency} at a time at ${o.scale} x their scenario capacity\n`);

  const metrics = new Metrics();
  const runs = {};
  const failures = [];
  for (const p of o.policies) {
    runs[p] = await runPolicy({ o, p, arr, metrics, say, procsOut });
    failures.push(...runs[p].failures.map((f) => `${POLICIES[p].label}: ${f}`));
    failures.push(...structuralChecks(o, p, runs[p], nReq));
    if (runs[p].maxLateMs > 100) say(`  note: the load generator sent an arrival up to ${fmt(runs[p].maxLateMs, 0)} ms late`);
  }

  let conv = null;
  if (runs.slate && o.targets) {
    conv = convergence(runs.slate.timeline, over.from, over.to, { region: scenario.OVERLOADED, tolerance: 0.05 });
    conv.largestShift = largestShift(runs.slate.timeline, over.from, over.to, scenario.OVERLOADED);
    if (!(conv.largestShift >= 0.05)) failures.push(`libslate: the optimiser never sent traffic away from the overloaded ${scenario.OVERLOADED} (largest share ${fmt(100 * conv.largestShift)}%)`);
  }

  const rows = [];
  const results = { duration: D, seed: o.seed, phases, maxLagMs: 0, lag: [], policies: {}, title: 'libslate demo with nginx' };
  for (const p of o.policies) {
    const all = metrics.summary(p);
    const ov = metrics.summary(p, over.from * 1e9, over.to * 1e9);
    rows.push({ policy: POLICIES[p].label, window: 'overall', s: all });
    rows.push({ policy: POLICIES[p].label, window: 'overload', s: ov });
    const r = runs[p];
    results.policies[p] = { label: POLICIES[p].label, overall: all, overload: ov, controllerMetrics: r.ctlMetrics, solves: r.solves,
      controllerArgs: r.controllerArgs || [], errors: r.errors, badStatus: r.bad, maxLateMs: r.maxLateMs, wan: r.wan, hops: r.hops };
  }
  say('');
  printTable(rows);
  const targets = o.targets ? evaluateTargets(results) : [];
  const timeline = Object.fromEntries(o.policies.map((p) => [p, runs[p].timeline]));
  results.targets = targets;
  results.convergence = conv;
  results.rules = timeline;
  results.failures = failures;
  results.setupNote = `${D} s load trace, seed ${o.seed}; ${o.policies.map((p) => POLICIES[p].label).join(', ')} run one after the other on the same open-loop arrivals, each with its own <code>slate-controller</code>. Every (service, region) is a real HTTP server process serving ${o.concurrency} requests at a time behind its own nginx (Debian's binary, master + 1 worker) with <code>ngx_http_slate_module</code>: inbound measured, each call routed by <code>$slate_region</code>. The scenario runs at ${o.scale} x its rates: arrivals thinned to ${o.scale}, every capacity (real and declared) times ${o.scale}, so every utilisation is the scenario's (charts show rates in the scenario's units). Overload window: ${fmt(over.from, 0)}&ndash;${fmt(over.to, 0)} s.`;
  results.modelNote = `Service time: concurrency / capacity per request, log-normal noise (&sigma; 0.25), queued in arrival order beyond the concurrency. WAN model: each region has its own loopback address; a call to another region goes through a user-space TCP relay on the caller's address that holds every chunk for half the round trip in each direction (connections are kept alive, so a call pays one round trip). Times are wall-clock on a shared machine. Controller flags: <code>${(results.policies[o.policies[0]].controllerArgs || []).join(' ').replace(/--port-file \S+/, '--port-file …').replace(/--routing \S+/, '--routing local|waterfall|slate').replace(/--regions-file \S+/, '--regions-file regions.txt')}</code>.`;
  say('');
  for (const t of targets) say(`  ${t.ok ? 'met ' : 'MISSED'}  ${t.text}`);
  if (conv && conv.converged) say(`  libslate's rules for ${scenario.OVERLOADED} settled ${fmt(conv.afterS)} s into the overload`);
  const html = report.render({ o, scenario, metrics, results, timeline, phases, policies: POLICIES });
  fs.writeFileSync(o.out, html);
  fs.writeFileSync(o.json, JSON.stringify(results, null, 1));
  say(`\n  report: ${o.out}\n  numbers: ${o.json}`);
  const missed = targets.filter((t) => !t.ok);
  if (failures.length || missed.length) {
    for (const f of failures) say(`FAIL: ${f}`);
    for (const t of missed) say(`FAIL: target missed: ${t.text}`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((e) => { process.stderr.write(`demo-nginx: ${e.stack || e.message}\n`); process.exitCode = 2; });
}

module.exports = { parseArgs, nginxConf, REGION_ADDR };
