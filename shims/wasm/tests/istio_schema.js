// What Istio 1.21 and later serve, for the tests that check Kubernetes
// objects (deploy.test.js, and the controller's exports in
// shims/controller/tests/routing.test.mjs), and a YAML reader.
'use strict';
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');

const PYTHON = process.env.SLATE_PYTHON3 || 'python3';

/** Every document of a YAML file (PyYAML safe_load_all), nulls dropped. */
function yamlDocs(file) {
  const out = execFileSync(PYTHON, ['-c',
    'import json,sys,yaml\nprint(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]))',
    file], { encoding: 'utf8' });
  return JSON.parse(out);
}

// API groups, versions and kinds: Kubernetes' core ones the deployment uses,
// and Istio's as its CRDs serve them in every release from 1.21 on (1.21 has
// no networking.istio.io/v1 and no security.istio.io/v1 PeerAuthentication;
// those arrived in 1.22), with the spec fields of each.
const SERVED = {
  'v1/Namespace': null, 'v1/ServiceAccount': null, 'v1/PersistentVolumeClaim': null,
  'v1/Service': null, 'v1/ConfigMap': null, 'apps/v1/Deployment': null,
  'extensions.istio.io/v1alpha1/WasmPlugin': ['failStrategy', 'imagePullPolicy', 'imagePullSecret', 'match',
    'phase', 'pluginConfig', 'pluginName', 'priority', 'selector', 'sha256', 'targetRef', 'type', 'url',
    'verificationKey', 'vmConfig'],
  'networking.istio.io/v1beta1/DestinationRule': ['exportTo', 'host', 'subsets', 'trafficPolicy', 'workloadSelector'],
  'networking.istio.io/v1beta1/VirtualService': ['exportTo', 'gateways', 'hosts', 'http', 'tcp', 'tls'],
  'security.istio.io/v1beta1/PeerAuthentication': ['mtls', 'portLevelMtls', 'selector'],
  'security.istio.io/v1beta1/AuthorizationPolicy': ['action', 'provider', 'rules', 'selector', 'targetRef'],
};
const OUTLIER_FIELDS = ['baseEjectionTime', 'consecutive5xxErrors', 'consecutiveErrors', 'consecutiveGatewayErrors',
  'consecutiveLocalOriginFailures', 'interval', 'maxEjectionPercent', 'minHealthPercent',
  'splitExternalLocalOriginErrors'];
const HTTP_ROUTE_FIELDS = ['corsPolicy', 'delegate', 'directResponse', 'fault', 'headers', 'match', 'mirror',
  'mirrorPercentage', 'mirrors', 'name', 'redirect', 'retries', 'rewrite', 'route', 'timeout'];
const MATCH_FIELDS = ['authority', 'gateways', 'headers', 'ignoreUriCase', 'method', 'name', 'port', 'queryParams',
  'scheme', 'sourceLabels', 'sourceNamespace', 'statPrefix', 'uri', 'withoutHeaders'];

/** Fails unless Istio 1.21+ serves the object's kind and version with its fields. */
function checkServed(o, where) {
  const key = `${o.apiVersion}/${o.kind}`;
  assert.ok(key in SERVED, `${where}: ${key} is not served by Istio 1.21+ (or not expected here)`);
  assert.ok(o.metadata && o.metadata.name, `${where}: no metadata.name`);
  const fields = SERVED[key];
  if (fields) {
    for (const f of Object.keys(o.spec || {})) assert.ok(fields.includes(f), `${where}: ${o.kind} has no field spec.${f}`);
  }
  if (o.kind === 'DestinationRule') {
    const policies = [o.spec.trafficPolicy, ...(o.spec.subsets || []).map((s) => s.trafficPolicy)];
    for (const p of policies.filter(Boolean)) {
      for (const f of Object.keys(p.outlierDetection || {})) assert.ok(OUTLIER_FIELDS.includes(f), `${where}: outlierDetection.${f}`);
    }
  }
  if (o.kind === 'VirtualService') {
    for (const r of o.spec.http || []) {
      for (const f of Object.keys(r)) assert.ok(HTTP_ROUTE_FIELDS.includes(f), `${where}: http route field ${f}`);
      for (const m of r.match || []) {
        for (const f of Object.keys(m)) assert.ok(MATCH_FIELDS.includes(f), `${where}: match field ${f}`);
      }
      assert.ok(!(r.delegate && r.route), `${where}: a route with delegate has no route of its own`);
    }
  }
}

module.exports = { yamlDocs, checkServed, SERVED };
