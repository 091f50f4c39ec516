#!/usr/bin/env node
// The reasons audit (issue 17, part 4): a fixed, seeded random sample of `scan` sites per class on the
// Linux 6.12 tree, each judged by hand (sample-6.12.json: per site the (class, reason) pairs seen so far,
// with a verdict on the class and on the reason and a one-line justification). This script re-scans the
// sampled files, finds each site by its key and prints, per class, the precision (sites whose class is
// right) and the share of right reasons. A site whose current (class, reason) has no verdict yet is
// listed as unjudged: judge it and add it to the data file; it never counts as right.
//
//   node bench/reasons-audit/audit.mjs            score the current build against the sample
//   node bench/reasons-audit/audit.mjs --draw D       only the sites draw D picked
//   node bench/reasons-audit/audit.mjs --before       the verdicts on the state the first draw was taken from
//   node bench/reasons-audit/audit.mjs --sample S [--draw D]   draw from scan JSON S (default draw 'before'),
//                                                     adding the sites not sampled yet (verdicts kept)
//
// Needs `npm run build` and the corpus (/tmp/kmap-corpus, ../shared/corpus/build.sh).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CORPUS = process.env.KMAP_CORPUS ?? '/tmp/kmap-corpus';
const TREE = join(CORPUS, 'trees/linux-6.12');
const DATA = new URL('./sample-6.12.json', import.meta.url);
const SEED = 17;
const PER_CLASS = 25;
const CLASSES = ['ready', 'needs-care', 'blocked'];

const dist = new URL('../../dist/', import.meta.url);
const { initParser } = await import(new URL('analysis/syntax/parser.js', dist));
const { scanFile } = await import(new URL('analysis/scan/classify.js', dist));
const { KmapApi } = await import(new URL('analysis/kmap-api.js', dist));
const { DEFAULT_CONFIG } = await import(new URL('analysis/model.js', dist));
await initParser();
const api = new KmapApi(DEFAULT_CONFIG);
const scanPaths = (paths) => new Map([...new Set(paths)].map((p) => [p, scanFile(p, readFileSync(join(TREE, p), 'utf8'), { api, config: DEFAULT_CONFIG }).sites]));

/** mulberry32: a small seeded generator, so the sample is the same on every machine. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const load = () => JSON.parse(readFileSync(DATA, 'utf8'));

const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);

if (process.argv.includes('--sample')) {
  // A draw from the whole tree's sites, given as the CLI scan's JSON. A second draw (another --draw name,
  // e.g. after fixes) adds the sites it picks that the sample does not hold yet; verdicts are kept.
  const from = arg('--sample');
  const draw = arg('--draw') ?? 'before';
  if (!from || from.startsWith('--')) throw new Error('--sample SCAN.json [--draw NAME] (SCAN.json: node dist/cli/kmap-review.cjs scan --format json TREE)');
  const all = JSON.parse(readFileSync(from, 'utf8')).sites.sort((a, b) => (a.key < b.key ? -1 : 1));
  let data = { tree: 'linux-6.12', seed: SEED, perClass: PER_CLASS, draws: [], sites: [] };
  try { data = load(); } catch { /* first draw */ }
  const byKey = new Map(data.sites.map((s) => [s.key, s]));
  const rnd = random(SEED);
  let added = 0;
  for (const cls of CLASSES) {
    const pool = all.filter((s) => s.class === cls);
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    for (const s of pool.slice(0, PER_CLASS)) {
      const had = byKey.get(s.key);
      if (had) {
        had.draws = [...new Set([...(had.draws ?? []), draw])];
        continue;
      }
      added++;
      const site = { key: s.key, path: s.path, line: s.line, api: s.api, function: s.function, sampledAs: cls, draws: [draw], judged: [{ class: s.class, reason: s.reason, classRight: null, reasonRight: null, why: '', state: draw }] };
      byKey.set(s.key, site);
      data.sites.push(site);
    }
  }
  data.draws = [...new Set([...(data.draws ?? []), draw])];
  writeFileSync(DATA, JSON.stringify(data, null, 1) + '\n');
  console.log(`draw ${draw}: ${added} sites added, ${data.sites.length} in ${DATA.pathname}`);
  process.exit(0);
}

const data = load();
// --draw NAME: only the sites that draw picked. --before: the verdicts on the state the first draw was
// taken from (no scan), for the record.
const before = process.argv.includes('--before');
const onlyDraw = before ? 'before' : arg('--draw');
data.sites = data.sites.filter((s) => !onlyDraw || (s.draws ?? ['before']).includes(onlyDraw));
const now = before ? new Map() : scanPaths(data.sites.map((s) => s.path));
const stats = new Map(CLASSES.concat('not a site').map((c) => [c, { n: 0, classRight: 0, reasonRight: 0 }]));
const unjudged = [];
const wrong = [];
for (const s of data.sites) {
  // By key; a site whose key changed (its function is recognised now) by path, line and call.
  const cur = before ? s.judged[0] : now.get(s.path).find((x) => x.key === s.key) ?? now.get(s.path).find((x) => x.line === s.line && x.api === s.api);
  // A sampled site that is no longer reported: right when it was judged not to be a site at all.
  const current = cur ? { class: cur.class, reason: cur.reason } : { class: 'not a site', reason: '' };
  const v = s.judged.find((j) => j.class === current.class && j.reason === current.reason);
  const st = stats.get(current.class);
  st.n++;
  if (!v || v.classRight === null) {
    unjudged.push(`${s.path}:${cur?.line ?? s.line} ${s.api} [${current.class}] ${current.reason}`);
    continue;
  }
  if (v.classRight) st.classRight++;
  if (v.reasonRight) st.reasonRight++;
  if (!v.classRight || !v.reasonRight) wrong.push(`${s.path}:${cur?.line ?? s.line} ${s.api} [${current.class}] class ${v.classRight ? 'ok' : 'WRONG'}, reason ${v.reasonRight ? 'ok' : 'WRONG'}: ${v.why}`);
}
const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(0)}%` : '-');
console.log(`reasons audit: ${data.sites.length} sampled sites of ${data.tree} (draws: ${onlyDraw ?? data.draws.join(', ')}; seed ${data.seed}, ${data.perClass} per class and draw)`);
console.log('| class now | sites | class right (precision) | reason right |');
console.log('|---|---:|---:|---:|');
for (const [c, st] of stats) if (st.n) console.log(`| ${c} | ${st.n} | ${st.classRight} (${pct(st.classRight, st.n)}) | ${st.reasonRight} (${pct(st.reasonRight, st.n)}) |`);
if (wrong.length) console.log(`\nwrong (${wrong.length}):\n  ${wrong.join('\n  ')}`);
if (unjudged.length) {
  console.log(`\nunjudged (${unjudged.length}): judge them and add the verdict to sample-6.12.json\n  ${unjudged.join('\n  ')}`);
  process.exitCode = 1;
}
