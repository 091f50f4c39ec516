/** Evidence as a maintainer wrote it: source text quoted verbatim (trimmed), never re-joined tokens. */
import type { SyntaxNode } from './ast.js';

const MAX_QUOTE = 72;

/** The source of `node` as written: each line trimmed, joined by a space, cut at `max` characters. */
export function quote(node: SyntaxNode | null, max = MAX_QUOTE): string {
  if (!node) return '';
  const text = node.text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
