/**
 * Writes git-style unified diffs (`diff --git a/P b/P`, `---`/`+++`, `@@` hunks with 3 lines of context
 * and git's default function-name heading), from two whole images, with line-diff.ts's minimal diff.
 * What `git apply` and `patch -p1` accept, and what diff.ts parses back.
 */
import { diffLines } from './line-diff.js';

export interface UnifiedDiffOptions {
  /** Context lines around each change (default 3, like git). */
  context?: number;
}

/** git's default hunk heading: the last line above the hunk that starts with a letter, `_` or `$`. */
function heading(lines: readonly string[], before: number): string {
  for (let i = before - 1; i >= 0; i--) {
    if (/^[A-Za-z_$]/.test(lines[i])) return ` ${lines[i].replace(/\s+$/, '').slice(0, 80)}`;
  }
  return '';
}

/** The `diff --git` text turning `oldText` into `newText` for `path`; '' when they are equal. */
export function unifiedDiff(path: string, oldText: string, newText: string, options: UnifiedDiffOptions = {}): string {
  if (oldText === newText) return '';
  const ctx = options.context ?? 3;
  const oldEndsNl = oldText.endsWith('\n');
  const newEndsNl = newText.endsWith('\n');
  const a = (oldEndsNl ? oldText.slice(0, -1) : oldText).split('\n');
  const b = (newEndsNl ? newText.slice(0, -1) : newText).split('\n');
  if (oldText === '') a.length = 0;
  if (newText === '') b.length = 0;
  const { removed, added } = diffLines(a, b);
  // Walk both sides into an edit script: ' ', '-', '+' with line indices.
  type Op = { op: ' ' | '-' | '+'; i: number; j: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && removed[i]) ops.push({ op: '-', i: i++, j });
    else if (j < b.length && added[j]) ops.push({ op: '+', i, j: j++ });
    else ops.push({ op: ' ', i: i++, j: j++ });
  }
  const out: string[] = [`diff --git a/${path} b/${path}`, `--- a/${path}`, `+++ b/${path}`];
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k].op === ' ') k++;
    if (k >= ops.length) break;
    let start = Math.max(0, k - ctx);
    // Extend the hunk while the next change is within 2*ctx context lines.
    let end = k;
    for (;;) {
      while (end < ops.length && ops[end].op !== ' ') end++;
      let n = end;
      while (n < ops.length && ops[n].op === ' ' && n - end < 2 * ctx + 1) n++;
      if (n < ops.length && ops[n].op !== ' ' && n - end <= 2 * ctx) end = n;
      else break;
    }
    const stop = Math.min(ops.length, end + ctx);
    const hunk = ops.slice(start, stop);
    const oldCount = hunk.filter((o) => o.op !== '+').length;
    const newCount = hunk.filter((o) => o.op !== '-').length;
    const oldStart = oldCount ? hunk.find((o) => o.op !== '+')!.i + 1 : hunk[0].i;
    const newStart = newCount ? hunk.find((o) => o.op !== '-')!.j + 1 : hunk[0].j;
    const range = (s: number, n: number) => (n === 1 ? `${s}` : `${s},${n}`);
    out.push(`@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@${heading(a, hunk[0].i)}`);
    for (const o of hunk) {
      const text = o.op === '+' ? b[o.j] : a[o.i];
      out.push(`${o.op}${text}`);
      const lastOld = o.op !== '+' && o.i === a.length - 1 && !oldEndsNl;
      const lastNew = o.op !== '-' && o.j === b.length - 1 && !newEndsNl;
      if ((o.op === '-' && lastOld) || (o.op === '+' && lastNew) || (o.op === ' ' && (lastOld || lastNew))) out.push('\\ No newline at end of file');
    }
    k = stop;
    start = stop;
  }
  return out.join('\n') + '\n';
}
