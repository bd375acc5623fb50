// libslate - a proxy-wasm (ABI 0.2.1) test host on Node's V8.
// SPDX-License-Identifier: Apache-2.0
//
// Follows the model of Envoy and proxy-wasm-cpp-host: one VM (instance) per
// worker thread plus a singleton service VM, shared data with compare-and-swap,
// shared queues, per-root-context ticks and proxy_http_call to real HTTP
// servers. Because every VM runs on one JavaScript thread, the host provokes
// the effects of Envoy's concurrency on purpose (see README.md, "Chaos").
//
// No npm dependencies. See README.md for the API.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const crypto = require('node:crypto');
const { EventEmitter } = require('node:events');

// ---------------------------------------------------------------------------
// ABI constants (proxy-wasm spec v0.2.1, cpp-host WasmResult).

const Status = Object.freeze({
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  BadExpression: 5,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  ResultMismatch: 9,
  InternalFailure: 10,
  BrokenConnection: 11,
  Unimplemented: 12,
});

const LogLevel = Object.freeze({ Trace: 0, Debug: 1, Info: 2, Warn: 3, Error: 4, Critical: 5 });
const LOG_LEVEL_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];

const MapType = Object.freeze({
  RequestHeaders: 0,
  RequestTrailers: 1,
  ResponseHeaders: 2,
  ResponseTrailers: 3,
  GrpcInitialMetadata: 4,
  GrpcTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
});
const MAP_TYPE_MAX = 7;

const BufferType = Object.freeze({
  RequestBody: 0,
  ResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  CallData: 8,
});
const BUFFER_TYPE_MAX = 8;

const Action = Object.freeze({ Continue: 0, Pause: 1 });
const StreamType = Object.freeze({ Request: 0, Response: 1, Downstream: 2, Upstream: 3 });
const MetricType = Object.freeze({ Counter: 0, Gauge: 1, Histogram: 2 });

const WasiErrno = Object.freeze({ Success: 0, Badf: 8, Fault: 21, Inval: 28, Nosys: 52, Notsup: 58 });

// The WASI functions cpp-host registers (both "wasi_unstable" and
// "wasi_snapshot_preview1"). A module importing anything else fails to load,
// as it would in Envoy.
const WASI_FUNCTIONS = [
  'fd_write', 'fd_read', 'fd_seek', 'fd_close', 'fd_fdstat_get', 'environ_get',
  'environ_sizes_get', 'args_get', 'args_sizes_get', 'clock_time_get', 'random_get',
  'proc_exit',
];

const DEFAULT_EPOCH_NS = 1700000000000000000n; // 2023-11-14T22:13:20Z
const DEFAULT_MONOTONIC_BASE_NS = 1000000000000n; // 1000 s of "uptime"

// ---------------------------------------------------------------------------
// Small helpers.

const textEncoder = new TextEncoder();

function toBytes(v) {
  if (v === undefined || v === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (typeof v === 'object') return Buffer.from(JSON.stringify(v), 'utf8');
  return Buffer.from(String(v), 'utf8');
}

function toNs(v) {
  if (typeof v === 'bigint') return Number(v);
  return Number(v);
}

/** Deterministic PRNG (sfc32) seeded from a number or string. */
class Rng {
  constructor(seed) {
    const h = crypto.createHash('sha256').update(String(seed)).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32() {
    let { a, b, c, d } = this;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    this.a = a; this.b = b; this.c = c; this.d = d;
    return t >>> 0;
  }
  /** Uniform in [0, 1). */
  next() { return this.u32() / 4294967296; }
  /** Uniform integer in [lo, hi]. */
  int(lo, hi) { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  chance(p) { return p > 0 && this.next() < p; }
  fill(buf) {
    for (let i = 0; i < buf.length; i += 4) {
      const v = this.u32();
      for (let j = 0; j < 4 && i + j < buf.length; j++) buf[i + j] = (v >>> (8 * j)) & 0xff;
    }
  }
}

/** Binary min-heap of events ordered by (time, seq). */
class EventQueue {
  constructor() { this.h = []; this.seq = 0; }
  get size() { return this.h.length; }
  push(ev) {
    ev.seq = this.seq++;
    const h = this.h;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p];
      if (!EventQueue.less(ev, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = ev;
    return ev;
  }
  peek() { return this.h[0]; }
  pop() {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    const n = h.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = last, mi = -1;
        if (l < n && EventQueue.less(h[l], m)) { m = h[l]; mi = l; }
        if (r < n && EventQueue.less(h[r], m)) { m = h[r]; mi = r; }
        if (mi < 0) break;
        h[i] = m;
        i = mi;
      }
      h[i] = last;
    }
    return top;
  }
  /** Removes and returns the first event matching pred among those due at or before t. */
  takeDue(t, pred) {
    const h = this.h;
    let best = -1;
    for (let i = 0; i < h.length; i++) {
      const ev = h[i];
      if (ev.time <= t && !ev.cancelled && pred(ev) && (best < 0 || EventQueue.less(ev, h[best]))) best = i;
    }
    if (best < 0) return null;
    const ev = h[best];
    ev.cancelled = true; // lazily removed by pop()
    return Object.assign({}, ev, { cancelled: false });
  }
  static less(a, b) { return a.time < b.time || (a.time === b.time && a.seq < b.seq); }
}

// ---------------------------------------------------------------------------
// Serialized header maps (spec "Serialization"; cpp-host toPairs/marshalPairs).

/** Encodes [[key, value], ...] into the proxy-wasm pairs format. Empty → 0 bytes. */
function encodePairs(pairs) {
  if (!pairs || pairs.length === 0) return Buffer.alloc(0);
  const bufs = pairs.map(([k, v]) => [toBytes(k), toBytes(v)]);
  let size = 4 + 8 * bufs.length;
  for (const [k, v] of bufs) size += k.length + 1 + v.length + 1;
  const out = Buffer.alloc(size);
  out.writeUInt32LE(bufs.length, 0);
  let off = 4;
  for (const [k, v] of bufs) {
    out.writeUInt32LE(k.length, off);
    out.writeUInt32LE(v.length, off + 4);
    off += 8;
  }
  for (const [k, v] of bufs) {
    k.copy(out, off); off += k.length; out[off++] = 0;
    v.copy(out, off); off += v.length; out[off++] = 0;
  }
  return out;
}

/**
 * Decodes the pairs format. Like cpp-host, malformed input decodes to an empty
 * list (cpp-host would over-read on lengths past the end; we bounds-check).
 */
function decodePairs(buf) {
  if (!buf || buf.length < 4) return [];
  const n = buf.readUInt32LE(0);
  if (4 + n * 8 > buf.length) return [];
  const lens = [];
  let off = 4;
  for (let i = 0; i < n; i++) {
    lens.push([buf.readUInt32LE(off), buf.readUInt32LE(off + 4)]);
    off += 8;
  }
  const out = [];
  for (const [kl, vl] of lens) {
    if (off + kl + 1 + vl + 1 > buf.length) return [];
    const k = buf.toString('utf8', off, off + kl); off += kl + 1;
    const v = buf.toString('utf8', off, off + vl); off += vl + 1;
    out.push([k, v]);
  }
  return out;
}

/** Writes the ASCII string s at memory[p] (the caller checked it is ASCII and in bounds). */
function writeAscii(vm, s, p) {
  const n = s.length;
  if (n > 32) { vm._membuf().latin1Write(s, p, n); return; }
  const u8 = vm._u8();
  for (let i = 0; i < n; i++) u8[p + i] = s.charCodeAt(i);
}

/** UTF-8 length of s: s.length when s is ASCII (checked in place), else Buffer.byteLength. */
function utf8Length(s) {
  const n = s.length;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 127) return Buffer.byteLength(s, 'utf8');
  return n;
}

/**
 * vm._copyOut(encodePairs(pairs), ...) without the intermediate Buffer: the
 * serialized map is written straight into the block from the module's
 * malloc, as Envoy's marshalling does. Same bytes; an empty map is (0, 0).
 */
function copyOutPairs(vm, pairs, ptrPtr, sizePtr) {
  const n = pairs.length;
  for (let i = 0; i < n; i++) {
    if (typeof pairs[i][0] !== 'string' || typeof pairs[i][1] !== 'string') {
      return vm._copyOut(encodePairs(pairs), ptrPtr, sizePtr);
    }
  }
  if (n === 0) return vm._copyOut(EMPTY_BYTES, ptrPtr, sizePtr);
  const lens = vm._pairLens.length >= 2 * n ? vm._pairLens : (vm._pairLens = new Array(2 * n));
  let size = 4 + 8 * n;
  for (let i = 0; i < n; i++) {
    const kl = utf8Length(pairs[i][0]), vl = utf8Length(pairs[i][1]);
    lens[2 * i] = kl;
    lens[2 * i + 1] = vl;
    size += kl + vl + 2;
  }
  const p = vm._alloc(size);
  if (p === 0) return false;
  const dv = vm._dv();
  dv.setUint32(p, n, true);
  for (let i = 0; i < 2 * n; i++) dv.setUint32(p + 4 + 4 * i, lens[i], true);
  let off = p + 4 + 8 * n;
  for (let i = 0; i < 2 * n; i++) {
    const str = pairs[i >> 1][i & 1], len = lens[i];
    if (len === str.length) writeAscii(vm, str, off);
    else vm._membuf().utf8Write(str, off, len);
    off += len;
    vm._u8()[off++] = 0;
  }
  vm.stats.bytesToVm += size;
  if (!vm._setU32(ptrPtr, p)) return false;
  return vm._setU32(sizePtr, size);
}

const EMPTY_BYTES = Buffer.alloc(0);

/** Normalises headers given as [[k,v],...], a Map or a plain object into lowercase pairs. */
function normalizeHeaders(h) {
  if (!h) return [];
  // Envoy keeps pseudo-headers first and keys lowercase.
  const pseudo = [], rest = [];
  const put = (k, v) => {
    const lk = String(k).toLowerCase();
    (lk.charCodeAt(0) === 58 /* ':' */ ? pseudo : rest).push([lk, String(v)]);
  };
  if (Array.isArray(h)) {
    for (let i = 0; i < h.length; i++) put(h[i][0], h[i][1]);
  } else if (h instanceof Map) {
    for (const [k, v] of h) put(k, v);
  } else {
    for (const k in h) {
      const v = h[k];
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) put(k, v[i]);
      else put(k, v);
    }
  }
  if (pseudo.length === 0) return rest;
  if (rest.length === 0) return pseudo;
  return pseudo.concat(rest);
}

/** A header map with Envoy's semantics (lowercase keys, pseudo-headers first). */
class HeaderMap {
  constructor(pairs) { this.pairs = normalizeHeaders(pairs); }
  get(key) {
    key = key.toLowerCase();
    for (const [k, v] of this.pairs) if (k === key) return v;
    return undefined;
  }
  getAll(key) {
    key = key.toLowerCase();
    return this.pairs.filter(([k]) => k === key).map(([, v]) => v);
  }
  add(key, value) {
    key = key.toLowerCase();
    if (key.startsWith(':')) {
      let i = 0;
      while (i < this.pairs.length && this.pairs[i][0].startsWith(':')) i++;
      this.pairs.splice(i, 0, [key, value]);
    } else {
      this.pairs.push([key, value]);
    }
  }
  replace(key, value) {
    key = key.toLowerCase();
    const pairs = this.pairs;
    let i = 0;
    while (i < pairs.length && pairs[i][0] !== key) i++;
    if (i === pairs.length) { this.add(key, value); return; }
    pairs[i] = [key, value];
    // Drop the later entries of the same key (only when there are any).
    for (let j = i + 1; j < pairs.length; j++) {
      if (pairs[j][0] === key) {
        this.pairs = pairs.filter(([k], x) => x <= i || k !== key);
        return;
      }
    }
  }
  /**
   * get() for a key given as bytes, u8[kp, kp + ks) (the caller checked the
   * bounds), without decoding it: the index of the first entry whose key
   * equals it with ASCII letters lowercased (what get() finds for an ASCII
   * key), -1 if there is none, or -2 if the key is not ASCII (then decode it
   * and use get()).
   */
  indexOfBytes(u8, kp, ks) {
    for (let j = 0; j < ks; j++) if (u8[kp + j] > 127) return -2;
    const pairs = this.pairs;
    outer: for (let i = 0; i < pairs.length; i++) {
      const k = pairs[i][0];
      if (k.length !== ks) continue;
      for (let j = 0; j < ks; j++) {
        let b = u8[kp + j];
        if (b >= 65 && b <= 90) b += 32;
        if (k.charCodeAt(j) !== b) continue outer;
      }
      return i;
    }
    return -1;
  }
  remove(key) {
    key = key.toLowerCase();
    this.pairs = this.pairs.filter(([k]) => k !== key);
  }
  set(pairs) {
    this.pairs = [];
    for (const [k, v] of pairs) this.add(k, v);
  }
  /** Envoy's HeaderMap::byteSize(): sum of key and value lengths. */
  byteSize() {
    let n = 0;
    for (const [k, v] of this.pairs) n += Buffer.byteLength(k) + Buffer.byteLength(v);
    return n;
  }
  get size() { return this.pairs.length; }
  toObject() {
    const o = {};
    for (const [k, v] of this.pairs) o[k] = k in o ? `${o[k]},${v}` : v;
    return o;
  }
  toArray() { return this.pairs.map(([k, v]) => [k, v]); }
}

