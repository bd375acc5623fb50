// Helpers for the controller's process-level tests: start slate-controller
// on a loopback port, talk to it over real HTTP, encode LoadReports and
// decode RoutingRules with a small protobuf implementation written here
// (independent of the C codec; checked against stock protoc in intake.test),
// and validate the Prometheus text format.
// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

export function parseArgs() {
  const a = process.argv.slice(2);
  const out = {};
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  for (const k of ['controller', 'source', 'workdir'])
    if (!out[k]) throw new Error(`missing --${k}`);
  fs.rmSync(out.workdir, { recursive: true, force: true });
  fs.mkdirSync(out.workdir, { recursive: true });
  return out;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let failures = 0;
export function check(cond, msg) {
  if (!cond) {
    failures++;
    console.error(`FAIL: ${msg}`);
  } else {
    console.log(`ok: ${msg}`);
  }
}
export function finish(procs = []) {
  for (const p of procs) p.kill('SIGKILL');
  if (failures) {
    console.error(`${failures} check(s) failed`);
    process.exit(1);
  }
  console.log('all checks passed');
  process.exit(0);
}

// Starts a controller; resolves once it listens (its port comes from --port-file).
export async function startController(bin, workdir, name, args) {
  const portFile = path.join(workdir, `${name}.port`);
  const adminPortFile = path.join(workdir, `${name}.admin-port`);
  fs.rmSync(portFile, { force: true });
  fs.rmSync(adminPortFile, { force: true });
  const log = fs.openSync(path.join(workdir, `${name}.log`), 'a');
  const proc = spawn(bin, ['--port', '0', '--port-file', portFile,
    '--admin-port-file', adminPortFile, ...args], {
    stdio: ['ignore', 'pipe', log],
  });
  let stdout = '';
  proc.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise((r) => proc.on('exit', (code, sig) => r({ code, sig })));
  for (let i = 0; i < 200; i++) {
    if (fs.existsSync(portFile)) {
      const port = parseInt(fs.readFileSync(portFile, 'utf8'), 10);
      if (port > 0) {
        // the admin port file is written right after the data port's
        let adminPort = 0;
        for (let k = 0; k < 100 && !adminPort; k++) {
          if (fs.existsSync(adminPortFile))
            adminPort = parseInt(fs.readFileSync(adminPortFile, 'utf8'), 10) || 0;
          if (!adminPort) await sleep(20);
        }
        const c = { proc, port, adminPort, exited, name, get stdout() { return stdout; } };
        c.stop = async (sig = 'SIGTERM') => { proc.kill(sig); return exited; };
        return c;
      }
    }
    if (proc.exitCode !== null) break;
    await sleep(50);
  }
  throw new Error(`${name} did not start; see ${name}.log`);
}

// One HTTP request. opts: method, path, headers, body (Buffer|string), chunked.
export function request(port, opts) {
  return new Promise((resolve, reject) => {
    const headers = { ...(opts.headers || {}) };
    const body = opts.body === undefined ? null : Buffer.from(opts.body);
    if (body && !opts.chunked && headers['content-length'] === undefined)
      headers['content-length'] = body.length;
    const req = http.request(
      { host: '127.0.0.1', port, method: opts.method || 'GET', path: opts.path, headers,
        agent: opts.agent || false, localAddress: opts.localAddress },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
    req.on('error', reject);
    if (body) {
      if (opts.chunked) {
        // write in pieces so the upload really streams
        const step = 65536;
        for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
      } else {
        req.write(body);
      }
    }
    req.end();
  });
}

export async function getJSON(port, p) {
  const r = await request(port, { path: p });
  if (r.status !== 200) throw new Error(`GET ${p}: ${r.status}`);
  return JSON.parse(r.body.toString('utf8'));
}

// ---------------------------------------------------------------------------
// Protobuf (proto3) encoding of slate.v1 messages

function varint(v) {
  let x = BigInt(v);
  const out = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return Buffer.from(out);
}
const tag = (f, wt) => varint((f << 3) | wt);
function fUint(f, v) {
  return v ? Buffer.concat([tag(f, 0), varint(v)]) : Buffer.alloc(0);
}
function fBytes(f, b) {
  return Buffer.concat([tag(f, 2), varint(b.length), b]);
}
function fStr(f, s) {
  return s ? fBytes(f, Buffer.from(s, 'utf8')) : Buffer.alloc(0);
}
function fMsg(f, b) {
  return fBytes(f, b);
}
function fDouble(f, v) {
  if (!v) return Buffer.alloc(0);
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return Buffer.concat([tag(f, 1), b]);
}
function fPacked(f, arr) {
  if (!arr || !arr.length) return Buffer.alloc(0);
  return fBytes(f, Buffer.concat(arr.map(varint)));
}

export function encLatency(l = {}) {
  return Buffer.concat([fUint(1, l.count), fUint(2, l.sum_ns), fUint(3, l.min_ns),
    fUint(4, l.max_ns), fDouble(5, l.mean_ns), fDouble(6, l.m2), fUint(7, l.hist_offset),
    fPacked(8, l.hist_counts)]);
}
// A latency of `count` samples all equal to ms milliseconds.
export function flatLatency(count, ms) {
  const ns = Math.round(ms * 1e6);
  return { count, sum_ns: BigInt(ns) * BigInt(count), min_ns: ns, max_ns: ns, mean_ns: ns, m2: 0 };
}
function encInbound(e) {
  return Buffer.concat([fStr(1, e.method), fStr(2, e.path), fUint(3, e.requests),
    fDouble(4, e.rate_rps), fUint(5, e.in_flight),
    e.latency ? fMsg(6, encLatency(e.latency)) : Buffer.alloc(0)]);
}
function encOutbound(e) {
  return Buffer.concat([fStr(1, e.dst_service), fStr(2, e.method), fStr(3, e.path),
    fStr(4, e.dst_region), fUint(5, e.requests),
    e.latency ? fMsg(6, encLatency(e.latency)) : Buffer.alloc(0)]);
}
function encLoad(l) {
  return Buffer.concat([fStr(1, l.method), fStr(2, l.path), fDouble(3, l.rps),
    fUint(4, l.in_flight)]);
}
function encSpan(s) {
  return Buffer.concat([fStr(1, s.trace_id), fStr(2, s.span_id), fStr(3, s.parent_span_id),
    fStr(4, s.method), fStr(5, s.path), fUint(6, s.start_ns), fUint(7, s.end_ns),
    fUint(8, s.body_size), ...(s.load || []).map((l) => fMsg(9, encLoad(l)))]);
}
export function encReport(r) {
  return Buffer.concat([fStr(1, r.service), fStr(2, r.region), fStr(3, r.pod),
    fUint(4, r.sequence), fUint(5, r.time_ns), fUint(6, r.interval_ns),
    ...(r.inbound || []).map((e) => fMsg(7, encInbound(e))),
    ...(r.outbound || []).map((e) => fMsg(8, encOutbound(e))),
    ...(r.spans || []).map((s) => fMsg(9, encSpan(s))),
    r.drops ? fMsg(10, Buffer.concat([fUint(1, r.drops.spans_dropped)])) : Buffer.alloc(0)]);
}
export function delimited(bufs) {
  return Buffer.concat(bufs.flatMap((b) => [varint(b.length), b]));
}

// Generic decoder: field number -> array of values (varint as BigInt, bytes as Buffer).
function readVarint(b, pos) {
  let x = 0n, shift = 0n;
  for (;;) {
    if (pos >= b.length) throw new Error('truncated varint');
    const c = b[pos++];
    x |= BigInt(c & 0x7f) << shift;
    if (!(c & 0x80)) return [x, pos];
    shift += 7n;
  }
}
export function decodeFields(b) {
  const out = {};
  let pos = 0;
  while (pos < b.length) {
    let key;
    [key, pos] = readVarint(b, pos);
    const f = Number(key >> 3n), wt = Number(key & 7n);
    let v;
    if (wt === 0) [v, pos] = readVarint(b, pos);
    else if (wt === 2) {
      let n;
      [n, pos] = readVarint(b, pos);
      v = b.subarray(pos, pos + Number(n));
      pos += Number(n);
    } else if (wt === 1) { v = b.subarray(pos, pos + 8); pos += 8; }
    else if (wt === 5) { v = b.subarray(pos, pos + 4); pos += 4; }
    else throw new Error(`wire type ${wt}`);
    (out[f] ||= []).push(v);
  }
  return out;
}
const s = (f, n) => (f[n] ? f[n][f[n].length - 1].toString('utf8') : '');
const u = (f, n) => (f[n] ? f[n][f[n].length - 1] : 0n);
export function decodeRules(b) {
  const f = decodeFields(b);
  return {
    version: u(f, 1), ttl_ns: u(f, 2), generated_ns: u(f, 3),
    rules: (f[4] || []).map((rb) => {
      const r = decodeFields(rb);
      return {
        src_region: s(r, 1), dst_service: s(r, 2), method: s(r, 3), path: s(r, 4),
        src_service: s(r, 6),
        targets: (r[5] || []).map((tb) => {
          const t = decodeFields(tb);
          return { region: s(t, 1), weight: Number(u(t, 2)) };
        }),
      };
    }),
  };
}
export function undelimit(b) {
  const out = [];
  let pos = 0;
  while (pos < b.length) {
    let n;
    [n, pos] = readVarint(b, pos);
    out.push(b.subarray(pos, pos + Number(n)));
    pos += Number(n);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Prometheus text exposition format (0.0.4), checked strictly.

export function parseMetrics(text) {
  const errors = [];
  const families = {};
  const samples = [];
  const nameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') errors.push('does not end with a newline');
  let current = null;
  const seenFamilies = new Set();
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      const rest = line.slice(7);
      const sp = rest.indexOf(' ');
      const name = sp < 0 ? rest : rest.slice(0, sp);
      if (!nameRe.test(name)) errors.push(`line ${i + 1}: bad metric name ${name}`);
      const fam = (families[name] ||= { help: null, type: null, samples: 0 });
      if (line.startsWith('# TYPE ')) {
        const t = rest.slice(sp + 1);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(t))
          errors.push(`line ${i + 1}: bad type ${t}`);
        if (fam.type) errors.push(`line ${i + 1}: second TYPE for ${name}`);
        if (fam.samples) errors.push(`line ${i + 1}: TYPE after samples of ${name}`);
        fam.type = t;
      } else {
        if (fam.help !== null) errors.push(`line ${i + 1}: second HELP for ${name}`);
        fam.help = rest.slice(sp + 1);
      }
      if (current !== name && seenFamilies.has(name))
        errors.push(`line ${i + 1}: family ${name} is not contiguous`);
      current = name;
      seenFamilies.add(name);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)( -?[0-9]+)?$/.exec(line);
    if (!m) { errors.push(`line ${i + 1}: malformed sample: ${line}`); continue; }
    const [, name, , labelText, value] = m;
    const labels = {};
    if (labelText !== undefined && labelText !== '') {
      const lre = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/y;
      let pos = 0;
      while (pos < labelText.length) {
        lre.lastIndex = pos;
        const lm = lre.exec(labelText);
        if (!lm) { errors.push(`line ${i + 1}: malformed labels: ${labelText}`); break; }
        if (labels[lm[1]] !== undefined) errors.push(`line ${i + 1}: duplicate label ${lm[1]}`);
        labels[lm[1]] = lm[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        pos = lre.lastIndex;
      }
    }
    if (!/^(NaN|[+-]Inf|[+-]?[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?)$/.test(value))
      errors.push(`line ${i + 1}: bad value ${value}`);
    let fam = name;
    for (const suf of ['_bucket', '_sum', '_count'])
      if (!families[fam] && name.endsWith(suf) && families[name.slice(0, -suf.length)])
        fam = name.slice(0, -suf.length);
    if (!families[fam] || !families[fam].type)
      errors.push(`line ${i + 1}: sample ${name} without a preceding TYPE`);
    else if (current !== fam) errors.push(`line ${i + 1}: sample ${name} outside its family`);
    else families[fam].samples++;
    const num = value === 'NaN' ? NaN : value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity
      : Number(value);
    if (families[fam] && families[fam].type === 'counter' && !(num >= 0))
      errors.push(`line ${i + 1}: counter ${name} is ${value}`);
    samples.push({ name, labels, value: num });
  }
  return { errors, families, samples };
}

export function metric(parsed, name, labels = {}) {
  const found = parsed.samples.find((x) => x.name === name &&
    Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return found ? found.value : undefined;
}
