#!/usr/bin/env node
'use strict';
// libslate's end-to-end demo: one simulated three-region application run
// under three routing policies at once, each with its own real
// slate-controller process, through the real proxy-wasm data plane.
//
//   node examples/demo/demo.js --controller build/shims/controller/slate-controller \
//       --wasm-dir build/shims/wasm [--duration 60] [--out build/demo/report.html]
//
// Time model: every sidecar runs on one shared virtual clock (the test host's
// Scheduler), so arrivals, service times, round trips and what the filters
// measure are exact and repeatable for a seed. The controllers are real
// daemons that window, solve and damp on their own wall clock, so the
// virtual clock is paced to the wall clock (one virtual second per real
// second): the loads the controllers compute are the simulated loads. See
// docs/demo.md.

const fs = require('fs');
const path = require('path');

const scenario = require('./scenario.js');
const { World, arrivals } = require('./sim.js');
const { Metrics } = require('./metrics.js');
const { Controller, promSum, sleep } = require('./controller.js');
const { convergence, largestShift, rulesSnapshot } = require('./rules.js');
const report = require('./report.js');

const POLICIES = {
  local: { label: 'local-only', routing: 'local' },
  waterfall: { label: 'waterfall', routing: 'waterfall' },
  slate: { label: 'libslate', routing: 'slate' },
};

const HELP = `usage: demo.js --controller PATH --wasm-dir DIR [options]
  --controller PATH the slate-controller binary
  --wasm-dir DIR    where slate_filter.wasm and slate_reporter.wasm are
  --duration S      length of the load trace in seconds (default 60)
  --out FILE        the HTML report (default build/demo/report.html)
  --json FILE       the numbers as JSON (default next to the report)
  --policies LIST   comma-separated subset of local,waterfall,slate (default all)
  --workers N       worker VMs per sidecar (default 2)
  --tick-ms MS      the data plane's report period (default 500)
  --seed N          seed of arrivals, trace ids and noise (default 1)
  --sampling P      trace sampling rate of the filters (default 0.3)
  --ctl KEY=VALUE   an extra slate-controller option for every policy (repeatable,
                    e.g. --ctl max-shift=0.1); overrides the demo's settings
  --host FILE       the proxy-wasm test host (default shims/wasm/host/host.js)
  --verbose         print data-plane warnings and controller log paths
`;

function parseArgs(argv) {
  const repo = path.resolve(__dirname, '..', '..');
  const o = {
    duration: 60, out: path.join(repo, 'build', 'demo', 'report.html'), json: null,
    policies: Object.keys(POLICIES), workers: 2, tickMs: 500, seed: 1, sampling: 0.3, verbose: false,
    controller: null, wasmDir: null, ctl: {}, host: path.join(repo, 'shims', 'wasm', 'host', 'host.js'),
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const val = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    switch (a.startsWith('--') ? key : '') {
      case 'duration': o.duration = Number(val()); break;
      case 'out': o.out = path.resolve(val()); break;
      case 'json': o.json = path.resolve(val()); break;
      case 'policies': o.policies = val().split(',').filter(Boolean); break;
      case 'workers': o.workers = Number(val()); break;
      case 'tick-ms': o.tickMs = Number(val()); break;
      case 'seed': o.seed = Number(val()); break;
      case 'sampling': o.sampling = Number(val()); break;
      case 'controller': o.controller = path.resolve(val()); break;
      case 'wasm-dir': o.wasmDir = path.resolve(val()); break;
      case 'host': o.host = path.resolve(val()); break;
      case 'ctl': {
        const kv = val();
        const k = kv.indexOf('=');
        if (k <= 0) throw new Error(`--ctl wants KEY=VALUE, not '${kv}'`);
        o.ctl[kv.slice(0, k)] = kv.slice(k + 1);
        break;
      }
      case 'verbose': o.verbose = true; break;
      case 'help': process.stdout.write(HELP); process.exit(0); break;
      default: throw new Error(`unknown argument '${a}'\n${HELP}`);
    }
  }
  if (!(o.duration >= 10)) throw new Error('--duration must be at least 10 seconds');
  if (!o.controller || !fs.existsSync(o.controller)) throw new Error(`--controller: no slate-controller at '${o.controller}'`);
  if (!o.wasmDir) throw new Error(`--wasm-dir is required\n${HELP}`);
  o.filterModule = path.join(o.wasmDir, 'slate_filter.wasm');
  o.reporterModule = path.join(o.wasmDir, 'slate_reporter.wasm');
  for (const m of [o.filterModule, o.reporterModule]) if (!fs.existsSync(m)) throw new Error(`--wasm-dir: no ${m}`);
  for (const p of o.policies) if (!POLICIES[p]) throw new Error(`--policies: unknown policy '${p}'`);
  if (!(o.workers >= 1 && o.workers <= 16)) throw new Error('--workers must be 1..16');
  if (!(o.tickMs >= 100 && o.tickMs <= 10000)) throw new Error('--tick-ms must be 100..10000');
  if (!o.json) o.json = o.out.replace(/\.html?$/, '') + '.json';
  return o;
}

