/**
 * A replay path in a maintainer's words: each step quotes the source as written (trimmed, one line) with
 * what happened there, and repeated loop steps collapse into one ("iterates, then ends").
 */
import type { TraceStep } from '../model.js';
import type { SyntaxNode } from '../syntax/ast.js';
import { quote } from '../syntax/quote.js';

export { quote };

const MAX_HEADER = 72;
import type { Step } from './state.js';

const STATEMENTS = new Set(['expression_statement', 'declaration', 'return_statement']);

/** The statement a call or expression stands in, when it is a simple one (`kunmap_local(p);`), else the node itself. */
function statementOf(node: SyntaxNode): SyntaxNode {
  for (let n: SyntaxNode | null = node; n; n = n.parent) {
    if (STATEMENTS.has(n.type)) return n;
    if (n.type === 'compound_statement' || n.type.endsWith('_statement') || n.type === 'argument_list' && n !== node) break;
  }
  return node;
}

/** The header of the statement a condition belongs to, as written: `if (!page)`, `for (i = 0; i < n; i++)`. */
export function conditionHeader(cond: SyntaxNode): string {
  const stmt = cond.parent;
  if (!stmt) return quote(cond);
  switch (stmt.type) {
    case 'if_statement':
      return quote(cond).startsWith('(') ? `if ${quote(cond)}` : `if (${quote(cond)})`;
    case 'while_statement':
    case 'do_statement':
      return `while ${quote(cond)}`;
    case 'switch_statement':
      return `switch ${quote(cond)}`;
    case 'for_statement': {
      const body = stmt.child('body');
      const head = body ? stmt.source.slice(stmt.start, body.start) : stmt.text;
      const text = head.split('\n').map((l) => l.trim()).join(' ').trim();
      return text.length > MAX_HEADER ? `${text.slice(0, MAX_HEADER - 3)}...` : text;
    }
    case 'call_expression': {
      const name = stmt.child('function')?.text ?? '';
      return `${name}${quote(cond)}`;
    }
    default:
      return quote(cond);
  }
}

/** One step as evidence: the quoted source, then what happened there. */
function render(step: Step): string {
  if (step.kind === 'branch' || step.kind === 'loop') {
    const head = step.node ? conditionHeader(step.node) : '';
    return head ? `${head}: ${step.note}` : step.note;
  }
  const q = step.node ? quote(statementOf(step.node)) : '';
  if (!q) return step.note;
  return step.note ? `${q} (${step.note})` : q;
}

/** "iterates, iterates, ends" -> "iterates, then ends"; "taken, taken" -> "taken". */
function collapse(notes: string[]): string {
  const runs: string[] = [];
  for (const n of notes) if (runs[runs.length - 1] !== n) runs.push(n);
  return runs.length === 1 ? runs[0] : `${runs.slice(0, -1).join(', ')}, then ${runs[runs.length - 1]}`;
}

/**
 * The trace of a violation: its path as steps, then `final` (the step the finding is about). Consecutive
 * steps of one loop header merge; a block of steps that repeats right after itself (the second iteration of
 * a loop) is shown once.
 */
export function traceOf(path: readonly Step[], final: { line: number; note: string }): Array<Omit<TraceStep, 'path'>> {
  const items: Array<{ line: number; text: string; notes?: string[]; node: SyntaxNode | null; kind: Step['kind'] }> = [];
  for (const s of path) {
    const last = items[items.length - 1];
    if ((s.kind === 'loop' || s.kind === 'branch') && last && last.notes && last.line === s.line && last.node === s.node) {
      last.notes.push(s.note);
      continue;
    }
    items.push({ line: s.line, text: render(s), node: s.node, kind: s.kind, ...(s.kind === 'loop' || s.kind === 'branch' ? { notes: [s.note] } : {}) });
  }
  // Drop a block that repeats right after itself (same lines, same words).
  const key = (i: (typeof items)[number]) => `${i.line}\u0000${i.notes ? i.notes.join(',') : i.text}`;
  for (let len = 1; len <= 6; len++) {
    for (let i = 0; i + 2 * len <= items.length; i++) {
      let same = true;
      for (let k = 0; k < len && same; k++) same = key(items[i + k]) === key(items[i + len + k]);
      if (same) {
        const head = items[i];
        if (head.notes) head.notes.push(...items[i + len].notes!);
        items.splice(i + len, len);
        i--;
      }
    }
  }
  const out = items.map((i) => ({
    line: i.line,
    note: i.notes ? `${i.node ? conditionHeader(i.node) : ''}: ${collapse(i.notes)}`.replace(/^: /, '') : i.text,
  }));
  return [...out, final];
}
