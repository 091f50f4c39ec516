#!/usr/bin/env node
// Classification checked against what kernel developers did (issue 6): for the functions of the 158
// corpus conversions (6.1 -> 6.12), how `scan` classifies their 6.1 sites, split by whether the
// developers converted them by plain substitution (kmap_atomic -> kmap_local_page, kunmap_atomic ->
// kunmap_local, nothing else changed) or did more (kmap() with a new variable, helpers, reordering,
// explicit pagefault_disable()). Needs `npm run build` and ../shared/corpus/build.sh (/tmp/kmap-corpus).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const CORPUS = process.env.KMAP_CORPUS ?? '/tmp/kmap-corpus';
const tree = join(CORPUS, 'trees/linux-6.1');
const dist = new URL('../dist/', import.meta.url);
const { initParser } = await import(new URL('analysis/syntax/parser.js', dist));
const { scanFile } = await import(new URL('analysis/scan/classify.js', dist));
const { KmapApi } = await import(new URL('analysis/kmap-api.js', dist));
const { DEFAULT_CONFIG } = await import(new URL('analysis/model.js', dist));
const { CalleeSummaries } = await import(new URL('analysis/summaries/context.js', dist));
const { DefinitionIndex } = await import(new URL('analysis/summaries/definitions.js', dist));
const { TreeDefinitions } = await import(new URL('analysis/summaries/tree.js', dist));
const { listCFiles } = await import(new URL('analysis/scan/sources.js', dist));
await initParser();
const api = new KmapApi(DEFAULT_CONFIG);

// As `scan` classifies: with the tree's callee summaries (KMAP_TREE_SUMMARIES=0: each file's own functions only).
let callees;
if (process.env.KMAP_TREE_SUMMARIES !== '0') {
  const t0 = performance.now();
  const index = new DefinitionIndex();
  for (const p of listCFiles(tree)) index.add(p, readFileSync(join(tree, p)));
  callees = new CalleeSummaries(api, new TreeDefinitions(index, (p) => readFileSync(join(tree, p), 'utf8')));
  console.log(`callee summaries: the 6.1 tree indexed in ${Math.round(performance.now() - t0)} ms (${index.size.names} names, ${index.size.definitions} definitions, ${index.size.files} files)`);
} else console.log('callee summaries: off (file-local)');

const RENAMES = [[/\bkmap_atomic\(/g, 'kmap_local_page('], [/\bkunmap_atomic\(/g, 'kunmap_local('], [/\bkmap_atomic_prot\(/g, 'kmap_local_page_prot(']];
const norm = (l) => l.replace(/\s+/g, ' ').trim();
const plainSubstitution = (patch) => {
  const removed = [], added = [];
  for (const l of patch.split('\n')) {
    if (l.startsWith('---') || l.startsWith('+++')) continue;
    if (l.startsWith('-')) removed.push(l.slice(1));
    else if (l.startsWith('+')) added.push(l.slice(1));
  }
  if (removed.length !== added.length) return false;
  return removed.every((r, i) => norm(RENAMES.reduce((s, [re, to]) => s.replace(re, to), r)) === norm(added[i]));
};

const scans = new Map();
const rows = [];
for (const dir of readdirSync(join(CORPUS, 'conversions'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
  const patch = readFileSync(join(CORPUS, 'conversions', dir, 'conversion.patch'), 'utf8');
  const path = /^\+\+\+ b\/(.+)$/m.exec(patch)[1];
  const fn = dir.slice(dir.lastIndexOf('-') + 1);
  if (!scans.has(path)) scans.set(path, scanFile(path, readFileSync(join(tree, path), 'utf8'), { api, config: DEFAULT_CONFIG, ...(callees ? { callees } : {}) }));
  const all = scans.get(path).sites.filter((s) => s.function === fn);
  // A function's map sites; for the unmap-only halves (a getter's *_unmap partner), its unmap sites.
  const maps = all.filter((s) => /^(kmap_atomic|kmap)/.test(s.api));
  const sites = maps.length ? maps : all;
  rows.push({ dir, path, fn, plain: plainSubstitution(patch), addsPagefault: /^\+.*pagefault_disable\(\)/m.test(patch), sites });
}

const count = (list) => {
  const c = { ready: 0, 'needs-care': 0, blocked: 0 };
  for (const r of list) for (const s of r.sites) c[s.class]++;
  return c;
};
const pct = (a, b) => (b ? ((100 * a) / b).toFixed(1) + '%' : '-');
const plain = rows.filter((r) => r.plain);
const other = rows.filter((r) => !r.plain);
const cp = count(plain);
const co = count(other);
const sum = (c) => c.ready + c['needs-care'] + c.blocked;
console.log(`conversions: ${rows.length} (${plain.length} plain substitution, ${other.length} more than that)`);
console.log('| converted by | sites (maps; unmaps for unmap-only functions) | ready | needs-care | blocked | ready share |');
console.log('|---|---:|---:|---:|---:|---:|');
console.log(`| plain substitution | ${sum(cp)} | ${cp.ready} | ${cp['needs-care']} | ${cp.blocked} | ${pct(cp.ready, sum(cp))} |`);
console.log(`| more than substitution | ${sum(co)} | ${co.ready} | ${co['needs-care']} | ${co.blocked} | ${pct(co.ready, sum(co))} |`);
console.log('\nconversions that added pagefault_disable():');
for (const r of rows.filter((x) => x.addsPagefault)) console.log(`  ${r.path} ${r.fn}(): ${r.sites.map((s) => `${s.api}@${s.line} ${s.class}${s.rule ? ` [${s.rule}]` : ''}`).join(', ') || 'no 6.1 site found'}`);
console.log('\nplain substitutions not classified ready:');
for (const r of plain) for (const s of r.sites.filter((x) => x.class !== 'ready')) console.log(`  ${r.path}:${s.line} ${r.fn}() ${s.api} ${s.class}: ${s.reason}`);
const missing = rows.filter((r) => !r.sites.length);
if (missing.length) console.log(`\nno 6.1 map site found for: ${missing.map((r) => r.dir).join(', ')}`);
