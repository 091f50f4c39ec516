/** Renders the pull-request review: one inline comment per finding, and the review body. */
import type { Finding } from '../analysis/model.js';
import { SEVERITY_ICON, code, details, fence, fingerprintMarker, location, plural, renderTrace, truncate } from './markdown.js';

/** What the renderers need to know about a rule (from the engine's rule registry). */
export interface RuleInfo {
  id: string;
  summary: string;
  doc: string;
}
export type RuleLookup = (id: string) => RuleInfo | undefined;

/** A comment body stays well below GitHub's 65,536-character limit. */
const COMMENT_LIMIT = 60_000;

export interface InlineCommentOptions {
  rule?: RuleInfo;
  /** The replacement for the commented lines, when the finding's fix fits them exactly. */
  suggestion?: string;
  /** Extra paragraph (e.g. "the finding spans lines 40-52; commented on the first line in the diff"). */
  note?: string;
}

export function renderInlineComment(f: Finding, opts: InlineCommentOptions = {}): string {
  const parts: string[] = [];
  parts.push(`${SEVERITY_ICON[f.severity]} **kmap-review** ${code(f.rule)} (${f.severity}): ${f.message}`);
  if (f.detail) parts.push(f.detail);
  if (f.note) parts.push(`> ${f.note.replace(/\n/g, '\n> ')}`);
  if (opts.note) parts.push(opts.note);
  if (f.trace.length > 0) parts.push(`**Trace**\n\n${renderTrace(f)}`);
  if (opts.suggestion !== undefined) {
    parts.push(`**Suggested fix**: ${f.fix?.description ?? ''}\n\n${fence(opts.suggestion, 'suggestion')}`);
  } else if (f.fix) {
    parts.push(`**Fix**: ${f.fix.description}${renderEdits(f)}`);
  }
  if (opts.rule) {
    parts.push(details(`Why ${code(f.rule)}? ${opts.rule.summary}`, opts.rule.doc));
  }
  const marker = fingerprintMarker(f.fingerprint);
  return truncate(parts.join('\n\n'), COMMENT_LIMIT - marker.length - 1, '*(comment truncated)*') + '\n' + marker;
}

function renderEdits(f: Finding): string {
  if (!f.fix || f.fix.edits.length === 0) return '';
  const blocks = f.fix.edits.map((e) => {
    const where = e.startLine === e.endLine ? `line ${e.startLine}` : `lines ${e.startLine}-${e.endLine}`;
    return `${code(f.fix!.path)} ${where} becomes:\n\n${fence(e.replacement, 'c')}`;
  });
  return `\n\n${blocks.join('\n\n')}`;
}

export interface ReviewBodyInput {
  headSha: string;
  newComments: Finding[];
  /** Findings of this run not commented inline (outside the diff, over the cap): see the check run. */
  notInline: number;
  checkRunUrl?: string;
}

export function renderReviewBody(input: ReviewBodyInput): string {
  const errors = input.newComments.filter((f) => f.severity === 'error').length;
  const warnings = input.newComments.filter((f) => f.severity === 'warning').length;
  const notices = input.newComments.length - errors - warnings;
  const counts = [
    errors ? plural(errors, 'error') : '',
    warnings ? plural(warnings, 'warning') : '',
    notices ? plural(notices, 'notice') : '',
  ].filter(Boolean);
  const lines = [
    `**kmap-review** found ${counts.join(', ')} in the kmap conversion at ${code(input.headSha.slice(0, 12))}: ` +
      `${plural(input.newComments.length, 'new inline comment')} below.`,
  ];
  if (input.notInline > 0) {
    const where = input.checkRunUrl ? `[the check run](${input.checkRunUrl})` : 'the `kmap-review` check run';
    lines.push(`${plural(input.notInline, 'other finding')} ${input.notInline === 1 ? 'is' : 'are'} listed in ${where} (outside the diff or over the comment cap).`);
  }
  lines.push('Comment `/kmap-review help` for commands.');
  return lines.join('\n\n');
}

/** Reply posted on a thread when the thread cannot be resolved through GraphQL. */
export function renderFixedReply(f: { rule: string; path: string }, headSha: string): string {
  return `✅ Fixed in ${code(headSha.slice(0, 12))}: ${code(f.rule)} no longer reported in ${code(f.path)}.`;
}

/** One line for the summary of a finding that was not commented inline. */
export function summaryLine(f: Finding): string {
  return `${SEVERITY_ICON[f.severity]} ${code(location(f))} ${code(f.rule)}: ${f.message}`;
}
