/**
 * `scan --history A..B`: the counts at a series of commits of a git repository, read from the object
 * store only (never checked out). Each commit is a `scan --git` whose results come from one result store
 * shared by all of them, keyed by blob id: a file unchanged since an earlier point is neither read nor
 * analysed again, so each commit costs its changed files (plus git's own listing and grep).
 */
import { execFileSync } from 'node:child_process';
import type { SiteClass } from '../convert/plan.js';
import type { FileScan } from './classify.js';
import type { ScanResultStore } from './result-cache.js';
import { parseMaintainers } from './maintainers.js';
import { readGitBlobs, readGitFile, resolveRevision } from './sources.js';
import { computeTotals } from './totals.js';
import { scanTree, type TreeScanOptions } from './tree.js';

export interface HistoryPoint {
  commit: string;
  /** Committer date, ISO 8601. */
  date: string;
  subject: string;
  /** The tag naming this commit, when sampled by --tags. */
  tag?: string;
  total: number;
  byClass: Record<SiteClass, number>;
  byApi: Record<string, number>;
  /** MAINTAINERS entries (directories, two components, when the commit has no MAINTAINERS). */
  bySubsystem: Record<string, number>;
}

export interface HistoryOptions extends Omit<TreeScanOptions, 'baseline'> {
  /** Every Nth commit after A (first-parent order), B always included. */
  every?: number;
  /** Only commits after A named by a tag matching this glob (B always included). */
  tags?: string;
  onPoint?: (p: HistoryPoint, index: number, of: number) => void;
}

/** A result store in memory, by path and blob id: what the points of one history share. */
export class MemoryResultStore implements ScanResultStore {
  readonly #m = new Map<string, FileScan>();
  get(path: string, sha: string): FileScan | undefined {
    return this.#m.get(`${sha}\0${path}`);
  }
  set(path: string, sha: string, scan: FileScan): void {
    this.#m.set(`${sha}\0${path}`, scan);
  }
}

