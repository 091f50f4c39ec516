import { memoByText } from './memo.js';

describe('memoByText', () => {
  it('computes once per text, false and null answers included', () => {
    const asked: string[] = [];
    const f = memoByText(10, (t) => (asked.push(t), t === 'a' ? null : t.length > 1));
    expect([f('a'), f('b'), f('bb'), f('a'), f('b'), f('bb')]).toEqual([null, false, true, null, false, true]);
    expect(asked).toEqual(['a', 'b', 'bb']);
  });

  it('starts over past its limit (a pathological input keeps it small)', () => {
    const asked: string[] = [];
    const f = memoByText(2, (t) => (asked.push(t), t));
    for (const t of ['a', 'b', 'c', 'a', 'c']) f(t);
    // 'c' found the memo full and cleared it: 'a' is computed again, 'c' is kept.
    expect(asked).toEqual(['a', 'b', 'c', 'a']);
  });
});
