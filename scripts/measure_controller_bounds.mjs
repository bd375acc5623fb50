#!/usr/bin/env node
// Two resource bounds of slate-controller, measured on a live daemon (and on
// an older build beside it with --before, for a side-by-side figure):
//  1. answer amplification: a 4 MiB /v1/reports batch of minimal reports,
//     sent once rules exist; the answer's size, the time, the peak RSS;
//  2. slow bodies: 250 connections that declare a 4,000,000-byte body, send
//     --sent-each bytes of it (default 1 MiB) and stall; the RSS while they
//     are held (per-client limit off, as if they came from 250 addresses).
// Usage: node scripts/measure_controller_bounds.mjs --controller BIN [--before OLD_BIN]
//          [--sent-each BYTES]
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { encReport, delimited, request } = await import(
  path.join(here, '..', 'shims', 'controller', 'tests', 'lib.mjs'));
const { Scenario, REGIONS_FILE } = await import(
  path.join(here, '..', 'shims', 'controller', 'tests', 'scenario.mjs'));
const argv = process.argv.slice(2);
const opt = (k) => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : undefined; };
const SENT_EACH = Number(opt('sent-each') || 1 << 20);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'slate-bounds-'));
fs.writeFileSync(path.join(work, 'regions'), REGIONS_FILE);

async function start(bin, extra) {
  const pf = path.join(work, `port-${Date.now()}`);
  const proc = spawn(bin, ['--port', '0', '--port-file', pf, '--regions-file', path.join(work, 'regions'),
    '--solve-period-ms', '500', '--log-level', 'warn', ...extra], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    if (fs.existsSync(pf) && parseInt(fs.readFileSync(pf, 'utf8'), 10) > 0)
      return { proc, port: parseInt(fs.readFileSync(pf, 'utf8'), 10) };
    await sleep(25);
  }
  throw new Error('no start');
}
const status = (pid, key) => {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(parseInt(m[1], 10) / 1024) : NaN;
};
async function amplification(bin) {
  const c = await start(bin, []);
  const scen = new Scenario({ tickMs: 100, portOf: () => c.port });
  let rules = 0;
  for (let i = 0; i < 200 && rules === 0; i++) {
    const ans = await scen.step();
    rules = ans.reduce((n, a) => n + a.rules.rules.length, 0);
    await sleep(50);
  }
  const one = encReport({ service: 'frontend', region: 'west' });
  const n = Math.floor((4 * 1024 * 1024 - 64) / (one.length + 1));
  const body = delimited(Array.from({ length: n }, () => one));
  const t0 = Date.now();
  const r = await request(c.port, { method: 'POST', path: '/v1/reports', body });
  const ms = Date.now() - t0;
  const hwm = status(c.proc.pid, 'VmHWM');
  c.proc.kill('SIGKILL');
  return { reports: n, body_bytes: body.length, rules_per_single_answer: rules, status: r.status,
    answer_bytes: r.body.length, ms, peak_rss_mib: hwm };
}

async function slowBodies(bin, extra) {
  const c = await start(bin, extra);
  const base = status(c.proc.pid, 'VmRSS');
  const socks = [];
  for (let i = 0; i < 250; i++) {
    const s = net.connect(c.port, '127.0.0.1', () => {
      s.write('POST /v1/report HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n');
      s.write(Buffer.alloc(SENT_EACH, 0x0a));
    });
    s.on('error', () => {});
    socks.push(s);
  }
  await sleep(2000);
  const held = status(c.proc.pid, 'VmRSS');
  for (const s of socks) s.destroy();
  c.proc.kill('SIGKILL');
  return { connections: 250, declared: 4000000, sent_each: SENT_EACH, rss_before_mib: base, rss_held_mib: held };
}

const out = {};
for (const [name, bin] of [['now', opt('controller')], ['before', opt('before')]]) {
  if (!bin) continue;
  const help = execFileSync(bin, ['--help']).toString();
  const guardFlags = /--max-connections-per-client/.test(help) ? ['--max-connections-per-client', '0'] : [];
  out[name] = { amplification: await amplification(bin), slow_bodies: await slowBodies(bin, guardFlags) };
}
console.log(JSON.stringify(out, null, 1));
fs.rmSync(work, { recursive: true, force: true });
