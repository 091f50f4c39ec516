#!/usr/bin/env node
// Benchmarks kmap-review against its peer, measured in the same run on the same inputs, and prints ratios.
// Needs the corpus (../shared/corpus/build.sh) and a build (npm run bench builds first).
//
//   batch:       kmap-review on all corpus patches in ONE process   vs  checkpatch.pl --no-tree once per patch
//   per-process: one kmap-review process on one patch (median)      vs  one checkpatch.pl run (median)
//   b4:          the same as b4 runs them: --format checkpatch, patch on stdin, cwd linux-6.1  vs  its checkpatch.pl
//   replay:      the in-process cost of the path-replay rules over every corpus function (all rules vs replay rules off)
//
// usage: node bench/run.mjs [--corpus DIR] [--samples N]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { corpus: { type: 'string', default: process.env.KMAP_CORPUS ?? '/tmp/kmap-corpus' }, samples: { type: 'string', default: '15' } } });
const corpus = values.corpus;
const samples = Number(values.samples);
const tree61 = join(corpus, 'trees', 'linux-6.1');
const checkpatch = join(corpus, 'trees', 'linux-6.12', 'scripts', 'checkpatch.pl');
const convDir = join(corpus, 'conversions');
if (!existsSync(checkpatch) || !existsSync(convDir)) {
  console.error(`bench: corpus missing at ${corpus}; run ../shared/corpus/build.sh first`);
  process.exit(2);
}
const patches = readdirSync(convDir).filter((d) => /^\d{4}-/.test(d)).sort().map((d) => join(convDir, d, 'conversion.patch'));
// The `kmap-review` command as installed (package.json "bin"): the bundle, with its V8 code cache when the
// build made one. dist/cli/main.js is the same code unbundled (tsc's output), timed too for reference.
const cli = join(root, 'dist', 'cli', 'kmap-review.cjs');
const cliUnbundled = join(root, 'dist', 'cli', 'main.js');

const time = (fn) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
};
const checkpatchArgs = (p) => [checkpatch, '--no-tree', '--quiet', '--no-summary', '--show-types', p];

console.log(`machine: ${process.arch}, node ${process.version}, ${patches.length} corpus patches\n`);

// Warm the file cache and the JIT-less paths once, so neither side pays first-touch costs. kmap-review exits 1
// for findings, and so does Node on a crash (a missing bundle would be timed as a very fast review): the
// output must be a report.
const warm = run('node', [cli, 'check', '--tree', tree61, '--format', 'json', patches[0]]);
try {
  if (!Array.isArray(JSON.parse(warm.stdout).reviews)) throw new Error('no reviews');
} catch (e) {
  throw new Error(`kmap-review did not produce a report (${e.message}): ${warm.stderr.slice(0, 2000)}`);
}
run('perl', checkpatchArgs(patches[0]));

// 1. Batch.
let rss = 0;
const kmBatch = time(() => {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'node', cli, 'check', '--tree', tree61, '--format', 'json', ...patches], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if ((r.status !== 0 && r.status !== 1) || JSON.parse(r.stdout).reviews?.length !== patches.length) {
    throw new Error(`kmap-review batch exited ${r.status} without a report per patch: ${r.stderr.slice(0, 2000)}`);
  }
  rss = Number(r.stderr.trim().split('\n').pop()) / 1024;
});
const cpBatch = time(() => {
  for (const p of patches) run('perl', checkpatchArgs(p));
});
console.log('batch (all patches)');
console.log(`  kmap-review, one process:        ${kmBatch.toFixed(0)} ms  (peak RSS ${rss.toFixed(0)} MB)`);
console.log(`  checkpatch.pl, one per patch:    ${cpBatch.toFixed(0)} ms`);
console.log(`  ratio: kmap-review is ${(cpBatch / kmBatch).toFixed(1)}x faster  (target >= 10x)\n`);

// 2. One patch per process.
const pick = patches.filter((_, i) => i % Math.max(1, Math.floor(patches.length / samples)) === 0).slice(0, samples);
// Interleaved, so that a burst of load on a shared machine hits both sides alike.
const km1 = [];
const cp1 = [];
const kmU = [];
for (const p of pick) {
  km1.push(time(() => run('node', [cli, 'check', '--tree', tree61, p])));
  cp1.push(time(() => run('perl', checkpatchArgs(p))));
  kmU.push(time(() => run('node', [cliUnbundled, 'check', '--tree', tree61, p])));
}
console.log(`one patch per process (median of ${pick.length})`);
console.log(`  kmap-review:   ${median(km1).toFixed(0)} ms`);
console.log(`  checkpatch.pl: ${median(cp1).toFixed(0)} ms`);
console.log(`  (kmap-review unbundled, node dist/cli/main.js: ${median(kmU).toFixed(0)} ms)`);
console.log(`  ratio: checkpatch / kmap-review = ${(median(cp1) / median(km1)).toFixed(2)}  (target >= 1)\n`);

// 2b. As b4 runs both (am-perpatch-check-cmd): cwd at the tree's top, the patch on stdin, one process per
// patch. kmap-review --format checkpatch vs the 6.1 tree's own scripts/checkpatch.pl in b4's default form.
const checkpatch61 = join(tree61, 'scripts', 'checkpatch.pl');
if (existsSync(checkpatch61)) {
  const runIn = (cmd, args, input) => {
    const r = spawnSync(cmd, args, { cwd: tree61, input, encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.error || r.status > 1) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
    return r;
  };
  const kmB4 = [];
  const cpB4 = [];
  for (const p of pick) {
    const input = readFileSync(p);
    kmB4.push(time(() => runIn('node', [cli, 'check', '--format', 'checkpatch', '--tree', '.'], input)));
    cpB4.push(time(() => runIn('perl', [checkpatch61, '-q', '--terse', '--no-summary', '--mailback', '-'], input)));
  }
  console.log(`b4 per-patch check, --format checkpatch on stdin in linux-6.1 (median of ${pick.length})`);
  console.log(`  kmap-review:   ${median(kmB4).toFixed(0)} ms`);
  console.log(`  checkpatch.pl: ${median(cpB4).toFixed(0)} ms  (linux-6.1/scripts/checkpatch.pl -q --terse --no-summary --mailback -)`);
  console.log(`  ratio: checkpatch / kmap-review = ${(median(cpB4) / median(kmB4)).toFixed(2)}  (target >= 1)\n`);
}

// 3. Replay cost, in process.
const out = execFileSync('node', [join(root, 'bench', 'replay-cost.mjs'), corpus], { encoding: 'utf8', maxBuffer: 1 << 26 });
process.stdout.write(out);
