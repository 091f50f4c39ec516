/**
 * Unified diff parser: `git diff`, `git format-patch` / mail bodies and plain `diff -u` / `diff -ruN`.
 *
 * Why not just `parse-diff`: it is lenient by design (a truncated hunk, a bad header or a rename
 * without content come out as something plausible but wrong), and it cannot say *where* the input is
 * broken. A review tool must refuse a mangled patch loudly, with file and line, rather than report on
 * a guess. So this is a small line-based state machine that validates as it goes:
 *  - hunk bodies must match the line counts of their `@@ -a,b +c,d @@` header exactly;
 *  - hunks must be in order and must not overlap;
 *  - every path in a header is checked for absolute / `..` / NUL (see paths.ts);
 *  - line numbers are capped (MAX_LINE_NUMBER) so a forged header cannot make later steps build
 *    gigantic sparse images.
 * Everything is a single pass over the lines: linear time, no backtracking regexes.
 *
 * Text outside diffs (commit messages, diffstats, `-- ` signatures, mail headers) is skipped, like
 * `git apply` does.
 */
import { InputError, quoteLine } from './errors.js';
import { checkPatchPath } from './paths.js';

export type FileStatus = 'added' | 'deleted' | 'modified' | 'renamed' | 'copied';

export interface HunkLine {
  /** ' ' context, '-' removed (old side only), '+' added (new side only). */
  kind: ' ' | '-' | '+';
  text: string;
}

export interface Hunk {
  /** 1-based position of the hunk within its file's patch, for messages ("hunk 2"). */
  index: number;
  /** The `@@ ... @@` line as written, for messages. */
  header: string;
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: HunkLine[];
  /** `\ No newline at end of file` follows the last old-side line (the pre-image lacks a final newline). */
  oldNoNewline: boolean;
  /** Same for the new side: the post-image lacks a final newline. */
  newNoNewline: boolean;
  /** 1-based line of the header in the input, for messages. */
  inputLine: number;
}

export interface FilePatch {
  /** Path before the change (prefix `a/` stripped); null for an added file. */
  oldPath: string | null;
  /** Path after the change (prefix `b/` stripped); null for a deleted file. */
  newPath: string | null;
  status: FileStatus;
  /** `GIT binary patch` or `Binary files ... differ`: no hunks, never analysed. */
  binary: boolean;
  hunks: Hunk[];
  oldMode?: string;
  newMode?: string;
  /** The abbreviated blob ids of git's `index <old>..<new>` line (pre- and post-image), when present. */
  oldBlob?: string;
  newBlob?: string;
  /** 1-based line of the file's first header line in the input. */
  inputLine: number;
}

/**
 * Highest line number a hunk header may name. Kernel sources stay far below it (the largest
 * generated register headers are a few hundred thousand lines); the cap keeps a forged
 * `@@ -999999999 ...` from making sparse images allocate gigabytes.
 */
export const MAX_LINE_NUMBER = 2_000_000;

const HUNK_RE = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$/;
const BINARY_FILES_RE = /^Binary files (.+) and (.+) differ$/;
/** GNU `diff -N` writes a missing file as the epoch, not /dev/null. */
const EPOCH_RE = /\t19(?:70-01-01|69-12-31)[ T]/;
/** Lines of a `GIT binary patch` block: `literal N` / `delta N` and base85 data (no spaces). */
const BASE85_RE = /^(?:literal \d+|delta \d+|[A-Za-z][0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]*)$/;

/** Path for a header with a `path` name; the display path of a FilePatch. */
export function patchPath(fp: Pick<FilePatch, 'oldPath' | 'newPath'>): string {
  return (fp.newPath ?? fp.oldPath)!;
}

/**
 * Parses the diffs in lines[start, end) (e.g. one message of an mbox). `name` is the input's name
 * for messages, which read `name:LINE: ...` with LINE the 1-based line in `lines`.
 * Returns [] when the range holds no diff at all (the caller decides whether that is an error).
 */