/** A body buffer with Envoy's Buffer::copyFrom semantics. */
class BodyBuffer {
  constructor(bytes, mutable) { this.data = toBytes(bytes); this.mutable = mutable; }
  get size() { return this.data.length; }
  copyFrom(start, length, bytes) {
    if (!this.mutable) return Status.BadArgument;
    if (start === 0) {
      this.data = Buffer.concat([bytes, this.data.subarray(Math.min(length, this.data.length))]);
      return Status.Ok;
    }
    if (start >= this.data.length) {
      this.data = Buffer.concat([this.data, bytes]);
      return Status.Ok;
    }
    return Status.BadArgument;
  }
}

// ---------------------------------------------------------------------------
// Properties.

/** Serialises a property value the way Envoy does for simple CEL values. */
function serializeProperty(v) {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || Buffer.isBuffer(v) || v instanceof Uint8Array) return toBytes(v);
  if (typeof v === 'bigint') {
    const b = Buffer.alloc(8);
    if (v < 0n) b.writeBigInt64LE(v); else b.writeBigUInt64LE(v);
    return b;
  }
  if (typeof v === 'number') {
    const b = Buffer.alloc(8);
    if (Number.isInteger(v)) b.writeBigInt64LE(BigInt(v)); else b.writeDoubleLE(v);
    return b;
  }
  if (typeof v === 'boolean') return Buffer.from([v ? 1 : 0]);
  if (typeof v === 'function') return serializeProperty(v());
  return undefined; // a map/list: not serialisable by this host
}

function lookupPath(tree, segs) {
  let cur = tree;
  for (const s of segs) {
    if (cur === undefined || cur === null) return undefined;
    if (typeof cur === 'function') cur = cur();
    if (cur instanceof Map) cur = cur.get(s);
    else if (typeof cur === 'object' && !Buffer.isBuffer(cur) && !(cur instanceof Uint8Array)) {
      cur = Object.prototype.hasOwnProperty.call(cur, s) ? cur[s] : undefined;
    } else return undefined;
  }
  return cur;
}

// ---------------------------------------------------------------------------
// Contexts.

class Context {
  constructor(vm, id) {
    this.vm = vm;
    this.id = id;
    this.maps = new Array(MAP_TYPE_MAX + 1); // holes read as undefined: "not available"
    this.buffers = new Array(BUFFER_TYPE_MAX + 1);
  }
  get isRoot() { return false; }
}

/** The VM's own context (id 0): current during _initialize and when no callback runs. */
class VmContext extends Context {
  constructor(vm) { super(vm, 0); }
  get root() { return this; }
}

class RootContext extends Context {
  constructor(vm, id, opts) {
    super(vm, id);
    this.rootId = opts.rootId ?? '';
    this.name = opts.name ?? this.rootId;
    this.configuration = toBytes(opts.configuration);
    this.configured = null; // true / false after on_configure
    this.tickPeriodMs = 0;
    this.tickGen = 0;
    this.ticks = 0;
    this.pendingDone = false;
    this.callResponse = null; // during proxy_on_http_call_response
    this.inConfigure = false;
  }
  get isRoot() { return true; }
  get root() { return this; }
}

/** An HTTP stream context on a worker VM (request + response of one call). */
class HttpStream extends Context {
  constructor(vm, id, root, opts) {
    super(vm, id);
    this.root = root;
    this.properties = opts.properties || {};
    this._setProps = null; // proxy_set_property (Envoy filter state), created on first use
    this.startNs = vm.host.now();
    this.startRealtimeNs = vm.realtimeNs();
    this.localResponse = null;
    this.continued = { request: 0, response: 0, downstream: 0, upstream: 0 };
    this.closed = { request: 0, response: 0, downstream: 0, upstream: 0 };
    this.lastAction = undefined;
    this.done = false;
    this.pendingDone = false;
    this.logPhase = false;
    this.responseCode = undefined;
  }

  /** Values set by proxy_set_property on this stream, keyed by raw path. */
  get setProperties() {
    if (!this._setProps) this._setProps = new Map();
    return this._setProps;
  }

  get request() {
    return {
      headers: this.maps[MapType.RequestHeaders],
      trailers: this.maps[MapType.RequestTrailers],
      body: this.lastRequestBody,
    };
  }
  get response() {
    return {
      headers: this.maps[MapType.ResponseHeaders],
      trailers: this.maps[MapType.ResponseTrailers],
      body: this.lastResponseBody,
    };
  }

  _call(name, args) {
    if (this.passThrough) return Action.Continue;
    const r = this.vm._invoke(this, name, args);
    const action = this.vm.failed || r === undefined ? Action.Continue : (r >>> 0);
    // send_local_response stops the iteration (cpp-host stopNextIteration).
    const final = this._stopNext ? Action.Pause : action;
    this._stopNext = false;
    this.lastAction = final;
    return final;
  }

  /** Feeds request headers; returns Action.Continue (0) or Action.Pause (1). */
  requestHeaders(headers, endOfStream = false) {
    this._checkOpen();
    this.maps[MapType.RequestHeaders] = new HeaderMap(headers);
    return this._call('proxy_on_request_headers',
      [this.id, this.maps[MapType.RequestHeaders].size, endOfStream ? 1 : 0]);
  }
  requestBody(chunk, endOfStream = false) {
    this._checkOpen();
    const b = new BodyBuffer(chunk, true);
    this.buffers[BufferType.RequestBody] = b;
    const r = this._call('proxy_on_request_body', [this.id, b.size, endOfStream ? 1 : 0]);
    this.lastRequestBody = b.data;
    return r;
  }
  requestTrailers(trailers) {
    this._checkOpen();
    this.maps[MapType.RequestTrailers] = new HeaderMap(trailers);
    return this._call('proxy_on_request_trailers', [this.id, this.maps[MapType.RequestTrailers].size]);
  }
  responseHeaders(headers, endOfStream = false) {
    this._checkOpen();
    const m = new HeaderMap(headers);
    this.maps[MapType.ResponseHeaders] = m;
    const st = m.get(':status');
    if (st !== undefined) this.responseCode = Number(st);
    return this._call('proxy_on_response_headers', [this.id, m.size, endOfStream ? 1 : 0]);
  }
  responseBody(chunk, endOfStream = false) {
    this._checkOpen();
    const b = new BodyBuffer(chunk, true);
    this.buffers[BufferType.ResponseBody] = b;
    const r = this._call('proxy_on_response_body', [this.id, b.size, endOfStream ? 1 : 0]);
    this.lastResponseBody = b.data;
    return r;
  }
  responseTrailers(trailers) {
    this._checkOpen();
    this.maps[MapType.ResponseTrailers] = new HeaderMap(trailers);
    return this._call('proxy_on_response_trailers', [this.id, this.maps[MapType.ResponseTrailers].size]);
  }

  /**
   * Ends the stream: Envoy order is on_log (access-log phase), then on_done and
   * on_delete (filter destruction). With {order: 'spec'}: on_done, on_log, on_delete.
   */
  complete(opts = {}) {
    if (this.done) return;
    this.done = true;
    if (this.passThrough) return;
    const order = opts.order || this.vm.host.options.streamEndOrder || 'envoy';
    const log = () => {
      this.logPhase = true;
      this.vm._invoke(this, 'proxy_on_log', [this.id]);
      this.logPhase = false;
    };
    if (order === 'spec') {
      const r = this.vm._invoke(this, 'proxy_on_done', [this.id]);
      if (r === 0) { this.pendingDone = true; this.vm.pendingDone.set(this.id, this); return; }
      log();
    } else {
      log();
      this.vm._invoke(this, 'proxy_on_done', [this.id]);
    }
    this._delete();
  }

  _finishPendingDone() {
    this.pendingDone = false;
    this.logPhase = true;
    this.vm._invoke(this, 'proxy_on_log', [this.id]);
    this.logPhase = false;
    this._delete();
  }

  _delete() {
    this.vm._invoke(this, 'proxy_on_delete', [this.id]);
    this.vm.contexts.delete(this.id);
    this.vm.streams.delete(this.id);
  }

  _checkOpen() {
    if (this.done) throw new Error(`stream ${this.id} is already complete`);
  }
}

// ---------------------------------------------------------------------------
// A VM: one WebAssembly.Instance with its own memory.

class Vm {
  constructor(host, opts) {
    this.host = host;
    this.kind = opts.kind || 'worker';
    this.index = opts.index ?? 0;
    this.name = opts.name || `${this.kind}-${this.index}`;
    this.vmId = opts.vmId ?? '';
    this.vmConfiguration = toBytes(opts.vmConfiguration);
    this.properties = opts.properties || {};
    this.module = host._loadModule(opts.module);
    this.clockSkewNs = toNs(opts.clockSkewNs ?? 0);
    this.logs = [];
    this.failed = false;
    this.failure = null;
    this.ready = false;
    this.started = false;
    this.depth = 0;
    this.contexts = new Map();
    this.roots = [];
    this.streams = new Map();
    this.pendingDone = new Map();
    this.nextContextId = 1;
    this.nextHttpToken = 1;
    this.metricIds = new Map(); // id → name
    this.httpCalls = new Map();
    this.vmContext = new VmContext(this);
    this.current = null;
    this.effectiveId = 0;
    this.rng = new Rng(`${host.seed}/random/${this.name}`);
    this.stats = newVmStats();
    this._mu8 = undefined; // memory views (see "memory" below)
    this._mdv = undefined;
    this._mbuf = undefined;
    this._timeBase = [undefined, undefined]; // realtime, monotonic: base split in halves
    this._pairLens = []; // scratch for copyOutPairs
    this.instance = new WebAssembly.Instance(this.module, this._imports());
    this.exports = this.instance.exports;
    this.memory = this.exports.memory;
    if (!(this.memory instanceof WebAssembly.Memory)) throw new Error('module does not export its memory');
    this.malloc = this.exports.malloc || this.exports.proxy_on_memory_allocate;
    if (typeof this.malloc !== 'function') {
      throw new Error('Wasm module is missing malloc function (malloc or proxy_on_memory_allocate)');
    }
    const abi = ['proxy_abi_version_0_2_1', 'proxy_abi_version_0_2_0', 'proxy_abi_version_0_1_0']
      .find((n) => typeof this.exports[n] === 'function');
    if (!abi) throw new Error('Wasm module is missing the Proxy-Wasm ABI version export');
    this.abi = abi;
  }

  /** Host wall-clock time as seen by this VM (BigInt ns since the Unix epoch). */
  realtimeNs() {
    return this.host.epochNs + BigInt(Math.round(this.host.now() + this.clockSkewNs));
  }
  monotonicNs() {
    return this.host.monotonicBaseNs + BigInt(Math.round(this.host.now() + this.clockSkewNs));
  }

  /** Runs _initialize (or _start) once: the VM is then able to take contexts. */
  _start() {
    if (this.started) return;
    this.started = true;
    this.current = this.vmContext;
    try {
      if (typeof this.exports._initialize === 'function') {
        this.exports._initialize();
        if (typeof this.exports.main === 'function') this.exports.main(0, 0);
      } else if (typeof this.exports._start === 'function') {
        this.exports._start();
      }
    } catch (e) {
      this._fail(e, '_initialize', this.vmContext);
    } finally {
      this.current = null;
    }
    this.ready = true;
  }

