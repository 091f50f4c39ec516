/**
 * The engine's public data model. Everything here is plain data: no GitHub types, no I/O.
 * The CLI and the GitHub App both adapt their inputs to a ChangeSet and render a Report.
 */

export type Severity = 'error' | 'warning' | 'notice';
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'notice'];

/** One step of the evidence behind a finding: "47: vfrom = kmap_local_page(from)". */
export interface TraceStep {
  path: string;
  line: number;
  note: string;
}

/**
 * An exact fix, as whole-line replacements in the post-image: lines startLine..endLine (1-based,
 * inclusive) become `replacement` (which may hold several lines, or be empty to delete them).
 */
export interface LineEdit {
  startLine: number;
  endLine: number;
  replacement: string;
}

export interface Fix {
  description: string;
  path: string;
  edits: LineEdit[];
}

export interface Finding {
  rule: string;
  severity: Severity;
  path: string;
  /** 1-based line range in the post-image (the pre-image for findings on deleted files). */
  line: number;
  endLine: number;
  /** What is wrong, in one line. */
  message: string;
  /** Why it matters and how to fix it, on lines of their own (absent for findings that need no more). */
  detail?: string;
  trace: TraceStep[];
  fix: Fix | null;
  /** The function the finding is in, when there is one. */
  function?: string;
  /** True when the pre-image already had the same finding: not an error of this patch. */
  preExisting: boolean;
  /** Stable across line shifts and re-runs: rule, path, function and the code involved. */
  fingerprint: string;
  /** Extra context a reviewer needs, e.g. "arm64 has no HIGHMEM: a cleanup, not a runtime bug". */
  note?: string;
}

/** A file the patch changes, as the engine sees it. */
export interface ChangedFile {
  /** Path before the change; null when the patch adds the file. */
  oldPath: string | null;
  /** Path after the change; null when the patch deletes the file. */
  newPath: string | null;
  /** Full pre-image text, or the hunks' old lines at their line numbers (blank elsewhere) when !complete. */
  oldText: string;
  /** Full post-image text, or the hunks' new lines at their line numbers when !complete. */
  newText: string;
  /** Post-image line numbers (1-based) that the patch adds. */
  addedLines: ReadonlySet<number>;
  /** Pre-image line numbers (1-based) that the patch removes. */
  removedLines: ReadonlySet<number>;
  /**
   * True when oldText/newText are whole files (from --tree, git or the GitHub API); false when they
   * were reconstructed from the diff's hunks only, so whole-function checks may not have full code.
   */
  complete: boolean;
  /**
   * When !complete: each hunk's lines in each image (null on a side it has no lines on) and the function
   * heading git wrote after its `@@`, so the engine knows which lines are seen and which hunks belong to
   * one function (source/sparse.ts).
   */
  hunks?: readonly SparseHunk[];
}

/** First and last line (1-based, inclusive) of a stretch of an image. */
export interface LineRange {
  from: number;
  to: number;
}

/** One hunk of a file reviewed without its tree: where its lines are in each image. */
export interface SparseHunk {
  old: LineRange | null;
  new: LineRange | null;
  /** The text after the header's second `@@` (git's function context), trimmed; '' when none. */
  heading: string;
}

/** A file that was not analysed, and why (binary, not C, over a size cap, excluded by config...). */
export interface SkippedFile {
  path: string;
  reason: string;
  /** Tree scan: a lexical count of the deprecated calls in the file (kmap-api.ts countDeprecatedCalls), when it could be read. */
  uses?: number;
}

/** Where one hunk of a patch went in the pre-image (--tree): `line` is 1-based, `fuzz` 0 when exact. */
export interface HunkPlacement {
  hunk: number;
  header: string;
  /** The line the hunk header names. */
  statedLine: number;
  /** The line its first line was applied at. */
  line: number;
  /** Context lines ignored at each end of the hunk (0-2, as `patch` does). */
  fuzz: number;
}

/**
 * Which pre-image a file was patched against: the exact blob named by the patch's `index` line (from
 * the --tree git repository), the working tree's file, or an earlier patch of the same series.
 */
export interface PreImage {
  path: string;
  source: 'blob' | 'tree' | 'series' | 'none';
  /** The full blob id, for source 'blob'. */
  blob?: string;
  hunks: HunkPlacement[];
}

/**
 * The mail a patch came in (an mbox or a saved message), for replies: header values as written in the
 * message (display names may be RFC 2047-encoded), `subject` decoded.
 */
export interface PatchMail {
  subject: string;
  from?: string;
  to?: string;
  cc?: string;
  date?: string;
  messageId?: string;
  references?: string;
  inReplyTo?: string;
}

/** A file's hunks as the patch wrote them (for quoting the patch in a review reply). */
export interface PatchFileView {
  path: string;
  hunks: { header: string; newStart: number; lines: { kind: ' ' | '-' | '+'; text: string }[] }[];
}

/** One review unit: a patch, one patch of a series, a git commit range, or a pull request. */
export interface ChangeSet {
  /** Human-readable name: the patch file, "3/7 mm: convert foo", a commit range, "PR #12". */
  name: string;
  files: ChangedFile[];
  skipped: SkippedFile[];
  /** With --tree: where each file's pre-image came from and where its hunks applied. */
  preImages?: PreImage[];
  /** The patch's mail, when it came as one. */
  mail?: PatchMail;
  /** The reviewed files' hunks as written (patch files and mails; not git ranges). */
  patch?: PatchFileView[];
}

/** What the engine could not do for a function: shown to the user, never silently dropped. */
export interface AnalysisGap {
  path: string;
  function?: string;
  reason: string;
}

export interface FileSummary {
  path: string;
  functionsAnalysed: number;
}

export interface Report {
  name: string;
  findings: Finding[];
  files: FileSummary[];
  skipped: SkippedFile[];
  /** Checks that could not run (no pre-image tree, replay budget exhausted, parse failures). */
  gaps: AnalysisGap[];
  /** Passed through from the ChangeSet (see ChangeSet.preImages). */
  preImages?: PreImage[];
}

/** Engine configuration shared by the CLI flags, the CLI config file and .github/kmap-review.yml. */
export interface EngineConfig {
  /** Per-rule severity override, or 'off'. */
  rules: Record<string, Severity | 'off'>;
  /** Out-of-tree wrappers: name -> the kernel API it behaves like (e.g. zfs_kmap_local -> kmap_local_page). */
  mapFunctions: Record<string, string>;
  unmapFunctions: Record<string, string>;
}

export const DEFAULT_CONFIG: EngineConfig = { rules: {}, mapFunctions: {}, unmapFunctions: {} };