export function parsePatchLines(
  name: string,
  lines: readonly string[],
  start = 0,
  end = lines.length,
): FilePatch[] {
  return new Parser(name, lines, end).parse(start);
}

class Parser {
  private readonly files: FilePatch[] = [];

  constructor(
    private readonly name: string,
    private readonly lines: readonly string[],
    private readonly end: number,
  ) {}

  private fail(index: number, message: string): never {
    throw new InputError(`${this.name}:${index + 1}: ${message}`);
  }

  parse(start: number): FilePatch[] {
    const { lines, end } = this;
    let i = start;
    while (i < end) {
      const line = lines[i]!;
      if (line.startsWith('diff --git ')) {
        i = this.parseGitFile(i);
      } else if (line.startsWith('diff --cc ') || line.startsWith('diff --combined ')) {
        this.fail(i, 'combined (merge) diffs are not supported; review the merge against one parent (git diff A B)');
      } else if (
        line.startsWith('--- ') &&
        i + 2 < end &&
        lines[i + 1]!.startsWith('+++ ') &&
        lines[i + 2]!.startsWith('@@')
      ) {
        i = this.parsePlainFile(i);
      } else if (line.startsWith('@@ -') && HUNK_RE.test(line)) {
        // Like git apply: a hunk outside any file's patch means the patch was mangled (e.g. a
        // blank line or text inserted between two hunks); dropping it silently would hide changes.
        this.fail(i, `hunk ${quoteLine(line)} is not attached to a file: the lines before it are not part of a file's patch (blank or foreign lines between hunks?)`);
      } else if (line.startsWith('Binary files ') && BINARY_FILES_RE.test(line)) {
        this.parsePlainBinary(i);
        i++;
      } else {
        i++;
      }
    }
    return this.files;
  }