  /**
   * Creates and configures a root context (a plugin) on this VM. Envoy order:
   * on_context_create(root, 0), on_vm_start (first root only), on_configure.
   */
  addRoot(opts = {}) {
    if (!this.ready) this._start();
    const root = new RootContext(this, this.nextContextId++, opts);
    this.contexts.set(root.id, root);
    this.roots.push(root);
    this._invoke(root, 'proxy_on_context_create', [root.id, 0]);
    if (this.roots.length === 1) {
      const r = this._invoke(root, 'proxy_on_vm_start', [root.id, this.vmConfiguration.length]);
      this.vmStarted = this.failed ? false : (r === undefined ? true : r !== 0);
      if (!this.vmStarted && !this.failed) {
        // cpp-host: a failed start leaves the VM unusable (FailState::StartFailed).
        this.failed = true;
        this.failure = { vm: this.name, callback: 'proxy_on_vm_start', contextId: root.id,
          message: 'proxy_on_vm_start returned false' };
        this._log(LogLevel.Critical, `VM ${this.name} failed to start`, root, 'host');
        this._emit('vm_start_failed', { vm: this.name });
      }
    }
    root.inConfigure = true;
    const r = this._invoke(root, 'proxy_on_configure', [root.id, root.configuration.length]);
    root.inConfigure = false;
    root.configured = this.failed ? false : (r === undefined ? true : r !== 0);
    if (!root.configured) this._emit('configure_failed', { vm: this.name, rootId: root.rootId });
    return root;
  }

  /**
   * Shuts the VM down as Envoy does on drain: proxy_on_done for each root
   * context; those answering true (or that call proxy_done later) get
   * proxy_on_delete. Ticks stop. Returns the root ids still pending.
   */
  shutdown() {
    const pending = [];
    for (const root of this.roots) {
      this.host._setTick(root, 0);
      const r = this._invoke(root, 'proxy_on_done', [root.id]);
      if (r === 0) {
        root.pendingDone = true;
        this.pendingDone.set(root.id, root);
        pending.push(root.rootId);
      } else {
        this._invoke(root, 'proxy_on_delete', [root.id]);
        root.deleted = true;
      }
    }
    this.shutDown = true;
    return pending;
  }

  /**
   * Destroys the VM as proxy-wasm-cpp-host kills a canary: no further
   * callback of any kind (ticks, queue notifications, HTTP answers).
   */
  kill() {
    for (const root of this.roots) this.host._setTick(root, 0);
    this.killed = true;
  }

  /** The root context with the given root id (or the first one). */
  root(rootId) {
    if (rootId === undefined) return this.roots[0];
    return this.roots.find((r) => r.rootId === rootId);
  }

  /** Creates an HTTP stream context under a root context (on_context_create(id, root)). */
  newStream(opts = {}) {
    if (this.kind === 'singleton') throw new Error('the singleton VM takes no HTTP streams');
    if (!this.ready) throw new Error(`VM ${this.name} has not started yet`);
    const root = opts.root instanceof RootContext ? opts.root : this.root(opts.rootId);
    if (!root) throw new Error('no root context for the stream');
    const s = new HttpStream(this, this.nextContextId++, root, opts);
    // Envoy installs no filter for a plugin whose on_configure failed: the
    // stream passes through without any callback.
    s.passThrough = root.configured === false;
    if (s.passThrough) return s;
    this.contexts.set(s.id, s);
    this.streams.set(s.id, s);
    this._invoke(s, 'proxy_on_context_create', [s.id, root.id]);
    return s;
  }

  logsAt(level) { return this.logs.filter((l) => l.level >= level); }

  // -- calls into the module ------------------------------------------------

  _invoke(ctx, name, args) {
    if (this.failed || this.killed) return undefined;
    const fn = this.exports[name];
    if (typeof fn !== 'function') return undefined;
    const prevCur = this.current, prevEff = this.effectiveId;
    this.current = ctx;
    this.effectiveId = 0;
    this.depth++;
    this.stats.callbacks[name] = (this.stats.callbacks[name] || 0) + 1;
    this.host.stats.callbacks[name] = (this.host.stats.callbacks[name] || 0) + 1;
    try {
      switch (args.length) {
        case 1: return fn(args[0]);
        case 2: return fn(args[0], args[1]);
        case 3: return fn(args[0], args[1], args[2]);
        case 5: return fn(args[0], args[1], args[2], args[3], args[4]);
        default: return fn(...args);
      }
    } catch (e) {
      this._fail(e, name, ctx);
      return undefined;
    } finally {
      this.depth--;
      this.current = prevCur;
      this.effectiveId = prevEff;
    }
  }

  _fail(err, callback, ctx) {
    if (this.failed) return;
    this.failed = true;
    const message = err && err.message ? err.message : String(err);
    this.failure = { vm: this.name, callback, contextId: ctx ? ctx.id : 0, message, error: err };
    this._log(LogLevel.Critical, `VM ${this.name} failed in ${callback}: ${message}`, ctx, 'host');
    this._emit('trap', this.failure);
  }

  _emit(type, info) {
    const ev = Object.assign({ type, timeNs: this.host.now() }, info);
    this.host.events.push(ev);
    this.host.emit(type, ev);
    this.host.emit('event', ev);
  }

  _log(level, message, ctx, source = 'module') {
    const entry = {
      vm: this.name, level, levelName: LOG_LEVEL_NAMES[level] || String(level), message,
      contextId: ctx ? ctx.id : 0, timeNs: this.host.now(), source,
    };
    this.logs.push(entry);
    this.host.logs.push(entry);
    if (this.host.options.logSink && level >= this.host.logLevel) this.host.options.logSink(entry);
  }

  /** The context hostcalls act on: the effective context if set, else the current one. */
  _ctx() {
    if (this.effectiveId !== 0) {
      const c = this.contexts.get(this.effectiveId);
      if (c) return c;
    }
    return this.current || this.vmContext;
  }

  // -- memory ---------------------------------------------------------------
  //
  // Views of the module's linear memory are made once per ArrayBuffer, not
  // per access. memory.grow (the module's own, e.g. inside the malloc that a
  // hostcall makes to return a value, or the embedder's) detaches the old
  // ArrayBuffer, and every view of a detached buffer has length 0: each
  // accessor checks that and re-creates the views, so a stale view is never
  // used and no access needs the (slow) memory.buffer getter.

  _refreshViews() {
    const ab = this.memory.buffer;
    this._mu8 = new Uint8Array(ab);
    this._mdv = new DataView(ab);
    this._mbuf = Buffer.from(ab);
  }
  _u8() {
    if (this._mu8 === undefined || this._mu8.length === 0) this._refreshViews();
    return this._mu8;
  }
  _dv() {
    if (this._mu8 === undefined || this._mu8.length === 0) this._refreshViews();
    return this._mdv;
  }
  /** A Buffer over the whole memory (no copy): for string encoding and decoding. */
  _membuf() {
    if (this._mu8 === undefined || this._mu8.length === 0) this._refreshViews();
    return this._mbuf;
  }
  _inBounds(ptr, len) { return ptr + len <= this._u8().length; }
  /** A copy of memory[ptr, ptr + len) as a Buffer, or null when out of bounds. */
  _read(ptr, len) {
    ptr >>>= 0; len >>>= 0;
    const u8 = this._u8();
    if (ptr + len > u8.length) return null;
    const out = Buffer.allocUnsafe(len);
    out.set(u8.subarray(ptr, ptr + len));
    return out;
  }
  /** memory[ptr, ptr + len) decoded as UTF-8 (no intermediate copy), or null. */
  _readStr(ptr, len) {
    ptr >>>= 0; len >>>= 0;
    const b = this._membuf();
    if (ptr + len > b.length) return null;
    return len === 0 ? '' : b.utf8Slice(ptr, ptr + len);
  }
  _write(ptr, bytes) {
    ptr >>>= 0;
    const u8 = this._u8();
    if (ptr + bytes.length > u8.length) return false;
    u8.set(bytes, ptr);
    return true;
  }
  _setU32(ptr, v) {
    ptr >>>= 0;
    const dv = this._dv();
    if (ptr + 4 > dv.byteLength) return false;
    dv.setUint32(ptr, v >>> 0, true);
    return true;
  }
  _setU64(ptr, v) {
    ptr >>>= 0;
    const dv = this._dv();
    if (ptr + 8 > dv.byteLength) return false;
    dv.setBigUint64(ptr, BigInt.asUintN(64, BigInt(v)), true);
    return true;
  }
  /**
   * Writes base + (host time + this VM's skew) as a little-endian u64, the
   * same value as realtimeNs()/monotonicNs() (mod 2^64), without making a
   * BigInt per call: base is split into 32-bit halves once (cached per base).
   */
  _setTimeNs(ptr, base, slot) {
    ptr >>>= 0;
    const dv = this._dv();
    if (ptr + 8 > dv.byteLength) return false;
    const d = Math.round(this.host.now() + this.clockSkewNs);
    if (!(d >= 0 && d <= Number.MAX_SAFE_INTEGER)) {
      dv.setBigUint64(ptr, BigInt.asUintN(64, base + BigInt(d)), true);
      return true;
    }
    let c = this._timeBase[slot];
    if (c === undefined || c.base !== base) {
      c = { base, lo: Number(BigInt.asUintN(32, base)), hi: Number(BigInt.asUintN(32, base >> 32n)) };
      this._timeBase[slot] = c;
    }
    const dLo = d % 4294967296;
    let lo = c.lo + dLo;
    let hi = c.hi + (d - dLo) / 4294967296;
    if (lo >= 4294967296) { lo -= 4294967296; hi += 1; }
    dv.setUint32(ptr, lo, true);
    dv.setUint32(ptr + 4, hi % 4294967296, true);
    return true;
  }
  /** cpp-host allocMemory: calls the module's malloc. Returns 0 on failure. */
  _alloc(size) {
    this.stats.mallocCalls++;
    this.stats.mallocBytes += size;
    const p = this.malloc(size) >>> 0;
    if (p === 0 || !this._inBounds(p, size)) return 0;
    return p;
  }
  /** cpp-host copyToPointerSize: empty → (0, 0) without calling malloc. */
  _copyOut(bytes, ptrPtr, sizePtr) {
    let p = 0;
    if (bytes.length > 0) {
      p = this._alloc(bytes.length);
      if (p === 0) return false;
      this._write(p, bytes);
      this.stats.bytesToVm += bytes.length;
    }
    if (!this._setU32(ptrPtr, p)) return false;
    if (!this._setU32(sizePtr, bytes.length)) return false;
    return true;
  }
  /**
   * _copyOut of a string's UTF-8 bytes, written straight into the block the
   * module's malloc returned (no intermediate Buffer). Same result as
   * _copyOut(Buffer.from(s, 'utf8'), ...).
   */
  _copyOutString(s, ptrPtr, sizePtr) {
    const n = s.length;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) > 127) return this._copyOut(Buffer.from(s, 'utf8'), ptrPtr, sizePtr);
    }
    let p = 0;
    if (n > 0) {
      p = this._alloc(n);
      if (p === 0) return false;
      writeAscii(this, s, p);
      this.stats.bytesToVm += n;
    }
    if (!this._setU32(ptrPtr, p)) return false;
    if (!this._setU32(sizePtr, n)) return false;
    return true;
  }

  // -- imports --------------------------------------------------------------

  _imports() {
    const env = makeProxyImports(this);
    const wasi = makeWasiImports(this);
    // Each import counts its calls per VM and per host. Fixed-arity wrappers
    // keep the per-call overhead small (no rest/spread on the hot path).
    const count = (ns, table) => {
      const out = {};
      for (const [name, fn] of Object.entries(table)) {
        const vm = this;
        const bump = () => {
          const a = vm.stats.hostcalls, b = vm.host.stats.hostcalls;
          a[name] = (a[name] || 0) + 1;
          b[name] = (b[name] || 0) + 1;
        };
        switch (fn.length) {
          case 0: out[name] = (...a) => { bump(); return fn(...a); }; break;
          case 1: out[name] = (a) => { bump(); return fn(a); }; break;
          case 2: out[name] = (a, b) => { bump(); return fn(a, b); }; break;
          case 3: out[name] = (a, b, c) => { bump(); return fn(a, b, c); }; break;
          case 4: out[name] = (a, b, c, d) => { bump(); return fn(a, b, c, d); }; break;
          case 5: out[name] = (a, b, c, d, e) => { bump(); return fn(a, b, c, d, e); }; break;
          case 6: out[name] = (a, b, c, d, e, f) => { bump(); return fn(a, b, c, d, e, f); }; break;
          default: out[name] = (...a) => { bump(); return fn(...a); };
        }
      }
      return out;
    };
    const imports = {
      env: count('env', env),
      wasi_snapshot_preview1: count('wasi', wasi),
      wasi_unstable: count('wasi', wasi),
    };
    for (const imp of WebAssembly.Module.imports(this.module)) {
      const ns = imports[imp.module];
      if (!ns || !(imp.name in ns)) {
        throw new Error(`Failed to load Wasm module due to a missing import: ${imp.module}.${imp.name}`);
      }
    }
    return imports;
  }
}

