import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGitBlobs } from './sources.js';

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
