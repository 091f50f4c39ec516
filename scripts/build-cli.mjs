#!/usr/bin/env node
// Builds the `kmap-review` command (package.json "bin") after tsc, into dist/cli/:
//
//   kmap-review.cjs            the command: scripts/cli-loader.cjs
//   kmap-review-bundle.cjs     src/cli/main.ts and all it imports (and web-tree-sitter) in one CommonJS file
//   kmap-review-scan-worker.cjs  the same for src/analysis/scan/scan-worker.ts: the thread `scan` analyses in
//                              (a worker loading one file starts ~30 ms sooner than one loading ~50 ES modules)
//   tree-sitter.wasm           web-tree-sitter's runtime, which the bundled web-tree-sitter looks for next to itself
//   kmap-review-bundle.<hash>.<node>-<arch>.v8cache   V8 code cache for that bundle and this Node, made by
//                              running the example review (skipped, with a note, without examples/)
//
// Why: one process per patch is benchmarked against checkpatch.pl (bench/README.md). Loading one file
// instead of ~60 ES modules, not loading node:crypto / node:child_process unless used, and V8's code
// cache save most of kmap-review's start-up. tsc's dist/cli/main.js runs the same code unbundled, and the
// App (dist/app, from tsc) is not bundled at all.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cli');
const bundle = join(out, 'kmap-review-bundle.cjs');
const loader = join(out, 'kmap-review.cjs');
const require = createRequire(join(root, 'package.json'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// Dependencies stay in node_modules, except web-tree-sitter: bundled, its ~160 kB of JS goes into the code cache.
const BUNDLED = ['web-tree-sitter'];
const external = Object.keys(pkg.dependencies).filter((d) => !BUNDLED.includes(d));

// Built-in modules the CLI needs only sometimes (fingerprints of findings, --git, scan), each costing 2-5 ms
// to load (they pull in Node's streams): esbuild's `var import_x = require("node:x")` becomes a proxy
// that requires the module on first property access. Named imports compile to property accesses
// (`(0, import_x.fn)(...)`), so callers get the real functions, classes and constants. Any other form
// (a namespace import, say) is left as it is, i.e. loaded at start-up: correct, only not lazy.
const LAZY_BUILTINS = ['node:crypto', 'node:child_process', 'node:worker_threads'];
const lazyRequire = (code) =>
  code.replace(/^(\s*(?:var )?import_node_\w+) = require\("(node:[\w/]+)"\);$/gm, (line, lhs, id) =>
    LAZY_BUILTINS.includes(id) ? `${lhs} = __kmapLazyRequire(${JSON.stringify(id)});` : line);

// Each bundled module's import.meta.url is the URL of its twin in tsc's output (src/x/y.ts: dist/x/y.js),
// so what it locates relative to itself (package.json, workers, node_modules) is found as unbundled.
const importMetaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const twin = relative(join(root, 'src'), a.path).replace(/\\/g, '/').replace(/\.ts$/, '.js');
      return { contents: text.replaceAll('import.meta.url', `__kmapUrlOf(${JSON.stringify(twin)})`), loader: 'ts' };
    });
  },
};

// Bundled packages are taken in their CommonJS form (web-tree-sitter's ES module form declares its own
// `require`, which breaks once it is in a CommonJS file).
const commonJsForm = {
  name: 'commonjs-form',
  setup(b) {
    const filter = new RegExp(`^(${BUNDLED.join('|')})$`);
    b.onResolve({ filter }, (a) => ({ path: require.resolve(a.path) }));
  },
};

