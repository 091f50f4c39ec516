import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileScan } from './classify.js';
import { ScanResultCache } from './result-cache.js';

const scanOf = (path: string, sites = 0): FileScan => ({
  path,
  sites: Array.from({ length: sites }, (_, i) => ({ path, line: i + 1, api: 'kmap_atomic', class: 'ready' as const, reason: 'r', rule: null, function: 'f', key: `k${i}` })),
  findings: [],
  functions: 1,
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kmap-cache-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ScanResultCache', () => {
  it('gives back a result only for the same path and content, and keeps what one run used and made', () => {
    const file = join(dir, 'c', 'scan.json');
    const first = ScanResultCache.open(file, 'fp1');
    expect(first.warning).toBeNull();
    first.cache.set('a.c', 'sha-a', scanOf('a.c', 2));
    first.cache.set('b.c', 'sha-b', scanOf('b.c', 1));
    expect(first.cache.save()).toBeNull();
    // The new directory keeps itself out of git.
    expect(readFileSync(join(dir, 'c', '.gitignore'), 'utf8')).toMatch(/^\*$/m);

    const second = ScanResultCache.open(file, 'fp1').cache;
    expect(second.get('a.c', 'sha-a')).toEqual(scanOf('a.c', 2));
    expect(second.get('a.c', 'sha-changed')).toBeUndefined();
    expect(second.get('b.c', 'sha-a')).toBeUndefined(); // same content elsewhere: results name their path
    expect(second.hits).toBe(1);
    // b.c was not seen again (deleted, or no longer mentioning the API): dropped on save.
    expect(second.save()).toBeNull();
    const third = ScanResultCache.open(file, 'fp1').cache;
    expect(third.get('a.c', 'sha-a')).toBeDefined();
    expect(third.get('b.c', 'sha-b')).toBeUndefined();
  });

  it('uses nothing made by another build or configuration (the fingerprint)', () => {
    const file = join(dir, 'scan.json');
    const c = ScanResultCache.open(file, 'engine 1').cache;
    c.set('a.c', 'sha-a', scanOf('a.c'));
    c.save();
    const other = ScanResultCache.open(file, 'engine 2');
    expect(other.warning).toBeNull();
    expect(other.cache.get('a.c', 'sha-a')).toBeUndefined();
  });

  it('keeps earlier results of files the run did not look at when asked (a --config selection)', () => {
    const file = join(dir, 'scan.json');
    const c = ScanResultCache.open(file, 'fp').cache;
    c.set('fs/a.c', '1', scanOf('fs/a.c'));
    c.set('mm/b.c', '2', scanOf('mm/b.c'));
    c.save();
    const onlyFs = ScanResultCache.open(file, 'fp').cache;
    expect(onlyFs.get('fs/a.c', '1')).toBeDefined();
    onlyFs.save((path) => !path.startsWith('fs/'));
    expect(ScanResultCache.open(file, 'fp').cache.get('mm/b.c', '2')).toBeDefined();
  });

  it('does not rewrite the file when nothing changed', () => {
    const file = join(dir, 'scan.json');
    const c = ScanResultCache.open(file, 'fp').cache;
    c.set('a.c', '1', scanOf('a.c'));
    c.save();
    writeFileSync(file, readFileSync(file, 'utf8').replace('"a.c"', '"a.c" ')); // a mark the rewrite would remove
    const again = ScanResultCache.open(file, 'fp').cache;
    expect(again.get('a.c', '1')).toBeDefined();
    expect(again.save()).toBeNull();
    expect(readFileSync(file, 'utf8')).toContain('"a.c" ');
  });

  it.each([
    ['not JSON', 'kmap\u0000\xff', /not a scan cache \(not JSON\)/],
    ['another format', JSON.stringify({ format: 'something else', files: [] }), /not a scan cache of this version/],
    ['JSON null', 'null', /not a scan cache of this version/],
  ])('ignores a file that is not a cache (%s), with a warning', (_, content, warning) => {
    const file = join(dir, 'scan.json');
    writeFileSync(file, content);
    const r = ScanResultCache.open(file, 'fp');
    expect(r.warning).toMatch(warning);
    expect(r.cache.get('a.c', '1')).toBeUndefined();
    // ...and replaces it with a good one.
    r.cache.set('a.c', '1', scanOf('a.c'));
    expect(r.cache.save()).toBeNull();
    expect(ScanResultCache.open(file, 'fp').cache.get('a.c', '1')).toBeDefined();
  });

  it('skips entries of the wrong shape and keeps the others', () => {
    const file = join(dir, 'scan.json');
    const files = [['a.c', '1', scanOf('a.c')], ['b.c', '2', scanOf('elsewhere.c')], ['c.c', 3, scanOf('c.c')], ['d.c', '4', { path: 'd.c', sites: 'x' }], 'junk'];
    writeFileSync(file, JSON.stringify({ format: 'kmap-review scan cache 1', fingerprint: 'fp', files }));
    const c = ScanResultCache.open(file, 'fp').cache;
    expect(c.get('a.c', '1')).toBeDefined();
    expect(['b.c', 'c.c', 'd.c'].map((p, i) => c.get(p, String(i + 2)))).toEqual([undefined, undefined, undefined]);
  });

  it('follows no link: not to read a cache, not to write one (a checkout may carry links)', () => {
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    const c = ScanResultCache.open(join(elsewhere, 'scan.json'), 'fp').cache;
    c.set('a.c', '1', scanOf('a.c'));
    c.save();
    symlinkSync(elsewhere, join(dir, 'linked'));
    const viaDirLink = ScanResultCache.open(join(dir, 'linked', 'scan.json'), 'fp');
    viaDirLink.cache.set('b.c', '2', scanOf('b.c'));
    expect(viaDirLink.cache.save()).toMatch(/not a directory \(links are not followed\)/);
    symlinkSync(join(elsewhere, 'scan.json'), join(dir, 'scan.json'));
    const viaFileLink = ScanResultCache.open(join(dir, 'scan.json'), 'fp');
    expect(viaFileLink.warning).toMatch(/not a regular file/);
    expect(viaFileLink.cache.get('a.c', '1')).toBeUndefined();
  });

  it('ignores a file too large to be a cache without reading it', () => {
    const file = join(dir, 'scan.json');
    writeFileSync(file, '{}');
    const r = ScanResultCache.open(file, 'fp', 1);
    expect(r.warning).toMatch(/larger than/);
  });

  it('says when it cannot write, and leaves no temporary file', () => {
    writeFileSync(join(dir, 'blocker'), 'a file where the directory should be');
    const c = ScanResultCache.open(join(dir, 'blocker', 'sub', 'scan.json'), 'fp').cache;
    c.set('a.c', '1', scanOf('a.c'));
    expect(c.save()).toMatch(/cannot write the scan cache \(ENOTDIR\)/);
    const readOnly = join(dir, 'ro');
    mkdirSync(readOnly, { mode: 0o555 });
    const r = ScanResultCache.open(join(readOnly, 'scan.json'), 'fp').cache;
    r.set('a.c', '1', scanOf('a.c'));
    const warning = r.save();
    // (root may write anywhere: then the save simply works.)
    if (warning) expect(warning).toMatch(/EACCES/);
    else expect(statSync(join(readOnly, 'scan.json')).isFile()).toBe(true);
    expect(existsSync(join(readOnly, `scan.json.${process.pid}.tmp`))).toBe(false);
  });
});
