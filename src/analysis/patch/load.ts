/**
 * The entry point the CLI calls: user inputs (patch files, stdin, mbox series, git ranges) become
 * ChangeSets, or an InputError says precisely what is wrong with them.
 *
 * Rules:
 *  - a plain patch file is one ChangeSet, reviewed on its own against the tree; several patch files
 *    are independent reviews;
 *  - an mbox holding a series gives one ChangeSet per patch, each applied on top of the previous
 *    ones in an in-memory overlay of the tree, so patch 2 sees patch 1's result (cover letters
 *    "[PATCH 0/N]" and replies "Re: ..." are ignored);
 *  - with `tree`, pre-images come from the exact blobs the patch's `index` lines name when the tree is
 *    a git repository that has them (blobs.ts), else from the tree's files (through the overlay), and
 *    post-images from applying the hunks with offsets and fuzz (apply.ts; complete: true); without it, sparse images built from the hunks (complete: false);
 *  - `{ gitRange, cwd }` gives one ChangeSet per commit (see git.ts);
 *  - binary diffs and files other than .c/.h are `skipped` entries; a valid patch that changes no C
 *    file is not an error (nothingToReview() says so); only inputs with no file change at all are.
 * Nothing is ever written to disk. Everything is synchronous (the CLI has nothing to overlap it
 * with, and sync code keeps error paths simple).
 */
import type { ChangeSet, ChangedFile, PatchMail, PreImage, SkippedFile } from '../model.js';
import { applyHunks } from './apply.js';
import { isGitTop, readBlobs, type Blob } from './blobs.js';
import { patchPath, parsePatchLines, type FilePatch } from './diff.js';
import { AlreadyAppliedError, InputError, quoteLine, withContext } from './errors.js';
import { loadGitRange } from './git.js';
import { BINARY_REASON, isReviewedPath, NOT_C_REASON } from './kinds.js';
import { isCoverLetter, isReply, patchName, splitMbox, type MboxMessage } from './mbox.js';
import { TreeReader } from './paths.js';
import { changedFileFromHunks, MAX_SPARSE_LINES, sparseSize } from './sparse.js';
import { decodeLines, DEFAULT_MAX_BYTES, joinLines } from './text.js';

/** A patch file or stdin (`name` is shown in messages), or a commit range of a local repository. */
export type PatchInput = { name: string; content: Buffer } | { gitRange: string; cwd: string };

export interface LoadOptions {
  /** Source tree the patches apply to (--tree): gives complete pre/post images. */
  tree?: string;
  /** Size cap for each input and each file read (--max-bytes); default 32 MiB. */
  maxBytes?: number;
}

/**
 * Turns inputs into ChangeSets, in input order (and series / commit order within an input).
 * Throws InputError for anything wrong with the inputs; the message names the input, and the line,
 * file and hunk at fault when there is one. A valid input that changes no C file is not an error: its
 * ChangeSets have no files, and nothingToReview() says so.
 */
export function loadChangeSets(inputs: readonly PatchInput[], options: LoadOptions = {}): ChangeSet[] {
  const sets: ChangeSet[] = [];
  for (const r of loadEach(inputs, options)) {
    if ('error' in r) throw r.error;
    sets.push(...r.sets);
  }
  if (sets.every((s) => s.files.length === 0) && sets.every((s) => s.skipped.length === 0)) {
    throw new InputError(`nothing to review: no change to a .c or .h file in ${inputs.length === 1 ? 'the input' : `the ${inputs.length} inputs`}`);
  }
  return sets;
}

/** What one input gave: its ChangeSets, or the InputError that says what is wrong with it. */
export type LoadedInput = { input: PatchInput; sets: ChangeSet[] } | { input: PatchInput; error: InputError };

/**
 * Like loadChangeSets, but input by input: a bad input is reported in its place and the others are still
 * loaded (several patch files are independent reviews). Errors of the options themselves still throw.
 * Every input is parsed first, so the blobs of all patches are read from git in one process.
 */
