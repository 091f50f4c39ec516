/** Plain-text wrapping for review mails: prose at 78 columns, code never re-flowed. */

export const WRAP_COLUMNS = 78;

/**
 * Wraps `text` to `width` columns, each line starting with `indent` (and continuation lines with
 * `hangingIndent`). Existing line breaks are kept; a word longer than the line is left whole.
 */
export function wrap(text: string, width = WRAP_COLUMNS, indent = '', hangingIndent = indent): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    const words = para.split(/[ \t]+/).filter(Boolean);
    if (words.length === 0) {
      out.push('');
      continue;
    }
    let line = indent;
    let empty = true;
    for (const w of words) {
      if (!empty && line.length + 1 + w.length > width) {
        out.push(line);
        line = hangingIndent;
        empty = true;
      }
      line += (empty ? '' : ' ') + w;
      empty = false;
    }
    out.push(line);
  }
  return out;
}