// The App and its dependencies must not end up in the CLI: fail the build if they do. The CLI shares the
// App's configuration format (config.ts) and its include/exclude selection (selection.ts), nothing else.
const FORBIDDEN = [/^src\/(handlers|app\/(?!(?:config|selection)\.ts$))/, /node_modules\/(probot|bullmq|@octokit)\//];

for (const f of readdirSync(out)) if (/^kmap-review|^tree-sitter\.wasm$/.test(f)) rmSync(join(out, f));

const scanWorker = join(out, 'kmap-review-scan-worker.cjs');
const BUILD_ID_PLACEHOLDER = '@@kmap-review build id@@';
const options = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external,
  plugins: [importMetaUrl, commonJsForm],
  // import() becomes require() (the loader's vm.Script has no dynamic import; yaml has a CommonJS build).
  supported: { 'dynamic-import': false },
  banner: {
    js: [
      '"use strict";',
      'var __kmapUrlOf = (p) => require("node:url").pathToFileURL(require("node:path").join(__dirname, "..", p)).href;',
      'var __kmapLazyRequire = (id) => { let m; const load = () => (m ??= require(id)); return new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load() }); };',
      // Where the bundled scan worker is (src/cli/scan.ts asks; unbundled runs have no such function).
      // The build's identity (src/cli/scan.ts keys its result cache on it): filled in below, once both bundles exist.
      `var __kmapBuildId = ${JSON.stringify(BUILD_ID_PLACEHOLDER)};`,
      `var __kmapBundledScanWorker = () => require("node:url").pathToFileURL(require("node:path").join(__dirname, ${JSON.stringify(relative(out, scanWorker))})).href;`,
    ].join('\n'),
  },
  // Any import.meta the plugin did not map would be empty in a CommonJS bundle.
  logOverride: { 'empty-import-meta': 'error' },
  metafile: true,
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
};
const result = await build({ ...options, entryPoints: ['src/cli/main.ts'], outfile: bundle });
const worker = await build({ ...options, entryPoints: ['src/analysis/scan/scan-worker.ts'], outfile: scanWorker });
for (const r of [result, worker]) {
  const bad = Object.keys(r.metafile.inputs).filter((i) => FORBIDDEN.some((re) => re.test(i)));
  if (bad.length) throw new Error(`build-cli: the CLI bundles must not contain App code: ${bad.join(', ')}`);
}
// The worker is loaded by Node itself (not the loader's vm.Script): no code cache, no hash line needed.
writeFileSync(scanWorker, lazyRequire(worker.outputFiles[0].text));

// The shebang would sit inside the CommonJS wrapper the loader compiles: drop it. The first line names
// the content's hash, which keys the code cache.
let code = lazyRequire(result.outputFiles[0].text.replace(/^#!.*\n/, ''));
// The loader compiles with vm.Script, which has no dynamic import(): none may be left.
if (/\bimport\(/.test(code.replace(/\/\/.*|\/\*[\s\S]*?\*\//g, ''))) throw new Error('build-cli: dynamic import() left in the CLI bundle');
// Both bundles' code (the worker analyses too): a rebuild that changes either gets another id.
const buildId = createHash('sha256').update(code).update(worker.outputFiles[0].text).digest('hex').slice(0, 16);
if (!code.includes(JSON.stringify(BUILD_ID_PLACEHOLDER))) throw new Error('build-cli: no build id placeholder in the CLI bundle');
code = code.replace(JSON.stringify(BUILD_ID_PLACEHOLDER), JSON.stringify(buildId));
const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
code = `// kmap-review bundle ${hash}\n${code}`;
writeFileSync(bundle, code);
copyFileSync(require.resolve('web-tree-sitter/tree-sitter.wasm'), join(out, 'tree-sitter.wasm'));
copyFileSync(join(root, 'scripts', 'cli-loader.cjs'), loader);
chmodSync(loader, 0o755);

// The code cache, from one review of the example.
const example = ['check', '--tree', join(root, 'examples', 'tree'), join(root, 'examples', 'kmap-demo-conversion.patch')];
if (!existsSync(example[2]) || !existsSync(example[3])) {
  console.log(`build-cli: no examples/, so no code cache (${relative(root, loader)} works without one, a little slower)`);
} else {
  execFileSync(process.execPath, [join(root, 'scripts', 'cli-code-cache.cjs'), loader, ...example], { stdio: ['ignore', 'ignore', 'inherit'] });
  // Check that V8 takes it: a rejected cache is silently ignored at run time, so say so here.
  const accepted = execFileSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(loader)}).compile(true).script.cachedDataRejected === false))`], { encoding: 'utf8' });
  // A rejected cache costs every review ~10 ms and nothing else shows it: fail the build.
  if (accepted !== 'true') throw new Error('build-cli: V8 rejected the code cache it was just given (were V8 flags set during the training review? see src/cli/v8-flags.ts)');
}
