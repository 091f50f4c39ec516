/**
 * A finding's words as plain text, for places that take one text and no markup (check-run annotations,
 * SARIF results): the one-line verdict, then the why and the way out, then the note.
 */
import type { Finding } from '../analysis/model.js';

export function annotationMessage(f: Pick<Finding, 'message' | 'detail' | 'note'>): string {
  return [f.message, f.detail, f.note].filter((x): x is string => !!x).join('\n');
}
