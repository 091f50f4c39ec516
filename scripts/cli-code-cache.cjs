// Makes the V8 code cache of dist/cli/kmap-review-bundle.cjs (see scripts/cli-loader.cjs): compiles the
// bundle through the loader, runs one review with it (so the cache holds the functions a review compiles,
// not just the top level) and writes the cache. Run by scripts/build-cli.mjs, never at run time.
//
//   node scripts/cli-code-cache.cjs dist/cli/kmap-review.cjs check --tree examples/tree examples/x.patch
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [loader, ...args] = process.argv.slice(2);
const { compile, run } = require(path.resolve(loader));
const { script, cacheFile } = compile(false);
if (!cacheFile) throw new Error(`${loader}: the bundle's first line does not name its hash`);
process.argv = [process.argv[0], path.resolve(loader), ...args];
// V8 records its flags in the cache and rejects the cache under any others: the review must leave them as
// the loader sets them when it loads the cache (src/cli/v8-flags.ts reads this).
globalThis.__kmapCodeCacheTraining = true;
process.once('beforeExit', () => {
  // The review's own status: 0 or 1 (findings) is a good run, anything else is not a cache worth keeping.
  if (process.exitCode !== 0 && process.exitCode !== 1) {
    process.stderr.write(`code cache: the training review exited ${process.exitCode}\n`);
    process.exitCode = 2;
    return;
  }
  fs.writeFileSync(cacheFile, script.createCachedData());
  process.exitCode = 0;
});
run(script);
