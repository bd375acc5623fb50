// A minimal proxy-wasm host for the data plane's benchmark: only the hostcalls
// a filter's request path and tick need, each as cheap as V8 allows, so that
// the host's own work per request is small and the ratio between two modules
// is their own cost, as a production host would show it. The full test host
// (../host/host.js) keeps Envoy's model and provokes its concurrency; its
// per-stream bookkeeping is heavier than Envoy's and would dilute the ratio.
//
// Per stream the callback sequence is Envoy's for a request without a body:
// on_context_create(stream, root), on_request_headers(n, end_of_stream),
// on_response_headers(n, end_of_stream), on_log, on_done, on_delete.
// Header maps are arrays of [name, value] byte pairs, encoded once; lookups
// compare bytes in place, values are copied out through the module's malloc.
// Time is virtual: the caller sets host.now before each callback.
'use strict';
const fs = require('node:fs');

const OK = 0, NOT_FOUND = 1, BAD_ARGUMENT = 2;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A header map as byte pairs: [[Uint8Array name, Uint8Array value], ...]. */
function encodeHeaders(obj) {
  return Object.entries(obj).map(([k, v]) => [enc.encode(k), enc.encode(String(v))]);
}

class LeanVm {
  constructor(host, module, configuration) {
    this.host = host;
    this.configuration = enc.encode(configuration);
    this.streamMaps = [null, null, null]; // by map type: request headers (0), response headers (2)
    this.tickMs = 0;
    this.nextTickNs = 0;
    this.nextId = 1;
    this.logs = [];
    const imports = this._imports(module);
    this.instance = new WebAssembly.Instance(module, imports);
    this.x = this.instance.exports;
    this.memory = this.x.memory;
    this.malloc = this.x.malloc || this.x.proxy_on_memory_allocate;
    this._views();
    if (typeof this.x._initialize === 'function') this.x._initialize();
    this.root = this.nextId++;
    this.x.proxy_on_context_create(this.root, 0);
    if (this.x.proxy_on_vm_start) this.x.proxy_on_vm_start(this.root, 0);
    this.configured = this.x.proxy_on_configure(this.root, this.configuration.length) !== 0;
    if (!this.configured) throw new Error(`configure failed: ${this.logs.join('; ')}`);
  }

  _views() {
    this.buf = this.memory.buffer;
    this.u8 = new Uint8Array(this.buf);
    this.dv = new DataView(this.buf);
  }
  _mem() {
    if (this.buf !== this.memory.buffer) this._views();
  }

  /** Copies bytes into a fresh module allocation and writes (ptr, size) out. */
  _out(bytes, ptrPtr, sizePtr) {
    const p = this.malloc(bytes.length || 1) >>> 0;
    this._mem();
    this.u8.set(bytes, p);
    this.dv.setUint32(ptrPtr >>> 0, p, true);
    this.dv.setUint32(sizePtr >>> 0, bytes.length, true);
    return OK;
  }

  _find(map, kp, kl) {
    const u8 = this.u8;
    for (let i = 0; i < map.length; i++) {
      const k = map[i][0];
      if (k.length !== kl) continue;
      let j = 0;
      while (j < kl && k[j] === u8[kp + j]) j++;
      if (j === kl) return i;
    }
    return -1;
  }

