#!/usr/bin/env node
// The `kmap-review` command (package.json "bin"): scripts/build-cli.mjs copies this file to
// dist/cli/kmap-review.cjs, next to kmap-review-bundle.cjs (src/cli/main.ts and everything it imports, one
// CommonJS file) and, when the build could make one, a V8 code cache for that bundle and this Node.
//
// The cache holds the bytecode of the functions a review runs, so a fresh process does not compile them
// again (bench/README.md). It is only used when it was made for exactly this bundle (its content hash is
// in the bundle's first line and the cache's name) and this Node version and architecture; V8 checks its
// own version and flags too and rejects anything else. A missing or rejected cache just costs the
// compilation. Nothing is written at run time.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');
const { setFlagsFromString } = require('node:v8');

const bundle = path.join(__dirname, 'kmap-review-bundle.cjs');

/** The cache file for a bundle whose first line names its content hash, or null. */
function cacheFileFor(source) {
  const m = /^\/\/ kmap-review bundle ([0-9a-f]{16})\n/.exec(source);
  return m ? path.join(__dirname, `kmap-review-bundle.${m[1]}.${process.version}-${process.arch}.v8cache`) : null;
}

/** Compiles the bundle (with the cache when there is a usable one). */
function compile(useCache) {
  // main.ts sets this too; here it comes before compiling, as V8 flags are part of the code cache's key.
  setFlagsFromString('--liftoff-only');
  const source = fs.readFileSync(bundle, 'utf8');
  const cacheFile = cacheFileFor(source);
  let cachedData;
  if (useCache && cacheFile) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      // no cache for this bundle and Node: compile from source
    }
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n});`;
  const script = new vm.Script(wrapped, { filename: bundle, cachedData });
  return { script, cacheFile };
}

/** Runs the compiled bundle as the CommonJS module it is. */
function run(script) {
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  const req = Module.createRequire(bundle);
  script.runInThisContext().call(mod.exports, mod.exports, req, mod, bundle, __dirname);
}

if (require.main === module) {
  // The bundle's entry (src/cli/main.ts) sets the command's other V8 flags first thing (src/cli/v8-flags.ts):
  // after this compile, as flags are part of the code cache's key.
  run(compile(true).script);
} else module.exports = { compile, run };