function newVmStats() {
  return {
    hostcalls: {},
    callbacks: {},
    sharedDataBytesIn: 0, // copied from shared data into the VM (get)
    sharedDataBytesOut: 0, // copied from the VM into shared data (set)
    sharedDataGets: 0,
    sharedDataSets: 0,
    casMismatches: 0,
    queueBytesIn: 0,
    queueBytesOut: 0,
    bytesToVm: 0,
    mallocCalls: 0,
    mallocBytes: 0,
  };
}

// ---------------------------------------------------------------------------
// Hostcalls: env.proxy_*.

function makeProxyImports(vm) {
  const host = vm.host;
  const S = Status;

  const mapOf = (ctx, type) => {
    if (type === MapType.HttpCallResponseHeaders || type === MapType.HttpCallResponseTrailers) {
      const resp = ctx.root && ctx.root.callResponse;
      if (!resp) return null;
      return type === MapType.HttpCallResponseHeaders ? resp.headers : resp.trailers;
    }
    return ctx.maps[type];
  };

  const bufferOf = (ctx, type) => {
    switch (type) {
      case BufferType.VmConfiguration:
        return new BodyBuffer(vm.vmConfiguration, false);
      case BufferType.PluginConfiguration: {
        const root = ctx.root;
        if (root && root.inConfigure) return new BodyBuffer(root.configuration, false);
        return null;
      }
      case BufferType.HttpCallResponseBody: {
        const resp = ctx.root && ctx.root.callResponse;
        return resp && resp.body ? new BodyBuffer(resp.body, false) : null;
      }
      default:
        return ctx.buffers[type] || null;
    }
  };

  const propertyOf = (ctx, pathBytes) => {
    const raw = pathBytes.toString('utf8');
    if (ctx instanceof HttpStream && ctx._setProps && ctx._setProps.has(raw)) return ctx._setProps.get(raw);
    const segs = raw.split('\0');
    const root = ctx.root && ctx.root.isRoot ? ctx.root : null;
    const builtin = builtinProperty(vm, ctx, root, segs);
    if (builtin !== undefined) return builtin;
    const sources = [];
    if (ctx instanceof HttpStream) sources.push(ctx.properties);
    sources.push(vm.properties, host.properties);
    for (const src of sources) {
      const v = lookupPath(src, segs);
      if (v !== undefined) return v;
    }
    return undefined;
  };

  const interleave = () => host._maybeInterleave(vm);

  return {
    // -- logging / time / config
    proxy_log(level, ptr, len) {
      if (level >>> 0 > LogLevel.Critical) return S.BadArgument;
      const msg = vm._readStr(ptr, len);
      if (msg === null) return S.InvalidMemoryAccess;
      vm._log(level >>> 0, msg, vm._ctx());
      return S.Ok;
    },
    proxy_get_log_level(ptr) {
      return vm._setU32(ptr, host.logLevel) ? S.Ok : S.InvalidMemoryAccess;
    },
    proxy_get_current_time_nanoseconds(ptr) {
      return vm._setTimeNs(ptr, host.epochNs, 0) ? S.Ok : S.InvalidMemoryAccess;
    },
    proxy_set_tick_period_milliseconds(ms) {
      const ctx = vm._ctx();
      const root = ctx.root && ctx.root.isRoot ? ctx.root : null;
      if (!root) return S.BadArgument;
      host._setTick(root, ms >>> 0);
      return S.Ok;
    },
    proxy_get_configuration(ptrPtr, sizePtr) {
      const ctx = vm._ctx();
      const cfg = ctx.root && ctx.root.isRoot ? ctx.root.configuration : Buffer.alloc(0);
      return vm._copyOut(cfg, ptrPtr, sizePtr) ? S.Ok : S.InvalidMemoryAccess;
    },

    // -- context
    proxy_set_effective_context(id) {
      id >>>= 0;
      if (!vm.contexts.has(id)) return S.BadArgument;
      vm.effectiveId = id;
      return S.Ok;
    },
    proxy_done() {
      const ctx = vm._ctx();
      if (!ctx.pendingDone) return S.NotFound;
      vm.pendingDone.delete(ctx.id);
      if (ctx instanceof HttpStream) host._defer(() => ctx._finishPendingDone());
      else {
        ctx.pendingDone = false;
        host._defer(() => { vm._invoke(ctx, 'proxy_on_delete', [ctx.id]); ctx.deleted = true; });
      }
      return S.Ok;
    },

    // -- buffers
    proxy_get_buffer_bytes(type, start, length, ptrPtr, sizePtr) {
      type >>>= 0; start >>>= 0; length >>>= 0;
      if (type > BUFFER_TYPE_MAX) return S.BadArgument;
      const buf = bufferOf(vm._ctx(), type);
      if (!buf) return S.NotFound;
      if (start + length > 0xffffffff) return S.BadArgument;
      if (start > buf.size) return S.BadArgument;
      if (start + length > buf.size) length = buf.size - start;
      // As in cpp-host: an empty range returns Ok without touching the out-pointers.
      if (length > 0) {
        const bytes = buf.data.subarray(start, start + length);
        if (!vm._copyOut(bytes, ptrPtr, sizePtr)) return S.InvalidMemoryAccess;
      }
      return S.Ok;
    },
    proxy_get_buffer_status(type, lenPtr, flagsPtr) {
      type >>>= 0;
      if (type > BUFFER_TYPE_MAX) return S.BadArgument;
      const buf = bufferOf(vm._ctx(), type);
      if (!buf) return S.NotFound;
      if (!vm._setU32(lenPtr, buf.size)) return S.InvalidMemoryAccess;
      if (!vm._setU32(flagsPtr, 0)) return S.InvalidMemoryAccess;
      return S.Ok;
    },
    proxy_set_buffer_bytes(type, start, length, ptr, size) {
      type >>>= 0;
      if (type > BUFFER_TYPE_MAX) return S.BadArgument;
      const buf = bufferOf(vm._ctx(), type);
      if (!buf) return S.NotFound;
      const data = vm._read(ptr, size);
      if (data === null) return S.InvalidMemoryAccess;
      return buf.copyFrom(start >>> 0, length >>> 0, data);
    },

    // -- header maps
    proxy_get_header_map_value(type, kp, ks, ptrPtr, sizePtr) {
      type >>>= 0;
      if (type > MAP_TYPE_MAX) return S.BadArgument;
      const ctx = vm._ctx();
      kp >>>= 0; ks >>>= 0;
      const u8 = vm._u8();
      if (kp + ks > u8.length) return S.InvalidMemoryAccess;
      const m = mapOf(ctx, type);
      if (!m) return ctx.logPhase ? S.NotFound : S.BadArgument;
      // The key is matched in place (no string made from it) unless it is not ASCII.
      const i = m.indexOfBytes(u8, kp, ks);
      const v = i >= 0 ? m.pairs[i][1] : i === -2 ? m.get(vm._readStr(kp, ks)) : undefined;
      if (v === undefined) return S.NotFound;
      return vm._copyOutString(v, ptrPtr, sizePtr) ? S.Ok : S.InvalidMemoryAccess;
    },
    proxy_get_header_map_pairs(type, ptrPtr, sizePtr) {
      type >>>= 0;
      if (type > MAP_TYPE_MAX) return S.BadArgument;
      const m = mapOf(vm._ctx(), type);
      return copyOutPairs(vm, m ? m.pairs : [], ptrPtr, sizePtr) ? S.Ok : S.InvalidMemoryAccess;
    },
    proxy_set_header_map_pairs(type, ptr, size) {
      type >>>= 0;
      if (type > MAP_TYPE_MAX) return S.BadArgument;
      const data = vm._read(ptr, size);
      if (data === null) return S.InvalidMemoryAccess;
      const m = writableMap(vm._ctx(), type);
      if (!m) return S.BadArgument;
      m.set(decodePairs(data));
      return S.Ok;
    },
    proxy_add_header_map_value(type, kp, ks, vp, vs) {
      type >>>= 0;
      if (type > MAP_TYPE_MAX) return S.BadArgument;
      const key = vm._readStr(kp, ks), val = vm._readStr(vp, vs);
      if (key === null || val === null) return S.InvalidMemoryAccess;
      const m = writableMap(vm._ctx(), type);
      if (!m) return S.BadArgument;
      m.add(key, val);
      return S.Ok;
    },
    proxy_replace_header_map_value(type, kp, ks, vp, vs) {
      type >>>= 0;
      if (type > MAP_TYPE_MAX) return S.BadArgument;
      const key = vm._readStr(kp, ks), val = vm._readStr(vp, vs);
      if (key === null || val === null) return S.InvalidMemoryAccess;
      const m = writableMap(vm._ctx(), type);
      if (!m) return S.BadArgument;
      m.replace(key, val);
      return S.Ok;
    },
    proxy_remove_header_map_value(type, kp, ks) {
      type >>>= 0;
      if (type > MAP_TYPE_MAX) return S.BadArgument;
      const key = vm._readStr(kp, ks);
      if (key === null) return S.InvalidMemoryAccess;
      const m = writableMap(vm._ctx(), type);
      if (!m) return S.BadArgument;
      m.remove(key);
      return S.Ok;
    },
    proxy_get_header_map_size(type, sizePtr) {
      type >>>= 0;
      if (type > MAP_TYPE_MAX) return S.BadArgument;
      const m = writableMap(vm._ctx(), type);
      if (!m) return S.BadArgument;
      return vm._setU32(sizePtr, m.byteSize()) ? S.Ok : S.InvalidMemoryAccess;
    },

    // -- properties
    proxy_get_property(pp, ps, ptrPtr, sizePtr) {
      const path = vm._read(pp, ps);
      if (path === null) return S.InvalidMemoryAccess;
      const v = propertyOf(vm._ctx(), path);
      if (v === undefined || v === null) return S.NotFound;
      const bytes = serializeProperty(v);
      if (bytes === undefined) return S.SerializationFailure;
      if (bytes === null) return S.NotFound;
      return vm._copyOut(bytes, ptrPtr, sizePtr) ? S.Ok : S.InvalidMemoryAccess;
    },
    proxy_set_property(pp, ps, vp, vs) {
      const path = vm._read(pp, ps), val = vm._read(vp, vs);
      if (path === null || val === null) return S.InvalidMemoryAccess;
      const ctx = vm._ctx();
      if (!(ctx instanceof HttpStream)) return S.NotFound; // no stream info
      ctx.setProperties.set(path.toString('utf8'), val);
      return S.Ok;
    },

    // -- stream control
    proxy_continue_stream(type) {
      type >>>= 0;
      if (type > StreamType.Upstream) return S.BadArgument;
      const ctx = vm._ctx();
      if (!(ctx instanceof HttpStream)) return S.NotFound;
      ctx.continued[Object.keys(ctx.continued)[type]]++;
      return S.Ok;
    },
    proxy_close_stream(type) {
      type >>>= 0;
      if (type > StreamType.Upstream) return S.BadArgument;
      const ctx = vm._ctx();
      if (!(ctx instanceof HttpStream)) return S.NotFound;
      ctx.closed[Object.keys(ctx.closed)[type]]++;
      return S.Ok;
    },
    proxy_continue_request() {
      const ctx = vm._ctx();
      if (ctx instanceof HttpStream) ctx.continued.request++;
      return S.Ok;
    },
    proxy_continue_response() {
      const ctx = vm._ctx();
      if (ctx instanceof HttpStream) ctx.continued.response++;
      return S.Ok;
    },
    proxy_clear_route_cache() {
      const ctx = vm._ctx();
      if (ctx instanceof HttpStream) ctx.routeCacheCleared = (ctx.routeCacheCleared || 0) + 1;
      return S.Ok;
    },
    proxy_send_local_response(code, dp, ds, bp, bs, hp, hs, grpc) {
      const details = vm._read(dp, ds), body = vm._read(bp, bs), hdrs = vm._read(hp, hs);
      if (details === null || body === null || hdrs === null) return S.InvalidMemoryAccess;
      const ctx = vm._ctx();
      if (!(ctx instanceof HttpStream)) return S.NotFound;
      ctx.localResponse = {
        status: code >>> 0,
        details: details.toString('utf8'),
        body,
        headers: decodePairs(hdrs),
        grpcStatus: grpc | 0,
      };
      ctx._stopNext = true;
      return S.Ok;
    },

    // -- shared data
    proxy_get_shared_data(kp, ks, ptrPtr, sizePtr, casPtr) {
      const key = vm._readStr(kp, ks);
      if (key === null) return S.InvalidMemoryAccess;
      vm.stats.sharedDataGets++;
      const e = host.sharedData.get(vm.vmId, key);
      if (!e) { interleave(); return S.NotFound; }
      if (!vm._copyOut(e.value, ptrPtr, sizePtr)) return S.InvalidMemoryAccess;
      if (!vm._setU32(casPtr, e.cas)) return S.InvalidMemoryAccess;
      vm.stats.sharedDataBytesIn += e.value.length;
      interleave();
      return S.Ok;
    },
    proxy_set_shared_data(kp, ks, vp, vs, cas) {
      const key = vm._readStr(kp, ks), value = vm._read(vp, vs);
      if (key === null || value === null) return S.InvalidMemoryAccess;
      interleave();
      vm.stats.sharedDataSets++;
      const r = host.sharedData.set(vm.vmId, key, value, cas >>> 0, vm);
      if (r === S.Ok) vm.stats.sharedDataBytesOut += value.length;
      else if (r === S.CasMismatch) vm.stats.casMismatches++;
      return r;
    },

    // -- shared queues
    proxy_register_shared_queue(np, ns, tokenPtr) {
      const name = vm._readStr(np, ns);
      if (name === null) return S.InvalidMemoryAccess;
      const ctx = vm._ctx();
      const root = ctx.root && ctx.root.isRoot ? ctx.root : null;
      const token = host.queues.register(vm, root ? root.id : 0, name);
      return vm._setU32(tokenPtr, token) ? S.Ok : S.InvalidMemoryAccess;
    },
    proxy_resolve_shared_queue(vp, vs, np, ns, tokenPtr) {
      const vmId = vm._readStr(vp, vs), name = vm._readStr(np, ns);
      if (vmId === null || name === null) return S.InvalidMemoryAccess;
      const token = host.queues.resolve(vmId === '' ? vm.vmId : vmId, name);
      if (token === 0) return S.NotFound;
      return vm._setU32(tokenPtr, token) ? S.Ok : S.InvalidMemoryAccess;
    },
    proxy_enqueue_shared_queue(token, ptr, size) {
      const data = vm._read(ptr, size);
      if (data === null) return S.InvalidMemoryAccess;
      interleave();
      const r = host.queues.enqueue(token >>> 0, data);
      if (r === S.Ok) vm.stats.queueBytesOut += data.length;
      return r;
    },
    proxy_dequeue_shared_queue(token, ptrPtr, sizePtr) {
      const q = host.queues.byToken.get(token >>> 0);
      if (!q) return S.NotFound;
      if (q.items.length === 0) return S.Empty;
      const item = q.items.shift();
      if (!vm._copyOut(item, ptrPtr, sizePtr)) return S.InvalidMemoryAccess;
      vm.stats.queueBytesIn += item.length;
      return S.Ok;
    },

    // -- http calls
    proxy_http_call(up, us, hp, hs, bp, bs, tp, ts, timeoutMs, tokenPtr) {
      const upstream = vm._readStr(up, us), hdrs = vm._read(hp, hs);
      const body = vm._read(bp, bs), trl = vm._read(tp, ts);
      if (upstream === null || hdrs === null || body === null || trl === null) {
        return S.InvalidMemoryAccess;
      }
      if (!vm._setU32(tokenPtr, 0)) return S.InvalidMemoryAccess;
      const ctx = vm._ctx();
      const root = ctx.root && ctx.root.isRoot ? ctx.root : null;
      if (!root) return S.BadArgument;
      const res = host.http._start(vm, root, upstream, decodePairs(hdrs), body,
        decodePairs(trl), timeoutMs | 0);
      if (res.status !== S.Ok) return res.status;
      vm._setU32(tokenPtr, res.token);
      return S.Ok;
    },
    proxy_get_status(codePtr, ptrPtr, sizePtr) {
      const ctx = vm._ctx();
      const resp = ctx.root && ctx.root.callResponse;
      const code = resp ? resp.statusCode : 0;
      const msg = resp ? resp.statusMessage : '';
      if (!vm._setU32(codePtr, code)) return S.InvalidMemoryAccess;
      return vm._copyOut(Buffer.from(msg), ptrPtr, sizePtr) ? S.Ok : S.InvalidMemoryAccess;
    },

    // -- gRPC (not provided by this host; present so modules link as in Envoy)
    proxy_grpc_call(...a) { return grpcUnavailable(vm, a[a.length - 1]); },
    proxy_grpc_stream(...a) { return grpcUnavailable(vm, a[a.length - 1]); },
    proxy_grpc_send() { return S.NotFound; },
    proxy_grpc_cancel() { return S.NotFound; },
    proxy_grpc_close() { return S.NotFound; },

    // -- metrics
    proxy_define_metric(type, np, ns, idPtr) {
      type >>>= 0;
      if (type > MetricType.Histogram) return S.BadArgument;
      const name = vm._readStr(np, ns);
      if (name === null) return S.InvalidMemoryAccess;
      const id = host.metrics.define(vm, type, name);
      return vm._setU32(idPtr, id) ? S.Ok : S.InvalidMemoryAccess;
    },
    proxy_increment_metric(id, delta) {
      return host.metrics.increment(vm, id >>> 0, BigInt(delta));
    },
    proxy_record_metric(id, value) {
      return host.metrics.record(vm, id >>> 0, BigInt.asUintN(64, BigInt(value)));
    },
    proxy_get_metric(id, ptr) {
      const m = host.metrics.lookup(vm, id >>> 0);
      if (!m) return S.NotFound;
      return vm._setU64(ptr, m.value) ? S.Ok : S.InvalidMemoryAccess;
    },

    // -- foreign functions
    proxy_call_foreign_function(np, ns, ap, as, rpp, rsp) {
      const name = vm._readStr(np, ns), args = vm._read(ap, as);
      if (name === null || args === null) return S.InvalidMemoryAccess;
      const f = host.foreignFunctions[name];
      if (typeof f !== 'function') return S.NotFound;
      const out = toBytes(f(args, vm));
      if (rpp >>> 0 !== 0 && !vm._copyOut(out, rpp, rsp)) return S.InvalidMemoryAccess;
      return S.Ok;
    },
  };
}