  /** A `diff --git` file: extended headers, then `---`/`+++` and hunks, or a binary patch, or nothing. */
  private parseGitFile(first: number): number {
    const { lines, end } = this;
    const where = `${this.name}:${first + 1}`;
    const names = gitHeaderNames(lines[first]!.slice('diff --git '.length));
    let i = first + 1;
    let status: FileStatus | undefined;
    let oldMode: string | undefined;
    let newMode: string | undefined;
    let renameFrom: string | undefined;
    let renameTo: string | undefined;
    let copyFrom: string | undefined;
    let copyTo: string | undefined;
    let binary = false;
    let oldBlob: string | undefined;
    let newBlob: string | undefined;
    const value = (l: string, prefix: string) => unquotePath(l.slice(prefix.length), this.name, i);
    for (; i < end; i++) {
      const l = lines[i]!;
      if (l.startsWith('old mode ')) oldMode = l.slice(9);
      else if (l.startsWith('new mode ')) newMode = l.slice(9);
      else if (l.startsWith('deleted file mode ')) {
        status = 'deleted';
        oldMode = l.slice(18);
      } else if (l.startsWith('new file mode ')) {
        status = 'added';
        newMode = l.slice(14);
      } else if (l.startsWith('rename from ')) renameFrom = value(l, 'rename from ');
      else if (l.startsWith('rename to ')) renameTo = value(l, 'rename to ');
      else if (l.startsWith('rename old ')) renameFrom = value(l, 'rename old ');
      else if (l.startsWith('rename new ')) renameTo = value(l, 'rename new ');
      else if (l.startsWith('copy from ')) copyFrom = value(l, 'copy from ');
      else if (l.startsWith('copy to ')) copyTo = value(l, 'copy to ');
      else if (l.startsWith('index ')) {
        const m = /^index ([0-9a-f]{4,64})\.\.([0-9a-f]{4,64})(?: [0-7]{6})?$/.exec(l);
        if (m) [oldBlob, newBlob] = [m[1]!, m[2]!];
      } else if (l.startsWith('similarity index ') || l.startsWith('dissimilarity index ')) {
        /* informational */
      } else if (l.startsWith('Binary files ') && l.endsWith(' differ')) {
        binary = true;
        i++;
        break;
      } else if (l === 'GIT binary patch') {
        binary = true;
        i++;
        while (i < end && (lines[i] === '' || BASE85_RE.test(lines[i]!))) i++;
        break;
      } else break;
    }

    let minus: string | null | undefined;
    let plus: string | null | undefined;
    if (!binary && i < end && lines[i]!.startsWith('--- ')) {
      if (i + 1 >= end || !lines[i + 1]!.startsWith('+++ ')) this.fail(i + 1, "expected a '+++ ' line after the '--- ' line");
      minus = stripPrefix(headerPath(lines[i]!.slice(4), this.name, i), 'a/');
      plus = stripPrefix(headerPath(lines[i + 1]!.slice(4), this.name, i + 1), 'b/');
      i += 2;
    } else if (!binary && i < end && lines[i]!.startsWith('@@')) {
      this.fail(i, "hunk without '--- a/...' and '+++ b/...' lines before it");
    }

    let oldPath: string | null;
    let newPath: string | null;
    if (renameFrom !== undefined || renameTo !== undefined) {
      if (renameFrom === undefined || renameTo === undefined) this.fail(first, "'rename from' without 'rename to' (or the reverse)");
      [oldPath, newPath, status] = [renameFrom, renameTo, 'renamed'];
    } else if (copyFrom !== undefined || copyTo !== undefined) {
      if (copyFrom === undefined || copyTo === undefined) this.fail(first, "'copy from' without 'copy to' (or the reverse)");
      [oldPath, newPath, status] = [copyFrom, copyTo, 'copied'];
    } else if (minus !== undefined && plus !== undefined) {
      [oldPath, newPath] = [minus, plus];
      if (oldPath === null) status = 'added';
      else if (newPath === null) status = 'deleted';
    } else {
      if (!names) this.fail(first, `cannot tell the file names from ${quoteLine(lines[first]!)}`);
      oldPath = status === 'added' ? null : names[0];
      newPath = status === 'deleted' ? null : names[1];
    }
    if (oldPath === null && newPath === null) this.fail(first, 'both sides of the diff are /dev/null');
    status ??= 'modified';
    if (status === 'added') oldPath = null;
    if (status === 'deleted') newPath = null;
    for (const p of [oldPath, newPath]) if (p !== null) checkPatchPath(p, where);

    const fp: FilePatch = { oldPath, newPath, status, binary, hunks: [], inputLine: first + 1 };
    if (oldMode !== undefined) fp.oldMode = oldMode;
    if (newMode !== undefined) fp.newMode = newMode;
    if (oldBlob !== undefined && !/^0+$/.test(oldBlob)) fp.oldBlob = oldBlob;
    if (newBlob !== undefined && !/^0+$/.test(newBlob)) fp.newBlob = newBlob;
    if (minus !== undefined) i = this.parseHunks(fp, i);
    this.files.push(fp);
    return i;
  }

  /** A plain `diff -u` file: `--- old`, `+++ new`, hunks. */
  private parsePlainFile(first: number): number {
    const { lines } = this;
    const minusRaw = lines[first]!.slice(4);
    const plusRaw = lines[first + 1]!.slice(4);
    let [oldName, newName] = stripPlainPrefixes(headerPath(minusRaw, this.name, first), headerPath(plusRaw, this.name, first + 1));
    // Prefixes are decided on both names first: an epoch-dated side still shows the directory layout.
    if (EPOCH_RE.test(minusRaw)) oldName = null;
    if (EPOCH_RE.test(plusRaw)) newName = null;
    if (oldName === null && newName === null) this.fail(first, 'both sides of the diff are /dev/null');
    const status: FileStatus = oldName === null ? 'added' : newName === null ? 'deleted' : 'modified';
    // Like patch(1), a plain diff modifies one file: the new name (`foo.c.orig` -> `foo.c` is not a rename).
    if (status === 'modified') oldName = newName;
    for (const p of [oldName, newName]) if (p !== null) checkPatchPath(p, `${this.name}:${first + 1}`);
    const fp: FilePatch = { oldPath: oldName, newPath: newName, status, binary: false, hunks: [], inputLine: first + 1 };
    const next = this.parseHunks(fp, first + 2);
    this.files.push(fp);
    return next;
  }

