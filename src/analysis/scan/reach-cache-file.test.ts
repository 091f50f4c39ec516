/** The reach's record on disk: kept and read back; a damaged, foreign or linked file is not used. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReachRecord } from '../kconfig/reach-cache.js';
import { ReachCacheFile, reachCachePath } from './reach-cache-file.js';

const RECORD: ReachRecord = { files: [['Kconfig', '1:2:3:4']], lists: [['arch', 'x86']], answers: [['drivers/a.c', { evidence: ['drivers/Kconfig: A depends on X86_64'] }], ['drivers/b.c', null]] };

describe('ReachCacheFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kmap-reach-file-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sits next to the result cache file, and keeps a record for the same fingerprint only', () => {
    const file = reachCachePath(join(dir, 'scan-abc.json'));
    expect(file).toBe(join(dir, 'scan-abc.reach.json'));
    const store = new ReachCacheFile(file, 'fp1');
    expect(store.load()).toBeNull();
    expect(store.save()).toBe(false); // nothing kept: nothing written
    store.keep(RECORD);
    expect(store.save()).toBe(true);
    expect(new ReachCacheFile(file, 'fp1').load()).toEqual(RECORD);
    expect(new ReachCacheFile(file, 'fp2').load()).toBeNull();
  });

  it.each<[string, string]>([
    ['not JSON', '{"format": "kmap-review kconfig reach cache 1", '],
    ['another format', JSON.stringify({ format: 'x', fingerprint: 'fp', record: RECORD })],
    ['a damaged record', JSON.stringify({ format: 'kmap-review kconfig reach cache 1', fingerprint: 'fp', record: { ...RECORD, answers: [['a.c', 7]] } })],
  ])('%s: no record (the reach is computed again)', (_, text) => {
    const file = join(dir, 'scan-x.reach.json');
    writeFileSync(file, text);
    expect(new ReachCacheFile(file, 'fp').load()).toBeNull();
  });

  it('neither reads nor writes through a link, nor into a missing directory', () => {
    const target = join(dir, 'elsewhere.json');
    const good = new ReachCacheFile(target, 'fp');
    good.keep(RECORD);
    good.save();
    symlinkSync(target, join(dir, 'link.reach.json'));
    expect(new ReachCacheFile(join(dir, 'link.reach.json'), 'fp').load()).toBeNull();
    const missing = new ReachCacheFile(join(dir, 'none', 'x.reach.json'), 'fp');
    missing.keep(RECORD);
    expect(missing.save()).toBe(false);
    mkdirSync(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'dirlink'));
    const viaLink = new ReachCacheFile(join(dir, 'dirlink', 'x.reach.json'), 'fp');
    viaLink.keep(RECORD);
    expect(viaLink.save()).toBe(false);
    expect(readFileSync(target, 'utf8')).toContain('drivers/a.c');
  });
});
