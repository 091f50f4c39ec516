/**
 * `--git A..B`: one ChangeSet per commit of a range in a local repository, with whole pre/post
 * images (complete: true) diffed by line-diff.ts.
 *
 * git is run with execFile (no shell) and the range is validated first (no leading `-`, so it can
 * never be taken as an option; only revision characters). Both ends are resolved to commit ids and
 * only those ids are passed on. Blobs are read by id (`git cat-file --batch`, the same content as
 * `git show REV:path`) so odd path names need no quoting.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { ChangeSet, ChangedFile, SkippedFile } from '../model.js';
import { InputError } from './errors.js';
import { changedFileFromImages } from './line-diff.js';
import { checkSize, decodeUtf8, DEFAULT_MAX_BYTES } from './text.js';
import { isReviewedPath, NOT_C_REASON } from './kinds.js';

const REV_RE = /^[A-Za-z0-9_][A-Za-z0-9_./@^~{}+-]*$/;

/** Splits and checks `A..B`; throws InputError for anything else. */
export function parseGitRange(range: string): [string, string] {
  const usage = `--git ${JSON.stringify(range)}: expected a commit range A..B (e.g. v6.8..HEAD)`;
  const parts = range.split('..');
  if (parts.length !== 2 || parts[1]!.startsWith('.')) throw new InputError(usage);
  for (const p of parts) {
    if (p.startsWith('-')) throw new InputError(`${usage}; a revision may not start with '-'`);
    if (!REV_RE.test(p)) throw new InputError(usage);
  }
  return [parts[0]!, parts[1]!];
}

interface GitRun {
  cwd: string;
  maxBuffer: number;
}

function git(run: GitRun, args: string[], input?: Buffer): Buffer {
  try {
    return execFileSync('git', args, {
      cwd: run.cwd,
      input,
      maxBuffer: run.maxBuffer,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_PAGER: 'cat' },
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer; status?: number };
    if (err.code === 'ENOENT') throw new InputError('--git: the git command was not found in PATH');
    if (err.code === 'ENOBUFS') throw new InputError(`--git: git output is over the size cap of ${run.maxBuffer} bytes; raise it with --max-bytes`);
    const msg = err.stderr?.toString('utf8').trim().split('\n')[0] ?? String(e);
    throw new GitFailed(msg);
  }
}

class GitFailed extends Error {}

/** A changed file of a commit, from `git diff-tree -r -z -M --raw`. */
interface RawEntry {
  oldMode: string;
  newMode: string;
  oldSha: string;
  newSha: string;
  status: string;
  oldPath: string | null;
  newPath: string | null;
}

function parseRaw(out: string): RawEntry[] {
  const f = out.split('\0');
  const entries: RawEntry[] = [];
  let i = 0;
  while (i < f.length && f[i]!.startsWith(':')) {
    const [oldMode, newMode, oldSha, newSha, status] = f[i]!.slice(1).split(' ') as [string, string, string, string, string];
    const letter = status[0]!;
    const a = f[i + 1]!;
    if (letter === 'R' || letter === 'C') {
      entries.push({ oldMode, newMode, oldSha, newSha, status: letter, oldPath: a, newPath: f[i + 2]! });
      i += 3;
    } else {
      entries.push({ oldMode, newMode, oldSha, newSha, status: letter, oldPath: letter === 'A' ? null : a, newPath: letter === 'D' ? null : a });
      i += 2;
    }
  }
  return entries;
}

const ZERO_SHA = /^0+$/;

/**
 * Loads `range` (A..B) from the repository at `cwd`: one ChangeSet per non-merge commit, oldest
 * first, named "<short sha> <subject>". Throws InputError for a bad range, a missing or non-git
 * directory, an unknown revision or an empty range.
 */
export function loadGitRange(range: string, cwd: string, options: { maxBytes?: number } = {}): ChangeSet[] {
  const [from, to] = parseGitRange(range);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!fs.existsSync(cwd) || !fs.statSync(cwd).isDirectory()) throw new InputError(`--git: ${cwd}: no such directory`);
  const run: GitRun = { cwd, maxBuffer: Math.max(maxBytes, 64 * 1024 * 1024) };
  try {
    git(run, ['rev-parse', '--git-dir']);
  } catch (e) {
    if (e instanceof GitFailed) throw new InputError(`--git: ${cwd} is not a git repository (${e.message})`);
    throw e;
  }
  const resolve = (rev: string): string => {
    try {
      return git(run, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).toString('utf8').trim();
    } catch (e) {
      if (e instanceof GitFailed) throw new InputError(`--git ${range}: unknown revision ${JSON.stringify(rev)} in ${cwd}`);
      throw e;
    }
  };
  const a = resolve(from);
  const b = resolve(to);

  const log = git(run, ['log', '--no-merges', '--reverse', '-z', '--format=%H %h %s', `${a}..${b}`, '--']).toString('utf8');
  const commits = log
    .split('\0')
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const [sha, short] = s.split(' ', 2) as [string, string];
      return { sha: sha.trim(), short, subject: s.slice(sha.length + short.length + 2) };
    });
  if (commits.length === 0) throw new InputError(`--git ${range}: the range holds no commits (merge commits are skipped)`);

  return commits.map((c) => {
    const where = `--git ${c.short}`;
    try {
      return commitChangeSet(run, c, maxBytes);
    } catch (e) {
      if (e instanceof GitFailed) throw new InputError(`${where}: git failed: ${e.message}`);
      throw e;
    }
  });
}

