/**
 * checkpatch.pl's terse shape, for b4's `am-perpatch-check-cmd` / `prep-perpatch-check-cmd`: one line per
 * finding the patch introduces, `FILE:LINE: ERROR: message [rule]` (WARNING: for warnings, CHECK: for
 * notices when asked), and nothing at all when the patch is clean. b4 counts every stdout line holding
 * `ERROR:` as a failure and every other line as a warning, so nothing else is ever printed here.
 */
import type { Finding, Report } from '../analysis/model.js';

export interface CheckpatchOptions {
  /** Also print notices (as CHECK:, checkpatch's --strict level). */
  notices?: boolean;
  /** Also print findings the pre-image already had. */
  includePreExisting?: boolean;
}

const LEVEL = { error: 'ERROR', warning: 'WARNING', notice: 'CHECK' } as const;

/** One line, whatever the message holds (b4 reads line by line). */
function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

export function renderCheckpatchFinding(f: Finding): string {
  return `${f.path}:${f.line}: ${LEVEL[f.severity]}: ${oneLine(f.message)} [${f.rule}]`;
}

export function renderCheckpatch(reports: readonly Report[], opts: CheckpatchOptions = {}): string {
  const out: string[] = [];
  for (const r of reports) {
    for (const f of r.findings) {
      if (f.preExisting && !opts.includePreExisting) continue;
      if (f.severity === 'notice' && !opts.notices) continue;
      out.push(renderCheckpatchFinding(f));
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}