function writableMap(ctx, type) {
  if (type === MapType.HttpCallResponseHeaders || type === MapType.HttpCallResponseTrailers) {
    const resp = ctx.root && ctx.root.callResponse;
    if (!resp) return null;
    return type === MapType.HttpCallResponseHeaders ? resp.headers : resp.trailers;
  }
  return ctx.maps[type];
}

function grpcUnavailable(vm, tokenPtr) {
  vm._setU32(tokenPtr, 0);
  return Status.ParseFailure; // as Envoy: unknown upstream for gRPC
}

function builtinProperty(vm, ctx, root, segs) {
  const top = segs[0];
  const stream = ctx instanceof HttpStream ? ctx : null;
  switch (top) {
    case 'plugin_root_id': return segs.length === 1 && root ? root.rootId : undefined;
    case 'plugin_name': return segs.length === 1 && root ? root.name : undefined;
    case 'plugin_vm_id': return segs.length === 1 ? vm.vmId : undefined;
    case 'request': {
      if (!stream || segs.length !== 2) return undefined;
      const h = stream.maps[MapType.RequestHeaders];
      switch (segs[1]) {
        case 'time': return stream.startRealtimeNs;
        case 'path': return h ? h.get(':path') : undefined;
        case 'url_path': { const p = h && h.get(':path'); return p === undefined ? undefined : p.split('?')[0]; }
        case 'method': return h ? h.get(':method') : undefined;
        case 'host': return h ? h.get(':authority') : undefined;
        case 'scheme': return h ? h.get(':scheme') : undefined;
        case 'id': return h ? h.get('x-request-id') : undefined;
        case 'protocol': return stream.properties.protocol || 'HTTP/1.1';
        default: return undefined;
      }
    }
    case 'response': {
      if (!stream || segs.length !== 2) return undefined;
      if (segs[1] === 'code') return stream.responseCode;
      return undefined;
    }
    default: return undefined;
  }
}

// ---------------------------------------------------------------------------
// Hostcalls: WASI.

function makeWasiImports(vm) {
  const E = WasiErrno;
  return {
    fd_write(fd, iovs, iovsLen, nwrittenPtr) {
      let level;
      if (fd === 1) level = LogLevel.Info;
      else if (fd === 2) level = LogLevel.Error;
      else return E.Badf;
      const parts = [];
      for (let i = 0; i < iovsLen >>> 0; i++) {
        const iov = vm._read((iovs >>> 0) + i * 8, 8);
        if (iov === null) return E.Fault;
        const p = iov.readUInt32LE(0), l = iov.readUInt32LE(4);
        if (l) {
          const b = vm._read(p, l);
          if (b === null) return E.Fault;
          parts.push(b);
        }
      }
      const all = Buffer.concat(parts);
      if (all.length) {
        let s = all.toString('utf8');
        if (s.endsWith('\n')) s = s.slice(0, -1);
        vm._log(level, s, vm._ctx(), fd === 1 ? 'stdout' : 'stderr');
      }
      return vm._setU32(nwrittenPtr, all.length) ? E.Success : E.Fault;
    },
    fd_read() { return E.Nosys; },
    fd_seek() { vm._log(LogLevel.Error, 'wasi_unstable fd_seek', vm._ctx(), 'host'); return E.Success; },
    fd_close() { vm._log(LogLevel.Error, 'wasi_unstable fd_close', vm._ctx(), 'host'); return E.Success; },
    fd_fdstat_get(fd, statPtr) {
      if (fd !== 1 && fd !== 2) return E.Badf;
      const st = Buffer.alloc(24);
      st.writeBigUInt64LE(64n, 8); // fs_rights_base = FD_WRITE
      vm._write(statPtr, st);
      return E.Success;
    },
    environ_get() { return E.Success; },
    environ_sizes_get(countPtr, sizePtr) {
      if (!vm._setU32(countPtr, 0) || !vm._setU32(sizePtr, 0)) return E.Fault;
      return E.Success;
    },
    args_get() { return E.Success; },
    args_sizes_get(argcPtr, sizePtr) {
      if (!vm._setU32(argcPtr, 0) || !vm._setU32(sizePtr, 0)) return E.Fault;
      return E.Success;
    },
    clock_time_get(id, _precision, ptr) {
      let ok;
      if (id === 0) ok = vm._setTimeNs(ptr, vm.host.epochNs, 0);
      else if (id === 1) ok = vm._setTimeNs(ptr, vm.host.monotonicBaseNs, 1);
      else return E.Notsup;
      return ok ? E.Success : E.Fault;
    },
    random_get(ptr, len) {
      len >>>= 0;
      if (len > 65536) return E.Inval;
      const b = Buffer.alloc(len);
      if (vm.host.options.realRandom) crypto.randomFillSync(b); else vm.rng.fill(b);
      return vm._write(ptr, b) ? E.Success : E.Fault;
    },
    proc_exit(code) {
      vm._log(LogLevel.Error, 'wasi_unstable proc_exit', vm._ctx(), 'host');
      const err = new Error(`proc_exit(${code})`);
      err.procExit = code;
      throw err;
    },
  };
}

