/**
 * The one stamp of a file on disk: trusted only when both mtime and ctime are older than the racy window
 * before the scan's start (its edges included), and every field it is made of changes it.
 */
import { fileStamp, RACY_MS, type StampFields } from './file-stamp.js';

const T = 1_700_000_000_000; // the scan's start (ms)
const OLD = T - 60_000;
const st: StampFields = { size: 10, ino: 7, mtimeMs: OLD, ctimeMs: OLD };

describe('fileStamp', () => {
  it('is size, inode, mtime and ctime (integer µs) for a file older than the window', () => {
    expect(fileStamp(st, T)).toBe(`10:7:${OLD * 1000}:${OLD * 1000}`);
    expect(fileStamp({ size: 10, ino: 7, mtimeMs: 1_000_000.002, ctimeMs: 1_000_000.25 }, T)).toBe('10:7:1000000002:1000000250');
  });

  it('the default window is RACY_MS (3 s)', () => {
    expect(RACY_MS).toBe(3000);
    expect(fileStamp({ ...st, ctimeMs: T - 3000 }, T)).toBeNull();
    expect(fileStamp({ ...st, ctimeMs: T - 3001 }, T)).not.toBeNull();
  });

  // [what, mtime, ctime, racyMs, trusted]
  it.each<[string, number, number, number, boolean]>([
    ['both old', OLD, OLD, 3000, true],
    ['changed just outside the window', T - 3000 - 0.001, T - 3000 - 0.001, 3000, true],
    ['changed at the window\'s edge', T - 3000, T - 3000, 3000, false],
    ['changed inside the window', T - 1000, T - 1000, 3000, false],
    ['changed after the scan started', T + 500, T + 500, 3000, false],
    ['only mtime recent (a clock set forward, touch -d in the future)', T - 10, OLD, 3000, false],
    ['only ctime recent (utimes() set mtime back: touch -d, tar x, cp -p)', OLD, T - 10, 3000, false],
    ['ctime at the edge, mtime old', OLD, T - 3000, 3000, false],
    ['racyMs 0: a millisecond before the start is trusted', T - 1, T - 1, 0, true],
    ['racyMs 0: at the start is not', T, T - 1, 0, false],
    ['racyMs 0: a fraction of a millisecond past the start is not', T - 1, T + 0.5, 0, false],
  ])('%s: trusted %s', (_, mtimeMs, ctimeMs, racyMs, trusted) => {
    const stamp = fileStamp({ ...st, mtimeMs, ctimeMs }, T, racyMs);
    expect(stamp !== null).toBe(trusted);
  });

  it.each<[string, Partial<StampFields>]>([
    ['size', { size: 11 }],
    ['inode (replaced by another file)', { ino: 8 }],
    ['mtime', { mtimeMs: OLD + 1 }],
    ['ctime (an edit that kept size and mtime)', { ctimeMs: OLD + 1 }],
    ['ctime by a microsecond', { ctimeMs: OLD + 0.001 }],
  ])('a change of %s changes the stamp', (_, change) => {
    const before = fileStamp(st, T);
    const after = fileStamp({ ...st, ...change }, T);
    expect(before).not.toBeNull();
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
  });
});
