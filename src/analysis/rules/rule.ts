/**
 * The rule framework. One file per rule, like ESLint and Ruff: metadata, the user-facing doc that
 * `kmap-review explain RULE` prints, and a `check` over one function. Rules report through the context;
 * the engine adds fingerprints, decides what is pre-existing and applies configured severities.
 */
import type { CFunction } from '../source/functions.js';
import type { CalleeSummaries } from '../summaries/context.js';
import type { Via } from '../context/sites.js';
import type { KmapApi } from '../kmap-api.js';
import type { Fix, LineRange, Severity, TraceStep } from '../model.js';
import type { SyntaxNode } from '../syntax/ast.js';

export interface RuleMeta {
  /** Public, stable id (part of the interface: config files and suppressions name it). */
  id: string;
  severity: Severity;
  /** One line, shown in listings and check-run summaries. */
  summary: string;
  /**
   * Markdown shown to users: what it finds, why it is wrong, an example, the fix. Sections are
   * `## What it finds`, `## Why it matters`, `## Example`, `## Fix`.
   */
  doc: string;
  /** What the rule is for, beyond reviewing patches (absent: reviews only; see RuleTraits). */
  traits?: RuleTraits;
}

/**
 * Where a rule runs besides patch reviews. The tree scan, the converter and the classification read these
 * instead of keeping lists of rule ids.
 */
export interface RuleTraits {
  /** Finds bugs in code as it is, without a "before": run by `scan` on a tree's existing mapping code. */
  existingCode?: boolean;
  /** Does not judge a conversion: its findings on converted code neither refuse nor block it (leftovers, hints). */
  notAVerdict?: boolean;
  /** A finding on converted code means the mapping escapes its thread: the site is `blocked`, not `needs-care`. */
  blocksConversion?: boolean;
  /**
   * Its findings are about the kmap_local stack or a mapping's lifetime (replay/query.ts violationsOf): in a
   * kernel without HIGHMEM kmap_local_page() is page_address() and kunmap_local() undoes nothing, so they are
   * cleanups there. Such findings become warnings on architectures without HIGHMEM (the rule's Reach) and,
   * with a tree, in files its Kconfig builds only without HIGHMEM (kconfig/apply.ts).
   */
  cleanupWithoutHighmem?: boolean;
}

/** What a rule reports; the engine fills in path, severity, fingerprint and pre-existing. */
export interface RuleReport {
  /** The node the finding is about: its lines become line/endLine, its text part of the fingerprint. */
  node: SyntaxNode;
  /** What is wrong, in one line of at most ~120 characters. */
  message: string;
  /** Why it matters and how to fix it: a few short lines, shown below the message. */
  detail?: string;
  trace?: Array<Omit<TraceStep, 'path'>>;
  fix?: Omit<Fix, 'path'> | null;
  /** Extra text for the fingerprint when several findings share a node (e.g. the other variable). */
  key?: string;
  note?: string;
  /** Overrides the rule's default severity for this finding (e.g. a cleanup on a no-HIGHMEM arch). */
  severity?: Severity;
  /**
   * In a sparse function (CFunction.unseen): the unseen stretches the rule judged this finding across ([]
   * when its path crosses none). Absent, the runner takes a finding whose lines span an unseen stretch as
   * depending on it, and records a note instead.
   */
  unseen?: readonly LineRange[];
}

export interface RuleContext {
  fn: CFunction;
  /** Path of the file (post-image path). */
  path: string;
  api: KmapApi;
  /** Which image this run is on: rules on 'pre' help decide what the patch did not introduce. */
  image: 'pre' | 'post';
  /** Whole source text of the image. */
  source: string;
  /** True for lines the patch adds (post image); every line counts as changed in a pre-image run. */
  isChanged(line: number): boolean;
  /** Functions of the same file by name, for summaries across calls. */
  fileFunctions: ReadonlyMap<string, CFunction>;
  /** Callee summaries of the tree the file is in (scan, check --tree, fix); absent: the file's own functions only. */
  callees?: CalleeSummaries;
  /** Without `callees`: collects the other files' callees an atomic section reaches (see CalleeOptions.asks). */
  calleeAsks?: Set<string>;
  /**
   * The other image's version of the same function: in a post-image run, the pre-image function
   * (absent for functions the patch adds, and in pre-image runs). Differential rules compare the two.
   */
  counterpart?: CFunction;
  report(r: RuleReport): void;
  /** Record that a check could not be completed for this function (e.g. replay budget exhausted). */
  gap(reason: string): void;
}

export interface Rule {
  meta: RuleMeta;
  check(ctx: RuleContext): void;
}

/** One table-driven test case: C code of one or more functions, and the findings expected. */
export interface RuleCase {
  name: string;
  code: string;
  /** For invalid cases: expected findings as [line, substring of message]; empty for valid cases. */
  findings?: Array<[number, string]>;
}

/** Where a rule's context sites look for callee summaries (context/sites.ts). */
export function calleeOptions(ctx: RuleContext): { path: string; api: KmapApi; tree?: CalleeSummaries; asks?: Set<string> } {
  return { path: ctx.path, api: ctx.api, ...(ctx.callees ? { tree: ctx.callees } : {}), ...(ctx.calleeAsks ? { asks: ctx.calleeAsks } : {}) };
}

/**
 * The trace step of a fact that comes from a callee: at the base call when it is in this file, else at the
 * call made here, naming the chain and the other file ("copyin() -> raw_copy_from_user(): must not fault").
 */
export function viaStep(ctx: RuleContext, via: Via, callLine: number): { line: number; note: string } {
  const here = via.path === ctx.path;
  return { line: here ? via.line : callLine, note: here ? via.chain : `${via.chain} (${via.path}:${via.line})` };
}
