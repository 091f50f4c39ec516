import { describe, expect, it } from '@jest/globals';
import { firstInvalidUtf8, splitLines, joinLines } from './text.js';

describe('firstInvalidUtf8', () => {
  it('agrees with TextDecoder on random byte strings', () => {
    let s = 7;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s >>> 8);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const pool = [0x41, 0x0a, 0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xa0, 0xed, 0x9f, 0xef, 0xf0, 0x90, 0xf4, 0x8f, 0xf5, 0xff];
    for (let t = 0; t < 5000; t++) {
      const bytes = Uint8Array.from({ length: rand() % 8 }, () => pool[rand() % pool.length]!);
      let valid = true;
      try {
        decoder.decode(bytes);
      } catch {
        valid = false;
      }
      expect([Array.from(bytes), firstInvalidUtf8(bytes) < 0]).toEqual([Array.from(bytes), valid]);
    }
  });
});

describe('splitLines / joinLines', () => {
  it.each<[string, string[], boolean, boolean]>([
    ['', [], true, false],
    ['a\nb\n', ['a', 'b'], true, false],
    ['a\nb', ['a', 'b'], false, false],
    ['a\r\nb\r\n', ['a', 'b'], true, true],
    ['a\r\nb', ['a', 'b'], false, true],
    ['a\rb\n', ['a\rb'], true, false],
  ])('%j', (text, lines, finalNewline, crlf) => {
    const t = splitLines(text);
    expect(t).toEqual({ lines, finalNewline, crlf });
    expect(joinLines(t.lines, t.finalNewline)).toBe(text.replace(/\r\n/g, '\n'));
  });
});
