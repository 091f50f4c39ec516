#!/usr/bin/env node
// Whole-tree scan speed (issue 6), measured in the same run against two peers on the same tree:
//   grep:   grep -rlE 'kmap|kunmap' --include='*.[ch]' TREE   (warm cache; target: scan <= 1.5x its time)
//   spatch: Debian's coccinelle, -j 2, a small kmap_atomic -> kmap_local_page semantic patch over the
//           same tree (target: scan >= 5x faster)
// and kmap-review's peak RSS (target < 300 MB). Needs `npm run build` and ../shared/corpus/build.sh.
//
// Three kmap-review figures, each against both peers:
//   cold:     no result cache: every candidate file is parsed and analysed
//   re-scan:  `--cache-dir`, filled by one scan before: no file changed since (a CI ratchet on a push that
//             touched no C file that maps pages, a developer re-running the scan)
//   changed:  the same with one cached result in 20 dropped before each run (as if those files had
//             changed): what a re-scan after a typical merge costs
//
// usage: node bench/scan.mjs [--tree DIR]... [--runs N] [--spatch-timeout SECONDS] [--no-spatch]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const corpus = process.env.KMAP_CORPUS ?? '/tmp/kmap-corpus';
const { values } = parseArgs({
  options: {
    tree: { type: 'string', multiple: true },
    runs: { type: 'string', default: '3' },
    'spatch-timeout': { type: 'string', default: '1800' },
    'no-spatch': { type: 'boolean', default: false },
  },
});
const trees = values.tree ?? [join(corpus, 'trees/linux-6.1'), join(corpus, 'trees/linux-6.12')];
const runs = Number(values.runs);
// The installed command (package.json bin): the bundle, with its scan V8 flags (src/cli/v8-flags.ts).
const cli = join(root, 'dist', 'cli', 'kmap-review.cjs');
for (const t of trees) if (!existsSync(t)) (console.error(`bench: no tree at ${t}; run ../shared/corpus/build.sh`), process.exit(2));

/** Wall time (ms) and peak RSS (KiB, from GNU time) of a command; stdout discarded. */
function measure(cmd, args, timeoutMs) {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, timeout: timeoutMs, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const rss = Number(/(\d+)\s*$/.exec(r.stderr ?? '')?.[1] ?? NaN);
  return { ms, rssKiB: rss, status: r.status, timedOut: r.error?.code === 'ETIMEDOUT', stderr: r.stderr };
}
const best = (f) => {
  let b = null;
  for (let i = 0; i < runs; i++) {
    const m = f();
    if (!b || m.ms < b.ms) b = m;
  }
  return b;
};

const cocci = join(mkdtempSync(join(tmpdir(), 'kmap-bench-')), 'kmap.cocci');
writeFileSync(cocci, `@@
expression page, addr;
@@
- addr = kmap_atomic(page);
+ addr = kmap_local_page(page);
  ...
- kunmap_atomic(addr);
+ kunmap_local(addr);
`);

console.log(`scan benchmark, ${runs} runs each (best), ${new Date().toISOString()}`);
for (const tree of trees) {
  console.log(`\n${tree}`);
  // Warm the page cache first: every tool reads the same files.
  spawnSync('grep', ['-rlE', 'kmap|kunmap', '--include=*.[ch]', tree], { stdio: 'ignore' });
  const grep = best(() => measure('grep', ['-rlE', 'kmap|kunmap', '--include=*.[ch]', tree]));
  const scanArgs = ['scan', '--format', 'json', tree];
  const checked = (m, what) => {
    // A scan that failed is not a fast scan.
    if (m.status !== 0) throw new Error(`kmap-review scan (${what}) exited ${m.status}: ${m.stderr.slice(0, 2000)}`);
    return m;
  };
  const scan = best(() => checked(measure(process.execPath, [cli, ...scanArgs]), 'cold'));
  // The result cache: filled once, then re-scans (src/analysis/scan/result-cache.ts).
  const cacheDir = mkdtempSync(join(tmpdir(), 'kmap-bench-cache-'));
  const cachedArgs = ['scan', '--cache-dir', cacheDir, '--format', 'json', tree];
  checked(measure(process.execPath, [cli, ...cachedArgs]), 'filling the cache');
  const cacheFile = join(cacheDir, readdirSync(cacheDir).find((f) => f.endsWith('.json')));
  const full = readFileSync(cacheFile, 'utf8');
  const rescan = best(() => checked(measure(process.execPath, [cli, ...cachedArgs]), 're-scan'));
  const changedShare = 20;
  const changed = best(() => {
    const c = JSON.parse(full);
    c.files = c.files.filter((_, i) => i % changedShare !== 0);
    writeFileSync(cacheFile, JSON.stringify(c));
    return checked(measure(process.execPath, [cli, ...cachedArgs]), 'changed');
  });
  const figures = [
    ['kmap-review scan (cold)', scan],
    ['scan --cache, re-scan', rescan],
    [`scan --cache, 1/${changedShare} changed`, changed],
  ];
  console.log(`  grep -rlE 'kmap|kunmap'            ${grep.ms.toFixed(0).padStart(7)} ms`);
  for (const [label, m] of figures) {
    console.log(`  ${label.padEnd(33)} ${m.ms.toFixed(0).padStart(7)} ms   ${(m.ms / grep.ms).toFixed(2)}x grep (target <= 1.5x)   peak RSS ${(m.rssKiB / 1024).toFixed(0)} MB (target < 300)`);
  }
  if (!values['no-spatch']) {
    const timeout = Number(values['spatch-timeout']) * 1000;
    const sp = measure('spatch', ['--sp-file', cocci, '--dir', tree, '-j', '2', '--very-quiet', '--no-show-diff'], timeout);
    const label = sp.timedOut ? `> ${(timeout / 1000).toFixed(0)} s (stopped)` : `${sp.ms.toFixed(0)} ms`;
    console.log(`  spatch -j 2 (kmap.cocci)           ${label.padStart(7)}${sp.status && !sp.timedOut ? `  (exit ${sp.status})` : ''}`);
    for (const [label, m] of figures) console.log(`  spatch / ${label.padEnd(33)} ${sp.timedOut ? '>' : ''}${(sp.ms / m.ms).toFixed(1)}x   (target >= 5x)`);
  }
}