function commitChangeSet(run: GitRun, c: { sha: string; short: string; subject: string }, maxBytes: number): ChangeSet {
  const raw = git(run, ['diff-tree', '-r', '-z', '-M', '--no-abbrev', '--no-commit-id', '--root', c.sha]).toString('utf8');
  const files: ChangedFile[] = [];
  const skipped: SkippedFile[] = [];
  const wanted: RawEntry[] = [];
  for (const e of parseRaw(raw)) {
    const path = (e.newPath ?? e.oldPath)!;
    const modes = [e.oldMode, e.newMode].filter((m) => !/^0+$/.test(m));
    if (modes.some((m) => m === '160000')) skipped.push({ path, reason: 'submodule: not analysed' });
    else if (modes.some((m) => m === '120000')) skipped.push({ path, reason: 'symbolic link: not analysed' });
    else if (!isReviewedPath(path)) skipped.push({ path, reason: NOT_C_REASON });
    else if (e.status === 'M' && e.oldSha === e.newSha) skipped.push({ path, reason: 'mode change only, no content change' });
    else wanted.push(e);
  }
  const shas = [...new Set(wanted.flatMap((e) => [e.oldSha, e.newSha]).filter((s) => !ZERO_SHA.test(s)))];
  const blobs = readBlobs(run, shas, maxBytes, c.short);
  for (const e of wanted) {
    const path = (e.newPath ?? e.oldPath)!;
    const oldBuf = ZERO_SHA.test(e.oldSha) ? null : blobs.get(e.oldSha)!;
    const newBuf = ZERO_SHA.test(e.newSha) ? null : blobs.get(e.newSha)!;
    if ((oldBuf && isBinary(oldBuf)) || (newBuf && isBinary(newBuf))) {
      skipped.push({ path, reason: 'binary file: not analysed' });
      continue;
    }
    const oldText = oldBuf && decodeUtf8(`${c.short}:${e.oldPath}`, oldBuf);
    const newText = newBuf && decodeUtf8(`${c.short}:${e.newPath}`, newBuf);
    files.push(changedFileFromImages(e.oldPath, e.newPath, oldText, newText));
  }
  return { name: `${c.short} ${c.subject}`, files, skipped };
}

/** git's own heuristic: a NUL byte in the first 8000 bytes means binary. */
function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8000).includes(0);
}

/** Reads blobs by id with two `git cat-file` processes: sizes first (to enforce the cap), then contents. */
function readBlobs(run: GitRun, shas: string[], maxBytes: number, short: string): Map<string, Buffer> {
  const blobs = new Map<string, Buffer>();
  if (shas.length === 0) return blobs;
  const input = Buffer.from(`${shas.join('\n')}\n`);
  const sizes = git(run, ['cat-file', '--batch-check'], input).toString('utf8').trim().split('\n');
  let total = 0;
  for (const line of sizes) {
    const [sha, type, size] = line.split(' ');
    if (type !== 'blob') throw new InputError(`--git ${short}: cannot read blob ${sha}: ${line}`);
    checkSize(`--git ${short}: blob ${sha}`, Number(size), maxBytes);
    total += Number(size) + 100;
  }
  const out = git({ ...run, maxBuffer: Math.max(run.maxBuffer, total + 1024) }, ['cat-file', '--batch'], input);
  let at = 0;
  for (const sha of shas) {
    const nl = out.indexOf(0x0a, at);
    const [got, , size] = out.subarray(at, nl).toString('utf8').split(' ');
    const n = Number(size);
    if (got !== sha || !Number.isFinite(n)) throw new InputError(`--git ${short}: unexpected output from git cat-file for ${sha}`);
    blobs.set(sha, out.subarray(nl + 1, nl + 1 + n));
    at = nl + 1 + n + 1; // content is followed by a newline
  }
  return blobs;
}
