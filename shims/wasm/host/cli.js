#!/usr/bin/env node
// libslate - command line for the proxy-wasm test host (no HTTP needed).
// SPDX-License-Identifier: Apache-2.0
//
//   node cli.js bench --module filter.wasm [--baseline noop.wasm] [--workers 4]
//        [--requests 100000] [--root-id ID] [--config STR|@file] [--vm-config STR|@file]
//        [--header k=v ...] [--singleton reporter.wasm --singleton-root-id ID
//        --singleton-config STR|@file] [--step-ns N] [--json]
//   node cli.js run --module m.wasm [--workers N] [--root-id ID] [--config ...]
//        [--ms 1000] [--cluster name=http://127.0.0.1:port ...]   (prints logs)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Host, benchStreams, LogLevel } = require('./host.js');

function parse(argv) {
  const o = { _: [], header: [], cluster: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { o._.push(a); continue; }
    const k = a.slice(2);
    const flag = ['json'].includes(k);
    const v = flag ? true : argv[++i];
    if (Array.isArray(o[k])) o[k].push(v); else o[k] = v;
  }
  return o;
}

const text = (v) => (v && v.startsWith('@') ? fs.readFileSync(v.slice(1)) : (v ?? ''));

function build(o, modulePath) {
  const clusters = Object.fromEntries(o.cluster.map((c) => c.split(/=(.*)/s).slice(0, 2)));
  const host = new Host({ clusters });
  host.addWorkers(Number(o.workers ?? 4), { module: modulePath, rootId: o['root-id'] ?? '',
    configuration: text(o.config), vmConfiguration: text(o['vm-config']) });
  if (o.singleton) {
    host.addSingleton({ module: o.singleton, rootId: o['singleton-root-id'] ?? '',
      configuration: text(o['singleton-config']), vmConfiguration: text(o['vm-config']) });
  }
  const bad = host.vms.filter((v) => v.failed || v.roots.some((r) => r.configured === false));
  if (bad.length) {
    for (const l of host.logs) if (l.level >= LogLevel.Warn) console.error(`${l.vm}: ${l.message}`);
    throw new Error(`${bad.length} VM(s) failed to start or configure`);
  }
  return host;
}

function bench(o) {
  const headers = Object.fromEntries(o.header.map((h) => h.split(/=(.*)/s).slice(0, 2)));
  const req = (i) => Object.assign({ ':method': 'GET', ':path': `/bench/${i % 16}`,
    ':authority': 'bench', 'x-request-id': String(i) }, headers);
  const opts = { requests: Number(o.requests ?? 100000), request: req, stepNs: Number(o['step-ns'] ?? 0) };
  const rows = [];
  const measure = (label, mod) => {
    const host = build(o, mod);
    const r = benchStreams(host, opts);
    rows.push(Object.assign({ label, module: path.basename(mod), bytes: fs.statSync(mod).size }, r));
  };
  if (o.baseline) measure('baseline', o.baseline);
  measure('module', o.module);
  if (o.json) { console.log(JSON.stringify(rows, null, 2)); return; }
  const base = rows.find((r) => r.label === 'baseline');
  console.log('module                    size(B)   ns/req  ratio  hostcalls/req  sd-calls/req  sd-bytes-in/req  sd-bytes-out/req');
  for (const r of rows) {
    const ratio = base ? (r.nsPerRequest / base.nsPerRequest).toFixed(2) : '-';
    console.log(`${r.module.padEnd(24)} ${String(r.bytes).padStart(8)} ${r.nsPerRequest.toFixed(0).padStart(8)} ${String(ratio).padStart(6)} ${r.hostcallsPerRequest.toFixed(2).padStart(14)} ${r.sharedDataCallsPerRequest.toFixed(2).padStart(13)} ${r.sharedDataBytesInPerRequest.toFixed(1).padStart(16)} ${r.sharedDataBytesOutPerRequest.toFixed(1).padStart(17)}`);
  }
  console.log(`(${opts.requests} requests over ${o.workers ?? 4} workers, same run)`);
}

async function run(o) {
  const host = build(o, o.module);
  await host.run(Number(o.ms ?? 1000) * 1e6);
  for (const l of host.logs) console.log(`${(l.timeNs / 1e6).toFixed(3)}ms ${l.vm} ${l.levelName} ${l.message}`);
  await host.close();
}

async function main() {
  const o = parse(process.argv.slice(2));
  const cmd = o._[0];
  if (!o.module || !['bench', 'run'].includes(cmd)) {
    console.error('usage: cli.js bench|run --module m.wasm [options] (see the top of cli.js)');
    process.exit(2);
  }
  if (cmd === 'bench') bench(o); else await run(o);
}

main().catch((e) => { console.error(e.message); process.exit(1); });
