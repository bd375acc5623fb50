// Helpers for the nginx module's process tests: a temporary nginx prefix with
// the module loaded (master + workers, daemon off, error_log in the prefix),
// small HTTP backends, and nginx's own status JSON.
// SPDX-License-Identifier: Apache-2.0
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { sleep } from '../../controller/tests/lib.mjs';

export function parseArgs() {
  const a = process.argv.slice(2);
  const out = {};
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  for (const k of ['nginx', 'module', 'controller', 'workdir'])
    if (!out[k]) throw new Error(`missing --${k}`);
  fs.rmSync(out.workdir, { recursive: true, force: true });
  fs.mkdirSync(out.workdir, { recursive: true });
  return out;
}

// A free loopback port (bound and released; nginx binds it right after).
export function freePort() {
  return new Promise((resolve) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// An HTTP backend answering `name` after `delayMs`.
export function backend(name, delayMs = 0) {
  const hits = { n: 0 };
  const srv = http.createServer((req, res) => {
    hits.n++;
    req.resume();
    setTimeout(() => res.end(name), delayMs);
  });
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () => resolve({ port: srv.address().port, hits, close: () => srv.close() })));
}

export function writeConf(dir, module, httpBody, workers = 2) {
  for (const d of ['logs', 'tmp']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const t = path.join(dir, 'tmp');
  const conf = `load_module ${module};
worker_processes ${workers};
error_log ${dir}/logs/error.log notice;
pid ${dir}/nginx.pid;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${t}/body; proxy_temp_path ${t}/proxy; fastcgi_temp_path ${t}/fcgi;
  uwsgi_temp_path ${t}/uwsgi; scgi_temp_path ${t}/scgi;
${httpBody}
}
`;
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf);
  return file;
}

// `nginx -t`: { ok, out }.
export function nginxTest(bin, dir, conf) {
  const r = spawnSync(bin, ['-t', '-p', dir, '-c', conf], { encoding: 'utf8' });
  return { ok: r.status === 0, out: (r.stdout || '') + (r.stderr || '') };
}

export async function startNginx(bin, dir, conf) {
  fs.rmSync(path.join(dir, 'nginx.pid'), { force: true });
  const proc = spawn(bin, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: 'ignore' });
  const exited = new Promise((r) => proc.on('exit', (code, sig) => r({ code, sig })));
  for (let i = 0; i < 100 && !fs.existsSync(path.join(dir, 'nginx.pid')); i++) await sleep(50);
  const n = { proc, exited, dir,
    signal: (s) => spawnSync(bin, ['-p', dir, '-c', conf, '-s', s]),
    workers: () => spawnSync('pgrep', ['-P', String(proc.pid)], { encoding: 'utf8' })
      .stdout.split('\n').filter(Boolean).map(Number),
    log: () => fs.readFileSync(path.join(dir, 'logs', 'error.log'), 'utf8'),
    stop: async () => { proc.kill('SIGTERM'); return exited; } };
  // whatever way the test ends, no worker outlives it
  process.on('exit', () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    for (const w of n.workers()) { try { process.kill(w, 'SIGKILL'); } catch { /* gone */ } }
    proc.kill('SIGKILL');
  });
  return n;
}

export function get(port, p, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function status(port) {
  return JSON.parse((await get(port, '/slate-status')).body);
}

export async function waitFor(fn, ms, step = 100) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(step);
  }
}

// RoutingRules (proto3) with one rule per { src_region, dst_service, targets: [[region, w]] }.
function varint(v) {
  let x = BigInt(v); const out = [];
  do { let b = Number(x & 0x7fn); x >>= 7n; if (x) b |= 0x80; out.push(b); } while (x);
  return Buffer.from(out);
}
const tagged = (f, wt) => varint((f << 3) | wt);
const fU = (f, v) => (v ? Buffer.concat([tagged(f, 0), varint(v)]) : Buffer.alloc(0));
const fB = (f, b) => Buffer.concat([tagged(f, 2), varint(b.length), b]);
const fS = (f, s) => (s ? fB(f, Buffer.from(s)) : Buffer.alloc(0));
export function encRules({ version, ttl_ns = 0, rules }) {
  return Buffer.concat([fU(1, version), fU(2, ttl_ns), ...rules.map((r) =>
    fB(4, Buffer.concat([fS(1, r.src_region), fS(2, r.dst_service),
      ...r.targets.map(([reg, w]) => fB(5, Buffer.concat([fS(1, reg), fU(2, w)])))])))]);
}

// The controller's per-region record (from /v1/state) of the endpoint with
// this path in this region, or null.
export function findCell(st, path = '/api/items/{id}', region = 'west') {
  let found = null;
  (function walk(o) {
    if (!o || typeof o !== 'object' || found) return;
    if (o.path === path) {
      (function cell(x) {
        if (!x || typeof x !== 'object' || found) return;
        if (x.region === region && x.history !== undefined) { found = x; return; }
        for (const v of Object.values(x)) cell(v);
      })(o);
      return;
    }
    for (const v of Object.values(o)) walk(v);
  })(st);
  return found;
}

// Starts nginx on a free port with the configuration body(port): a free
// port can be taken by another test between probing and nginx's bind, so it
// tries three ports. Returns { ng, port } (ng null when it never served).
export async function startServing(args, body) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const conf = writeConf(args.workdir, args.module, body(port));
    const n = await startNginx(args.nginx, args.workdir, conf);
    const up = await waitFor(async () => n.proc.exitCode === null &&
      (await get(port, '/slate-status').catch(() => ({}))).status === 200, 5000);
    if (up) return { ng: n, port };
    console.error(n.log().split('\n').slice(-5).join('\n'));
    n.proc.kill('SIGKILL');
    await n.exited;
  }
  return { ng: null, port: 0 };
}

// The http block both traffic tests serve: `directives` (the slate_*
// settings) then two backends, a measured location (/api/), a routed one
// (/call/, to be_$slate_region) and the status page, on `port`.
export function slateHttp(directives, port, westPort, eastPort) {
  return `${directives}
  upstream be_west { server 127.0.0.1:${westPort}; }
  upstream be_east { server 127.0.0.1:${eastPort}; }
  server {
    listen 127.0.0.1:${port};
    location /api/ { slate_measure on; proxy_pass http://be_west; }
    location /call/ { slate_route be; proxy_pass http://be_$slate_region; }
    location = /slate-status { slate_status; }
  }`;
}