export function loadEach(inputs: readonly PatchInput[], options: LoadOptions = {}): LoadedInput[] {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new InputError(`--max-bytes: expected a positive number of bytes, got ${maxBytes}`);
  }
  if (inputs.length === 0) throw new InputError('no input: give patch files, - for stdin, or --git A..B');
  const tree = options.tree !== undefined ? new TreeReader(options.tree, maxBytes) : undefined;

  const budget: SparseBudget = { lines: MAX_SPARSE_LINES };
  const parsed: Array<{ input: PatchInput; items: (ChangeSet | ParsedPatch)[] } | { input: PatchInput; error: InputError }> = [];
  for (const input of inputs) {
    try {
      parsed.push({ input, items: 'gitRange' in input ? loadGitRange(input.gitRange, input.cwd, { maxBytes }) : parsePatchFile(input.name, input.content, maxBytes) });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      parsed.push({ input, error: e });
    }
  }
  const all = parsed.flatMap((p) => ('items' in p ? p.items : []));
  const blobs =
    tree && isGitTop(tree.root)
      ? readBlobs(tree.root, all.flatMap((it) => ('series' in it ? it.patches.flatMap((fp) => (fp.oldBlob && isReviewedPath(patchPath(fp)) ? [fp.oldBlob] : [])) : [])), maxBytes)
      : new Map<string, Blob>();
  const overlays = new Map<object, Overlay>();
  return parsed.map((p): LoadedInput => {
    if ('error' in p) return p;
    try {
      const sets: ChangeSet[] = [];
      for (const it of p.items) {
        if (!('series' in it)) {
          sets.push(it);
          continue;
        }
        let overlay = tree && overlays.get(it.series);
        if (tree && !overlay) overlays.set(it.series, (overlay = new Overlay(tree, blobs)));
        const cs = buildChangeSet(it.name, it.where, it.patches, overlay, budget);
        if (it.mail) cs.mail = it.mail;
        cs.patch = it.patches
          .filter((fp) => !fp.binary && isReviewedPath(patchPath(fp)))
          .map((fp) => ({ path: fp.newPath ?? fp.oldPath ?? '', hunks: fp.hunks.map((h) => ({ header: h.header, newStart: h.newStart, lines: h.lines })) }));
        sets.push(cs);
      }
      return { input: p.input, sets };
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      return { input: p.input, error: e };
    }
  });
}

/**
 * "nothing to review: ..." when the change sets change no .c/.h file (docs only, binary only): not bad
 * input, the CLI prints it and exits 0. undefined when there is something to review.
 */
export function nothingToReview(sets: readonly ChangeSet[]): string | undefined {
  if (sets.some((s) => s.files.length > 0)) return undefined;
  const skipped = sets.flatMap((s) => s.skipped);
  const list = skipped.slice(0, 10).map((s) => `${s.path} (${s.reason})`);
  if (skipped.length > 10) list.push(`and ${skipped.length - 10} more`);
  return `nothing to review: no change to a .c or .h file${list.length ? `; skipped: ${list.join('; ')}` : ''}`;
}

/** What budgets the sparse images of this load: what is left of MAX_SPARSE_LINES. */
interface SparseBudget {
  lines: number;
}

/** One parsed patch; the patches of one input share `series` (one overlay: each sees the previous). */
interface ParsedPatch {
  name: string;
  where: string;
  patches: FilePatch[];
  series: object;
  mail?: PatchMail;
}

