/** A file's lines are split once and shared, by text identity; a different text gets its own lines. */
import { linesOf } from './lines.js';

describe('linesOf', () => {
  it('splits at newlines, keeping a last empty line after a final newline', () => {
    expect(linesOf('a\nb\n')).toEqual(['a', 'b', '']);
    expect(linesOf('')).toEqual(['']);
  });

  it('gives the same array for the same text, and a fresh one for another text', () => {
    const text = 'int x;\nint y;\n';
    const first = linesOf(text);
    expect(linesOf(text)).toBe(first);
    const other = linesOf('int z;\n');
    expect(other).toEqual(['int z;', '']);
    expect(linesOf(text)).toBe(first); // still remembered (a few texts are)
  });

  it('forgets the oldest texts, and answers right after that', () => {
    const texts = Array.from({ length: 10 }, (_, i) => `line ${i}\nnext ${i}`);
    for (const t of texts) linesOf(t);
    expect(linesOf(texts[0])).toEqual(['line 0', 'next 0']);
  });
});
