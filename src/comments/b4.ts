/**
 * The JSON `b4 review` reads from a `review-perpatch-check-cmd`: one array of
 * `{"tool", "status": "pass"|"warn"|"fail", "summary", "details"}`, one entry per reviewed patch
 * (b4 runs the command once per patch, so normally one), `[]` when there is nothing to review.
 */
import type { Report } from '../analysis/model.js';
import { countFindings, renderFindingText } from './text.js';

export interface B4Result {
  tool: 'kmap-review';
  status: 'pass' | 'warn' | 'fail';
  summary: string;
  details: string;
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

export function b4Result(r: Report, opts: { includePreExisting?: boolean; notices?: boolean; postLines?: (path: string) => string[] | undefined } = {}): B4Result {
  // As in the checkpatch format: notices only when asked for.
  const shown = r.findings.filter((f) => (!f.preExisting || opts.includePreExisting) && (f.severity !== 'notice' || opts.notices));
  const c = countFindings(shown);
  const status = c.error ? 'fail' : c.warning ? 'warn' : 'pass';
  const functions = r.files.reduce((n, f) => n + f.functionsAnalysed, 0);
  const first = shown.find((f) => f.severity === 'error') ?? shown.find((f) => f.severity === 'warning');
  const summary =
    status === 'pass'
      ? `no kmap issues found (${plural(functions, 'function')} analysed)`
      : `${plural(c.error, 'error')}, ${plural(c.warning, 'warning')}: ${first ? `${first.path}:${first.line}: ${first.message}` : ''}`;
  const details = [
    ...shown.map((f) => renderFindingText(f, opts.postLines)),
    ...r.gaps.map((g) => `${g.path}: note: ${g.function ? g.function + ': ' : ''}${g.reason}`),
  ].join('\n');
  return { tool: 'kmap-review', status, summary, details };
}

/** `postLinesFor(i)`: the post-image lines of report i's patch (for the fixes in `details`). */
export function renderB4(reports: readonly Report[], opts: Omit<NonNullable<Parameters<typeof b4Result>[1]>, 'postLines'> & { postLinesFor?: (i: number) => (path: string) => string[] | undefined } = {}): string {
  const out: B4Result[] = [];
  reports.forEach((r, i) => {
    if (r.files.length > 0) out.push(b4Result(r, { ...opts, ...(opts.postLinesFor ? { postLines: opts.postLinesFor(i) } : {}) }));
  });
  return JSON.stringify(out) + '\n';
}

/** The entry for an input kmap-review could not review (does not apply, malformed...): a failure b4 shows. */
export function renderB4Error(message: string): string {
  const out: B4Result[] = [{ tool: 'kmap-review', status: 'fail', summary: message.split('\n')[0]!, details: message }];
  return JSON.stringify(out) + '\n';
}
