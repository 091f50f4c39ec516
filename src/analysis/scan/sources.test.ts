import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBounded, readGitBlobs } from './sources.js';

describe('readGitBlobs', () => {
  it('returns every blob byte for byte, small ones and ones far larger than a pipe chunk', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'kmap-blobs-'));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
    git('init', '-q');
    const contents = [
      Buffer.from('int a;\n'),
      Buffer.alloc(3 << 20, 'kmap_atomic(page);\n'), // 3 MiB: dozens of chunks
      Buffer.from(''),
      Buffer.from([0x2f, 0x2a, 0xf6, 0x2a, 0x2f, 0x0a]), // not UTF-8
      Buffer.alloc(70_000, 'x'), // just over one 64 KiB chunk
    ];
    const shas = contents.map((c, i) => {
      writeFileSync(join(repo, `f${i}`), c);
      return git('hash-object', '-w', `f${i}`);
    });
    const got = new Map<string, Buffer>();
    // The big blob last: nothing after it must be needed to deliver it.
    await readGitBlobs(repo, ['0'.repeat(40), ...shas.filter((_, i) => i !== 1), shas[1]!], (sha, bytes) => void got.set(sha, bytes));
    expect(got.size).toBe(contents.length); // the missing object is skipped
    shas.forEach((sha, i) => expect(got.get(sha)?.equals(contents[i]!)).toBe(true));
  });
});

describe('readBounded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmap-read-'));
  // A 16-byte scratch buffer, so every case around its size and the limit is cheap to write.
  const cases: Array<[string, number, number, boolean]> = [
    // name, file size, maxBytes, read (else null: too large)
    ['empty file', 0, 100, true],
    ['smaller than the scratch buffer', 5, 100, true],
    ['exactly the scratch buffer', 16, 100, true],
    ['one byte over the scratch buffer (grown)', 17, 100, true],
    ['many times the scratch buffer', 90, 100, true],
    ['exactly the limit', 100, 100, true],
    ['one byte over the limit', 101, 100, false],
    ['far over the limit', 5000, 100, false],
    ['over a limit smaller than the scratch buffer', 12, 10, false],
    ['at a limit smaller than the scratch buffer', 10, 10, true],
  ];
  // Without a stat (read to end of file) and with one (read to the size the stat gave): the same answers.
  it.each(cases.flatMap(([name, ...rest]) => [[`${name}`, ...rest, false], [`${name}, stat given`, ...rest, true]] as Array<[string, number, number, boolean, boolean]>))('%s', (_name, size, maxBytes, read, withStat) => {
    const path = join(dir, `f${size}-${maxBytes}`);
    const content = Buffer.from(Array.from({ length: size }, (_, i) => 97 + (i % 26)));
    writeFileSync(path, content);
    const scratch = { buf: Buffer.alloc(16) };
    const sizes: number[] = [];
    const got = readBounded(path, scratch, maxBytes, withStat ? (st) => void sizes.push(st.size) : undefined);
    if (read) expect(got?.equals(content)).toBe(true);
    else expect(got).toBeNull();
    expect(sizes).toEqual(withStat ? [size] : []);
    // The scratch buffer never grows past the limit + 1.
    expect(scratch.buf.length).toBeLessThanOrEqual(Math.max(16, maxBytes + 1));
  });
});