// ---------------------------------------------------------------------------
// Shared data (cpp-host SharedData: per vm_id, cas from one global counter).

class SharedData {
  constructor(host) {
    this.host = host;
    this.byVm = new Map();
    this.nextCas = 1;
  }
  _cas() {
    const c = this.nextCas >>> 0;
    this.nextCas = (this.nextCas + 1) >>> 0;
    if (this.nextCas === 0) this.nextCas = 1;
    return c === 0 ? this._cas() : c;
  }
  _map(vmId, create) {
    let m = this.byVm.get(vmId);
    if (!m && create) { m = new Map(); this.byVm.set(vmId, m); }
    return m;
  }
  get(vmId, key) {
    const m = this._map(vmId, false);
    return m ? m.get(key) : undefined;
  }
  set(vmId, key, value, cas, vm) {
    const m = this._map(vmId, true);
    const e = m.get(key);
    if (e) {
      if (cas && vm && this.host._injectCasConflict(vm, key, cas, e)) {
        // Another writer rewrote the entry between this VM's get and set.
        e.cas = this._cas();
      }
      if (cas && cas !== e.cas) {
        this.host.stats.casMismatches++;
        return Status.CasMismatch;
      }
      e.value = Buffer.from(value);
      e.cas = this._cas();
    } else {
      m.set(key, { value: Buffer.from(value), cas: this._cas() });
    }
    return Status.Ok;
  }
  /** Embedder access: {value: Buffer, cas} or undefined. */
  peek(key, vmId = '') {
    const e = this.get(vmId, key);
    return e ? { value: Buffer.from(e.value), cas: e.cas } : undefined;
  }
  /** Embedder write (unconditional unless cas given). */
  write(key, value, { vmId = '', cas = 0 } = {}) {
    return this.set(vmId, key, toBytes(value), cas, null);
  }
  keys(vmId = '') {
    const m = this._map(vmId, false);
    return m ? [...m.keys()] : [];
  }
}

// ---------------------------------------------------------------------------
// Shared queues (cpp-host SharedQueue: token per (vm_id, name), last
// registrant receives proxy_on_queue_ready on its root context).

class SharedQueues {
  constructor(host) {
    this.host = host;
    this.byName = new Map();
    this.byToken = new Map();
    this.nextToken = 1;
  }
  register(vm, contextId, name) {
    const key = `${vm.vmId}\0${name}`;
    let token = this.byName.get(key);
    if (!token) {
      token = this.nextToken++;
      this.byName.set(key, token);
      this.byToken.set(token, { token, vmId: vm.vmId, name, items: [], owner: null });
    }
    const q = this.byToken.get(token);
    q.owner = { vm, contextId }; // preserves queued items
    return token;
  }
  resolve(vmId, name) {
    return this.byName.get(`${vmId}\0${name}`) || 0;
  }
  enqueue(token, data) {
    const q = this.byToken.get(token);
    if (!q) return Status.NotFound;
    q.items.push(Buffer.from(data));
    this.host._notifyQueue(q);
    return Status.Ok;
  }
  /** Embedder access. */
  get(vmId, name) {
    const t = this.resolve(vmId, name);
    return t ? this.byToken.get(t) : undefined;
  }
}

// ---------------------------------------------------------------------------
// Metrics (proxy-wide by name; ids per VM).

class Metrics {
  constructor() { this.byName = new Map(); this.nextId = 1; }
  define(vm, type, name) {
    let m = this.byName.get(name);
    if (!m) { m = { name, type, value: 0n }; this.byName.set(name, m); }
    for (const [id, n] of vm.metricIds) if (n === name) return id;
    const id = this.nextId++ * 4 + type;
    vm.metricIds.set(id, name);
    return id;
  }
  lookup(vm, id) {
    const name = vm.metricIds.get(id);
    return name === undefined ? undefined : this.byName.get(name);
  }
  increment(vm, id, delta) {
    const m = this.lookup(vm, id);
    if (!m) return Status.NotFound;
    if (m.type === MetricType.Counter && delta < 0n) return Status.BadArgument;
    if (m.type === MetricType.Histogram) return Status.BadArgument;
    m.value = BigInt.asUintN(64, m.value + delta);
    return Status.Ok;
  }
  record(vm, id, value) {
    const m = this.lookup(vm, id);
    if (!m) return Status.NotFound;
    if (m.type === MetricType.Histogram) {
      (m.samples || (m.samples = [])).push(value);
    } else {
      m.value = value;
    }
    return Status.Ok;
  }
  get(name) {
    const m = this.byName.get(name);
    return m ? (m.type === MetricType.Histogram ? (m.samples || []).slice() : m.value) : undefined;
  }
}

// ---------------------------------------------------------------------------
// HTTP calls to real servers.

const ENVOY_CONNECT_FAILURE_BODY =
  'upstream connect error or disconnect/reset before headers. reset reason: connection failure';
const ENVOY_TIMEOUT_BODY = 'upstream request timeout';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade',
  'proxy-connection']);

class HttpCalls {
  constructor(host) {
    this.host = host;
    this.inflight = new Map(); // call → promise
    this.completed = [];
    this.seq = 0;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.log = [];
  }

  _cluster(name) {
    const c = this.host.clusters[name];
    if (c === undefined || c === null) return null;
    if (typeof c === 'string') return { url: c, latency: 0 };
    return { url: c.url, latency: c.latencyNs ?? c.latencyMs, unit: c.latencyNs !== undefined ? 1 : 1e6 };
  }

  /** Virtual latency of a call: the cluster's latencyMs/latencyNs (a number or fn(call)). */
  _latencyNs(call) {
    if (call.latencyNs === undefined) {
      const c = call.cluster;
      let v = typeof c.latency === 'function' ? c.latency(call) : (c.latency || 0);
      call.latencyNs = toNs(v) * (c.unit || 1e6);
      const [lo, hi] = this.host.chaos.httpLatencyNs || [0, 0];
      if (hi > 0) call.latencyNs += lo + Math.round(this.host.rng.next() * (hi - lo));
    }
    return call.latencyNs;
  }

  _start(vm, root, upstream, headers, body, trailers, timeoutMs) {
    const host = this.host;
    if (timeoutMs < 0) return { status: Status.BadArgument };
    const cluster = this._cluster(upstream);
    if (!cluster) return { status: Status.BadArgument };
    const hm = new HeaderMap(headers);
    if (hm.get(':path') === undefined || hm.get(':method') === undefined ||
        hm.get(':authority') === undefined) {
      return { status: Status.BadArgument };
    }
    const token = vm.nextHttpToken++;
    const call = {
      seq: this.seq++, token, vm, root, upstream, cluster, method: hm.get(':method'), path: hm.get(':path'),
      authority: hm.get(':authority'), headers: hm.toArray(), body: Buffer.from(body),
      trailers, timeoutMs, startNs: host.now(), state: 'pending', outcome: null,
    };
    vm.httpCalls.set(token, call);
    host.stats.httpCalls++;
    this.log.push(call);
    if (timeoutMs > 0) {
      call.timeoutEvent = host._schedule(call.startNs + timeoutMs * 1e6, {
        kind: 'http_timeout', vm, run: () => this._finish(call, { kind: 'timeout' }),
      });
    }
    this._send(call);
    return { status: Status.Ok, token };
  }

  _send(call) {
    const host = this.host;
    let url;
    try { url = new URL(call.path, call.cluster.url); } catch (e) {
      this._ioDone(call, { kind: 'reset', message: 'bad url' });
      return;
    }
    const reqHeaders = { host: call.authority };
    for (const [k, v] of call.headers) {
      if (k.startsWith(':')) continue;
      if (k in reqHeaders && k !== 'host') reqHeaders[k] = [].concat(reqHeaders[k], v);
      else reqHeaders[k] = v;
    }
    const useTrailers = call.trailers.length > 0;
    if (call.body.length > 0 && !useTrailers) reqHeaders['content-length'] = String(call.body.length);
    const realCapMs = host.virtual ? host.options.httpRealTimeoutMs :
      (call.timeoutMs > 0 ? call.timeoutMs : host.options.httpRealTimeoutMs);
    const p = new Promise((resolve) => {
      let settled = false;
      const done = (outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve();
        this._ioDone(call, outcome);
      };
      const req = http.request({
        host: url.hostname, port: url.port, path: url.pathname + url.search,
        method: call.method, headers: reqHeaders, agent: this.agent,
      }, (res) => {
        const chunks = [];
        let size = 0;
        res.on('data', (c) => {
          size += c.length;
          if (size > host.options.httpMaxResponseBytes) {
            req.destroy();
            done({ kind: 'reset', message: 'exceeded buffer limit' });
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const hdrs = [[':status', String(res.statusCode)]];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const k = res.rawHeaders[i].toLowerCase();
            // Envoy's codec drops hop-by-hop headers from what filters see.
            if (HOP_BY_HOP.has(k)) continue;
            hdrs.push([k, res.rawHeaders[i + 1]]);
          }
          const trl = [];
          for (let i = 0; i < res.rawTrailers.length; i += 2) {
            trl.push([res.rawTrailers[i].toLowerCase(), res.rawTrailers[i + 1]]);
          }
          done({ kind: 'response', headers: hdrs, body: Buffer.concat(chunks), trailers: trl });
        });
        res.on('error', (e) => done({ kind: 'reset', message: e.message }));
      });
      call.req = req;
      req.on('error', (e) => {
        const refused = e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENOTFOUND';
        done({ kind: refused ? 'connect_failure' : 'reset', message: e.message });
      });
      const timer = setTimeout(() => {
        req.destroy();
        done({ kind: host.virtual ? 'reset' : 'timeout', message: 'real-time limit' });
      }, realCapMs);
      if (useTrailers) {
        req.setHeader('transfer-encoding', 'chunked');
        req.addTrailers(Object.fromEntries(call.trailers));
      }
      if (call.body.length) req.write(call.body);
      req.end();
    });
    this.inflight.set(call, p);
  }

  /** Real I/O finished: schedule delivery at (start + cluster latency), not before now. */
  _ioDone(call, outcome) {
    this.inflight.delete(call);
    if (call.state !== 'pending') return;
    call.ioOutcome = outcome;
    // Virtual clock: delivery is scheduled only when settle() observes it, in
    // call order, so the order never depends on real I/O timing.
    if (this.host.virtual) this.completed.push(call);
    else this._scheduleDelivery(call);
  }

  _scheduleDelivery(call) {
    const host = this.host;
    if (call.state !== 'pending') return;
    const at = Math.max(host.now(), call.startNs + this._latencyNs(call));
    call.responseEvent = host._schedule(at, {
      kind: 'http_response', vm: call.vm, run: () => this._finish(call, call.ioOutcome),
    });
  }

  /** Schedules the deliveries observed so far, in the order the calls were made. */
  _flushCompleted() {
    const list = this.completed.splice(0).sort((a, b) => a.seq - b.seq);
    for (const call of list) this._scheduleDelivery(call);
  }

  _finish(call, outcome) {
    if (call.state !== 'pending') return;
    call.state = 'done';
    call.outcome = outcome;
    call.endNs = this.host.now();
    if (call.timeoutEvent) call.timeoutEvent.cancelled = true;
    if (call.responseEvent) call.responseEvent.cancelled = true;
    if (outcome.kind === 'timeout' && call.req) call.req.destroy();
    const mode = this.host.options.httpFailureMode;
    let resp;
    if (outcome.kind === 'response') {
      resp = { headers: new HeaderMap(outcome.headers), body: outcome.body,
        trailers: new HeaderMap(outcome.trailers), statusCode: 0, statusMessage: '' };
    } else if (mode === 'envoy' && (outcome.kind === 'timeout' || outcome.kind === 'connect_failure')) {
      // Envoy's async client answers through the router: a local 504 or 503.
      const timeout = outcome.kind === 'timeout';
      const b = Buffer.from(timeout ? ENVOY_TIMEOUT_BODY : ENVOY_CONNECT_FAILURE_BODY);
      resp = { headers: new HeaderMap([[':status', timeout ? '504' : '503'],
        ['content-length', String(b.length)], ['content-type', 'text/plain']]),
      body: b, trailers: new HeaderMap([]), statusCode: 0, statusMessage: '' };
    } else {
      // Envoy's onHttpCallFailure: no response message at all, so the maps
      // answer BadArgument and the body NotFound; proxy_get_status says why.
      resp = { headers: null, body: null, trailers: null,
        statusCode: Status.BrokenConnection, statusMessage: 'reset' };
    }
    call.response = resp;
    const vm = call.vm, root = call.root;
    vm.httpCalls.delete(call.token);
    root.callResponse = resp;
    try {
      vm._invoke(root, 'proxy_on_http_call_response', [root.id, call.token,
        resp.headers ? resp.headers.size : 0, resp.body ? resp.body.length : 0,
        resp.trailers ? resp.trailers.size : 0]);
    } finally {
      root.callResponse = null;
    }
  }

