/** The tree scan's pieces: the streaming tar reader, git blob ids, and the baseline kept in the check run. */
import { gzipSync } from 'node:zlib';
import type { Finding } from '../../src/analysis/model.js';
import type { ScanSite } from '../../src/analysis/scan/classify.js';
import { compareWithBaseline } from '../../src/analysis/scan/totals.js';
import { baselineOf, compareTreeResult, decodeBaselineMarker, encodeBaselineMarker, toBaselineInput } from '../../src/app/tree/baseline.js';
import { gitBlobSha } from '../../src/analysis/scan/blob-sha.js';
import { tarEntries, tarGzEntries } from '../../src/app/tree/tar.js';
import { decodeHistoryMarker, encodeHistoryMarker } from '../../src/app/tree/history.js';
import type { TreeRunPoint } from '../../src/comments/tree-trend.js';
import { KernelRepo } from './helpers/tree-repo.js';

const LONG = `drivers/${'long-directory-name/'.repeat(8)}deep.c`;

describe('tar reader', () => {
  let repo: KernelRepo;
  let head: string;
  beforeAll(() => {
    repo = new KernelRepo();
    head = repo.commit({ 'a.c': 'int a;\n', [LONG]: 'void f(void) { kunmap_local(p); }\n', 'empty.h': '', 'dir/b.h': '#define B 1\n' });
  });
  afterAll(() => repo.remove());

  async function* chunks(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  }

  it('reads git archive output (pax long names), in any chunking, and its blob ids match git', async () => {
    const tar = repo.tar(head);
    for (const size of [1, 7, 512, 100_000]) {
      const files: Record<string, string> = {};
      for await (const e of tarEntries(chunks(tar, size), { stripFirst: true })) {
        if (e.type === 'file') files[e.path] = gitBlobSha(await e.read());
      }
      expect(files).toEqual({
        'a.c': repo.blobSha(head, 'a.c'), [LONG]: repo.blobSha(head, LONG), 'empty.h': repo.blobSha(head, 'empty.h'), 'dir/b.h': repo.blobSha(head, 'dir/b.h'),
      });
    }
    expect(LONG.length).toBeGreaterThan(100);
  });

  it('skips entries that are not read, and reads gzip from a web stream', async () => {
    const gz = repo.tarball(head, 'o', 'r');
    const body = new Blob([gz]).stream();
    const seen: string[] = [];
    let text = '';
    for await (const e of tarGzEntries(body, { stripFirst: true })) {
      seen.push(`${e.type}:${e.path}`);
      if (e.path === 'dir/b.h') text = (await e.read()).toString();
    }
    expect(seen).toEqual(expect.arrayContaining(['file:a.c', 'directory:dir', 'file:dir/b.h', `file:${LONG}`]));
    expect(text).toBe('#define B 1\n');
  });

  it('refuses what is not a tar archive, and a truncated one', async () => {
    const notTar = async () => {
      for await (const e of tarEntries(chunks(Buffer.alloc(1024, 1), 512))) void e;
    };
    await expect(notTar()).rejects.toThrow('not a tar archive');
    const tar = repo.tar(head);
    const cut = async () => {
      for await (const e of tarEntries(chunks(tar.subarray(0, 1500), 512))) await e.read();
    };
    await expect(cut()).rejects.toThrow('truncated');
    const badGzip = async () => {
      for await (const e of tarGzEntries(chunks(gzipSync(tar).subarray(0, 200), 50))) void e;
    };
    await expect(badGzip()).rejects.toThrow();
  });
});

const site = (i: number): ScanSite => ({
  path: `drivers/x${i % 7}.c`, line: i + 1, api: 'kmap_atomic', class: 'ready', reason: '', rule: null, function: 'f',
  key: (i * 2654435761 % 2 ** 32).toString(16).padStart(8, '0') + 'abcdef01',
});
const finding = (fp: string, severity: Finding['severity'] = 'error'): Finding => ({
  rule: 'unmap-page', severity, path: 'a.c', line: 1, endLine: 1, message: 'm', trace: [], fix: null, function: 'f', preExisting: false, fingerprint: fp,
});

