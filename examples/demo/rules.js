'use strict';
// The controller's published routing rules (GET /v1/rules) as compact
// snapshots, and whether a sequence of them converged.

/**
 * {key: {region: fraction}} from a /v1/rules answer; key is
 * "srcService>dstService@srcRegion" ("*" when the rule names no source
 * service), with " METHOD path" appended when a pair has several endpoints.
 */
function rulesSnapshot(answer) {
  const out = {};
  const pairs = new Map();
  const rules = (answer && answer.rules) || [];
  for (const r of rules) {
    const base = `${r.src_service || '*'}>${r.dst_service}@${r.src_region}`;
    pairs.set(base, (pairs.get(base) || 0) + 1);
  }
  for (const r of rules) {
    let key = `${r.src_service || '*'}>${r.dst_service}@${r.src_region}`;
    if (pairs.get(key) > 1) key += ` ${r.method || '*'} ${r.path || '*'}`;
    let sum = 0;
    for (const t of r.targets || []) sum += Number(t.weight) || 0;
    const fr = {};
    for (const t of r.targets || []) fr[t.region] = sum > 0 ? (Number(t.weight) || 0) / sum : 0;
    out[key] = fr;
  }
  return out;
}

/** Source region of a snapshot key. */
function keyRegion(key) {
  const at = key.indexOf('@');
  const sp = key.indexOf(' ', at);
  return key.slice(at + 1, sp < 0 ? undefined : sp);
}

/** Largest difference of any fraction between two snapshots (absent rules route locally). */
function distance(a, b, region) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => !region || keyRegion(k) === region));
  let d = 0;
  for (const k of keys) {
    const src = keyRegion(k);
    const fa = a[k] || { [src]: 1 }, fb = b[k] || { [src]: 1 };
    for (const r of new Set([...Object.keys(fa), ...Object.keys(fb)])) {
      d = Math.max(d, Math.abs((fa[r] || 0) - (fb[r] || 0)));
    }
  }
  return d;
}

/**
 * Whether the rules for source region `region` settled during [fromS, toS]:
 * the earliest snapshot from which every later one (up to toS) stays within
 * `tolerance` of the last, and that stable stretch lasts at least
 * max(minStableS, 20% of the window). Returns {converged, afterS (seconds
 * from fromS), stableS, tolerance, final, reason}.
 */
function convergence(timeline, fromS, toS, { region = null, tolerance = 0.05, minStableS = 2 } = {}) {
  const snaps = timeline.filter((s) => s.t >= fromS && s.t <= toS).sort((a, b) => a.t - b.t);
  const res = { converged: false, afterS: NaN, stableS: 0, tolerance, final: null, reason: '' };
  if (snaps.length < 3) { res.reason = `only ${snaps.length} rule snapshots in the window`; return res; }
  const final = snaps[snaps.length - 1].rules;
  res.final = final;
  let i = snaps.length - 1;
  while (i > 0 && distance(snaps[i - 1].rules, final, region) <= tolerance) i--;
  res.afterS = snaps[i].t - fromS;
  res.stableS = toS - snaps[i].t;
  const need = Math.max(minStableS, 0.2 * (toS - fromS));
  res.converged = res.stableS >= need;
  if (!res.converged) {
    res.reason = `the weights were still moving ${res.stableS.toFixed(1)} s before the window ended (need ${need.toFixed(1)} s stable within ${tolerance})`;
  }
  return res;
}

module.exports = { rulesSnapshot, distance, convergence, keyRegion };