/** One patch file: an mbox series (one ParsedPatch per patch) or a plain diff (one ParsedPatch). */
function parsePatchFile(name: string, content: Buffer, maxBytes: number): ParsedPatch[] {
  const { lines } = decodeLines(name, content, maxBytes);
  const noDiff = `${name}: no diff found (expected "diff --git", "---"/"+++" headers with "@@" hunks, or an mbox of patches)`;
  const messages = splitMbox(name, lines);
  const series = {};
  if (messages === null) {
    const patches = parsePatchLines(name, lines);
    if (patches.length === 0) throw new InputError(noDiff);
    return [{ name, where: name, patches, series }];
  }

  const out: ParsedPatch[] = [];
  const withoutDiff: typeof messages = [];
  for (const msg of messages) {
    if (isReply(msg.subject)) continue;
    const patches = msg.decoded
      ? parsePatchLines(`${name} (message ${msg.index}, ${msg.decoded.encoding} body decoded)`, msg.decoded.lines)
      : parsePatchLines(name, lines, msg.bodyStart, msg.end);
    if (patches.length === 0) {
      if (!isCoverLetter(msg.subject)) withoutDiff.push(msg);
      continue;
    }
    const csName = patchName(`${name} #${msg.index}`, msg.subject);
    out.push({ name: csName, where: `${name} (${csName})`, patches, series, mail: mailOf(msg) });
  }
  if (out.length === 0) throw new InputError(noDiff);
  const bad = withoutDiff[0];
  if (bad) {
    throw new InputError(
      `${name}:${bad.start + 1}: message ${bad.index} ${quoteLine(bad.subject || '(no subject)')} holds no diff and is not a cover letter ([PATCH 0/N])`,
    );
  }
  return out;
}

/** What a reply to the message needs from its headers. */
function mailOf(msg: MboxMessage): PatchMail {
  const h = msg.headers;
  const mail: PatchMail = { subject: msg.subject };
  const keys = [['from', 'from'], ['to', 'to'], ['cc', 'cc'], ['date', 'date'], ['message-id', 'messageId'], ['references', 'references'], ['in-reply-to', 'inReplyTo']] as const;
  for (const [header, key] of keys) {
    const v = h.get(header);
    if (v) mail[key] = v;
  }
  return mail;
}

/** An in-memory layer over the tree: files as earlier patches of a series left them (null = deleted). */
class Overlay {
  private readonly files = new Map<string, string | null>();

  constructor(
    readonly tree: TreeReader,
    private readonly blobs: ReadonlyMap<string, Blob>,
  ) {}

  /** The pre-image of `path`: as an earlier patch of the series left it, else the patch's blob, else the tree's file. */
  preImage(path: string, blob: string | undefined): { text: string | null; source: PreImage['source']; blob?: string } {
    if (this.files.has(path)) return { text: this.files.get(path)!, source: 'series' };
    const b = blob !== undefined ? this.blobs.get(blob) : undefined;
    if (b) return { text: joinLines(b.file.lines, b.file.finalNewline), source: 'blob', blob: b.id };
    return { text: this.read(path), source: 'tree' };
  }

  read(path: string): string | null {
    if (this.files.has(path)) return this.files.get(path)!;
    const f = this.tree.read(path);
    return f && joinLines(f.lines, f.finalNewline);
  }

  set(path: string, text: string | null): void {
    this.files.set(path, text);
  }

  /** True when an earlier patch of the series deleted or renamed `path` away. */
  removedEarlier(path: string): boolean {
    return this.files.get(path) === null;
  }
}

