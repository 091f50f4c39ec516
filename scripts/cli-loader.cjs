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
 * Node options for `scan`, which can only be given when a process starts. The scan keeps one worker thread
 * per core busy; V8's background thread pool (four threads by default: optimising compiles, parallel GC)
 * then competes with them for the same cores, and on a two-core machine a whole-tree scan took about 20%
 * longer with it than with one background thread and a single-threaded GC (bench/README.md).
 *
 * The other two make V8's optimising compiler (TurboFan) do less: a scan is over in two seconds, and with
 * V8's defaults TurboFan compiled (and, after deoptimisations, recompiled) hundreds of functions in each
 * analysing thread: a third of the process's CPU time. A larger interrupt budget optimises only functions
 * that stay hot well after start-up; without inlining each compile is smaller. Together: about 17% less
 * wall time on Linux 6.1 (bench/README.md), with the analysis itself a few per cent slower once warm.
 */
const SCAN_NODE_OPTIONS = ['--v8-pool-size=1', '--single-threaded-gc', '--interrupt-budget=800000', '--no-turbo-inlining'];

/** True when this is a `scan` in a process started without those options: run it again with them. */
function wantsScanOptions(argv, execArgv) {
  return argv[2] === 'scan' && !execArgv.some((a) => a.startsWith('--v8-pool-size'));
}

/** Runs this command again in a Node started with `options`; exits as it does (code or signal). */
function rerunWith(options) {
  const { spawnSync } = require('node:child_process');
  const r = spawnSync(process.execPath, [...process.execArgv, ...options, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.signal) process.kill(process.pid, r.signal);
  process.exit(r.status ?? 1);
}

if (require.main === module) {
  if (wantsScanOptions(process.argv, process.execArgv)) rerunWith(SCAN_NODE_OPTIONS);
  else run(compile(true).script);
} else module.exports = { compile, run, wantsScanOptions, SCAN_NODE_OPTIONS };