  _imports(module) {
    const vm = this;
    const host = this.host;
    const env = {
      proxy_get_current_time_nanoseconds(p) {
        vm._mem();
        vm.dv.setBigUint64(p >>> 0, BigInt(host.epochNs + host.now), true);
        return OK;
      },
      proxy_log(level, p, n) {
        vm._mem();
        vm.logs.push(dec.decode(vm.u8.subarray(p >>> 0, (p >>> 0) + (n >>> 0))));
        if (vm.logs.length > 64) vm.logs.shift();
        return OK;
      },
      proxy_get_property() { return NOT_FOUND; },
      proxy_get_buffer_bytes(type, start, len, ptrPtr, sizePtr) {
        if (type !== 7) return NOT_FOUND; // plugin configuration only
        return vm._out(vm.configuration.subarray(start, start + len), ptrPtr, sizePtr);
      },
      proxy_set_tick_period_milliseconds(ms) {
        vm.tickMs = ms >>> 0;
        vm.nextTickNs = host.now + vm.tickMs * 1e6;
        return OK;
      },
      proxy_get_header_map_value(type, kp, kl, ptrPtr, sizePtr) {
        const map = vm.streamMaps[type >>> 0]; // undefined past the table: no such map
        if (!map) return BAD_ARGUMENT;
        vm._mem();
        const i = vm._find(map, kp >>> 0, kl >>> 0);
        if (i < 0) return NOT_FOUND;
        return vm._out(map[i][1], ptrPtr, sizePtr);
      },
      proxy_replace_header_map_value(type, kp, kl, vp, vl) {
        const map = vm.streamMaps[type >>> 0]; // undefined past the table: no such map
        if (!map) return BAD_ARGUMENT;
        vm._mem();
        kp >>>= 0; kl >>>= 0; vp >>>= 0; vl >>>= 0;
        const v = vm.u8.slice(vp, vp + vl);
        const i = vm._find(map, kp, kl);
        if (i >= 0) map[i] = [map[i][0], v];
        else map.push([vm.u8.slice(kp, kp + kl), v]);
        return OK;
      },
      proxy_get_shared_data(kp, kl, ptrPtr, sizePtr, casPtr) {
        vm._mem();
        const key = dec.decode(vm.u8.subarray(kp >>> 0, (kp >>> 0) + (kl >>> 0)));
        const e = host.sharedData.get(key);
        if (!e) return NOT_FOUND;
        vm._out(e.value, ptrPtr, sizePtr);
        vm.dv.setUint32(casPtr >>> 0, e.cas, true);
        return OK;
      },
      proxy_resolve_shared_queue(vp, vl, np, nl, tokenPtr) {
        vm._mem();
        vm.dv.setUint32(tokenPtr >>> 0, 1, true);
        return OK;
      },
      proxy_enqueue_shared_queue(token, p, n) {
        host.enqueuedBytes += n >>> 0;
        return OK;
      },
    };
    const wasi = {
      random_get(p, n) {
        vm._mem();
        for (let i = 0; i < (n >>> 0); i++) vm.u8[(p >>> 0) + i] = host.rand() & 255;
        return 0;
      },
    };
    // Anything else the module imports fails cleanly (the benchmark's modules
    // do not call it on the measured path).
    const out = { env: {}, wasi_snapshot_preview1: {} };
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== 'function') continue;
      const table = imp.module === 'env' ? env : wasi;
      out[imp.module] = out[imp.module] || {};
      out[imp.module][imp.name] = table[imp.name] || (() => NOT_FOUND);
    }
    return out;
  }

  /** One request, Envoy's callback order (on_log before on_done). */
  stream(req, res, startNs, endNs) {
    const x = this.x;
    const id = this.nextId++;
    const host = this.host;
    host.now = startNs;
    this.streamMaps[0] = req.slice(); // writable copy: the filter may add a header
    this.streamMaps[2] = null;
    x.proxy_on_context_create(id, this.root);
    x.proxy_on_request_headers(id, req.length, 1);
    host.now = endNs;
    this.streamMaps[2] = res;
    x.proxy_on_response_headers(id, res.length, 1);
    x.proxy_on_log(id);
    x.proxy_on_done(id);
    x.proxy_on_delete(id);
    const routed = this.streamMaps[0];
    this.streamMaps[0] = this.streamMaps[2] = null;
    return routed;
  }

  /** A tick now, whether due or not (the next one comes a period later). */
  tick() {
    if (!this.tickMs) return;
    this.nextTickNs = this.host.now + this.tickMs * 1e6;
    this.x.proxy_on_tick(this.root);
  }

  tickIfDue() {
    if (this.tickMs && this.host.now >= this.nextTickNs) {
      this.nextTickNs = this.host.now + this.tickMs * 1e6;
      this.x.proxy_on_tick(this.root);
    }
  }

  memoryBytes() {
    return this.memory.buffer.byteLength;
  }
}

class LeanHost {
  constructor() {
    this.now = 0;
    this.epochNs = 1.7e18;
    this.sharedData = new Map(); // key -> {value: Uint8Array, cas}
    this.enqueuedBytes = 0;
    this._seed = 0x2545f491;
  }
  rand() {
    // xorshift32: deterministic, cheap
    let s = this._seed;
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    this._seed = s >>> 0;
    return this._seed;
  }
  static loadModule(file) {
    return new WebAssembly.Module(fs.readFileSync(file));
  }
  /** n VMs of one module, each with one plugin of the given configuration. */
  addVms(module, configuration, n) {
    const vms = [];
    for (let i = 0; i < n; i++) vms.push(new LeanVm(this, module, configuration));
    return vms;
  }
}

module.exports = { LeanHost, LeanVm, encodeHeaders };
