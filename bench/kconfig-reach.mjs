#!/usr/bin/env node
// What the Kconfig reach (src/analysis/kconfig/) adds to a tree scan, measured in the same run on the same
// tree: the cold `scan --format json` (which includes it), and, in a fresh process each time, the reach alone
// on that scan's findings (reading every Kconfig file the top-level Kconfig sources, the Makefiles on the
// findings' paths). Also: how many findings change severity, and how many of the tree's .c files with a
// deprecated use are restricted; and the reach from the record of a first run (what a cached re-scan does:
// the stamps of every build file read checked, nothing read). Needs `npm run build` and the corpus.
//
// usage: node bench/kconfig-reach.mjs [--tree DIR]... [--runs N]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const corpus = process.env.KMAP_CORPUS ?? '/tmp/kmap-corpus';
const { values } = parseArgs({ options: { tree: { type: 'string', multiple: true }, runs: { type: 'string', default: '3' } } });
const trees = values.tree ?? [join(corpus, 'trees/linux-6.1'), join(corpus, 'trees/linux-6.12')];
const runs = Number(values.runs);
const cli = join(root, 'dist', 'cli', 'kmap-review.cjs');
for (const t of trees) if (!existsSync(t)) (console.error(`bench: no tree at ${t}; run ../shared/corpus/build.sh`), process.exit(2));

const dist = (p) => JSON.stringify(join(root, 'dist', 'analysis', 'kconfig', p));
/** The reach alone, in a process of its own: reads the scan's JSON on stdin, prints what it measured. */
const reachOnly = `
import { applyKconfigReach } from ${dist('apply.js')};
import { KconfigReach } from ${dist('reach.js')};
import { dirTreeReader } from ${dist('tree-reader.js')};
const chunks = []; for await (const c of process.stdin) chunks.push(c);
const scan = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const tree = process.argv[1];
// The findings as the analysis left them: the reach's own changes undone.
const raw = scan.findings.map((f) => f.note?.includes('built only without HIGHMEM') ? { ...f, severity: 'error', note: undefined } : f);
const t0 = performance.now();
const reach = new KconfigReach(dirTreeReader(tree));
const out = applyKconfigReach(raw, reach);
const ms = performance.now() - t0;
// A cached re-scan: the first run's record, checked against the tree through a fresh reader.
let recordMs = null, reused = null;
try {
  const { CachedReach } = await import(${dist('reach-cache.js')});
  const first = new CachedReach(dirTreeReader(tree));
  applyKconfigReach(raw, first);
  const record = JSON.parse(JSON.stringify(first.record()));
  const t1 = performance.now();
  const again = new CachedReach(dirTreeReader(tree), record);
  const out2 = applyKconfigReach(raw, again);
  recordMs = performance.now() - t1;
  reused = again.computed === 0 && out2.filter((f, i) => f !== raw[i]).length === out.filter((f, i) => f !== raw[i]).length;
} catch (e) {
  if (e.code !== 'ERR_MODULE_NOT_FOUND') throw e; // a build before the reach cache
}
const files = [...new Set(scan.sites.map((s) => s.path))].filter((p) => p.endsWith('.c'));
const restricted = files.filter((p) => reach.reachOf(p));
console.log(JSON.stringify({ ms, recordMs, reused, findings: raw.length, changed: out.filter((f, i) => f !== raw[i]).length, files: files.length, restricted: restricted.length, outsideArch: restricted.filter((p) => !p.startsWith('arch/')).length, problem: reach.problem ?? null }));
`;

for (const tree of trees) {
  let scanMs = Infinity;
  let json = '';
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync('node', [cli, 'scan', '--format', 'json', tree], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0 && r.status !== 1) (console.error(r.stderr), process.exit(1));
    if (ms < scanMs) scanMs = ms;
    json = r.stdout;
  }
  let best = null;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('node', ['--input-type=module', '-e', reachOnly, tree], { input: json, encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) (console.error(r.stderr), process.exit(1));
    const m = JSON.parse(r.stdout);
    if (!best || m.ms < best.ms) best = m;
  }
  console.log(`${tree}: cold scan ${scanMs.toFixed(0)} ms (best of ${runs}), of which the Kconfig reach ${best.ms.toFixed(0)} ms (${((100 * best.ms) / scanMs).toFixed(1)} %)` +
    `${best.recordMs === null ? '' : `, from a first run's record ${best.recordMs.toFixed(1)} ms (${best.reused ? 'reused, same answers' : 'NOT reused'})`}; ` +
    `${best.changed} of ${best.findings} findings become warnings; ${best.restricted} of ${best.files} .c files with deprecated uses are built only without HIGHMEM (${best.outsideArch} outside arch/)${best.problem ? `; index incomplete: ${best.problem}` : ''}`);
}
