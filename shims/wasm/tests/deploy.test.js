// The Istio deployment (deploy/istio) rendered as `kubectl apply -k` would
// and every object checked against what Istio 1.21 and later serve and what
// libslate's parts accept: API versions and fields from Istio's CRDs, no
// BOOTSTRAP patch, mesh-wide WasmPlugins whose configurations the real
// filter module accepts (loaded in the test host), the controller wiring,
// and subset labels equal to the controller exporter's.
//
// YAML is parsed by PyYAML (python3 -c, Debian's python3-yaml) so the test
// reads the files as Kubernetes would; the kustomization is rendered by the
// small renderer below, which refuses any kustomize feature it does not
// implement.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Host, FILTER, SIDECAR, LogLevel } = require('./harness.js');
const { yamlDocs, checkServed } = require('./istio_schema.js');

const REPO = path.join(__dirname, '..', '..', '..');
const BASE = path.join(REPO, 'deploy', 'istio');

/**
 * `kubectl apply -k` for the features this base uses: resources (files),
 * configMapGenerator with files and no name hash, images. Anything else
 * fails, so the rendering cannot silently differ from kustomize's.
 */
function render(dir) {
  const [k] = yamlDocs(path.join(dir, 'kustomization.yaml'));
  const known = ['apiVersion', 'kind', 'resources', 'configMapGenerator', 'generatorOptions', 'images'];
  for (const key of Object.keys(k)) assert.ok(known.includes(key), `kustomization key '${key}' not rendered here`);
  assert.equal(k.apiVersion, 'kustomize.config.k8s.io/v1beta1');
  assert.equal(k.kind, 'Kustomization');
  const objects = [];
  for (const r of k.resources) objects.push(...yamlDocs(path.join(dir, r)).map((o) => ({ o, file: r })));
  for (const g of k.configMapGenerator || []) {
    assert.deepEqual(k.generatorOptions, { disableNameSuffixHash: true }, 'generated names without hash');
    const data = {};
    for (const f of g.files) data[path.basename(f)] = fs.readFileSync(path.join(dir, f), 'utf8');
    objects.push({ o: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name, namespace: g.namespace }, data },
      file: 'kustomization.yaml' });
  }
  for (const img of k.images || []) {
    for (const { o } of objects) {
      for (const c of o.spec?.template?.spec?.containers || []) {
        const [name] = c.image.split(':');
        if (name === img.name) c.image = `${img.newName || img.name}:${img.newTag}`;
      }
    }
  }
  return objects;
}

/** Deep search for a value anywhere in an object. */
function contains(v, pred) {
  if (pred(v)) return true;
  if (v && typeof v === 'object') return Object.values(v).some((x) => contains(x, pred));
  return false;
}

const objects = render(BASE);
const byKind = (kind) => objects.filter(({ o }) => o.kind === kind).map(({ o }) => o);

test('every rendered object is of a kind and version Istio 1.21+ serves, with known fields', () => {
  assert.ok(objects.length >= 10, `rendered ${objects.length} objects`);
  for (const { o, file } of objects) checkServed(o, `${file} ${o.kind}/${o.metadata?.name}`);
});

test('no EnvoyFilter and no BOOTSTRAP patch anywhere in the deployment', () => {
  const files = fs.readdirSync(BASE, { recursive: true }).filter((f) => /\.ya?ml$/.test(f));
  for (const f of files) {
    for (const o of yamlDocs(path.join(BASE, f))) {
      assert.notEqual(o.kind, 'EnvoyFilter', `${f}: EnvoyFilter`);
      assert.ok(!contains(o, (v) => v === 'BOOTSTRAP'), `${f}: a BOOTSTRAP patch (Istio 1.21+ ignores them)`);
    }
  }
});

test('one mesh-wide pair of WasmPlugins in the root namespace, with no per-service key', () => {
  const wp = byKind('WasmPlugin');
  assert.equal(wp.length, 2);
  const modes = wp.map((p) => p.spec.match.map((m) => m.mode).join()).sort();
  assert.deepEqual(modes, ['CLIENT', 'SERVER']);
  for (const p of wp) {
    assert.equal(p.metadata.namespace, 'istio-system', 'root namespace: applies to every workload');
    assert.equal(p.spec.selector, undefined, 'no selector');
    assert.equal(p.spec.targetRef, undefined, 'no targetRef');
    assert.equal(p.spec.failStrategy, 'FAIL_OPEN');
    assert.equal(p.spec.type, 'HTTP');
    assert.match(p.spec.url, /^oci:\/\/[^/]+\/slate\/slate-sidecar:[0-9.]+$/);
    for (const k of ['service', 'region', 'pod']) assert.equal(p.spec.pluginConfig[k], undefined, `no '${k}' key`);
  }
});

