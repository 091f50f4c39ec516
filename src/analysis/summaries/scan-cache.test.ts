import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderScanJson } from '../../comments/scan/json.js';
import { DEFAULT_CONFIG } from '../model.js';
import { ScanResultCache } from '../scan/result-cache.js';
import { scanTree, type TreeScan } from '../scan/tree.js';
import { initParser } from '../syntax/parser.js';
import { IndexedFiles } from './tree-facts.js';
import { pastRacyWindow } from '../../../test/helpers/racy-window.js';

/** fs/demo/fill.c maps with kmap_atomic() and calls demo_copy_in() of lib/demo_copy.c, which calls raw_copy_from_user(). */
const FIXTURE = join(import.meta.dirname ?? '.', '..', '..', '..', 'test', 'fixtures', 'callee-tree');

let tree: string;
let cacheFile: string;
beforeAll(async () => {
  await initParser();
});
beforeEach(() => {
  const dir = mkdtempSync(join(tmpdir(), 'kmap-facts-'));
  tree = join(dir, 'tree');
  cpSync(FIXTURE, tree, { recursive: true });
  cacheFile = join(dir, 'cache', 'scan.json');
});
const settle = pastRacyWindow;
afterEach(() => rmSync(join(tree, '..'), { recursive: true, force: true }));

/** The scan's JSON without what may differ between a cold and a cached scan (time, the cached count). */
const json = (scan: TreeScan) => {
  const j = JSON.parse(renderScanJson(scan, 'test')) as { elapsedMs?: unknown; files: { cached?: unknown } };
  delete j.elapsedMs;
  delete j.files.cached;
  return j;
};
const cold = () => scanTree({ kind: 'dir', root: tree, label: 'tree' }, { config: DEFAULT_CONFIG, jobs: 1 });
/** A scan with the result cache in `cacheFile`, saved afterwards (as `scan --cache-dir` does). */
async function cached(): Promise<TreeScan> {
  const { cache, warning } = ScanResultCache.open(cacheFile, 'fp');
  expect(warning).toBeNull();
  const scan = await scanTree({ kind: 'dir', root: tree, label: 'tree' }, { config: DEFAULT_CONFIG, jobs: 1, results: cache, racyMs: 0 });
  expect(cache.save()).toBeNull();
  return scan;
}
const classOf = (scan: TreeScan, fn: string) => scan.sites.filter((s) => s.function === fn).map((s) => s.class);