function git(repo: string, args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface SampledCommit {
  commit: string;
  date: string;
  subject: string;
  tag?: string;
}

/** A and the sampled commits after it up to B, oldest first. */
export function sampleCommits(repo: string, range: string, options: { every?: number; tags?: string } = {}): SampledCommit[] {
  const m = /^([^.]+(?:\.[^.]+)*)\.\.([^.]+(?:\.[^.]+)*)$/.exec(range);
  if (!m) throw new Error(`--history expects A..B (two revisions), not ${JSON.stringify(range)}`);
  const a = resolveRevision(repo, m[1]);
  const b = resolveRevision(repo, m[2]);
  try {
    git(repo, ['merge-base', '--is-ancestor', a, b]);
  } catch {
    throw new Error(`--history ${range}: ${m[1]} is not an ancestor of ${m[2]}`);
  }
  const info = (c: string): SampledCommit => {
    const [date, ...subject] = git(repo, ['log', '-1', '--format=%cI%x00%s', c]).trimEnd().split('\0');
    return { commit: c, date, subject: subject.join('\0') };
  };
  const after = git(repo, ['rev-list', '--first-parent', '--reverse', `${a}..${b}`]).split('\n').filter(Boolean);
  let picked: SampledCommit[];
  if (options.tags !== undefined) {
    const tagOf = new Map<string, string>();
    // git matches the glob itself (fnmatch, as `git tag --list GLOB` does).
    for (const line of git(repo, ['for-each-ref', '--format=%(objectname) %(*objectname) %(refname:short)', `refs/tags/${options.tags}`]).split('\n')) {
      const [obj, peeled, name] = line.split(' ');
      if (!name) continue;
      tagOf.set(peeled || obj, name);
    }
    picked = after.filter((c) => tagOf.has(c) || c === b).map((c) => ({ ...info(c), ...(tagOf.has(c) ? { tag: tagOf.get(c)! } : {}) }));
  } else {
    const every = options.every ?? 1;
    picked = after.filter((c, i) => (i + 1) % every === 0 || c === b).map(info);
  }
  return [info(a), ...picked];
}

/** Changed C/H files between two commits: path and new blob id (null when deleted). */
function changedFiles(repo: string, from: string, to: string): Array<{ path: string; sha: string | null }> {
  const out: Array<{ path: string; sha: string | null }> = [];
  const recs = git(repo, ['diff-tree', '-r', '-z', '--no-renames', '--no-commit-id', from, to, '--', '*.c', '*.h']).split('\0');
  for (let i = 0; i + 1 < recs.length; i += 2) {
    const m = /^:\d+ (\d+) [0-9a-f]+ ([0-9a-f]+) ([A-Z])/.exec(recs[i]);
    if (!m) continue;
    // A path that is no longer a blob (deleted, or now a submodule or symlink) has no result.
    out.push({ path: recs[i + 1], sha: m[3] === 'D' || !m[1].startsWith('100') ? null : m[2] });
  }
  return out;
}

function pointOf(c: SampledCommit, scans: Iterable<FileScan>, maintainers: string | null): HistoryPoint {
  const list = [...scans];
  const t = computeTotals(list.flatMap((f) => f.sites), list.flatMap((f) => f.findings), maintainers ? parseMaintainers(maintainers) : null);
  const groups = t.bySubsystem ?? t.byDirectory;
  return { ...c, total: t.sites, byClass: { ...t.byClass }, byApi: { ...t.byApi }, bySubsystem: Object.fromEntries(groups.map((g) => [g.name, g.total])) };
}

/**
 * Counts at each sampled commit. The first is a whole `scan --git`; each next one starts from the files
 * of the one before and handles only what `git diff-tree` says changed: a changed file whose content
 * (path and blob id) was seen before takes that result, the others are read from the object store and
 * analysed (if they mention the API).
 */
export async function scanHistory(repo: string, range: string, options: HistoryOptions): Promise<HistoryPoint[]> {
  const commits = sampleCommits(repo, range, options);
  const store = options.results ?? new MemoryResultStore();
  /** The candidate files of the current point and their results. */
  const files = new Map<string, FileScan>();
  const recording: ScanResultStore = {
    get: (path, sha) => {
      const r = store.get(path, sha);
      if (r) files.set(path, r);
      return r;
    },
    set: (path, sha, scan) => {
      store.set(path, sha, scan);
      files.set(path, scan);
    },
  };
  const points: HistoryPoint[] = [];
  const { onPoint, every: _every, tags: _tags, ...scanOptions } = options;
  for (const [i, c] of commits.entries()) {
    if (i === 0) await scanTree({ kind: 'git', repo, rev: c.commit }, { ...scanOptions, results: recording });
    else {
      const todo: Array<{ path: string; sha: string }> = [];
      for (const f of changedFiles(repo, commits[i - 1].commit, c.commit)) {
        files.delete(f.path);
        if (!f.sha || (options.select && !options.select(f.path))) continue;
        const known = store.get(f.path, f.sha);
        if (known) files.set(f.path, known);
        else todo.push({ path: f.path, sha: f.sha });
      }
      if (todo.length) {
        const bySha = new Map<string, string[]>();
        for (const t of todo) bySha.set(t.sha, [...(bySha.get(t.sha) ?? []), t.path]);
        const items: Array<{ path: string; bytes: Uint8Array }> = [];
        await readGitBlobs(repo, [...bySha.keys()], (sha, bytes) => {
          for (const path of bySha.get(sha) ?? []) items.push({ path, bytes });
        });
        // The texts source prefilters and analyses them, adding each result (by blob id) to the store.
        await scanTree({ kind: 'texts', name: c.commit, items }, { ...scanOptions, results: recording });
      }
    }
    const p = pointOf(c, files.values(), readGitFile(repo, c.commit, 'MAINTAINERS'));
    points.push(p);
    onPoint?.(p, i, commits.length);
  }
  return points;
}
