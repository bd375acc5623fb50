// Draws the scale benchmark's growth chart: reads bench_scale's output (its
// final table) on stdin and writes an SVG with two log-log panels against
// mesh size (services x regions): the global controller's solve time (build,
// LP, total) and the peak RSS of the global and of the largest cluster
// controller.
//   build/bench/bench_scale | tee scale.txt; node scripts/scale_chart.mjs < scale.txt > docs/scale.svg
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';

const text = fs.readFileSync(0, 'utf8');
const lines = text.split('\n');
const head = lines.findLastIndex((l) => /^\s*services\s+regs/.test(l));
if (head < 0) {
  console.error('no table in the input');
  process.exit(1);
}
const cols = lines[head].trim().split(/\s+/);
const rows = [];
for (const l of lines.slice(head + 1)) {
  const f = l.trim().split(/\s+/);
  if (f.length !== cols.length) break;
  rows.push(Object.fromEntries(cols.map((c, i) => [c, c === 'checks' ? f[i] : Number(f[i])])));
}
if (!rows.length) {
  console.error('empty table');
  process.exit(1);
}

const W = 900, H = 380, PW = 360, PH = 260, M = { l: 70, t: 50 };
const log = Math.log10;
const xs = rows.map((r) => r.services * r.regs);
const x0 = Math.floor(log(Math.min(...xs))), x1 = Math.ceil(log(Math.max(...xs)));
const fmt = (v) => (v >= 1000 ? `${v / 1000}k` : `${v}`);

function panel(ox, title, unit, series) {
  const vals = series.flatMap((s) => rows.map(s.get)).filter((v) => v > 0 && Number.isFinite(v));
  const y0 = Math.floor(log(Math.min(...vals))), y1 = Math.ceil(log(Math.max(...vals)));
  const X = (v) => ox + ((log(v) - x0) / (x1 - x0 || 1)) * PW;
  const Y = (v) => M.t + PH - ((log(v) - y0) / (y1 - y0 || 1)) * PH;
  let s = `<text x="${ox + PW / 2}" y="${M.t - 20}" text-anchor="middle" font-weight="bold">${title}</text>\n`;
  s += `<rect x="${ox}" y="${M.t}" width="${PW}" height="${PH}" fill="none" stroke="#888"/>\n`;
  for (let e = x0; e <= x1; e++) {
    const x = X(10 ** e);
    s += `<line x1="${x}" y1="${M.t}" x2="${x}" y2="${M.t + PH}" stroke="#ddd"/>`;
    s += `<text x="${x}" y="${M.t + PH + 16}" text-anchor="middle">${fmt(10 ** e)}</text>\n`;
  }
  for (let e = y0; e <= y1; e++) {
    const y = Y(10 ** e);
    s += `<line x1="${ox}" y1="${y}" x2="${ox + PW}" y2="${y}" stroke="#ddd"/>`;
    s += `<text x="${ox - 6}" y="${y + 4}" text-anchor="end">${10 ** e >= 1 ? fmt(10 ** e) : 10 ** e}</text>\n`;
  }
  s += `<text x="${ox + PW / 2}" y="${M.t + PH + 36}" text-anchor="middle">services x regions</text>\n`;
  s += `<text x="${ox - 50}" y="${M.t + PH / 2}" text-anchor="middle" transform="rotate(-90 ${ox - 50} ${M.t + PH / 2})">${unit}</text>\n`;
  series.forEach((se, k) => {
    const pts = rows.map((r, i) => [xs[i], se.get(r)]).filter(([, v]) => v > 0 && Number.isFinite(v));
    s += `<polyline fill="none" stroke="${se.color}" stroke-width="2" points="${pts.map(([x, v]) => `${X(x).toFixed(1)},${Y(v).toFixed(1)}`).join(' ')}"/>\n`;
    for (const [x, v] of pts) s += `<circle cx="${X(x).toFixed(1)}" cy="${Y(v).toFixed(1)}" r="3" fill="${se.color}"/>`;
    s += `\n<text x="${ox + 10}" y="${M.t + 16 + 16 * k}" fill="${se.color}">${se.name}</text>\n`;
  });
  return s;
}

let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n`;
svg += `<rect width="${W}" height="${H}" fill="white"/>\n`;
svg += panel(M.l, 'Global solve time', 'ms', [
  { name: 'total (build + LP + rules)', color: '#c0392b', get: (r) => r.tot_ms },
  { name: 'LP (CLP)', color: '#2980b9', get: (r) => r.lp_ms },
  { name: 'LP build', color: '#27ae60', get: (r) => r.build_ms },
]);
svg += panel(M.l + PW + 100, 'Peak RSS (VmHWM)', 'MB', [
  { name: 'global controller', color: '#8e44ad', get: (r) => r.glb_MB },
  { name: 'largest cluster controller', color: '#d35400', get: (r) => r.clu_MB },
]);
svg += '</svg>\n';
process.stdout.write(svg);
