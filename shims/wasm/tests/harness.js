// Test harness: the data-plane modules in the proxy-wasm test host, a real
// HTTP server on loopback standing in for the controller, and traffic
// generators on the host's virtual clock.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { Host, LogLevel } = require('../host/host.js');
const pb = require('./pb.js');

const MODULES = process.env.SLATE_WASM_MODULES ||
  path.join(__dirname, '..', '..', '..', 'build', 'shims', 'wasm');
const FILTER = path.join(MODULES, 'slate_filter.wasm');
const REPORTER = path.join(MODULES, 'slate_reporter.wasm');
const NOOP = path.join(MODULES, 'slate_noop.wasm');
const SIDECAR = path.join(MODULES, 'slate_sidecar.wasm');

const MS = 1e6;
const S = 1e9;

/**
 * A controller stand-in: decodes every report (protobuf, or keeps the text
 * for the legacy protocol) and answers with the current rules, or fails as
 * told by `mode`: 'rules' | 'status500' | 'garbage' | 'oversized' | 'empty'.
 * Being down is stop(); being slow is the host cluster's latency.
 */
class TestController {
  constructor(opts = {}) {
    this.mode = 'rules';
    this.rules = null;        // object for pb.encodeRoutingRules
    this.legacyRules = null;  // text for the legacy protocol
    this.reports = [];        // {timeNs, headers, report | text, raw}
    this.clock = opts.clock || (() => 0);
    this.oversizedBytes = opts.oversizedBytes || 2 * 1024 * 1024;
    this.server = null;
    this.port = 0;
  }

  async start(port = 0) {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => this._handle(req, Buffer.concat(chunks), res));
    });
    await new Promise((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    return this;
  }

  async stop() {
    if (!this.server) return;
    const s = this.server;
    this.server = null;
    s.closeAllConnections?.();
    await new Promise((resolve) => s.close(resolve));
  }

  url() {
    return `http://127.0.0.1:${this.port}`;
  }

  _handle(req, body, res) {
    const entry = { timeNs: this.clock(), path: req.url, headers: req.headers, raw: body };
    if (String(req.headers['content-type']).startsWith('application/x-protobuf')) {
      try {
        entry.report = pb.decodeLoadReport(body);
      } catch (e) {
        entry.error = e.message;
      }
    } else {
      entry.text = body.toString('utf8');
    }
    this.reports.push(entry);
    switch (this.mode) {
      case 'status500':
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error');
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
        return;
      case 'oversized':
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end(Buffer.alloc(this.oversizedBytes, 0x0a));
        return;
      case 'empty':
        res.writeHead(200);
        res.end();
        return;
      default:
        if (this.legacyRules !== null) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(this.legacyRules);
        } else {
          res.writeHead(200, { 'content-type': 'application/x-protobuf' });
          res.end(this.rules ? pb.encodeRoutingRules(this.rules) : Buffer.alloc(0));
        }
    }
  }

  /** Decoded protobuf reports, in arrival order. */
  decoded() {
    return this.reports.filter((r) => r.report).map((r) => r.report);
  }
}

/**
 * Builds a host with `workers` filter VMs and `reporters` reporter VMs.
 * filter / reporter: configuration objects merged over the defaults below.
 */
async function setup(o = {}) {
  // A missing module fails the test here, before a stand-in controller is
  // listening (an open server would keep the test process alive).
  for (const m of [o.workerModule || FILTER, REPORTER]) {
    if (!fs.existsSync(m)) throw new Error(`${m} is not built`);
  }
  const ctl = o.noController ? null : await new TestController().start();
  const host = new Host(Object.assign({
    clusters: ctl ? { controller: { url: ctl.url(), latencyMs: o.latencyMs || 0 } } : {},
    seed: o.seed || 1,
  }, o.host || {}));
  if (ctl) ctl.clock = () => host.now();
  const base = { service: 'frontend', region: 'us-west-1' };
  const filterCfg = Object.assign({}, base, { direction: 'inbound', tick_ms: 500 }, o.filter || {});
  const reporterCfg = Object.assign({}, base, {
    controller_cluster: 'controller', tick_ms: 500, http_timeout_ms: 200,
  }, o.reporter || {});
  const vmId = o.vmId ?? 'slate';
  const workers = host.addWorkers(o.workers ?? 4, {
    module: o.workerModule || FILTER, rootId: 'slate_filter', vmId,
    roots: o.roots, configuration: o.roots ? undefined : JSON.stringify(filterCfg),
  });
  const reporters = [];
  for (let i = 0; i < (o.reporters ?? 1); i++) {
    reporters.push(host.addSingleton({ module: REPORTER, rootId: 'slate_reporter', vmId,
      configuration: JSON.stringify(reporterCfg) }));
  }
  return { host, ctl, workers, reporters, reporter: reporters[0], filterCfg, reporterCfg,
    async close() {
      await host.close?.();
      if (ctl) await ctl.stop();
    } };
}

/**
 * Schedules `count` inbound requests at times start + i * gapNs (virtual),
 * each on host.nextWorker(). Requests scheduled for the same time form one
 * event. Each completes `latencyNs` (number or fn(i)) after it arrives.
 */
function scheduleRequests(host, o) {
  const { start, gapNs, count } = o;
  const headers = o.headers || ((i) => ({ ':method': 'GET', ':path': '/cart', ':authority': 'frontend' }));
  const latency = typeof o.latencyNs === 'function' ? o.latencyNs : () => o.latencyNs || 0;
  const perEvent = o.perEvent || 1;
  const streams = [];
  for (let i = 0; i < count; i += perEvent) {
    const first = i;
    const t = Math.round(start + first * gapNs);
    host.schedule(t, () => {
      for (let k = first; k < Math.min(first + perEvent, count); k++) {
        const vm = o.vm ? o.vm(k) : host.nextWorker();
        const s = vm.newStream();
        s.requestHeaders(headers(k), !o.body);
        if (o.body) s.requestBody(o.body(k), true);
        const lat = latency(k);
        const finish = () => {
          s.responseHeaders({ ':status': '200' }, true);
          s.complete();
        };
        if (lat > 0) host.schedule(host.now() + lat, finish, { vm });
        else finish();
        streams.push(s);
      }
    });
  }
  return streams;
}

/** Runs one outbound call on vm now and returns the routing header it got. */
function outboundCall(vm, headers, header = 'x-slate-routeto', rootId = undefined) {
  const s = vm.newStream(rootId ? { rootId } : undefined);
  s.requestHeaders(Object.assign({ ':method': 'GET', ':path': '/cart', ':authority': 'cart:8080' }, headers || {}), true);
  const got = s.request.headers.get(header);
  s.responseHeaders({ ':status': '200' }, true);
  s.complete();
  return got;
}

function logs(vm, needle) {
  return vm.logs.filter((l) => l.message.includes(needle));
}

module.exports = { setup, scheduleRequests, outboundCall, logs, TestController, FILTER, REPORTER, SIDECAR,
  NOOP, MS, S, pb, Host, LogLevel };
