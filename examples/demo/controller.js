'use strict';
// Starts a real slate-controller process on a loopback port and talks to it
// over HTTP: its rules (GET /v1/rules), state (GET /v1/state) and Prometheus
// metrics (GET /metrics).

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

/** GET url; resolves {status, body} (body a string); rejects on network errors or timeout. */
function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
  });
}

/** Parses Prometheus text exposition into [{name, labels, value}]. */
function parseProm(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l;
      while ((l = re.exec(m[3])) !== null) labels[l[1]] = l[2];
    }
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

/** Sum of the samples of metric `name` whose labels include `match`. */
function promSum(samples, name, match = {}) {
  let sum = 0, found = false;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).some(([k, v]) => s.labels[k] !== v)) continue;
    sum += s.value;
    found = true;
  }
  return found ? sum : NaN;
}

class Controller {
  /**
   * opts: binary, routing ('local'|'waterfall'|'slate'), dir (for its port
   * file, log and regions file), regionsFile (text), args (extra flags, an
   * object of option -> value).
   */
  constructor(opts) {
    this.opts = opts;
    this.proc = null;
    this.port = 0;
    this.exited = null;
  }

  get url() { return `http://127.0.0.1:${this.port}`; }

  async start(timeoutMs = 10000) {
    const o = this.opts;
    fs.mkdirSync(o.dir, { recursive: true });
    const portFile = path.join(o.dir, 'port');
    const regions = path.join(o.dir, 'regions.txt');
    fs.rmSync(portFile, { force: true });
    fs.writeFileSync(regions, o.regionsFile);
    const args = ['--port', '0', '--port-file', portFile, '--routing', o.routing, '--regions-file', regions];
    for (const [k, v] of Object.entries(o.args || {})) args.push(`--${k}`, String(v));
    this.args = args;
    const log = fs.openSync(path.join(o.dir, 'controller.log'), 'w');
    this.logPath = path.join(o.dir, 'controller.log');
    this.proc = spawn(o.binary, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.proc.on('exit', (code, signal) => { this.exited = { code, signal }; });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`slate-controller (${o.routing}) exited at start (${JSON.stringify(this.exited)}); see ${this.logPath}`);
      try {
        const text = fs.readFileSync(portFile, 'utf8').trim();
        if (/^\d+$/.test(text) && Number(text) > 0) {
          this.port = Number(text);
          const h = await httpGet(`${this.url}/healthz`, 1000).catch(() => null);
          if (h && h.status === 200) return this;
        }
      } catch (e) { /* not written yet */ }
      await sleep(20);
    }
    throw new Error(`slate-controller (${o.routing}) did not start listening in ${timeoutMs} ms; see ${this.logPath}`);
  }

  async json(p) {
    const r = await httpGet(this.url + p);
    if (r.status !== 200) throw new Error(`GET ${p}: HTTP ${r.status}: ${r.body.slice(0, 200)}`);
    return JSON.parse(r.body);
  }

  async metrics() {
    const r = await httpGet(`${this.url}/metrics`);
    if (r.status !== 200) throw new Error(`GET /metrics: HTTP ${r.status}`);
    return parseProm(r.body);
  }

  /** SIGTERM, then wait for the exit (SIGKILL after timeoutMs). */
  async stop(timeoutMs = 5000) {
    if (!this.proc || this.exited) return this.exited;
    this.proc.kill('SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (!this.exited && Date.now() < deadline) await sleep(20);
    if (!this.exited) { this.proc.kill('SIGKILL'); while (!this.exited) await sleep(20); }
    return this.exited;
  }
}

module.exports = { Controller, httpGet, parseProm, promSum, sleep };