  /** `Binary files x and y differ` from `diff -r` (no git header). */
  private parsePlainBinary(i: number): void {
    const m = BINARY_FILES_RE.exec(this.lines[i]!)!;
    let a: string | null = m[1] === '/dev/null' ? null : m[1]!;
    let b: string | null = m[2] === '/dev/null' ? null : m[2]!;
    [a, b] = stripPlainPrefixes(a, b);
    if (a === null && b === null) this.fail(i, 'both sides of the diff are /dev/null');
    const status: FileStatus = a === null ? 'added' : b === null ? 'deleted' : 'modified';
    if (status === 'modified') a = b;
    for (const p of [a, b]) if (p !== null) checkPatchPath(p, `${this.name}:${i + 1}`);
    this.files.push({ oldPath: a, newPath: b, status, binary: true, hunks: [], inputLine: i + 1 });
  }

  /** Parses the hunks starting at lines[i] into fp.hunks; returns the index after the last one. */
  private parseHunks(fp: FilePatch, i: number): number {
    const { lines, end } = this;
    const path = patchPath(fp);
    while (i < end && lines[i]!.startsWith('@@')) {
      const hunk = this.parseHunkHeader(fp, path, i);
      i = this.parseHunkBody(path, hunk, i + 1);
      const prev = fp.hunks[fp.hunks.length - 1];
      if (prev && (hunkIndex(hunk, 'old') < hunkIndex(prev, 'old') + prev.oldLines || hunkIndex(hunk, 'new') < hunkIndex(prev, 'new') + prev.newLines)) {
        this.fail(hunk.inputLine - 1, `${path}: hunk ${hunk.index} (${hunk.header}) starts before hunk ${prev.index} ends; hunks must be in order and must not overlap`);
      }
      fp.hunks.push(hunk);
      // A hunk line right after a complete hunk means the body is longer than its header says.
      // (`-- ` signatures, `--- ` headers and `--boundary` MIME lines are not hunk lines.)
      if (i < end) {
        const l = lines[i]!;
        if ((l.startsWith('+') && !l.startsWith('+++ ')) || (l.startsWith('-') && !l.startsWith('--')) || l.startsWith(' ')) {
          this.fail(i, `${path}: hunk ${hunk.index} (${hunk.header}) has more lines than its header says (-${hunk.oldLines} +${hunk.newLines}): unexpected ${quoteLine(l)}`);
        }
      }
    }
    if (fp.status === 'added' && fp.hunks.some((h) => h.oldLines > 0)) {
      this.fail(fp.inputLine - 1, `${path}: the patch adds this file but a hunk has old lines`);
    }
    if (fp.status === 'deleted' && fp.hunks.some((h) => h.newLines > 0)) {
      this.fail(fp.inputLine - 1, `${path}: the patch deletes this file but a hunk has new lines`);
    }
    return i;
  }

