/**
 * Runs the rules on one function of one image: builds each rule's context, turns its reports into
 * findings with fingerprints and severities, and records what could not be checked. The engine, the
 * converter's verification and the tree scan all run rules through here.
 */
import { createHash } from 'node:crypto';
import type { KmapApi } from '../kmap-api.js';
import type { CalleeSummaries } from '../summaries/context.js';
import type { AnalysisGap, EngineConfig, Finding, Severity } from '../model.js';
import type { CFunction } from '../source/functions.js';
import { unseenJudgement } from '../replay/replay.js';
import { unseenBetween, unseenWords } from '../source/sparse.js';
import { normalizedText, type SyntaxNode } from '../syntax/ast.js';
import { allRules } from './index.js';
import type { Rule, RuleContext, RuleReport, RuleTraits } from './rule.js';

export interface ActiveRule {
  rule: Rule;
  severity: Severity;
}

/**
 * Statements nested deeper than this are not analysed: the analyses walk syntax recursively, and real
 * kernel code stays far below (the deepest function of Linux 6.12 nests about 12 levels).
 */
export const MAX_NESTING = 200;

/** The rules the configuration leaves on, with their severities; `only` keeps the rules with that trait. */
export function activeRules(config: EngineConfig, only?: keyof RuleTraits | ((traits: RuleTraits) => boolean), rules: readonly Rule[] = allRules): ActiveRule[] {
  const keep = typeof only === 'function' ? only : only ? (t: RuleTraits) => !!t[only] : () => true;
  const out: ActiveRule[] = [];
  for (const rule of rules) {
    const setting = config.rules[rule.meta.id];
    if (setting === 'off' || !keep(rule.meta.traits ?? {})) continue;
    out.push({ rule, severity: setting ?? rule.meta.severity });
  }
  return out;
}

/** The rules whose findings on converted code decide whether a conversion is kept. */
export function verifyingRules(config: EngineConfig): ActiveRule[] {
  return activeRules(config, (t) => !t.notAVerdict);
}

/** How deeply `root` nests, counted without recursion; stops counting past `limit`. */
export function nestingDepth(root: SyntaxNode, limit = MAX_NESTING): number {
  let max = 0;
  // Two parallel stacks, not a pair per node: every analysed function's whole tree is walked.
  const nodes: SyntaxNode[] = [root];
  const depths: number[] = [0];
  while (nodes.length) {
    const n = nodes.pop()!;
    const d = depths.pop()!;
    if (d > max) max = d;
    if (max > limit) return max;
    const cs = n.children;
    for (let i = 0; i < cs.length; i++) {
      nodes.push(cs[i]);
      depths.push(d + 1);
    }
  }
  return max;
}

export interface CheckOptions {
  path: string;
  source: string;
  image: 'pre' | 'post';
  isChanged: (line: number) => boolean;
  api: KmapApi;
  rules: ActiveRule[];
  fileFunctions: ReadonlyMap<string, CFunction>;
  /** See RuleContext.callees and calleeAsks. */
  callees?: CalleeSummaries;
  calleeAsks?: Set<string>;
  gaps?: AnalysisGap[];
  /** In a post-image run, the pre-image version of `fn` (see RuleContext.counterpart). */
  counterpart?: CFunction;
}

/** Why a function too deep to analyse is not (the gap checkFunction() reports, and a conversion's refusal). */
export const TOO_DEEP = `nested more than ${MAX_NESTING} levels deep: not analysed`;

/**
 * Syntax deeper than the analyses can walk (they recurse): no rule runs on it, and nothing is claimed about
 * it. (The nesting of a function's syntax tree is about four nodes per block level.)
 */
export function tooDeepToAnalyse(fn: CFunction): boolean {
  // Asked by the verifier and again by checkFunction() of the same converted function: one walk.
  let deep = tooDeep.get(fn.node);
  if (deep === undefined) tooDeep.set(fn.node, (deep = nestingDepth(fn.node, MAX_NESTING * 4) > MAX_NESTING * 4));
  return deep;
}
const tooDeep = new WeakMap<SyntaxNode, boolean>();

/** Runs rules on one function of one image and returns findings without pre-existing marks. */
export function checkFunction(fn: CFunction, opts: CheckOptions): Finding[] {
  const findings: Finding[] = [];
  // Say so instead of failing the review.
  if (tooDeepToAnalyse(fn)) {
    opts.gaps?.push({ path: opts.path, function: fn.name, reason: TOO_DEEP });
    return findings;
  }
  const seen = new Map<string, number>();
  for (const { rule, severity } of opts.rules) {
    const ctx: RuleContext = {
      fn,
      path: opts.path,
      api: opts.api,
      image: opts.image,
      source: opts.source,
      isChanged: opts.isChanged,
      fileFunctions: opts.fileFunctions,
      ...(opts.callees ? { callees: opts.callees } : {}),
      ...(opts.calleeAsks ? { calleeAsks: opts.calleeAsks } : {}),
      ...(opts.counterpart ? { counterpart: opts.counterpart } : {}),
      report: (r: RuleReport) => {
        // A sparse function: what the replay (or the rule) decided about the unseen lines, else the
        // finding's own lines. A rule that says what it crossed has judged it (mismatched-unmap).
        const across = !fn.unseen?.length ? [] : r.unseen ?? unseenJudgement(r.node, rule.meta.id, r.key) ?? unseenBetween(fn, [r.node.line, r.node.endLine, ...(r.trace ?? []).map((t) => t.line)]);
        if (r.unseen === undefined && across.length) {
          // Evidence on both sides of lines the patch does not show: those lines may change everything between.
          opts.gaps?.push({ path: opts.path, function: fn.name, reason: `${rule.meta.id}: line ${r.node.line}: not reported, as it depends on ${unseenWords(across)}, which the patch does not show: ${r.message}` });
          return;
        }
        findings.push(toFinding(rule, r.severity ?? severity, r, fn, opts.path, seen));
      },
      gap: (reason: string) => opts.gaps?.push({ path: opts.path, function: fn.name, reason: `${rule.meta.id}: ${reason}` }),
    };
    rule.check(ctx);
  }
  return findings;
}

function toFinding(rule: Rule, severity: Severity, r: RuleReport, fn: CFunction, path: string, seen: Map<string, number>): Finding {
  // Fingerprint: what the finding is about, never where it is, so it survives line shifts and re-runs.
  const basis = [rule.meta.id, path, fn.name, normalizedText(r.node), r.key ?? ''].join('\u0000');
  const n = seen.get(basis) ?? 0;
  seen.set(basis, n + 1);
  const fingerprint = createHash('sha256').update(`${basis}\u0000${n}`).digest('hex').slice(0, 20);
  return {
    rule: rule.meta.id,
    severity,
    path,
    line: r.node.line,
    endLine: r.node.endLine,
    message: r.message,
    ...(r.detail ? { detail: r.detail } : {}),
    trace: (r.trace ?? []).map((t) => ({ path, ...t })),
    fix: r.fix ? { path, ...r.fix } : null,
    function: fn.fragment ? undefined : fn.name,
    preExisting: false,
    fingerprint,
    ...(r.note ? { note: r.note } : {}),
  };
}