test('the WasmPlugins reach the controller Service the base deploys', () => {
  const [svc] = byKind('Service');
  const port = svc.spec.ports.find((p) => p.name === 'http').port;
  const fqdn = `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`;
  for (const p of byKind('WasmPlugin')) {
    assert.equal(p.spec.pluginConfig.controller_cluster, `outbound|${port}||${fqdn}`, "Istio's cluster name");
    assert.equal(p.spec.pluginConfig.controller_authority, `${fqdn}:${port}`);
  }
  const ap = byKind('AuthorizationPolicy')[0];
  const allowed = ap.spec.rules.flatMap((r) => r.to.flatMap((t) => t.operation.paths || []));
  assert.ok(allowed.includes('/v1/report'), 'reports are allowed through the AuthorizationPolicy');
});

test('the controller Deployment reads the generated ConfigMap and the token Secret', () => {
  const [dep] = byKind('Deployment');
  const c = dep.spec.template.spec.containers[0];
  assert.match(c.image, /^[^:]+\/slate-controller:[0-9.]+$/, 'image set by the kustomization');
  const arg = (name) => (c.args.find((a) => a.startsWith(`--${name}=`)) || '').split('=')[1];
  const mountOf = (file) => c.volumeMounts.find((m) => file.startsWith(m.mountPath + '/'));
  const volume = (name) => dep.spec.template.spec.volumes.find((v) => v.name === name);
  const conf = mountOf(arg('config'));
  const cm = byKind('ConfigMap').find((m) => m.metadata.name === volume(conf.name).configMap.name);
  assert.ok(cm && cm.metadata.namespace === dep.metadata.namespace, 'ConfigMap in the controller namespace');
  assert.ok(path.basename(arg('config')) in cm.data, 'controller.conf in the ConfigMap');
  assert.ok(volume(mountOf(arg('auth-token-file')).name).secret.secretName, 'token from a Secret');
  // The ConfigMap is the very file `make demo` runs the controller with.
  assert.equal(cm.data['controller.conf'], fs.readFileSync(path.join(BASE, 'controller.conf'), 'utf8'));
});

// The label the exporter's subsets select (its `region-label` default) is the
// one Istio gives every endpoint from its node's locality, and the one the
// examples and docs use.
test('subset labels are the exporter\'s: topology.kubernetes.io/region', () => {
  const bin = process.env.SLATE_CONTROLLER_BIN;
  assert.ok(bin, 'SLATE_CONTROLLER_BIN is set by CTest');
  const help = execFileSync(bin, ['--help'], { encoding: 'utf8' });
  const m = /--region-label\b.*\(default ([^)\s]+)\)/.exec(help);
  assert.ok(m, 'the controller documents its region-label default');
  assert.equal(m[1], 'topology.kubernetes.io/region');
  const ex = path.join(BASE, 'examples');
  for (const f of fs.readdirSync(ex)) {
    for (const o of yamlDocs(path.join(ex, f))) {
      checkServed(o, `examples/${f}`);
      for (const s of o.kind === 'DestinationRule' ? o.spec.subsets : []) {
        for (const label of Object.keys(s.labels)) {
          assert.ok(!label.startsWith('topology.') || label === m[1], `examples/${f}: subset label ${label}`);
        }
      }
      if (o.kind === 'DestinationRule') assert.ok(o.spec.trafficPolicy.outlierDetection, 'outlier detection kept');
      if (o.kind === 'VirtualService') {
        const host = o.spec.hosts[0].split('.')[0];
        const d = o.spec.http.filter((r) => r.delegate);
        assert.equal(d.length, 1, 'one delegate route');
        assert.equal(d[0].delegate.name, `${host}.slate`, "the exporter's delegate name");
        assert.equal(o.spec.http.indexOf(d[0]), 0, 'the delegate route first');
      }
    }
  }
});

function configure(configuration) {
  const host = new Host();
  const vm = host.addVm({ module: SIDECAR, rootId: 'r', configuration });
  return { ok: vm.root().configured, errors: vm.logs.filter((l) => l.level >= LogLevel.Error).map((l) => l.message) };
}

test('the real sidecar module accepts both WasmPlugins\' configurations', () => {
  for (const p of byKind('WasmPlugin')) {
    // Istio hands pluginConfig to the module as JSON (protojson of the Struct).
    // This module still needs the service and region keys that the proxy's
    // node metadata will provide (docs/data-plane.md, "Zero configuration").
    const cfg = Object.assign({ service: 'cart', region: 'us-east-1' }, p.spec.pluginConfig);
    const r = configure(JSON.stringify(cfg));
    assert.equal(r.ok, true, `${p.metadata.name}: ${JSON.stringify(r.errors)}`);
  }
});

