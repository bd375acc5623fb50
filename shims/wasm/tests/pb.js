// A minimal protobuf reader and writer for the messages of
// proto/slate/v1/slate.proto, written for the tests from the schema alone
// (independent of libslate's C codec, so the tests cross-check it).
'use strict';

// ---------------------------------------------------------------------------
// Wire format.

function readVarint(buf, pos) {
  let v = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    v |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [v, pos];
    shift += 7n;
  }
  throw new Error('varint too long');
}

/** Parses a message into {field: [{wt, v}]} (v: BigInt, Buffer or Number for doubles). */
function parseFields(buf) {
  const out = new Map();
  let pos = 0;
  while (pos < buf.length) {
    let tag;
    [tag, pos] = readVarint(buf, pos);
    const field = Number(tag >> 3n);
    const wt = Number(tag & 7n);
    let v;
    if (wt === 0) {
      [v, pos] = readVarint(buf, pos);
    } else if (wt === 1) {
      if (pos + 8 > buf.length) throw new Error('truncated fixed64');
      v = buf.subarray(pos, pos + 8);
      pos += 8;
    } else if (wt === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      len = Number(len);
      if (pos + len > buf.length) throw new Error('length past end');
      v = buf.subarray(pos, pos + len);
      pos += len;
    } else if (wt === 5) {
      if (pos + 4 > buf.length) throw new Error('truncated fixed32');
      v = buf.subarray(pos, pos + 4);
      pos += 4;
    } else {
      throw new Error(`wire type ${wt}`);
    }
    if (!out.has(field)) out.set(field, []);
    out.get(field).push({ wt, v });
  }
  return out;
}

// Field accessors with proto3 defaults (last value wins for scalars).
const last = (f, n) => (f.has(n) ? f.get(n)[f.get(n).length - 1] : null);
const u64 = (f, n) => (last(f, n) ? last(f, n).v : 0n);
const num = (f, n) => Number(u64(f, n));
const str = (f, n) => (last(f, n) ? last(f, n).v.toString('utf8') : '');
const dbl = (f, n) => (last(f, n) ? last(f, n).v.readDoubleLE(0) : 0);
const msgs = (f, n) => (f.has(n) ? f.get(n).map((x) => parseFields(x.v)) : []);
function packedU32(f, n) {
  const vals = [];
  for (const x of f.get(n) || []) {
    if (x.wt === 0) vals.push(Number(x.v));
    else {
      let p = 0;
      while (p < x.v.length) {
        let v;
        [v, p] = readVarint(x.v, p);
        vals.push(Number(v));
      }
    }
  }
  return vals;
}

// ---------------------------------------------------------------------------
// LoadReport decoding.

function latency(f) {
  if (!f) return null;
  return {
    count: num(f, 1), sum_ns: u64(f, 2), min_ns: u64(f, 3), max_ns: u64(f, 4),
    mean_ns: dbl(f, 5), m2: dbl(f, 6), hist_offset: num(f, 7), hist_counts: packedU32(f, 8),
  };
}

function decodeLoadReport(buf) {
  const f = parseFields(buf);
  const d = msgs(f, 10)[0] || new Map();
  const dropNames = ['spans_dropped', 'endpoints_overflowed', 'outbound_overflowed',
    'late_stamps', 'post_failed_network', 'post_failed_timeout', 'post_failed_status',
    'post_failed_too_large', 'rules_rejected', 'counters_saturated'];
  const drops = {};
  dropNames.forEach((name, i) => { drops[name] = num(d, i + 1); });
  return {
    service: str(f, 1), region: str(f, 2), pod: str(f, 3), sequence: num(f, 4),
    time_ns: u64(f, 5), interval_ns: u64(f, 6),
    inbound: msgs(f, 7).map((m) => ({
      method: str(m, 1), path: str(m, 2), requests: num(m, 3), rate_rps: dbl(m, 4),
      in_flight: num(m, 5), latency: latency(msgs(m, 6)[0] || new Map()),
    })),
    outbound: msgs(f, 8).map((m) => ({
      dst_service: str(m, 1), method: str(m, 2), path: str(m, 3), dst_region: str(m, 4),
      requests: num(m, 5), latency: latency(msgs(m, 6)[0] || new Map()),
    })),
    spans: msgs(f, 9).map((m) => ({
      trace_id: str(m, 1), span_id: str(m, 2), parent_span_id: str(m, 3), method: str(m, 4),
      path: str(m, 5), start_ns: u64(m, 6), end_ns: u64(m, 7), body_size: num(m, 8),
      load: msgs(m, 9).map((l) => ({ method: str(l, 1), path: str(l, 2), rps: dbl(l, 3),
        in_flight: num(l, 4) })),
    })),
    drops,
  };
}

// ---------------------------------------------------------------------------
// RoutingRules encoding.

function varint(v) {
  v = BigInt(v);
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const key = (field, wt) => varint((BigInt(field) << 3n) | BigInt(wt));
const fVarint = (field, v) => (BigInt(v) ? Buffer.concat([key(field, 0), varint(v)]) : Buffer.alloc(0));
function fBytes(field, b) {
  b = Buffer.isBuffer(b) ? b : Buffer.from(String(b), 'utf8');
  if (b.length === 0) return Buffer.alloc(0);
  return Buffer.concat([key(field, 2), varint(b.length), b]);
}
const fMsg = (field, b) => Buffer.concat([key(field, 2), varint(b.length), b]);

/**
 * rules: {version, ttl_ns, generated_ns, rules: [{src_region, dst_service, method, path,
 * targets: [{region, weight}], src_service, src_method, src_path}]}
 */
function encodeRoutingRules(rr) {
  const parts = [fVarint(1, rr.version || 0), fVarint(2, rr.ttl_ns || 0),
    fVarint(3, rr.generated_ns || 0)];
  for (const r of rr.rules || []) {
    const rp = [fBytes(1, r.src_region || ''), fBytes(2, r.dst_service || ''),
      fBytes(3, r.method || ''), fBytes(4, r.path || '')];
    for (const t of r.targets || []) rp.push(fMsg(5, Buffer.concat([fBytes(1, t.region), fVarint(2, t.weight)])));
    rp.push(fBytes(6, r.src_service || ''), fBytes(7, r.src_method || ''), fBytes(8, r.src_path || ''));
    parts.push(fMsg(4, Buffer.concat(rp)));
  }
  return Buffer.concat(parts);
}

/** The inverse of encodeRoutingRules (weights as Numbers, versions and times as BigInt). */
function decodeRoutingRules(buf) {
  const f = parseFields(buf);
  return {
    version: u64(f, 1), ttl_ns: u64(f, 2), generated_ns: u64(f, 3),
    rules: msgs(f, 4).map((r) => ({
      src_region: str(r, 1), dst_service: str(r, 2), method: str(r, 3), path: str(r, 4),
      targets: msgs(r, 5).map((t) => ({ region: str(t, 1), weight: num(t, 2) })),
      src_service: str(r, 6), src_method: str(r, 7), src_path: str(r, 8),
    })),
  };
}

module.exports = { decodeLoadReport, encodeRoutingRules, decodeRoutingRules, parseFields };
