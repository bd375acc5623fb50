'use strict';
// The controller's published routing rules (GET /v1/rules) as compact
// snapshots, and whether a sequence of them converged.

/**
 * {key: {region: fraction}} from a /v1/rules answer ({current, previous};
 * the current set is used) or from one rules set; key is
 * "srcService>dstService@srcRegion" ("*" when the rule names no source
 * service), with " METHOD path" appended when a pair has several endpoints.
 */
function rulesSnapshot(answer) {
  const out = {};
  const pairs = new Map();
  const set = answer && 'current' in answer ? answer.current : answer;
  const rules = (set && set.rules) || [];
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
 * a stretch of snapshots that all stay within `tolerance` of the stretch's
 * last one, lasting at least max(minStableS, 20% of the window). Returns
 * {converged, afterS (when the first such stretch began, seconds from
 * fromS), stableS (the longest stretch), tolerance, settled (the weights it
 * settled on), reason}.
 */
function convergence(timeline, fromS, toS, { region = null, tolerance = 0.05, minStableS = 2 } = {}) {
  const snaps = timeline.filter((s) => s.t >= fromS && s.t <= toS).sort((a, b) => a.t - b.t);
  const need = Math.max(minStableS, 0.2 * (toS - fromS));
  const res = { converged: false, afterS: NaN, stableS: 0, tolerance, settled: null, reason: '' };
  if (snaps.length < 3) { res.reason = `only ${snaps.length} rule snapshots in the window`; return res; }
  for (let j = 0; j < snaps.length; j++) {
    let i = j;
    while (i > 0 && distance(snaps[i - 1].rules, snaps[j].rules, region) <= tolerance) i--;
    const len = snaps[j].t - snaps[i].t;
    if (len > res.stableS) res.stableS = len;
    if (len >= need && !res.converged) {
      res.converged = true;
      res.afterS = snaps[i].t - fromS;
      res.settled = snaps[j].rules;
    }
  }
  if (!res.converged) {
    res.reason = `the weights never held within ${tolerance} for ${need.toFixed(1)} s (longest: ${res.stableS.toFixed(1)} s)`;
  }
  return res;
}

/** Largest share of `region`'s calls that any snapshot in [fromS, toS] sends to other regions. */
function largestShift(timeline, fromS, toS, region) {
  let most = 0;
  for (const s of timeline) {
    if (s.t < fromS || s.t > toS) continue;
    for (const [k, fr] of Object.entries(s.rules)) {
      if (keyRegion(k) !== region) continue;
      most = Math.max(most, 1 - (fr[region] || 0));
    }
  }
  return most;
}

module.exports = { rulesSnapshot, distance, convergence, largestShift, keyRegion };