/** The controller settings the Istio deployment ships (deploy/istio/controller.conf). */
const SHIPPED_CONF = path.join(__dirname, '..', '..', 'deploy', 'istio', 'controller.conf');

/**
 * Controller settings shared by every policy (the routing flag differs): the
 * shipped controller.conf, so the numbers the demo prints come from the
 * settings a deployment gets (solve every second, steps of at most 35%, a 10%
 * gain threshold, rollback past 25% worse, egress at 5e8 ms per $). Flags
 * override it only where the demo's simulated environment differs:
 * - max-clock-skew-ms 0: the sidecars run on a virtual clock that starts in
 *   2023, so the shipped 5-minute skew check would refuse their reports;
 * - debounce-*: exports are written within the run, however short;
 * - log-level info.
 */
function controllerArgs(durationS) {
  return {
    config: SHIPPED_CONF,
    'max-clock-skew-ms': 0,
    'debounce-quiet-ms': 500,
    'debounce-max-ms': Math.min(10000, durationS * 1000),
    'log-level': 'info',
  };
}

function fmt(v, d = 1) { return Number.isFinite(v) ? v.toFixed(d) : '-'; }

function printTable(rows, out = process.stdout) {
  const head = ['policy', 'window', 'requests', 'mean ms', 'p99 ms', 'remote %', 'egress GB', 'egress $/1M req'];
  const body = rows.map((r) => [r.policy, r.window, String(r.s.requests), fmt(r.s.meanMs), fmt(r.s.p99Ms),
    fmt(100 * r.s.remoteShare), fmt(r.s.egressGB, 3), fmt(r.s.usdPerMillion, 2)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  out.write(line(head) + '\n');
  out.write(w.map((n) => '-'.repeat(n)).join('  ') + '\n');
  let last = null;
  for (let i = 0; i < body.length; i++) {
    const cells = body[i].slice();
    if (cells[0] === last) cells[0] = '';
    else last = cells[0];
    out.write(line(cells) + '\n');
  }
}

async function main() {
  const o = parseArgs(process.argv);
  const { Host, Scheduler, LogLevel } = require(o.host);
  const outDir = path.dirname(o.out);
  fs.mkdirSync(outDir, { recursive: true });
  const D = o.duration;
  const phases = scenario.PHASES.map((p) => ({ name: p.name, from: p.from * D, to: p.to * D }));
  const over = phases.find((p) => p.name === 'overload');
  const say = (s) => process.stdout.write(s + '\n');

  say(`libslate demo: ${scenario.REGIONS.length} regions, services ${Object.keys(scenario.SERVICES).join(' -> ')}, ` +
      `${D} s load trace (${scenario.OVERLOADED} overloaded ${fmt(over.from, 0)}-${fmt(over.to, 0)} s), ` +
      `policies ${o.policies.map((p) => POLICIES[p].label).join(', ')}`);

  // 1. One real controller per policy.
  const ctls = {};
  const stopAll = async () => { for (const c of Object.values(ctls)) await c.stop().catch(() => {}); };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => { stopAll().then(() => process.exit(sig === 'SIGINT' ? 130 : 143)); });
  }
  try {
    for (const p of o.policies) {
      ctls[p] = new Controller({
        binary: o.controller, routing: POLICIES[p].routing, dir: path.join(outDir, p),
        regionsFile: scenario.regionsFile(), args: Object.assign(controllerArgs(D), o.ctl),
      });
      await ctls[p].start();
      say(`  controller ${POLICIES[p].label.padEnd(10)} ${ctls[p].url}  --routing ${POLICIES[p].routing}`);
    }

    // 2. The application, once per policy, on one shared virtual clock.
    const sched = new Scheduler();
    const metrics = new Metrics();
    const filterModule = new WebAssembly.Module(fs.readFileSync(o.filterModule));
    const reporterModule = new WebAssembly.Module(fs.readFileSync(o.reporterModule));
    const warnings = [];
    const worlds = {};
    const t0Build = Date.now();
    for (const p of o.policies) {
      worlds[p] = new World({
        name: p, scheduler: sched, Host, filterModule, reporterModule, controllerUrl: ctls[p].url, workers: o.workers,
        seed: o.seed, samplingRate: o.sampling, tickMs: o.tickMs, rulesTtlMs: 30000, httpTimeoutMs: Math.round(o.tickMs * 0.8),
        metrics, logLevel: LogLevel.Warn,
        logSink: (e, sc) => { if (warnings.length < 1000) warnings.push({ policy: p, sidecar: sc.name, e }); },
      });
    }
    const nSidecars = Object.keys(scenario.SERVICES).length * scenario.REGIONS.length;
    say(`  data plane: ${o.policies.length} x ${nSidecars} sidecars, each ${o.workers} worker VMs + 1 reporter ` +
        `(${o.policies.length * nSidecars * (o.workers + 1)} wasm VMs, built in ${Date.now() - t0Build} ms)`);
    const arr = arrivals(o.seed, D);
    for (const p of o.policies) worlds[p].schedule(arr);
    const nReq = Object.values(arr).reduce((a, l) => a + l.length, 0);
    say(`  load: ${nReq} user requests per policy; virtual time paced to the wall clock\n`);

    // 3. Run, polling every controller's rules once per second.
    const timeline = Object.fromEntries(o.policies.map((p) => [p, []]));
    const ctlMetrics = Object.fromEntries(o.policies.map((p) => [p, []]));
    const solves = Object.fromEntries(o.policies.map((p) => [p, []]));
    const pollErrors = [];
    const pending = new Set();
    const poll = (tS) => {
      for (const p of o.policies) {
        const pr = ctls[p].json('/v1/rules')
          .then((r) => timeline[p].push({ t: tS, version: r.current ? r.current.version : 0,
            origin: r.current ? r.current.origin : '', rules: rulesSnapshot(r) }))
          .catch((e) => pollErrors.push(`${p} at ${tS} s: ${e.message}`))
          .finally(() => pending.delete(pr));
        pending.add(pr);
        const ps = ctls[p].json('/v1/state')
          .then((st) => {
            const v = st.solve || {};
            solves[p].push({ t: tS, rounds: v.rounds, outcome: v.last_outcome, measuredMs: v.measured_latency_ms,
              modelledMs: v.modelled_latency_ms, objCurrent: v.objective_current, objProposed: v.objective_proposed,
              guard: v.rollback_guard_active, cooldown: v.cooldown_rounds });
          })
          .catch((e) => pollErrors.push(`${p} state at ${tS} s: ${e.message}`))
          .finally(() => pending.delete(ps));
        pending.add(ps);
        if (tS % 5 === 0) {
          const pm = ctls[p].metrics()
            .then((m) => ctlMetrics[p].push({ t: tS, reports: promSum(m, 'slate_controller_reports_received_total'),
              solves: promSum(m, 'slate_controller_solves_total'), rollbacks: promSum(m, 'slate_controller_rollbacks_total'),
              version: promSum(m, 'slate_controller_rules_version') }))
            .catch((e) => pollErrors.push(`${p} metrics at ${tS} s: ${e.message}`))
            .finally(() => pending.delete(pm));
          pending.add(pm);
        }
      }
    };
    const stepNs = 20e6;
    const wall0 = Date.now();
    let maxLag = 0;
    const lagSeries = [];
    const endNs = D * 1e9;
    const inflight = () => o.policies.reduce((a, p) => a + worlds[p].inflight, 0);
    for (let t = 0; t < endNs + 10e9; t += stepNs) {
      if (t >= endNs && inflight() === 0) break;
      await sched.run(stepNs);
      if ((t + stepNs) % 1e9 === 0) {
        const tS = (t + stepNs) / 1e9;
        poll(tS);
        if (tS % 10 === 0 && tS <= D) {
          const parts = o.policies.map((p) => {
            const s = metrics.summary(p, (tS - 10) * 1e9, tS * 1e9);
            return `${POLICIES[p].label} ${fmt(s.meanMs, 0)} ms`;
          });
          say(`  t=${String(tS).padStart(3)} s  ${scenario.phaseAt(Math.min(tS / D, 0.9999)).padEnd(8)}  mean latency of the last 10 s: ${parts.join(', ')}`);
        }
      }
      const lag = (Date.now() - wall0) - (t + stepNs) / 1e6;
      if (lag > maxLag) maxLag = lag;
      if ((t + stepNs) % 1e9 === 0) lagSeries.push([(t + stepNs) / 1e9, Math.max(0, lag)]);
      if (lag < 0) await sleep(-lag);
    }
    await Promise.allSettled([...pending]);

    // 4. Final state from every controller, then stop them.
    const final = {};
    const failures = [];
    for (const p of o.policies) {
      final[p] = {};
      if (ctls[p].exited) {
        failures.push(`${POLICIES[p].label}: slate-controller died during the run (${JSON.stringify(ctls[p].exited)}); see ${ctls[p].logPath}`);
      }
      try { final[p].metrics = await ctls[p].metrics(); } catch (e) { final[p].error = e.message; }
      try { final[p].state = await ctls[p].json('/v1/state'); } catch (e) { final[p].stateError = e.message; }
    }
    await stopAll();
    for (const p of o.policies) {
      const ex = ctls[p].exited;
      if (ex && (ex.code !== 0 || ex.signal) && !failures.some((f) => f.startsWith(POLICIES[p].label))) {
        say(`  note: slate-controller (${POLICIES[p].label}) exited with ${JSON.stringify(ex)} when stopped; see ${ctls[p].logPath}`);
      }
    }

    // 5. Checks: the data plane kept reporting, the optimiser's rules converged.
    const reporting = {};
    for (const p of o.policies) {
      reporting[p] = [];
      for (const sc of worlds[p].allSidecars()) {
        const log = sc.host.http.log;
        let ok = 0, bad = 0, lastOk = -1;
        for (const c of log) {
          const st = c.response && c.response.headers ? Number(c.response.headers.get(':status')) : 0;
          if (st >= 200 && st < 300) { ok++; lastOk = Math.max(lastOk, c.endNs / 1e9); } else if (c.state === 'done') bad++;
        }
        reporting[p].push({ sidecar: sc.name, ok, bad, lastOkS: lastOk });
        if (lastOk < D - 3) failures.push(`${POLICIES[p].label}: sidecar ${sc.name} stopped reporting (last accepted report at ${fmt(lastOk)} s of ${D} s)`);
      }
      const reports = final[p].metrics ? promSum(final[p].metrics, 'slate_controller_reports_received_total') : NaN;
      const expected = nSidecars * (D - 2);
      if (!(reports >= 0.8 * expected)) failures.push(`${POLICIES[p].label}: the controller received ${reports} reports, expected about ${nSidecars * D}`);
    }
    let conv = null;
    if (timeline.slate) {
      conv = convergence(timeline.slate, over.from, over.to, { region: scenario.OVERLOADED, tolerance: 0.05 });
      if (!conv.converged) failures.push(`libslate: the optimiser's rules for ${scenario.OVERLOADED} did not converge during the overload (${conv.reason})`);
      conv.largestShift = largestShift(timeline.slate, over.from, over.to, scenario.OVERLOADED);
      if (!(conv.largestShift >= 0.05)) failures.push(`libslate: the optimiser never sent traffic away from the overloaded ${scenario.OVERLOADED} (largest share ${fmt(100 * conv.largestShift)}%)`);
    }

    // 6. The table, the report, the JSON.
    const rows = [];
    const results = { duration: D, seed: o.seed, phases, maxLagMs: maxLag, lag: lagSeries, policies: {} };
    for (const p of o.policies) {
      const all = metrics.summary(p);
      const ov = metrics.summary(p, over.from * 1e9, over.to * 1e9);
      rows.push({ policy: POLICIES[p].label, window: 'overall', s: all });
      rows.push({ policy: POLICIES[p].label, window: 'overload', s: ov });
      results.policies[p] = { label: POLICIES[p].label, overall: all, overload: ov, reporting: reporting[p],
        controllerMetrics: ctlMetrics[p], solves: solves[p], controllerArgs: ctls[p].args };
    }
    say('');
    printTable(rows);
    const targets = evaluateTargets(results);
    results.targets = targets;
    results.convergence = conv;
    results.rules = timeline;
    results.failures = failures;
    say('');
    for (const t of targets) say(`  ${t.ok ? 'met ' : 'MISSED'}  ${t.text}`);
    if (conv && conv.converged) say(`  libslate's rules for ${scenario.OVERLOADED} settled ${fmt(conv.afterS)} s into the overload (held within ${conv.tolerance} for up to ${fmt(conv.stableS)} s)`);
    say(`  pacing: the virtual clock ran at most ${fmt(maxLag, 0)} ms behind the wall clock`);

    const html = report.render({ o, scenario, metrics, results, timeline, phases, policies: POLICIES });
    fs.writeFileSync(o.out, html);
    fs.writeFileSync(o.json, JSON.stringify(results, null, 1));
    say(`\n  report: ${o.out}\n  numbers: ${o.json}`);
    if (o.verbose) {
      for (const w of warnings.slice(0, 20)) say(`  [${w.policy} ${w.sidecar}] ${w.e.message}`);
      for (const p of o.policies) say(`  controller log (${p}): ${ctls[p].logPath}`);
    }
    if (pollErrors.length) say(`  ${pollErrors.length} controller polls failed, first: ${pollErrors[0]}`);
    if (failures.length) {
      for (const f of failures) say(`FAIL: ${f}`);
      process.exitCode = 1;
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** The targets, evaluated on the overload window. */
function evaluateTargets(results) {
  const P = results.policies;
  const out = [];
  if (P.local && P.slate) {
    const ratio = P.local.overload.meanMs / P.slate.overload.meanMs;
    out.push({ ok: ratio >= 2, text: `overload mean latency, local-only / libslate = ${fmt(ratio, 2)}x (target >= 2x)` });
  }
  if (P.waterfall && P.slate) {
    const w = P.waterfall.overload, s = P.slate.overload;
    out.push({ ok: s.usdPerMillion < w.usdPerMillion,
      text: `overload egress, libslate $${fmt(s.usdPerMillion, 2)} vs waterfall $${fmt(w.usdPerMillion, 2)} per 1M requests (target lower)` });
    out.push({ ok: s.meanMs <= w.meanMs,
      text: `overload mean latency, libslate ${fmt(s.meanMs)} ms vs waterfall ${fmt(w.meanMs)} ms (target equal or better)` });
  }
  return out;
}

if (require.main === module) {
  main().catch((e) => { process.stderr.write(`demo: ${e.stack || e.message}\n`); process.exit(2); });
}

module.exports = { parseArgs, evaluateTargets, printTable, controllerArgs, fmt, POLICIES, SHIPPED_CONF };