describe('a cached re-scan with callee summaries', () => {
  it('gives the cold scan\'s results without indexing or answering again', async () => {
    await settle();
    const first = await cached();
    expect(classOf(first, 'demo_fill_page')).toEqual(['needs-care', 'needs-care']);
    expect(first.summaries).toMatchObject({ reanalysed: 1, answersKept: 0, indexReused: 0 });
    const again = await cached();
    expect(json(again)).toEqual(json(await cold()));
    expect(again.files.cached).toBe(1);
    // Nothing read or parsed for the answers, no index built, every file's names from the cache.
    expect(again.summaries).toMatchObject({ reanalysed: 0, filesRead: 0, parsed: 0, indexReused: 3 });
    expect(again.summaries!.index).toBeUndefined();
    expect(again.summaries!.answersKept).toBeGreaterThan(0);
  });

  it('answers again when the callee changes, and the caller\'s cached result follows', async () => {
    await cached();
    await cached();
    // The helper no longer copies from user space: no fact at all, and fill.c's cached result (made with the
    // summaries) is made again without them.
    const callee = join(tree, 'lib', 'demo_copy.c');
    const original = readFileSync(callee, 'utf8');
    writeFileSync(callee, original.replace('n = raw_copy_from_user(to, from, n);', 'n = 0;'));
    const after = await cached();
    expect(classOf(after, 'demo_fill_page')).toEqual(['ready', 'ready']);
    expect(after.summaries).toMatchObject({ relevant: 0, reanalysed: 0 });
    expect(json(after)).toEqual(json(await cold()));
    expect(after.files.cached).toBe(1); // fill.c's own result came from the cache, and was made again locally
    // The helper says it may fault (might_fault()): it no longer relies on page faults being disabled, but
    // may sleep (a fact still): analysed with the summaries, with another reason.
    writeFileSync(callee, original.replace('\tif (access_ok(from, n))', '\tmight_fault();\n\tif (access_ok(from, n))'));
    const faulting = await cached();
    expect(classOf(faulting, 'demo_fill_page')).toEqual(['ready', 'ready']);
    expect(json(faulting)).toEqual(json(await cold()));
    // And back: the fact returns, the caller is analysed with the summaries again.
    writeFileSync(callee, original);
    const back = await cached();
    expect(classOf(back, 'demo_fill_page')).toEqual(['needs-care', 'needs-care']);
    expect(json(back)).toEqual(json(await cold()));
  });

  it('sees a second definition added in a file the answers never read (the name becomes undecided)', async () => {
    await cached();
    writeFileSync(join(tree, 'lib', 'demo_copy_stub.c'), '// SPDX-License-Identifier: GPL-2.0\nsize_t demo_copy_in(void *to, const void __user *from, size_t n)\n{\n\treturn n;\n}\n');
    const after = await cached();
    expect(classOf(after, 'demo_fill_page')).toEqual(['ready', 'ready']);
    expect(json(after)).toEqual(json(await cold()));
    // Removed again: one definition, followed.
    rmSync(join(tree, 'lib', 'demo_copy_stub.c'));
    const back = await cached();
    expect(classOf(back, 'demo_fill_page')).toEqual(['needs-care', 'needs-care']);
    expect(json(back)).toEqual(json(await cold()));
  });

  it('does not read a file whose stat key is unchanged, and reads every other one', async () => {
    writeFileSync(join(tree, 'lib', 'demo_other.c'), '// SPDX-License-Identifier: GPL-2.0\nint demo_other(void)\n{\n\treturn 0;\n}\n');
    await settle();
    await cached();
    const again = await cached();
    // fill.c (its result kept under the blob id recorded with its key) and demo_other.c (no API) are not
    // read; the two files the kept answers read are, as their answers are checked by content.
    expect(again.summaries).toMatchObject({ indexReused: 4, unread: 2 });
    expect(again.files).toMatchObject({ listed: 4, matched: 1, cached: 1 });
    // A result the cache no longer has (the file itself unchanged): read and analysed again.
    const data = JSON.parse(readFileSync(cacheFile, 'utf8')) as { files: unknown[] };
    writeFileSync(cacheFile, JSON.stringify({ ...data, files: [] }));
    const dropped = await cached();
    expect(dropped.summaries).toMatchObject({ unread: 1 }); // demo_other.c
    expect(dropped.files.cached).toBe(0);
    expect(json(dropped)).toEqual(json(await cold()));
    // An edited file is read (its key changed): the edit shows.
    const fill = join(tree, 'fs', 'demo', 'fill.c');
    writeFileSync(fill, readFileSync(fill, 'utf8').replace(/kmap_atomic\(/g, 'kmap_local_page(').replace(/kunmap_atomic\(/g, 'kunmap_local('));
    await settle();
    const edited = await cached();
    expect(edited.summaries).toMatchObject({ unread: 1 }); // demo_other.c
    expect(edited.sites.filter((x) => x.function === 'demo_fill_page')).toEqual([]);
    expect(json(edited)).toEqual(json(await cold()));
  });

  it('reads every file when the stat keys cannot be trusted (written within the racy window)', async () => {
    const racy = async () => {
      const { cache } = ScanResultCache.open(cacheFile, 'fp');
      const scan = await scanTree({ kind: 'dir', root: tree, label: 'tree' }, { config: DEFAULT_CONFIG, jobs: 1, results: cache, racyMs: 3_600_000 });
      cache.save();
      return scan;
    };
    await racy();
    const again = await racy();
    expect(again.summaries).toMatchObject({ indexReused: 0, unread: 0 });
    expect(json(again)).toEqual(json(await cold()));
  });

  it('a damaged cache costs the answers, never changes them', async () => {
    await cached();
    const want = json(await cold());
    const data = JSON.parse(readFileSync(cacheFile, 'utf8')) as { tree: { answers: unknown; index: string; summarised: unknown } };
    // The answers' part of the wrong shape: ignored, everything answered again.
    writeFileSync(cacheFile, JSON.stringify({ ...data, tree: { ...data.tree, answers: 'x' } }));
    const wrongShape = await cached();
    expect(json(wrongShape)).toEqual(want);
    expect(wrongShape.summaries!.answersKept).toBe(0);
    // An index whose lines are cut: the files are indexed from their bytes.
    const good = JSON.parse(readFileSync(cacheFile, 'utf8')) as typeof data;
    writeFileSync(cacheFile, JSON.stringify({ ...good, tree: { ...good.tree, index: good.tree.index.replace(/\t/g, ' ') } }));
    expect(json(await cached())).toEqual(want);
    // Not JSON at all.
    writeFileSync(cacheFile, readFileSync(cacheFile, 'utf8').slice(0, 100));
    const { warning } = ScanResultCache.open(cacheFile, 'fp');
    expect(warning).toMatch(/not JSON/);
    writeFileSync(cacheFile, '{');
    const scan = await scanTree({ kind: 'dir', root: tree, label: 'tree' }, { config: DEFAULT_CONFIG, jobs: 1, results: ScanResultCache.open(cacheFile, 'fp').cache, racyMs: 0 });
    expect(json(scan)).toEqual(want);
  });
});

describe('IndexedFiles (the index by file kept between scans)', () => {
  const bytes = (s: string) => Buffer.from(s);
  const def = (name: string) => bytes(`int ${name}(void)\n{\n\treturn 0;\n}\n`);

  it('takes a file\'s names from the snapshot only while its stat key is the same', () => {
    const first = new IndexedFiles();
    first.offer('a.c', 'k1', def('alpha'));
    first.offer('b.c', 'k2', def('beta'));
    const snapshot = first.serialise();
    const same = new IndexedFiles(snapshot);
    // Same key: the snapshot's names, whatever the bytes (they are not looked at).
    same.offer('a.c', 'k1', def('other'));
    same.offer('b.c', 'k2', def('beta'));
    expect(same.reused).toBe(2);
    expect(same.changed).toBe(false);
    expect(same.index().files('alpha')).toEqual(['a.c']);
    expect(same.unchanged('alpha', ['a.c'])).toBe(true);
    // Another key (or none): indexed from the bytes.
    const edited = new IndexedFiles(snapshot);
    edited.offer('a.c', 'k9', def('other'));
    edited.offer('b.c', null, def('beta'));
    expect(edited.reused).toBe(0);
    expect(edited.index().files('alpha')).toEqual([]);
    expect(edited.unchanged('alpha', ['a.c'])).toBe(false);
    expect(edited.unchanged('beta', ['b.c'])).toBe(true);
  });

  it('tells when a name gains a defining file, or loses one', () => {
    const first = new IndexedFiles();
    first.offer('a.c', 'k1', def('alpha'));
    const snapshot = first.serialise();
    const gained = new IndexedFiles(snapshot);
    gained.offer('a.c', 'k1', def('alpha'));
    gained.offer('z.c', 'k3', def('alpha'));
    expect(gained.unchanged('alpha', ['a.c'])).toBe(false);
    expect(gained.unchanged('gamma', [])).toBe(true);
    const lost = new IndexedFiles(snapshot);
    expect(lost.unchanged('alpha', ['a.c'])).toBe(false); // a.c deleted
    expect(lost.changed).toBe(true);
  });

  it('finds files out of the snapshot\'s order (a directory of 100 files removed, files added between)', () => {
    const first = new IndexedFiles();
    for (let i = 0; i < 110; i++) first.offer(`d${i < 100 ? 'a' : 'b'}/f${i}.c`, `k${i}`, def(`fn${i}`));
    const next = new IndexedFiles(first.serialise());
    next.offer('new/x.c', 'kx', def('fnx'));
    for (let i = 100; i < 110; i++) {
      next.offer(`db/f${i}.c`, `k${i}`, def('ignored'));
      next.offer(`db/g${i}.c`, 'kg', def(`gn${i}`));
    }
    expect(next.reused).toBe(10);
    expect(next.index().files('fn105')).toEqual(['db/f105.c']);
    expect(next.index().files('fn5')).toEqual([]);
    expect(next.unchanged('fn5', ['da/f5.c'])).toBe(false);
    expect(next.unchanged('fn105', ['db/f105.c'])).toBe(true);
    expect(next.unchanged('fnx', [])).toBe(false);
  });

  it('keeps what was known of a file\'s bytes with its key, for a re-scan that does not read it', () => {
    const first = new IndexedFiles();
    first.offer('a.c', 'k1', def('alpha'), 'f'.repeat(40));
    first.offer('b.c', 'k2', def('beta'), '');
    first.offer('c.c', 'k3', def('gamma')); // nothing known of its bytes
    const next = new IndexedFiles(first.serialise());
    expect(next.unchangedSince('a.c', 'k1')).toBe('f'.repeat(40));
    next.keepUnchanged('a.c');
    expect(next.unchangedSince('b.c', 'k2')).toBe('');
    next.keepUnchanged('b.c');
    expect(next.unchangedSince('c.c', 'k3')).toBeNull(); // must be read: offered with its bytes
    next.offer('c.c', 'k3', def('other'), '');
    expect(next).toMatchObject({ reused: 3, unread: 2 });
    expect(next.changed).toBe(true); // c.c's sha was learnt: worth keeping
    expect(next.index().files('gamma')).toEqual(['c.c']);
    // Round trip, and another key: read.
    const third = new IndexedFiles(next.serialise());
    expect(third.unchangedSince('a.c', 'k9')).toBeNull();
    third.offer('a.c', 'k9', def('delta'), '');
    expect(third.unchangedSince('b.c', 'k2')).toBe('');
    third.keepUnchanged('b.c');
    expect(third.unchangedSince('c.c', 'k3')).toBe('');
    // c.c then turned out unreadable (never offered): gone from the index, as a file not offered always was.
    expect(third.changed).toBe(true);
    expect(third.unchanged('gamma', ['c.c'])).toBe(false);
    expect(third.index().files('delta')).toEqual(['a.c']);
    expect(third.serialise().split('\n')).toEqual(['a.c\tk9\tdelta\t', 'b.c\tk2\tbeta\t']);
  });
});
