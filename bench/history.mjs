#!/usr/bin/env node
// `scan --history` over a kernel-sized history (issue 20): a scratch git repository (built once, kept in
// $TMPDIR) whose first commit is Linux 6.1's C/H files and MAINTAINERS, whose next 18 commits each move a
// slice of the files that differ to their 6.12 version, and whose last is 6.12's: 20 commits.
//
// Measured in the same run:
//   history:  `scan --history FIRST..LAST` (20 points; one result store by blob id across them)
//   peer:     `scan --git LAST`, cold, once (one whole-tree scan)
// and printed as the ratio history / one scan (20 independent scans would be ~20x) and the cost per
// point after the first. Needs `npm run build` and the corpus trees.
//
// usage: node bench/history.mjs [--repo DIR] [--commits N]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const corpus = process.env.KMAP_CORPUS ?? '/tmp/kmap-corpus';
const { values } = parseArgs({ options: { repo: { type: 'string' }, commits: { type: 'string', default: '20' } } });
const commits = Number(values.commits);
const from = join(corpus, 'trees/linux-6.1');
const to = join(corpus, 'trees/linux-6.12');
for (const t of [from, to]) if (!existsSync(t)) (console.error(`bench: no tree at ${t}`), process.exit(2));
const repo = values.repo ?? join(tmpdir(), `kmap-history-bench-${commits}`);
const cli = join(root, 'dist', 'cli', 'kmap-review.cjs');

const env = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.org', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.org' };
const git = (args, opts = {}) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8', maxBuffer: 1 << 30, ...opts });

/** C/H files and MAINTAINERS of a tree, relative paths. */
function files(tree) {
  const out = execFileSync('find', ['.', '-type', 'f', '(', '-name', '*.[ch]', '-o', '-path', './MAINTAINERS', ')', '-printf', '%P\\n'], { cwd: tree, encoding: 'utf8', maxBuffer: 1 << 30 });
  return out.split('\n').filter(Boolean).sort();
}

function build() {
  const t0 = Date.now();
  mkdirSync(repo, { recursive: true });
  git(['init', '-q', '-b', 'main']);
  git(['config', 'gc.auto', '0']);
  const a = files(from);
  const b = files(to);
  const add = (tree, paths) => {
    for (let i = 0; i < paths.length; i += 2000) git(['--work-tree', tree, 'add', '-f', '--', ...paths.slice(i, i + 2000)]);
  };
  add(from, a);
  git(['commit', '-q', '-m', 'linux-6.1 (C/H files and MAINTAINERS)']);
  // What differs: files only in one tree, and files whose content changed (by blob id).
  const hash = (tree, paths) => {
    const m = new Map();
    for (let i = 0; i < paths.length; i += 2000) {
      const chunk = paths.slice(i, i + 2000);
      const ids = execFileSync('git', ['hash-object', '--', ...chunk], { cwd: tree, encoding: 'utf8', maxBuffer: 1 << 30 }).trim().split('\n');
      chunk.forEach((p, j) => m.set(p, ids[j]));
    }
    return m;
  };
  const ha = hash(from, a);
  const hb = hash(to, b);
  const changed = [...new Set([...a, ...b])].filter((p) => ha.get(p) !== hb.get(p)).sort();
  const steps = commits - 2;
  const per = Math.ceil(changed.length / (steps + 1));
  for (let s = 0; s < steps; s++) {
    const slice = changed.slice(s * per, (s + 1) * per);
    const present = slice.filter((p) => hb.has(p));
    const gone = slice.filter((p) => !hb.has(p));
    if (present.length) add(to, present);
    for (let i = 0; i < gone.length; i += 2000) git(['rm', '-q', '--cached', '--', ...gone.slice(i, i + 2000)]);
    git(['commit', '-q', '--allow-empty', '-m', `step ${s + 1}: ${slice.length} files to 6.12`]);
  }
  const rest = changed.slice(steps * per);
  add(to, rest.filter((p) => hb.has(p)));
  const gone = rest.filter((p) => !hb.has(p));
  for (let i = 0; i < gone.length; i += 2000) git(['rm', '-q', '--cached', '--', ...gone.slice(i, i + 2000)]);
  git(['commit', '-q', '--allow-empty', '-m', 'linux-6.12']);
  git(['repack', '-q', '-a', '-d', '--window=0'], { stdio: 'ignore' });
  console.log(`built ${repo}: ${commits} commits, ${changed.length} files differ between the trees (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

if (!existsSync(join(repo, '.git'))) build();
const list = git(['rev-list', '--reverse', 'main']).trim().split('\n');
if (list.length !== commits) (console.error(`bench: ${repo} has ${list.length} commits, not ${commits}; remove it to rebuild`), process.exit(2));

function time(args) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cli, ...args], { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  if (r.status !== 0) (console.error(r.stderr), process.exit(1));
  return { ms, rssMb: Number(r.stderr.trim().split('\n').pop()) / 1024, out: r.stdout };
}

console.log(`machine: ${process.arch}, node ${process.version}, ${repo}`);
const one = time(['scan', '--git', 'main', '--format', 'json']);
const hist = time(['scan', '--history', `${list[0]}..main`, '--format', 'json']);
const points = JSON.parse(hist.out).points;
const last = JSON.parse(one.out).totals.sites;
if (points.length !== commits || points[points.length - 1].total !== last) (console.error(`bench: ${points.length} points, last total ${points.at(-1)?.total} vs scan ${last}`), process.exit(1));
console.log(`uses: ${points.map((p) => p.total).join(' ')}`);
console.log(`one scan --git (cold):        ${(one.ms / 1000).toFixed(1)} s  (peak RSS ${one.rssMb.toFixed(0)} MB)`);
console.log(`scan --history, ${commits} points:  ${(hist.ms / 1000).toFixed(1)} s  (peak RSS ${hist.rssMb.toFixed(0)} MB)`);
console.log(`ratio: history / one scan = ${(hist.ms / one.ms).toFixed(2)}  (${commits} independent scans: ~${commits}); per point after the first ~${((hist.ms - one.ms) / (commits - 1) / 1000).toFixed(2)} s`);