describe('baseline in the check run', () => {
  it('round-trips packed keys, and the comparison matches the one with full keys', () => {
    const sites = Array.from({ length: 40 }, (_, i) => site(i));
    const findings = [finding('0123456789abcdef0123'), finding('fedcba98765432100000', 'warning')];
    const b = baselineOf('c'.repeat(40), sites, findings);
    expect(b.errors).toEqual(['0123456789abcdef0123']);
    const text = `intro\n\n${encodeBaselineMarker(b, 60_000)}\n`;
    const back = decodeBaselineMarker(text)!;
    expect(back).toMatchObject({ commit: 'c'.repeat(40), siteCount: 40, errorCount: 1, complete: true });
    expect(back.sites[0]).toHaveLength(12);

    // Now: two uses gone, one new, one new error.
    const now = [...sites.slice(2), site(1000)];
    const nowFindings = [...findings, finding('99999999999999999999')];
    const viaMarker = compareWithBaseline(now, nowFindings, toBaselineInput(back, now, nowFindings));
    const direct = compareWithBaseline(now, nowFindings, toBaselineInput(b, now, nowFindings));
    expect(viaMarker).toEqual(direct);
    expect(viaMarker).toMatchObject({ was: 40, now: 39, converted: 2 });
    expect(viaMarker.added.map((s) => s.key)).toEqual([site(1000).key]);
    expect(viaMarker.newErrors.map((f) => f.fingerprint)).toEqual(['99999999999999999999']);
  });

  it('keeps only the counts when the keys do not fit, and ignores a corrupted marker', () => {
    const sites = Array.from({ length: 500 }, (_, i) => site(i));
    const marker = encodeBaselineMarker(baselineOf('d'.repeat(40), sites, []), 1000);
    expect(marker.length).toBeLessThan(200);
    expect(decodeBaselineMarker(marker)).toMatchObject({ siteCount: 500, errorCount: 0, complete: false, sites: [] });
    expect(decodeBaselineMarker('<!-- kmap-review:tree-baseline 1 abcdef0 b 3 0 AAAA -->')).toBeUndefined();
    expect(decodeBaselineMarker('no marker here')).toBeUndefined();
  });

  it('falls back to JSON for keys that are not hex', () => {
    const s = { ...site(1), key: 'not-hex-key' };
    const back = decodeBaselineMarker(encodeBaselineMarker(baselineOf('e'.repeat(40), [s], []), 60_000))!;
    expect(back.sites).toEqual(['not-hex-key']);
  });

  it('keeps the files not analysed in the check run: compared by their own counts then, never by a guess', () => {
    const sites = Array.from({ length: 10 }, (_, i) => site(i));
    const skippedThen = [{ path: 'drivers/huge.c', reason: 'larger than 100 bytes', uses: 4 }];
    const b = baselineOf('f'.repeat(40), sites, [], skippedThen);
    const back = decodeBaselineMarker(encodeBaselineMarker(b, 60_000))!;
    expect(back.skipped).toEqual([{ path: 'drivers/huge.c', uses: 4 }]);
    expect(back.paths).toBeUndefined();

    // huge.c: skipped then and now, 4 -> 6 calls: new uses. x3.c (analysed then): skipped now.
    const now = sites.filter((s) => s.path !== 'drivers/x3.c');
    const skippedNow = [{ path: 'drivers/huge.c', reason: 'larger than 100 bytes', uses: 6 }, { path: 'drivers/x3.c', reason: 'not analysed: boom', uses: 1 }];
    const viaMarker = compareTreeResult(compareWithBaseline, back, now, [], skippedNow);
    expect(viaMarker.comparison.addedInSkipped).toEqual([{ path: 'drivers/huge.c', was: 4, now: 6, reason: 'larger than 100 bytes' }]);
    // x3.c's sites then have no path in the check run: not compared, and said so.
    expect(viaMarker.notCompared.map((f) => f.path)).toEqual(['drivers/x3.c']);

    // From the cache (paths kept): x3.c is compared with its sites then, and they are not "converted".
    const viaCache = compareTreeResult(compareWithBaseline, b, now, [], skippedNow);
    expect(viaCache.notCompared).toEqual([]);
    expect(viaCache.comparison.converted).toBe(0);
    expect(viaCache.comparison.addedInSkipped.map((f) => f.path)).toEqual(['drivers/huge.c']);

    // The same counts as then: nothing new.
    const same = compareTreeResult(compareWithBaseline, back, sites, [], [{ path: 'drivers/huge.c', reason: 'larger than 100 bytes', uses: 4 }]);
    expect(same.comparison.addedInSkipped).toEqual([]);
    expect(same.notCompared).toEqual([]);

    // A corrupted second comment: the baseline still reads, without the files not analysed.
    const bad = encodeBaselineMarker(b, 60_000).replace(/tree-skipped 1 [A-Za-z0-9+/=]+/, 'tree-skipped 1 AAAA');
    expect(decodeBaselineMarker(bad)).toMatchObject({ siteCount: 10, complete: true });
    expect(decodeBaselineMarker(bad)!.skipped).toBeUndefined();
  });
});

describe('run history in the check run', () => {
  const point = (i: number): TreeRunPoint => ({
    commit: i.toString(16).padStart(40, '0'), date: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(), total: 1000 - i,
    byClass: { ready: 500 - i, 'needs-care': 300, blocked: 200 },
    bySubsystem: Object.fromEntries(Array.from({ length: 300 }, (_, k) => [`SUBSYSTEM NUMBER ${k} (${i})`, k])),
  });

  it('round-trips the runs, the subsystems of the last one only', () => {
    const runs = Array.from({ length: 20 }, (_, i) => point(i));
    const marker = encodeHistoryMarker(runs, 60_000);
    const back = decodeHistoryMarker(`baseline\n${marker}\n`)!;
    expect(back.map((p) => p.total)).toEqual(runs.map((p) => p.total));
    expect(back.at(-1)).toEqual(runs.at(-1));
    expect(back[0]!.bySubsystem).toEqual({});
    // A kernel-sized history stays small beside the baseline's 65,535 characters.
    expect(marker.length).toBeLessThan(8000);
  });

  it('drops the oldest runs to fit, keeps at least two, and ignores what is not a history', () => {
    const runs = Array.from({ length: 20 }, (_, i) => point(i));
    const two = encodeHistoryMarker(runs.slice(-2), 60_000).length;
    const fitted = decodeHistoryMarker(encodeHistoryMarker(runs, two + 100))!;
    expect(fitted.length).toBeGreaterThanOrEqual(2);
    expect(fitted.length).toBeLessThan(20);
    expect(fitted.at(-1)).toEqual(runs.at(-1));
    expect(encodeHistoryMarker(runs, 50)).toBe('');
    expect(decodeHistoryMarker('<!-- kmap-review:tree-history 1 AAAA -->')).toBeUndefined();
    expect(decodeHistoryMarker('no history')).toBeUndefined();
  });
});