  get pending() { return this.inflight.size; }

  /**
   * True when a call's outcome depends on its real I/O: a call whose virtual
   * latency reaches its timeout times out whatever the server does.
   */
  _mustWait(call) {
    if (call.state !== 'pending') return false;
    if (call.timeoutMs > 0 && this._latencyNs(call) >= call.timeoutMs * 1e6) return false;
    return true;
  }

  get pendingIo() {
    let n = 0;
    for (const call of this.inflight.keys()) if (this._mustWait(call)) n++;
    return n;
  }

  async waitIo() {
    for (;;) {
      const waits = [];
      for (const [call, p] of this.inflight) if (this._mustWait(call)) waits.push(p);
      if (waits.length === 0) return;
      await Promise.all(waits);
    }
  }

  close() {
    for (const call of this.inflight.keys()) if (call.req) call.req.destroy();
    this.agent.destroy();
  }
}

// ---------------------------------------------------------------------------
// The scheduler: the clock and the event queue. Several hosts (proxies) may
// share one, so a multi-proxy test advances one virtual clock for all.

class Scheduler {
  constructor(opts = {}) {
    this.virtual = (opts.clock || 'virtual') !== 'real';
    this.nowNs = 0;
    this.realStart = process.hrtime.bigint();
    this.queue = new EventQueue();
    this.processing = false;
    this.running = false;
    this.timer = null;
    this.hosts = new Set();
  }

  /** Nanoseconds since the scheduler was created (a Number). */
  now() {
    if (this.virtual) return this.nowNs;
    return Number(process.hrtime.bigint() - this.realStart);
  }

  _schedule(time, ev) {
    ev.time = time;
    ev.cancelled = false;
    this.queue.push(ev);
    this._wake();
    return ev;
  }

  _runEvent(ev) {
    if (ev.host) ev.host.stats.events[ev.kind] = (ev.host.stats.events[ev.kind] || 0) + 1;
    ev.run();
  }

  /** Runs every event due at or before the current time. */
  drain() {
    if (this.processing) return;
    this.processing = true;
    try {
      const now = this.now();
      for (;;) {
        const ev = this.queue.peek();
        if (!ev || ev.time > now) break;
        this.queue.pop();
        if (ev.cancelled) continue;
        this._runEvent(ev);
      }
    } finally {
      this.processing = false;
    }
  }

  /**
   * Virtual clock: advances by ns, running every due event in time order
   * (ticks, queue deliveries, HTTP timeouts and responses already observed,
   * scheduled work). Synchronous: no real I/O completes during it.
   */
  advance(ns) {
    if (!this.virtual) throw new Error('advance() needs the virtual clock');
    this.advanceTo(this.nowNs + toNs(ns));
  }

  advanceTo(t) {
    if (!this.virtual) throw new Error('advanceTo() needs the virtual clock');
    t = toNs(t);
    if (this.processing) throw new Error('advance() called from inside a callback');
    this.drain();
    for (;;) {
      const ev = this.queue.peek();
      if (!ev || ev.time > t) break;
      this.queue.pop();
      if (ev.cancelled) continue;
      if (ev.time > this.nowNs) this.nowNs = ev.time;
      this.processing = true;
      try { this._runEvent(ev); } finally { this.processing = false; }
    }
    if (t > this.nowNs) this.nowNs = t;
  }

  _ioPending() {
    for (const h of this.hosts) if (h.http.pendingIo > 0 || h.http.completed.length > 0) return true;
    return false;
  }

  /**
   * Waits for every in-flight HTTP call's real I/O (of every host), then runs
   * what is due at the current time; repeats until no I/O is pending. The
   * clock does not move.
   */
  async settle() {
    for (;;) {
      this.drain();
      if (!this._ioPending()) break;
      await Promise.all([...this.hosts].map((h) => h.http.waitIo()));
      for (const h of this.hosts) h.http._flushCompleted();
    }
    this.drain();
  }

  /**
   * Like advance(ns), but settles real I/O before each event, so an HTTP call
   * takes exactly its cluster's latency of virtual time: deterministic.
   */
  async run(ns) {
    if (!this.virtual) throw new Error('run() needs the virtual clock');
    const end = this.nowNs + toNs(ns);
    for (;;) {
      await this.settle();
      const ev = this.queue.peek();
      if (!ev || ev.time > end) break;
      if (ev.cancelled) { this.queue.pop(); continue; }
      this.advanceTo(ev.time);
    }
    await this.settle();
    if (end > this.nowNs) this.nowNs = end;
  }

  /** Real clock: starts running events as they fall due. */
  start() {
    if (this.virtual) throw new Error('start() needs the real clock');
    this.running = true;
    this._wake();
  }

  stop() {
    this.running = false;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
  }

  _wake() {
    if (this.virtual || !this.running) return;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    const ev = this.queue.peek();
    if (!ev) return;
    const delayMs = Math.max(0, (ev.time - this.now()) / 1e6);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain();
      this._wake();
    }, delayMs);
  }
}

// ---------------------------------------------------------------------------
// The host: one proxy (its VMs, shared data, queues, clock and scheduler).

const DEFAULT_OPTIONS = {
  clock: 'virtual', // or 'real'
  seed: 1,
  epochNs: DEFAULT_EPOCH_NS,
  logLevel: LogLevel.Trace,
  logSink: null,
  clusters: {},
  properties: {},
  realRandom: false,
  httpFailureMode: 'envoy', // or 'reset'
  httpRealTimeoutMs: 10000,
  httpMaxResponseBytes: 64 * 1024 * 1024,
  streamEndOrder: 'envoy',
  canary: false,
  chaos: {},
};

const DEFAULT_CHAOS = {
  casConflict: 0, // probability a matching cas is bumped before the set
  casConflictMaxRun: 3, // at most this many injected conflicts in a row per VM and key
  interleave: 0, // probability of running another VM's due work inside a hostcall
  queueDelayNs: [0, 0], // per-notification delay range
  tickJitterNs: 0, // each tick fires up to this late
  clockSkewNs: 0, // each VM's clock offset drawn from [-x, x]
  startSpreadNs: 0, // each worker starts up to this late
  httpLatencyNs: [0, 0], // extra virtual latency per HTTP call, uniform in the range
};

class Host extends EventEmitter {
  constructor(options = {}) {
    super();
    this.options = Object.assign({}, DEFAULT_OPTIONS, options);
    this.chaos = Object.assign({}, DEFAULT_CHAOS, options.chaos || {});
    this.seed = this.options.seed;
    this.rng = new Rng(`${this.seed}/chaos`);
    this.scheduler = this.options.scheduler || new Scheduler({ clock: this.options.clock });
    this.scheduler.hosts.add(this);
    // Real clock: the module sees real wall-clock time unless epochNs is given.
    this.epochNs = options.epochNs !== undefined || this.options.clock !== 'real'
      ? BigInt(this.options.epochNs)
      : BigInt(Date.now()) * 1000000n - BigInt(Math.round(this.scheduler.now()));
    this.monotonicBaseNs = DEFAULT_MONOTONIC_BASE_NS;
    this.logLevel = this.options.logLevel;
    this.clusters = Object.assign({}, this.options.clusters);
    this.properties = this.options.properties;
    this.foreignFunctions = {};
    this.vms = [];
    this.workers = [];
    this.singletons = [];
    this.canaries = [];
    this.logs = [];
    this.events = [];
    this.sharedData = new SharedData(this);
    this.queues = new SharedQueues(this);
    this.metrics = new Metrics();
    this.http = new HttpCalls(this);
    this.moduleCache = new Map();
    this.casRuns = new Map();
    this.stats = newHostStats();
    this.closed = false;
  }

  // -- time -----------------------------------------------------------------

  /** Host time: nanoseconds since the host was created (a Number). */
  now() { return this.scheduler.now(); }

  // -- VMs ------------------------------------------------------------------

  _loadModule(m) {
    if (m instanceof WebAssembly.Module) return m;
    if (typeof m === 'string') {
      let mod = this.moduleCache.get(m);
      if (!mod) { mod = new WebAssembly.Module(fs.readFileSync(m)); this.moduleCache.set(m, mod); }
      return mod;
    }
    if (m instanceof Uint8Array || m instanceof ArrayBuffer) return new WebAssembly.Module(m);
    throw new Error('module must be a path, bytes or a WebAssembly.Module');
  }

  /**
   * Adds a VM. opts: module, kind ('worker'|'singleton'), name, vmId,
   * vmConfiguration, rootId, configuration, properties, clockSkewNs,
   * startDelayNs, roots: [{rootId, configuration}] (several plugins).
   */
  addVm(opts) {
    const kind = opts.kind || 'worker';
    const list = kind === 'singleton' ? this.singletons : this.workers;
    const index = opts.index ?? list.length;
    let skew = opts.clockSkewNs;
    if (skew === undefined && this.chaos.clockSkewNs && kind === 'worker') {
      skew = Math.round((this.rng.next() * 2 - 1) * toNs(this.chaos.clockSkewNs));
    }
    const vm = new Vm(this, Object.assign({}, opts, { kind, index, clockSkewNs: skew ?? 0 }));
    this.vms.push(vm);
    list.push(vm);
    let delay = opts.startDelayNs !== undefined ? toNs(opts.startDelayNs) : 0;
    if (opts.startDelayNs === undefined && this.chaos.startSpreadNs && kind === 'worker') {
      delay = Math.round(this.rng.next() * toNs(this.chaos.startSpreadNs));
    }
    const roots = opts.roots || [{ rootId: opts.rootId ?? '', configuration: opts.configuration, name: opts.pluginName }];
    const canary = opts.canary ?? this.options.canary;
    const start = () => {
      if (canary) this._runCanary(opts, roots);
      vm._start();
      for (const r of roots) vm.addRoot(r);
      this._emit('vm_started', { vm: vm.name });
    };
    if (delay > 0) this._schedule(this.now() + delay, { kind: 'vm_start', vm, run: start });
    else start();
    return vm;
  }

  /** Adds n worker VMs with the same options; returns them. With the canary
   * option, one canary configures the plugins before the first worker. */
  addWorkers(n, opts) {
    const out = [];
    const canary = opts.canary ?? this.options.canary;
    for (let i = 0; i < n; i++) {
      out.push(this.addVm(Object.assign({}, opts, { kind: 'worker', canary: canary && i === 0 })));
    }
    return out;
  }

  /**
   * Envoy's host library (proxy-wasm-cpp-host createWasm) configures each
   * plugin once in a throwaway clone of the VM, the "canary", before the real
   * VMs, and kills it: whatever proxy_on_configure does there must be
   * harmless. Runs on_context_create, on_vm_start and on_configure of the
   * plugins in a new VM of the same module and vm_id, then kills it. The VM
   * stays in host.canaries (its logs and hostcall counts) and never runs again.
   */
  _runCanary(opts, roots) {
    const vm = new Vm(this, Object.assign({}, opts, { kind: 'canary', index: this.canaries.length,
      name: `canary-${this.canaries.length}`, clockSkewNs: 0 }));
    this.canaries.push(vm);
    vm._start();
    let configured = true;
    for (const r of roots) configured = vm.addRoot(r).configured && configured;
    vm.kill();
    this._emit('canary', { vm: vm.name, configured });
    return vm;
  }

  /** Adds the singleton service VM (Envoy bootstrap wasm service, singleton: true). */
  addSingleton(opts) {
    return this.addVm(Object.assign({}, opts, { kind: 'singleton' }));
  }

