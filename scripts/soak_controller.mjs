#!/usr/bin/env node
// Reliability soak of slate-controller (a few minutes; not part of CI).
//
// A real controller with a token file, a state directory and a regions file
// takes, all at once:
//  - valid reports: a two-region frontend -> backend application (so the
//    optimiser publishes rules) plus many simulated pods of a third service,
//    each reporting once a second, spread over the second;
//  - 30% malformed bodies (garbage, truncated reports, bad varints), some
//    requests without a token, some bodies over the size limit;
//  - slow clients (bodies that trickle) and connection floods (hundreds of
//    silent POSTs from one address);
//  - a SIGKILL in the middle and a restart on the same port and state dir.
// It reports valid reports accepted vs sent (and any lost while the daemon
// was up), p50/p99 latency of valid reports, the counts of 401/400/413/503,
// RSS over time, and whether the rules served after the restart are those in
// force before the kill.
//
// Usage: node scripts/soak_controller.mjs --controller build/shims/controller/slate-controller
//          [--seconds 180] [--pods 100] [--workdir DIR]
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const lib = await import(path.join(here, '..', 'shims', 'controller', 'tests', 'lib.mjs'));
const { encReport, flatLatency, delimited } = lib;
const { Scenario, REGIONS_FILE } = await import(
  path.join(here, '..', 'shims', 'controller', 'tests', 'scenario.mjs'));

const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : d; };
const BIN = opt('controller');
if (!BIN) { console.error('usage: soak_controller.mjs --controller PATH [--seconds N] [--pods N]'); process.exit(2); }
const SECONDS = Number(opt('seconds', '180'));
const PODS = Number(opt('pods', '100'));
const WORK = opt('workdir', fs.mkdtempSync(path.join(os.tmpdir(), 'slate-soak-')));
fs.mkdirSync(path.join(WORK, 'state'), { recursive: true });
const TOKEN = 'soak-token-' + Math.random().toString(36).slice(2).padEnd(16, 'x');
fs.writeFileSync(path.join(WORK, 'tokens'), `${TOKEN}\n`);
fs.writeFileSync(path.join(WORK, 'regions'), REGIONS_FILE);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const HONEST = '127.0.0.2', MALFORMED = '127.0.0.5', FLOOD = '127.0.0.3', SLOW = '127.0.0.4';

// ---------------------------------------------------------------------------
// The daemon

let proc = null, dataPort = 0, adminPort = 0, up = false;
async function start(port) {
  for (const f of ['port', 'admin-port']) fs.rmSync(path.join(WORK, f), { force: true });
  const log = fs.openSync(path.join(WORK, 'controller.log'), 'a');
  proc = spawn(BIN, ['--port', String(port), '--port-file', path.join(WORK, 'port'),
    '--admin-port', '0', '--admin-port-file', path.join(WORK, 'admin-port'),
    '--auth-token-file', path.join(WORK, 'tokens'), '--state-dir', path.join(WORK, 'state'),
    '--regions-file', path.join(WORK, 'regions'), '--solve-period-ms', '1000',
    '--stitch-window-ms', '1000', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', log] });
  for (let i = 0; i < 400; i++) {
    const pf = path.join(WORK, 'port'), af = path.join(WORK, 'admin-port');
    if (fs.existsSync(pf) && fs.existsSync(af)) {
      dataPort = parseInt(fs.readFileSync(pf, 'utf8'), 10);
      adminPort = parseInt(fs.readFileSync(af, 'utf8'), 10);
      if (dataPort > 0 && adminPort > 0) { up = true; return; }
    }
    await sleep(25);
  }
  throw new Error('controller did not start');
}
function rssMiB() {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
    return m ? Math.round(parseInt(m[1], 10) / 102.4) / 10 : null;
  } catch { return null; }
}

function req(o) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const body = o.body === undefined ? null : Buffer.from(o.body);
    const headers = { ...(o.headers || {}) };
    if (body && headers['content-length'] === undefined) headers['content-length'] = body.length;
    const r = http.request({ host: '127.0.0.1', port: o.port ?? dataPort, method: o.method || 'GET',
      path: o.path, headers, agent: false, localAddress: o.from, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks),
        ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
      res.on('error', () => resolve({ status: 0, ms: 0 }));
    });
    r.on('timeout', () => r.destroy());
    r.on('error', (e) => resolve({ status: 0, error: e.code || e.message, ms: 0 }));
    if (body) r.end(body); else r.end();
  });
}

