// Shared helpers for the host's tests: locate (or build) the test plugins.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const SRC = path.join(__dirname, '..', 'testdata');
let builtDir = null;

/** Directory holding <name>.wasm: $SLATE_HOST_TESTDATA, or a fresh build with clang. */
function testdataDir() {
  if (process.env.SLATE_HOST_TESTDATA) return process.env.SLATE_HOST_TESTDATA;
  if (builtDir) return builtDir;
  builtDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slate-host-testdata-'));
  for (const f of fs.readdirSync(SRC).filter((x) => x.endsWith('.c'))) {
    execFileSync('clang', ['--target=wasm32-wasi', '--sysroot=/usr', '-mexec-model=reactor',
      '-Wl,--no-entry', '-O2', '-o', path.join(builtDir, f.replace(/\.c$/, '.wasm')),
      path.join(SRC, f)]);
  }
  return builtDir;
}

function plugin(name) {
  return path.join(testdataDir(), `${name}.wasm`);
}

/** Log lines of a VM (or of the host) whose message starts with prefix. */
function lines(src, prefix) {
  return src.logs.filter((l) => l.message.startsWith(prefix)).map((l) => l.message);
}

module.exports = { plugin, lines };