  private parseHunkHeader(fp: FilePatch, path: string, i: number): Hunk {
    const line = this.lines[i]!;
    const m = HUNK_RE.exec(line);
    if (!m) {
      if (line.startsWith('@@@')) this.fail(i, `${path}: combined (merge) diff hunks are not supported`);
      this.fail(i, `${path}: malformed hunk header ${quoteLine(line)} (expected "@@ -OLD,COUNT +NEW,COUNT @@")`);
    }
    const num = (s: string | undefined, dflt: number): number => {
      if (s === undefined) return dflt;
      if (s.length > 9) this.fail(i, `${path}: hunk header ${quoteLine(line)} has an implausible line number ${s}`);
      return Number(s);
    };
    const header = line.length > 120 ? `${line.slice(0, 120)}...` : line;
    const h: Hunk = {
      index: fp.hunks.length + 1,
      header,
      oldStart: num(m[1], 0),
      oldLines: num(m[2], 1),
      newStart: num(m[3], 0),
      newLines: num(m[4], 1),
      lines: [],
      oldNoNewline: false,
      newNoNewline: false,
      inputLine: i + 1,
    };
    for (const [start, count, side] of [[h.oldStart, h.oldLines, '-'], [h.newStart, h.newLines, '+']] as const) {
      if (start === 0 && count !== 0) this.fail(i, `${path}: malformed hunk header ${quoteLine(line)}: ${side}0 with a non-zero line count`);
      if (start + count > MAX_LINE_NUMBER) {
        this.fail(i, `${path}: hunk header ${quoteLine(line)} names line ${start + count - 1}, over the limit of ${MAX_LINE_NUMBER} lines`);
      }
    }
    return h;
  }

  /** Reads exactly the number of old/new lines the header announced, plus `\ No newline` markers. */
  private parseHunkBody(path: string, h: Hunk, i: number): number {
    const { lines, end } = this;
    const what = `${path}: hunk ${h.index} (${h.header})`;
    let o = 0;
    let n = 0;
    const mismatch = (j: number, l: string): never =>
      this.fail(j, `${what}: body does not match the header's line counts (-${h.oldLines} +${h.newLines}): ${quoteLine(l)} comes after ${o} old and ${n} new lines`);
    while (o < h.oldLines || n < h.newLines) {
      if (i >= end) {
        this.fail(end - 1, `${what} is truncated: the header says ${h.oldLines} old and ${h.newLines} new lines, the input ends after ${o} old and ${n} new`);
      }
      const l = lines[i]!;
      // An empty line is an empty context line whose leading space was lost (mailers, editors); git apply accepts it too.
      const kind = l === '' ? ' ' : l[0];
      if (kind === ' ') {
        if (o >= h.oldLines || n >= h.newLines) mismatch(i, l);
        o++;
        n++;
      } else if (kind === '-') {
        if (o >= h.oldLines) mismatch(i, l);
        o++;
      } else if (kind === '+') {
        if (n >= h.newLines) mismatch(i, l);
        n++;
      } else if (kind === '\\') {
        this.noNewline(h, i, what);
        i++;
        continue;
      } else {
        this.fail(i, `${what} is truncated: the header says ${h.oldLines} old and ${h.newLines} new lines, but after ${o} old and ${n} new comes ${quoteLine(l)}`);
      }
      h.lines.push({ kind, text: l.slice(1) });
      i++;
    }
    if (i < end && lines[i]!.startsWith('\\')) {
      this.noNewline(h, i, what);
      i++;
    }
    return i;
  }

  /** `\ No newline at end of file` (the text is localised, so only the backslash counts). */
  private noNewline(h: Hunk, i: number, what: string): void {
    const last = h.lines[h.lines.length - 1];
    if (!last) this.fail(i, `${what}: '\\ No newline at end of file' before any line`);
    if (last.kind !== '+') h.oldNoNewline = true;
    if (last.kind !== '-') h.newNoNewline = true;
  }
}

/** 0-based index of the first line of a hunk's side (for a 0-line side, the line it inserts before). */
export function hunkIndex(h: Hunk, side: 'old' | 'new'): number {
  const [start, count] = side === 'old' ? [h.oldStart, h.oldLines] : [h.newStart, h.newLines];
  return count === 0 ? start : start - 1;
}

function stripPrefix(p: string | null, prefix: string): string | null {
  return p !== null && p.startsWith(prefix) ? p.slice(prefix.length) : p;
}

/**
 * Prefixes of a plain diff: `a/`+`b/` are stripped; otherwise, when both names have a first
 * directory and those differ (`linux.orig/` vs `linux/`), one component is stripped (patch -p1, the
 * kernel convention); otherwise the names are kept as they are.
 */