// Plain Envoy: deploy/envoy/envoy.yaml, every wasm configuration accepted by
// its module, one vm_id everywhere, the reporter's cluster defined, and every
// region the outbound route matches on backed by a cluster.
test('the static Envoy bootstrap wires both modules consistently', () => {
  const { REPORTER } = require('./harness.js');
  const [boot] = yamlDocs(path.join(REPO, 'deploy', 'envoy', 'envoy.yaml'));
  const clusters = boot.static_resources.clusters.map((c) => c.name);
  const wasm = [];
  const ext = boot.bootstrap_extensions.find((e) => e.name === 'envoy.bootstrap.wasm');
  assert.equal(ext.typed_config.singleton, true, 'the reporter is a singleton service');
  wasm.push({ module: REPORTER, config: ext.typed_config.config });
  for (const l of boot.static_resources.listeners) {
    const hcm = l.filter_chains[0].filters[0].typed_config;
    const names = hcm.http_filters.map((f) => f.name);
    assert.deepEqual(names, ['envoy.filters.http.wasm', 'envoy.filters.http.router'], `${l.name}: filter before router`);
    wasm.push({ module: FILTER, config: hcm.http_filters[0].typed_config.config, listener: l.name });
    for (const vh of hcm.route_config.virtual_hosts) {
      for (const r of vh.routes) {
        assert.ok(clusters.includes(r.route.cluster), `${l.name}: route to ${r.route.cluster}`);
        for (const h of r.match.headers || []) assert.equal(h.name, 'x-slate-routeto');
      }
    }
  }
  const vmIds = new Set(wasm.map((w) => w.config.vm_config.vm_id));
  assert.equal(vmIds.size, 1, 'one vm_id');
  for (const w of wasm) {
    const json = w.config.configuration.value;
    const cfg = JSON.parse(json);
    if (w.module === FILTER) {
      assert.equal(cfg.vm_id, w.config.vm_config.vm_id, 'the filter names the queue\'s vm_id');
      assert.equal(cfg.direction, w.listener);
    } else {
      assert.ok(clusters.includes(cfg.controller_cluster), 'controller_cluster is a cluster');
    }
    const host = new Host();
    const vm = host.addVm({ module: w.module, rootId: w.config.root_id, configuration: json });
    assert.equal(vm.root().configured, true, `${w.config.name}: ${JSON.stringify(vm.logs.map((l) => l.message))}`);
  }
});

// Envoy re-selects the route after the filter writes the routing header only
// for ABI 0.2.1 modules (docs/data-plane.md, "Route cache"): a change of the
// marker must come with an explicit clear_route_cache.
test('the filter declares proxy-wasm ABI 0.2.1, whose header writes clear Envoy\'s route cache', () => {
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(fs.readFileSync(FILTER)))
    .map((e) => e.name).filter((n) => n.startsWith('proxy_abi_version_'));
  assert.deepEqual(exports, ['proxy_abi_version_0_2_1']);
});

test('without rules the outbound plugin writes no header (the mesh\'s own routing and failover apply)', () => {
  const out = byKind('WasmPlugin').find((p) => p.spec.match[0].mode === 'CLIENT');
  assert.equal(out.spec.pluginConfig.route_local_when_no_rules, false);
});

// The Grafana dashboard queries only metrics the controller exports (read
// from a live controller's /metrics).
test('the dashboard\'s controller queries name metrics the controller exports', async () => {
  const dash = JSON.parse(fs.readFileSync(path.join(REPO, 'deploy', 'grafana', 'slate.json'), 'utf8'));
  const exprs = dash.panels.flatMap((p) => (p.targets || []).map((t) => t.expr));
  const used = new Set(exprs.flatMap((e) => e.match(/slate_controller_[a-z_0-9]+/g) || [])
    .map((n) => n.replace(/_bucket$/, '')));
  assert.ok(used.has('slate_controller_published_weight'));
  const { spawn } = require('node:child_process');
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'slate-dash-'));
  const proc = spawn(process.env.SLATE_CONTROLLER_BIN, ['--port', '0', '--port-file', path.join(dir, 'p'),
    '--admin-port-file', path.join(dir, 'a'), '--log-level', 'error'], { stdio: 'ignore' });
  try {
    const file = path.join(dir, 'a');
    for (let i = 0; i < 100 && !(fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim()); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const port = Number(fs.readFileSync(file, 'utf8'));
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    for (const n of used) assert.ok(exported.has(n), `the dashboard queries ${n}, which /metrics does not export`);
  } finally {
    proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