// ---------------------------------------------------------------------------
// Traffic

const stats = {
  valid: { sent: 0, ok: 0, lostWhileUp: 0, duringRestart: 0, lat: [] },
  status: {}, // status -> count, all requests
  bad: { sent: 0 }, unauth: { sent: 0 }, oversize: { sent: 0 },
  slow: { opened: 0, cutByServer: 0 }, flood: { opened: 0, answered503: 0, closedByServer: 0 },
  rss: [],
};
const count = (s) => { stats.status[s] = (stats.status[s] || 0) + 1; };
const auth = { authorization: `Bearer ${TOKEN}` };

async function sendValid(body) {
  stats.valid.sent++;
  const wasUp = up;
  const r = await req({ method: 'POST', path: '/v1/report', body, headers: auth, from: HONEST });
  count(r.status);
  if (r.status === 200) { stats.valid.ok++; stats.valid.lat.push(r.ms); }
  else if (wasUp && up) { stats.valid.lostWhileUp++; console.error(`valid report lost while up: ${r.status} ${r.error || r.body}`); }
  else stats.valid.duringRestart++;
}

function garbage(valid) {
  const k = Math.floor(Math.random() * 4);
  if (k === 0) return Buffer.from(Array.from({ length: 1 + Math.floor(Math.random() * 500) }, () => Math.floor(Math.random() * 256)));
  if (k === 1) return valid.subarray(0, Math.max(1, Math.floor(valid.length * Math.random())));
  if (k === 2) return Buffer.concat([valid, Buffer.from([0xff, 0xff, 0xff])]);
  return Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
}
async function sendBad(valid) {
  stats.bad.sent++;
  const batch = Math.random() < 0.3;
  const r = await req({ method: 'POST', path: batch ? '/v1/reports' : '/v1/report',
    body: batch ? delimited([valid, garbage(valid)]) : garbage(valid), headers: auth, from: MALFORMED });
  count(r.status);
}
async function sendUnauth(valid) {
  stats.unauth.sent++;
  const r = await req({ method: 'POST', path: '/v1/report', body: valid,
    headers: Math.random() < 0.5 ? {} : { authorization: 'Bearer not-the-token-at-all' }, from: MALFORMED });
  count(r.status);
}
async function sendOversize() {
  stats.oversize.sent++;
  const r = await req({ method: 'POST', path: '/v1/report', body: Buffer.alloc(16),
    headers: { ...auth, 'content-length': String(8 << 20) }, from: MALFORMED });
  count(r.status);
}

function slowClient() {
  stats.slow.opened++;
  const s = net.connect({ port: dataPort, host: '127.0.0.1', localAddress: SLOW }, () => {
    s.write(`POST /v1/report HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 50000\r\n\r\n`);
  });
  const iv = setInterval(() => { if (!s.destroyed) s.write('x'); }, 200);
  const kill = setTimeout(() => { s.destroyedByUs = true; s.destroy(); }, 20000);
  s.on('close', () => { clearInterval(iv); clearTimeout(kill); if (!s.destroyedByUs) stats.slow.cutByServer++; });
  s.on('error', () => {});
}

