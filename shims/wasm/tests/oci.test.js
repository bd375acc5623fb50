// scripts/build-oci.sh: the images come out as OCI image layouts a registry
// client can push and Istio's WasmPlugin can pull, read back here by an
// independent reader (JSON, sha256, gzip and a tar parser in this file):
// every blob matches its digest and size, the filter image is the "compat"
// layout Istio's agent extracts (one tar+gzip layer holding plugin.wasm),
// that plugin.wasm is the module and starts in the test host, the controller
// image's rootfs runs the controller with only its own libraries, and two
// builds are byte-identical.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const zlib = require('node:zlib');
const { execFileSync } = require('node:child_process');
const { Host, FILTER, SIDECAR } = require('./harness.js');

const REPO = path.join(__dirname, '..', '..', '..');
const BUILD = path.resolve(path.dirname(FILTER), '..', '..');
const CONTROLLER = process.env.SLATE_CONTROLLER_BIN;

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

/** Files of a tar archive (ustar + pax headers): [{name, type, mode, data}]. */
function untar(buf) {
  const out = [];
  let pax = {};
  for (let off = 0; off + 512 <= buf.length;) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a, n) => h.subarray(a, a + n).toString('latin1').replace(/\0.*$/s, '');
    const num = (a, n) => parseInt(str(a, n).trim() || '0', 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    assert.equal(sum, num(148, 8), `tar header checksum at ${off}`);
    const size = num(124, 12);
    const type = str(156, 1) || '0';
    const data = buf.subarray(off + 512, off + 512 + size);
    const prefix = str(345, 155);
    let name = (prefix ? prefix + '/' : '') + str(0, 100);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      for (const rec of data.toString('utf8').split('\n').filter(Boolean)) {
        const kv = rec.slice(rec.indexOf(' ') + 1);
        pax[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
      }
      continue;
    }
    if (pax.path) name = pax.path;
    pax = {};
    out.push({ name, type, mode: num(100, 8), uid: num(108, 8), mtime: num(136, 12), data, link: str(157, 100) });
  }
  return out;
}

/** Reads a layout: its one image, every blob checked against its digest. */
function readLayout(dir) {
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'oci-layout'))), { imageLayoutVersion: '1.0.0' });
  const blob = (desc) => {
    const [alg, hex] = desc.digest.split(':');
    assert.equal(alg, 'sha256');
    const b = fs.readFileSync(path.join(dir, 'blobs', 'sha256', hex));
    assert.equal(sha256(b), hex, `blob ${hex} content`);
    assert.equal(b.length, desc.size, `blob ${hex} size`);
    return b;
  };
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json')));
  assert.equal(index.schemaVersion, 2);
  assert.equal(index.manifests.length, 1);
  const md = index.manifests[0];
  assert.equal(md.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  const manifest = JSON.parse(blob(md));
  assert.equal(manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
  const config = JSON.parse(blob(manifest.config));
  assert.equal(manifest.layers.length, 1, 'one layer');
  assert.equal(manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  const tar = zlib.gunzipSync(blob(manifest.layers[0]));
  assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: [`sha256:${sha256(tar)}`] }, 'diff_id of the layer');
  return { tag: md.annotations['org.opencontainers.image.ref.name'], digest: md.digest, config, files: untar(tar) };
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'slate-oci-'));
test.after(() => fs.rmSync(work, { recursive: true, force: true }));

function build(out) {
  execFileSync('sh', [path.join(REPO, 'scripts', 'build-oci.sh'), BUILD, out], { stdio: ['ignore', 'pipe', 'inherit'] });
}

test('the module images are the layout Istio\'s WasmPlugin pulls, holding the modules', () => {
  build(path.join(work, 'a'));
  const side = readLayout(path.join(work, 'a', 'slate-sidecar'));
  const sideFiles = side.files.filter((f) => f.type === '0');
  assert.deepEqual(sideFiles.map((f) => f.name), ['plugin.wasm'], 'the compat variant: plugin.wasm');
  assert.ok(sideFiles[0].data.equals(fs.readFileSync(SIDECAR)), 'plugin.wasm is slate_sidecar.wasm');
  const img = readLayout(path.join(work, 'a', 'slate-filter'));
  assert.match(img.tag, /^[0-9]+\.[0-9]+\.[0-9]+$/);
  const regular = img.files.filter((f) => f.type === '0');
  assert.deepEqual(regular.map((f) => f.name), ['plugin.wasm'], 'the compat variant: plugin.wasm');
  assert.ok(regular[0].data.equals(fs.readFileSync(FILTER)), 'plugin.wasm is slate_filter.wasm');
  assert.equal(regular[0].uid, 0);
  assert.equal(regular[0].mtime, 0);
  // The extracted bytes are a working module.
  const extracted = path.join(work, 'plugin.wasm');
  fs.writeFileSync(extracted, regular[0].data);
  const vm = new Host().addVm({ module: extracted, rootId: 'r',
    configuration: JSON.stringify({ service: 'cart', region: 'us-east-1' }) });
  assert.equal(vm.root().configured, true);
});

test('the controller image runs the controller from its own root, as a non-root user', () => {
  const img = readLayout(path.join(work, 'a', 'slate-controller'));
  assert.equal(img.config.config.User, '65532:65532');
  assert.deepEqual(img.config.config.Entrypoint, ['/usr/local/bin/slate-controller']);
  assert.ok(img.config.config.ExposedPorts['8000/tcp'] && img.config.config.ExposedPorts['8001/tcp']);
  const root = path.join(work, 'rootfs');
  for (const f of img.files) {
    const p = path.join(root, f.name);
    assert.ok(p.startsWith(root + path.sep), `entry ${f.name} stays inside the root`);
    if (f.type === '5') fs.mkdirSync(p, { recursive: true });
    else if (f.type === '0') {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, f.data, { mode: f.mode });
    } else assert.fail(`unexpected entry type ${f.type} for ${f.name}`);
  }
  const bin = path.join(root, 'usr', 'local', 'bin', 'slate-controller');
  assert.ok(fs.readFileSync(bin).equals(fs.readFileSync(CONTROLLER)), 'the built controller');
  assert.match(fs.readFileSync(path.join(root, 'etc', 'passwd'), 'utf8'), /^slate:x:65532:65532:/m);
  // Run it with the image's loader and only the image's library directories
  // (no ld.so.cache): every library it needs is in the image.
  const loader = img.files.map((f) => f.name).find((n) => /(^|\/)ld-linux[^/]*\.so\.[0-9]+$/.test(n));
  assert.ok(loader, 'the dynamic loader is in the image');
  const libDirs = [...new Set(img.files.filter((f) => /\.so(\.[0-9]+)*$/.test(f.name))
    .map((f) => path.join(root, path.dirname(f.name))))].join(':');
  const v = execFileSync(path.join(root, loader), ['--inhibit-cache', '--library-path', libDirs, bin, '--version'],
    { encoding: 'utf8' });
  assert.match(v, /^slate-controller [0-9.]+/);
});

test('two builds are byte-identical (reproducible digests)', () => {
  build(path.join(work, 'b'));
  for (const name of ['slate-sidecar', 'slate-filter', 'slate-controller']) {
    const a = JSON.parse(fs.readFileSync(path.join(work, 'a', name, 'index.json')));
    const b = JSON.parse(fs.readFileSync(path.join(work, 'b', name, 'index.json')));
    assert.equal(a.manifests[0].digest, b.manifests[0].digest, name);
  }
});
