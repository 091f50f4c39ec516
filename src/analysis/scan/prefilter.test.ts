/**
 * The prefilter must pick exactly the files `grep -lE 'kmap|kunmap'` picks (plus configured wrapper names):
 * its one-pass search is compared with two plain searches on edge cases and on random strings.
 */
import { mayMentionApi } from './prefilter.js';

const plain = (b: Buffer, extra: readonly string[] = []) => b.includes('kmap') || b.includes('kunmap') || extra.some((n) => b.includes(n));

describe('mayMentionApi', () => {
  it.each([
    ['empty', '', false],
    ['kmap at the start', 'kmap_atomic(p)', true],
    ['kunmap at the end', 'x = 1; kunmap', true],
    ['cut short at the end', 'kma', false],
    ['kunma cut short', '/* kunma', false],
    ['k followed by other words', 'kmalloc(); kunit_test(); kzalloc(); kmapx', true],
    ['only near misses', 'kmalloc kunit kma p kunmp k map kun map', false],
    ['kkmap (a k just before)', 'kkmap', true],
    ['kkunmap', 'kkunmap', true],
    ['upper case is another word', 'KMAP KUNMAP', false],
  ])('%s', (_name, text, expected) => {
    const b = Buffer.from(text);
    expect(mayMentionApi(b)).toBe(expected);
    expect(mayMentionApi(b)).toBe(plain(b));
  });

  it('finds configured wrapper names, in a Uint8Array that is not a Buffer too', () => {
    const bytes = new TextEncoder().encode('\tvaddr = my_map_page(pg);\n');
    expect(mayMentionApi(bytes)).toBe(false);
    expect(mayMentionApi(bytes, ['my_map_page'])).toBe(true);
  });

  it('agrees with two plain searches on random strings of the pieces of the two words', () => {
    // A seeded generator: the same cases every run. Pieces of the words make hits and near misses common.
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
    const pieces = ['k', 'km', 'ma', 'map', 'kun', 'unm', 'ap', 'u', 'n', 'm', 'a', 'p', '_', ' '];
    let hits = 0;
    for (let n = 0; n < 3000; n++) {
      const b = Buffer.from(Array.from({ length: 1 + (next() % 12) }, () => pieces[next() % pieces.length]).join(''));
      expect(mayMentionApi(b)).toBe(plain(b));
      if (plain(b)) hits++;
    }
    expect(hits).toBeGreaterThan(100);
    expect(hits).toBeLessThan(2900);
  });
});