function stripPlainPrefixes(a: string | null, b: string | null): [string | null, string | null] {
  if (a === null || b === null) {
    return [stripPrefix(a, 'a/'), stripPrefix(b, 'b/')];
  }
  if (a.startsWith('a/') && b.startsWith('b/')) return [a.slice(2), b.slice(2)];
  const ia = a.indexOf('/');
  const ib = b.indexOf('/');
  if (ia > 0 && ib > 0 && a.slice(0, ia) !== b.slice(0, ib)) return [a.slice(ia + 1), b.slice(ib + 1)];
  return [a, b];
}

/** The path of a `---`/`+++` line: unquoted, without the tab and timestamp; null for /dev/null. */
function headerPath(raw: string, name: string, i: number): string | null {
  let p: string;
  if (raw.startsWith('"')) p = unquotePath(raw, name, i);
  else {
    const tab = raw.indexOf('\t');
    p = (tab >= 0 ? raw.slice(0, tab) : raw).replace(/\s+$/, '');
  }
  return p === '/dev/null' ? null : p;
}

/** Git C-style quoting ("a/t\303\251st.c"): returns the path, or the raw text when not quoted. */
function unquotePath(raw: string, name: string, i: number): string {
  return raw.startsWith('"') ? parseQuoted(raw, 0, name, i)[0] : raw;
}

/** Parses a quoted string at raw[at]; returns it and the index after the closing quote. */
function parseQuoted(raw: string, at: number, name: string, i: number): [string, number] {
  const bytes: number[] = [];
  const esc: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };
  let k = at + 1;
  while (k < raw.length && raw[k] !== '"') {
    const c = raw[k]!;
    if (c === '\\') {
      const d = raw[k + 1] ?? '';
      if (/[0-7]/.test(d)) {
        const oct = /^[0-7]{1,3}/.exec(raw.slice(k + 1, k + 4))![0];
        bytes.push(parseInt(oct, 8) & 0xff);
        k += 1 + oct.length;
        continue;
      }
      const v = esc[d];
      if (v === undefined) throw new InputError(`${name}:${i + 1}: bad escape \\${d} in quoted path ${quoteLine(raw)}`);
      bytes.push(v);
      k += 2;
    } else {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
      k++;
    }
  }
  if (k >= raw.length) throw new InputError(`${name}:${i + 1}: unterminated quoted path ${quoteLine(raw)}`);
  return [Buffer.from(bytes).toString('utf8'), k + 1];
}

/**
 * Old and new names from `diff --git a/x b/y`, prefixes stripped; null when ambiguous. Only used
 * when no `---`/`+++`/rename line says better (binary files, mode changes, empty new files).
 */
function gitHeaderNames(rest: string): [string, string] | null {
  let a: string;
  let b: string;
  try {
    if (rest.startsWith('"')) {
      const [qa, next] = parseQuoted(rest, 0, '', 0);
      a = qa;
      const tail = rest.slice(next).replace(/^ /, '');
      b = tail.startsWith('"') ? parseQuoted(tail, 0, '', 0)[0] : tail;
    } else {
      // Both names are normally the same path: split where the halves agree.
      const mid = (rest.length - 1) / 2;
      if (Number.isInteger(mid) && rest[mid] === ' ' && stripPrefix(rest.slice(0, mid), 'a/') === stripPrefix(rest.slice(mid + 1), 'b/')) {
        a = rest.slice(0, mid);
        b = rest.slice(mid + 1);
      } else {
        const sp = rest.indexOf(' b/');
        const sq = rest.indexOf(' "');
        const cut = sp >= 0 ? sp : sq;
        if (cut < 0) return null;
        a = rest.slice(0, cut);
        const tail = rest.slice(cut + 1);
        b = tail.startsWith('"') ? parseQuoted(tail, 0, '', 0)[0] : tail;
      }
    }
  } catch {
    return null;
  }
  return [stripPrefix(a, 'a/')!, stripPrefix(b, 'b/')!];
}