/** One ChangeSet from the parsed files of one patch. `where` prefixes error messages. */
function buildChangeSet(name: string, where: string, patches: readonly FilePatch[], overlay: Overlay | undefined, budget: SparseBudget): ChangeSet {
  const files: ChangedFile[] = [];
  const skipped: SkippedFile[] = [];
  const preImages: PreImage[] = [];
  const seen = new Set<string>();
  if (!overlay) {
    // Checked for the whole patch before building anything, so a forged patch fails at once.
    for (const fp of patches) if (!fp.binary && isReviewedPath(patchPath(fp))) budget.lines -= sparseSize(fp);
    if (budget.lines < 0) {
      throw new InputError(
        `${where}: the hunks' line numbers add up to more than ${MAX_SPARSE_LINES} lines of reconstructed files ` +
          `(hunk headers name implausibly high lines); review with --tree, or fewer patches at a time`,
      );
    }
  }
  for (const fp of patches) {
    const path = patchPath(fp);
    if (seen.has(path)) throw new InputError(`${where}: ${path} is patched twice in the same patch (again at input line ${fp.inputLine})`);
    seen.add(path);
    if (fp.binary) skipped.push({ path, reason: BINARY_REASON });
    else if (!isReviewedPath(path)) skipped.push({ path, reason: NOT_C_REASON });
    else if (fp.status === 'modified' && fp.hunks.length === 0) {
      skipped.push({ path, reason: fp.oldMode !== fp.newMode ? 'mode change only, no content change' : 'no content change' });
    } else if (overlay) files.push(applyToOverlay(fp, overlay, where, preImages));
    else files.push(changedFileFromHunks(fp));
  }
  return { name, files, skipped, ...(overlay ? { preImages } : {}) };
}

/** Applies one file's hunks to the overlay and returns it as a complete ChangedFile. */
function applyToOverlay(fp: FilePatch, overlay: Overlay, where: string, preImages: PreImage[]): ChangedFile {
  const hint = `(--tree must be the source the patch applies to: ${overlay.tree.root})`;
  const found = withContext(where, () => (fp.oldPath !== null ? overlay.preImage(fp.oldPath, fp.oldBlob) : { text: null, source: 'none' as const }));
  const pre = found.text;
  if (fp.oldPath !== null && pre === null) {
    if (overlay.removedEarlier(fp.oldPath)) {
      throw new InputError(`${where}: ${fp.oldPath}: an earlier patch of the series deleted or renamed it, but this patch changes it`);
    }
    throw new InputError(`${where}: ${fp.oldPath}: not found in the tree, but the patch ${fp.status === 'modified' ? 'modifies' : fp.status === 'deleted' ? 'deletes' : `${fp.status === 'renamed' ? 'renames' : 'copies'}`} it ${hint}`);
  }
  if (fp.newPath !== null && fp.newPath !== fp.oldPath && withContext(where, () => overlay.read(fp.newPath!)) !== null) {
    throw new InputError(`${where}: ${fp.newPath}: already exists in the tree, but the patch creates it ${hint}`);
  }
  const res = withContext(where, () => applyHunks(patchPath(fp), pre ?? '', fp.hunks));
  if (found.source === 'blob' && fp.oldPath !== null) {
    // The blob is the patch's base; the working tree may already hold the patch (merged since): say so.
    const current = withContext(where, () => overlay.read(fp.oldPath!));
    if (current !== null && current !== pre) {
      try {
        applyHunks(patchPath(fp), current, fp.hunks);
      } catch (e) {
        if (e instanceof AlreadyAppliedError) throw new AlreadyAppliedError(`${where}: ${e.message} ${hint.replace('must be the source the patch applies to', 'is')}`);
      }
    }
  }
  preImages.push({ path: patchPath(fp), source: found.source, ...(found.blob ? { blob: found.blob } : {}), hunks: res.placements });
  if (fp.status === 'deleted' && res.text !== '') {
    throw new InputError(`${where}: ${fp.oldPath}: the patch deletes the file but some of the tree's lines would remain: the tree's copy differs from the patch's`);
  }
  if (fp.oldPath !== null && (fp.status === 'renamed' || fp.status === 'deleted')) overlay.set(fp.oldPath, null);
  if (fp.newPath !== null) overlay.set(fp.newPath, res.text);
  return {
    oldPath: fp.oldPath,
    newPath: fp.newPath,
    oldText: pre ?? '',
    newText: fp.newPath !== null ? res.text : '',
    addedLines: res.addedLines,
    removedLines: res.removedLines,
    complete: true,
  };
}