  /** Round-robin worker picker. */
  nextWorker() {
    const n = this.workers.length;
    for (let k = 0; k < n; k++) {
      this._rr = ((this._rr ?? -1) + 1) % n;
      const w = this.workers[this._rr];
      if (w.ready) return w;
    }
    throw new Error('no ready worker');
  }

  _emit(type, info) {
    const ev = Object.assign({ type, timeNs: this.now() }, info);
    this.events.push(ev);
    this.emit(type, ev);
    this.emit('event', ev);
  }

  // -- scheduling (delegated to the scheduler, which several hosts may share)

  get virtual() { return this.scheduler.virtual; }

  _schedule(time, ev) {
    ev.host = this;
    return this.scheduler._schedule(time, ev);
  }

  /** Runs fn at host time t (ns). opts.vm tags the work as that VM's (for interleaving). */
  schedule(t, fn, opts = {}) {
    return this._schedule(toNs(t), { kind: 'user', vm: opts.vm || null, run: fn });
  }

  /** Runs fn after the current callback, at the current time. */
  _defer(fn) {
    return this._schedule(this.now(), { kind: 'deferred', vm: null, run: fn });
  }

  _wake() { this.scheduler._wake(); }
  drain() { this.scheduler.drain(); }
  advance(ns) { this.scheduler.advance(ns); }
  advanceTo(t) { this.scheduler.advanceTo(t); }
  settle() { return this.scheduler.settle(); }
  run(ns) { return this.scheduler.run(ns); }
  start() { this.scheduler.start(); }
  stop() { this.scheduler.stop(); }

  async close() {
    this.closed = true;
    this.http.close();
    this.scheduler.hosts.delete(this);
    if (this.scheduler.hosts.size === 0) this.scheduler.stop();
  }


  // -- ticks ----------------------------------------------------------------

  _setTick(root, periodMs) {
    root.tickGen++;
    if (root.tickEvent) { root.tickEvent.cancelled = true; root.tickEvent = null; }
    root.tickPeriodMs = periodMs;
    if (periodMs > 0) this._armTick(root, this.now());
  }

  _armTick(root, from) {
    const gen = root.tickGen;
    let at = from + root.tickPeriodMs * 1e6;
    if (this.chaos.tickJitterNs) at += Math.round(this.rng.next() * toNs(this.chaos.tickJitterNs));
    root.tickEvent = this._schedule(at, {
      kind: 'tick', vm: root.vm,
      run: () => {
        if (gen !== root.tickGen) return;
        root.tickEvent = null;
        if (root.vm.failed) return;
        root.ticks++;
        root.vm._invoke(root, 'proxy_on_tick', [root.id]);
        // Envoy re-arms the timer after the callback, unless it was changed.
        if (gen === root.tickGen && root.tickPeriodMs > 0) this._armTick(root, this.now());
      },
    });
  }

  // -- queues ---------------------------------------------------------------

  _notifyQueue(q) {
    const owner = q.owner;
    if (!owner) return;
    const [lo, hi] = this.chaos.queueDelayNs || [0, 0];
    const delay = hi > lo ? lo + Math.round(this.rng.next() * (hi - lo)) : toNs(lo);
    this.stats.queueNotifications++;
    this._schedule(this.now() + delay, {
      kind: 'queue_ready', vm: owner.vm,
      run: () => {
        const vm = owner.vm;
        const ctx = vm.contexts.get(owner.contextId);
        if (!ctx || vm.failed) return;
        vm._invoke(ctx, 'proxy_on_queue_ready', [ctx.id, q.token]);
      },
    });
  }

  // -- chaos ----------------------------------------------------------------

  _injectCasConflict(vm, key, cas, entry) {
    if (!this.chaos.casConflict || cas !== entry.cas) return false;
    const k = `${vm.name}\0${key}`;
    const run = this.casRuns.get(k) || 0;
    if (run >= this.chaos.casConflictMaxRun || !this.rng.chance(this.chaos.casConflict)) {
      this.casRuns.set(k, 0);
      return false;
    }
    this.casRuns.set(k, run + 1);
    this.stats.injectedCasConflicts++;
    return true;
  }

  /** Runs one due event of another (idle) VM inside the current hostcall. */
  _maybeInterleave(vm) {
    if (!this.chaos.interleave || !this.rng.chance(this.chaos.interleave)) return;
    const ev = this.scheduler.queue.takeDue(this.now(), (e) => e.vm && e.vm !== vm && e.vm.depth === 0);
    if (!ev) return;
    this.stats.interleavings++;
    this.scheduler._runEvent(ev);
  }

  // -- embedder helpers -----------------------------------------------------

  /** Stats snapshot; resetStats() zeroes host and VM counters. */
  resetStats() {
    this.stats = newHostStats();
    for (const vm of this.vms) vm.stats = newVmStats();
  }

  /**
   * Runs a whole HTTP stream through a worker: request headers (+ body),
   * response headers (+ body), then completion. Returns the stream.
   * r: {request: {headers, body, trailers}, response: {headers, body, trailers}, vm, properties}
   */
  runStream(r) {
    const vm = r.vm || this.nextWorker();
    const s = vm.newStream({ properties: r.properties, rootId: r.rootId });
    const req = r.request || {};
    const res = r.response || { headers: { ':status': '200' } };
    s.requestHeaders(req.headers || {}, !req.body && !req.trailers);
    if (req.body) s.requestBody(req.body, !req.trailers);
    if (req.trailers) s.requestTrailers(req.trailers);
    if (!s.localResponse) {
      if (r.latencyNs && this.virtual) this.advance(r.latencyNs);
      s.responseHeaders(res.headers || { ':status': '200' }, !res.body && !res.trailers);
      if (res.body) s.responseBody(res.body, !res.trailers);
      if (res.trailers) s.responseTrailers(res.trailers);
    }
    s.complete();
    return s;
  }

  /**
   * Schedules one stream: request phase at host time t, response phase at
   * t + latencyNs (other events run in between), then completion.
   * r: {vm (default: round-robin when it runs), request, response, latencyNs,
   * properties, rootId, onComplete(stream)}. Returns {stream} (filled at t).
   */
  streamAt(t, r = {}) {
    const handle = { stream: null };
    t = toNs(t);
    this.schedule(t, () => {
      handle.stream = this._startStream(r.vm || this.nextWorker(), r, t, toNs(r.latencyNs ?? 0), r.onComplete);
    }, { vm: r.vm || null });
    return handle;
  }

  /** Request phase now; response phase and completion at t + lat. */
  _startStream(vm, r, t, lat, onComplete) {
    const s = vm.newStream({ properties: r.properties, rootId: r.rootId });
    const req = r.request || {};
    s.requestHeaders(req.headers || {}, !req.body && !req.trailers);
    if (req.body) s.requestBody(req.body, !req.trailers);
    if (req.trailers) s.requestTrailers(req.trailers);
    const finish = () => {
      if (!s.localResponse) {
        const res = r.response || {};
        s.responseHeaders(res.headers || { ':status': '200' }, !res.body && !res.trailers);
        if (res.body) s.responseBody(res.body, !res.trailers);
        if (res.trailers) s.responseTrailers(res.trailers);
      }
      s.complete();
      if (onComplete) onComplete(s);
    };
    if (s.localResponse) finish();
    else this.schedule(t + lat, finish, { vm });
    return s;
  }

  /**
   * Generates load lazily (one pending arrival at a time, so millions of
   * requests cost no memory up front). opts: rps or intervalNs; count or
   * durationNs; startNs (default now); vm(i) (default round-robin);
   * stream(i) → {request, response, latencyNs, properties, rootId};
   * onComplete(stream, i). Returns live counters {started, completed}.
   */
  load(opts) {
    const interval = opts.intervalNs !== undefined ? toNs(opts.intervalNs) : 1e9 / opts.rps;
    const start = opts.startNs !== undefined ? toNs(opts.startNs) : this.now();
    const count = opts.count !== undefined ? opts.count
      : Math.floor(toNs(opts.durationNs) / interval);
    const stats = { started: 0, completed: 0, count };
    // The VM is chosen when the arrival is scheduled, so the event carries it
    // and chaos interleaving can run it inside another VM's hostcall.
    const pick = (i) => (opts.vm ? opts.vm(i) : this.nextWorker());
    const arrive = (i, chosen) => {
      const t = start + i * interval;
      const vm = chosen.ready ? chosen : this.nextWorker();
      const r = opts.stream ? opts.stream(i) : {};
      // The next arrival is queued first, so it is due (and can be
      // interleaved) while this one runs when the interval is 0.
      if (i + 1 < count) {
        const next = pick(i + 1);
        this.schedule(start + (i + 1) * interval, () => arrive(i + 1, next), { vm: next });
      }
      stats.started++;
      this._startStream(vm, r, t, toNs(r.latencyNs ?? 0), (s) => {
        stats.completed++;
        if (opts.onComplete) opts.onComplete(s, i);
      });
    };
    if (count > 0) {
      const first = pick(0);
      this.schedule(start, () => arrive(0, first), { vm: first });
    }
    return stats;
  }
}

/**
 * Runs `requests` HTTP streams round-robin over `vms` (default: the host's
 * ready workers) and measures real elapsed time. Each stream: request headers,
 * response headers, complete. opts: requests, warmup (default requests/10),
 * request(i) → headers, response(i) → headers, stepNs (virtual time between
 * requests, default 0; drives ticks in between). Returns per-request figures
 * and counters (hostcalls, shared-data bytes) for the measured part only.
 */
function benchStreams(host, opts = {}) {
  const vms = opts.vms || host.workers.filter((w) => w.ready);
  const n = opts.requests ?? 10000;
  const warmup = opts.warmup ?? Math.ceil(n / 10);
  const reqOf = opts.request || ((i) => ({ ':method': 'GET', ':path': `/bench/${i % 16}`,
    ':authority': 'bench', 'x-request-id': String(i) }));
  const resOf = opts.response || (() => ({ ':status': '200' }));
  const step = toNs(opts.stepNs ?? 0);
  const one = (i) => {
    const vm = vms[i % vms.length];
    const st = vm.newStream();
    st.requestHeaders(reqOf(i), true);
    st.responseHeaders(resOf(i), true);
    st.complete();
    if (step && host.virtual) host.advance(step);
  };
  for (let i = 0; i < warmup; i++) one(i);
  host.resetStats();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) one(warmup + i);
  const ns = Number(process.hrtime.bigint() - t0);
  let hostcalls = 0, sdIn = 0, sdOut = 0, sdCalls = 0;
  for (const v of Object.values(host.stats.hostcalls)) hostcalls += v;
  for (const vm of host.vms) {
    sdIn += vm.stats.sharedDataBytesIn;
    sdOut += vm.stats.sharedDataBytesOut;
    sdCalls += vm.stats.sharedDataGets + vm.stats.sharedDataSets;
  }
  return {
    requests: n,
    elapsedNs: ns,
    nsPerRequest: ns / n,
    hostcallsPerRequest: hostcalls / n,
    sharedDataCallsPerRequest: sdCalls / n,
    sharedDataBytesInPerRequest: sdIn / n,
    sharedDataBytesOutPerRequest: sdOut / n,
    hostcalls: Object.assign({}, host.stats.hostcalls),
  };
}

/** A logSink that prints "<ms> <vm> <level> <message>" to stderr. */
function stderrLogSink(entry) {
  process.stderr.write(`${(entry.timeNs / 1e6).toFixed(3)}ms ${entry.vm} ${entry.levelName} ${entry.message}\n`);
}

function newHostStats() {
  return {
    hostcalls: {},
    callbacks: {},
    events: {},
    casMismatches: 0,
    injectedCasConflicts: 0,
    interleavings: 0,
    queueNotifications: 0,
    httpCalls: 0,
  };
}

module.exports = {
  Host,
  stderrLogSink,
  Scheduler,
  benchStreams,
  Vm,
  HttpStream,
  RootContext,
  HeaderMap,
  Status,
  LogLevel,
  MapType,
  BufferType,
  Action,
  StreamType,
  MetricType,
  WasiErrno,
  WASI_FUNCTIONS,
  encodePairs,
  decodePairs,
  Rng,
};
