/**
 * Turns a pull request into the engine's ChangeSet: lists the PR files (paginated, GitHub caps the list at
 * 3,000), keeps the C/H files the configuration selects, and fetches both sides at the exact base and head
 * SHAs from the base repository (which also works for pull requests from forks, read-only).
 */
import type { Context } from 'probot';
import { isCPath } from '../analysis/kmap-api.js';
import type { ChangeSet, ChangedFile, SkippedFile } from '../analysis/model.js';
import { changedFileFromImages } from '../analysis/patch/line-diff.js';
import type { AppConfig } from '../config/repo-config.js';
import { isSelected } from '../config/selection.js';
import { parseHunks, type Hunk } from './diff-lines.js';
import { mapLimit } from './map-limit.js';

export type GitHub = Context['octokit'];

export const GITHUB_FILE_LIST_CAP = 3000;

export interface PullRef {
  owner: string;
  repo: string;
  pullNumber: number;
  headSha: string;
  baseSha: string;
}

export interface Collected {
  changeSet: ChangeSet;
  /** Post-image commentable hunks per analysed path. */
  hunks: Map<string, Hunk[]>;
  /** Files of the PR that are not C/H. */
  ignoredFiles: number;
  /** Every path the PR touches (new and old names). */
  allPaths: Set<string>;
  notes: string[];
  /** Blob SHA of each analysed file's base and head side, for the result cache. */
  blobs: { oldPath: string | null; newPath: string | null; baseSha: string | null; headSha: string | null }[];
  /** Caps that were hit ("max_files: 300"), for the check-run summary. */
  limitsHit: string[];
}

interface PrFile {
  filename: string;
  previous_filename?: string;
  status: string;
  sha?: string | null;
  patch?: string;
  changes: number;
}


class TooLarge extends Error {}

/** A file's text and blob SHA at `ref`, through the contents API, or the blobs API for files over 1 MB. */
export async function fetchText(octokit: GitHub, owner: string, repo: string, path: string, ref: string, maxBytes: number): Promise<{ text: string; sha: string }> {
  const { data } = await octokit.rest.repos.getContent({ owner, repo, path, ref });
  if (Array.isArray(data) || data.type !== 'file') throw new Error(`${path} is not a file at ${ref.slice(0, 12)}`);
  if (data.size > maxBytes) throw new TooLarge(`${data.size} bytes, over the ${maxBytes}-byte limit (max_file_bytes)`);
  if (data.encoding === 'base64' && (data.content !== '' || data.size === 0)) {
    return { text: Buffer.from(data.content, 'base64').toString('utf8'), sha: data.sha };
  }
  // 1-100 MB: the contents API returns no content ("encoding": "none"); the blobs API does.
  const blob = await octokit.rest.git.getBlob({ owner, repo, file_sha: data.sha });
  const text = blob.data.encoding === 'base64' ? Buffer.from(blob.data.content, 'base64').toString('utf8') : blob.data.content;
  // The contents API said how big it is, but check what came: the cap is what protects the engine.
  if (Buffer.byteLength(text) > maxBytes) throw new TooLarge(`over the ${maxBytes}-byte limit (max_file_bytes)`);
  return { text, sha: data.sha };
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { status?: number }).status === 404;
}

export async function collectPullRequest(octokit: GitHub, pr: PullRef, config: AppConfig): Promise<Collected> {
  const { owner, repo, pullNumber } = pr;
  const files = (await octokit.paginate(octokit.rest.pulls.listFiles, {
    owner, repo, pull_number: pullNumber, per_page: 100,
  })) as PrFile[];
  const notes: string[] = [];
  if (files.length >= GITHUB_FILE_LIST_CAP) {
    notes.push(`GitHub lists at most ${GITHUB_FILE_LIST_CAP.toLocaleString('en-US')} files of a pull request: files beyond them were not analysed.`);
  }
  const skipped: SkippedFile[] = [];
  const limitsHit: string[] = [];
  let overFileCap = 0;
  let ignoredFiles = 0;
  const wanted: PrFile[] = [];
  for (const f of files) {
    const paths = [f.filename, f.previous_filename].filter((p): p is string => !!p);
    if (!paths.some((p) => isCPath(p) || isSelected(p, config))) {
      ignoredFiles++;
      continue;
    }
    if (!paths.some((p) => isSelected(p, config))) {
      skipped.push({ path: f.filename, reason: 'not selected by include/exclude in .github/kmap-review.yml' });
      continue;
    }
    if (wanted.length >= config.maxFiles) {
      skipped.push({ path: f.filename, reason: `over the ${config.maxFiles}-file limit (max_files)` });
      overFileCap++;
      continue;
    }
    wanted.push(f);
  }

  if (overFileCap > 0) limitsHit.push(`files per pull request (max_files = ${config.maxFiles}): ${overFileCap} C/H files not analysed`);
  const hunks = new Map<string, Hunk[]>();
  const blobs: Collected['blobs'] = [];
  let overByteCap = 0;
  const results = await mapLimit(wanted, 6, async (f): Promise<ChangedFile | SkippedFile> => {
    const added = f.status === 'added';
    const removed = f.status === 'removed';
    const oldPath = added ? null : (f.previous_filename ?? f.filename);
    const newPath = removed ? null : f.filename;
    try {
      const [oldFile, newFile] = await Promise.all([
        oldPath === null ? Promise.resolve(null) : fetchText(octokit, owner, repo, oldPath, pr.baseSha, config.maxFileBytes),
        newPath === null ? Promise.resolve(null) : fetchText(octokit, owner, repo, newPath, pr.headSha, config.maxFileBytes),
      ]);
      const oldText = oldFile?.text ?? null;
      const newText = newFile?.text ?? null;
      if ((oldText ?? '').includes('\0') || (newText ?? '').includes('\0')) return { path: f.filename, reason: 'binary file' };
      if (newPath !== null) hunks.set(newPath, parseHunks(f.patch));
      blobs.push({ oldPath, newPath, baseSha: oldFile?.sha ?? null, headSha: newFile?.sha ?? null });
      return changedFileFromImages(oldPath, newPath, oldText, newText);
    } catch (err) {
      if (err instanceof TooLarge) {
        overByteCap++;
        return { path: f.filename, reason: `too large to analyse (${err.message})` };
      }
      if (isNotFound(err)) return { path: f.filename, reason: 'contents not found at the base or head commit' };
      throw err;
    }
  });
  if (overByteCap > 0) limitsHit.push(`bytes per file (max_file_bytes = ${config.maxFileBytes}): ${overByteCap} files not analysed`);
  const changed: ChangedFile[] = [];
  for (const r of results) {
    if ('reason' in r) skipped.push(r);
    else changed.push(r);
  }
  for (const f of wanted) {
    if (f.status !== 'removed' && !f.patch && f.changes > 0) {
      notes.push(`GitHub sent no diff for \`${f.filename}\` (too large): its findings are listed here, not commented inline.`);
    }
  }
  return {
    changeSet: { name: `PR #${pullNumber}`, files: changed, skipped },
    hunks,
    ignoredFiles,
    allPaths: new Set(files.flatMap((f) => [f.filename, f.previous_filename].filter((p): p is string => !!p))),
    notes,
    blobs,
    limitsHit,
  };
}