function flood(n, holdMs) {
  for (let i = 0; i < n; i++) {
    const s = net.connect({ port: dataPort, host: '127.0.0.1', localAddress: FLOOD }, () => {
      stats.flood.opened++;
      s.write('POST /v1/report HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
    });
    let data = '';
    s.on('data', (d) => { data += d; });
    s.on('close', () => {
      if (/^HTTP\/1\.1 503/.test(data)) stats.flood.answered503++;
      else if (!s.byUs) stats.flood.closedByServer++;
    });
    s.on('error', () => {});
    setTimeout(() => { s.byUs = true; s.destroy(); }, holdMs);
  }
}

// ---------------------------------------------------------------------------
// Run

const canon = (rulesObj) => JSON.stringify((rulesObj?.current?.rules || [])
  .map((r) => JSON.stringify(r)).sort());
async function rulesNow() {
  const r = await req({ port: adminPort, path: '/v1/rules' });
  return r.status === 200 ? JSON.parse(r.body.toString()) : null;
}

await start(0);
const fixedPort = dataPort;
const scen = new Scenario({ tickMs: 100, portOf: () => dataPort });
const pending = new Set();
const track = (p) => { pending.add(p); p.finally(() => pending.delete(p)); };
const t0 = Date.now();
const end = t0 + SECONDS * 1000;
const killAt = t0 + SECONDS * 500;
let killed = false, rulesBefore = null, rulesAfter = null, restartMs = 0;
let tick = 0, podAcc = 0, lastRss = 0, lastFlood = t0, lastSlow = t0;

console.log(`soak: ${SECONDS} s, ${PODS} pods + 4 scenario proxies, workdir ${WORK}`);
while (Date.now() < end) {
  const now = Date.now();
  tick++;
  // every 10 ms: a share of the pods; every 100 ms: the scenario's 4 proxies
  if (tick % 10 === 0) {
    scen.tick++;
    for (const region of ['west', 'east'])
      for (const rep of scen.reports(region)) {
        track(sendValid(rep.body));
        if (Math.random() < 0.43) track(sendBad(rep.body)); // 30% of all bodies malformed
      }
  }
  podAcc += PODS / 100; // each pod once a second on average, spread over the second
  for (; podAcc >= 1; podAcc--) {
    const pod = Math.floor(Math.random() * PODS);
    const region = pod % 2 ? 'east' : 'west';
    const body = encReport({ service: 'catalog', region, pod: `catalog-${pod}`, interval_ns: 1e9,
      time_ns: BigInt(Date.now()) * 1000000n,
      inbound: [{ method: 'GET', path: '/items', requests: 20, rate_rps: 20, latency: flatLatency(20, 3 + pod % 5) }] });
    track(sendValid(body));
    if (Math.random() < 0.43) track(sendBad(body));
    if (Math.random() < 0.05) track(sendUnauth(body));
    if (Math.random() < 0.005) track(sendOversize());
  }
  if (now - lastSlow > 5000 && up) { lastSlow = now; for (let i = 0; i < 5; i++) slowClient(); }
  if (now - lastFlood > 20000 && up) { lastFlood = now; flood(300, 3000); }
  if (now - lastRss > 5000 && up) { lastRss = now; stats.rss.push([Math.round((now - t0) / 1000), rssMiB()]); }
  if (!killed && now >= killAt) {
    killed = true;
    rulesBefore = await rulesNow();
    up = false;
    proc.kill('SIGKILL');
    const k0 = Date.now();
    await new Promise((r) => proc.once('exit', r));
    await sleep(500);
    await start(fixedPort);
    restartMs = Date.now() - k0;
    rulesAfter = await rulesNow();
    console.log(`SIGKILL at ${Math.round((k0 - t0) / 1000)} s; serving again after ${restartMs} ms`);
  }
  await sleep(10);
}
await Promise.all([...pending]);
await sleep(1500);
const metrics = (await req({ port: adminPort, path: '/metrics' })).body.toString();
proc.kill('SIGTERM');
await new Promise((r) => proc.once('exit', r));

const lat = stats.valid.lat.sort((a, b) => a - b);
const pct = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2) : 'n/a';
const rejected = {};
for (const m of metrics.matchAll(/^slate_controller_requests_rejected_total\{reason="([a-z_]+)"\} (\d+)$/gm))
  rejected[m[1]] = Number(m[2]);
const summary = {
  seconds: SECONDS, pods: PODS,
  valid: { sent: stats.valid.sent, accepted: stats.valid.ok, lost_while_up: stats.valid.lostWhileUp,
    failed_during_restart: stats.valid.duringRestart, p50_ms: pct(0.5), p99_ms: pct(0.99), max_ms: pct(1) },
  malformed_sent: stats.bad.sent, unauthenticated_sent: stats.unauth.sent, oversize_sent: stats.oversize.sent,
  http_status_counts: stats.status,
  slow_clients: stats.slow, flood: stats.flood,
  rejected_after_restart_metrics: rejected,
  restart_ms: restartMs,
  rules_before_kill: rulesBefore?.current?.rules?.length ?? 0,
  rules_identical_after_restart: rulesBefore !== null && canon(rulesBefore) === canon(rulesAfter),
  rss_mib_over_time: stats.rss,
};
console.log(JSON.stringify(summary, null, 1));
fs.writeFileSync(path.join(WORK, 'summary.json'), JSON.stringify(summary, null, 1));
const ok = stats.valid.lostWhileUp === 0 && summary.rules_identical_after_restart && summary.rules_before_kill > 0;
console.log(ok ? 'soak: PASS' : 'soak: FAIL');
process.exit(ok ? 0 : 1);
