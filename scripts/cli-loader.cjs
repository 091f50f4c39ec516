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

/**
 * V8 flags for every command, set when the bundle is compiled and before it runs. A kmap-review process is
 * over in seconds, and with V8's defaults its optimising compiler (TurboFan) compiled, and after
 * deoptimisations recompiled, hundreds of functions in each analysing thread: a third of a tree scan's CPU
 * time on Linux 6.1. A larger interrupt budget optimises only the functions that stay hot well after
 * start-up, and without inlining each compile is smaller; a scavenge on one thread leaves the other core to
 * the other analysing thread. A scan takes about 25% less wall time, a batch of 60 reviews about 10% less,
 * one review the same (bench/README.md). They are set after compiling because V8 flags are part of the code
 * cache's key (the cache is made without them); V8 reads these three when it uses them, so they take
 * effect from here on, in worker threads too.
 */
const V8_FLAGS = ['--interrupt-budget=800000', '--no-turbo-inlining', '--no-parallel-scavenge'];

if (require.main === module) {
  const { script } = compile(true);
  for (const flag of V8_FLAGS) setFlagsFromString(flag);
  run(script);
} else module.exports = { compile, run, V8_FLAGS };
