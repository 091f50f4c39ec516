/**
 * The reach's answers kept between runs: reused only while every build file they were read from has the
 * stamp it had (a table of changes that must recompute, and the one that must not), with a counting reader
 * to show that a reused answer reads nothing; and the directory reader's stamps on disk (source/file-stamp.ts;
 * racyMs 0 where a test writes a file and reads it at once).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asReachRecord, CachedReach, recordHolds, type ReachRecord } from './reach-cache.js';
import { dirTreeReader, memoryTreeReader, NO_FILE, UNSTABLE, type TreeReader } from './tree-reader.js';
import { pastRacyWindow } from '../../../test/helpers/racy-window.js';

const TREE: Record<string, string> = {
  Kconfig: 'source "arch/$(SRCARCH)/Kconfig"\nsource "drivers/Kconfig"\n',
  'arch/x86/Kconfig': 'config 64BIT\n\tbool "64-bit kernel"\n\nconfig X86_64\n\tdef_bool y\n\tdepends on 64BIT\n',
  'drivers/Kconfig': 'source "drivers/foo/Kconfig"\n',
  'drivers/Makefile': 'obj-$(CONFIG_FOO) += foo/\n',
  'drivers/foo/Kconfig': 'config FOO\n\ttristate "foo"\n\tdepends on PCI && X86_64\n',
  'drivers/foo/Makefile': 'obj-$(CONFIG_FOO) += dev.o\n',
};
const FILE = 'drivers/foo/dev.c';

/** A memory tree that counts the files read through it (listing arch/ is how a record is checked). */
function counting(files: Record<string, string>): TreeReader & { reads: number } {
  const inner = memoryTreeReader(files);
  const r = {
    reads: 0,
    read: (p: string) => (r.reads++, inner.read(p)),
    list: (d: string) => inner.list(d),
    stamp: (p: string) => inner.stamp!(p),
  };
  return r;
}

/** The record of a first run on TREE that asked about FILE. */
function firstRun(files = TREE): ReachRecord {
  const reach = new CachedReach(memoryTreeReader(files));
  expect(reach.reachOf(FILE)).not.toBeNull();
  return reach.record();
}

describe('CachedReach', () => {
  it('unchanged build files: the answer is the earlier one, and nothing of the tree is read', () => {
    const record = firstRun();
    const reader = counting(TREE);
    const reach = new CachedReach(reader, record);
    expect(reach.covers([FILE])).toBe(true);
    expect(reach.reachOf(FILE)?.evidence).toContain('drivers/foo/Kconfig: FOO depends on X86_64');
    expect(reader.reads).toBe(0);
    expect(reach.computed).toBe(0);
    expect(reach.changed).toBe(false);
  });

  // Each change must recompute; the expected answer after it says whether the answer changes.
  it.each<[string, (t: Record<string, string>) => void, boolean]>([
    ['a Kconfig edited (the dependency removed)', (t) => (t['drivers/foo/Kconfig'] = 'config FOO\n\ttristate "foo"\n\tdepends on PCI\n'), false],
    ['a Kconfig edited elsewhere (a second definition of FOO, without X86_64)', (t) => (t['arch/x86/Kconfig'] += '\nconfig FOO\n\tbool "again"\n'), false],
    ['a Kconfig edited without changing the answer', (t) => (t['drivers/foo/Kconfig'] += '# a comment\n'), true],
    ['a Makefile edited (objects named through a variable)', (t) => (t['drivers/foo/Makefile'] += 'obj-y += $(extra)\n'), false],
    ['a Kbuild added where the Makefile was read (kbuild reads Kbuild first)', (t) => (t['drivers/foo/Kbuild'] = 'obj-y += $(extra)\n'), false],
    ['a Kconfig file deleted (the index becomes incomplete)', (t) => delete t['drivers/foo/Kconfig'], false],
    ['an architecture added (arch/ listed again)', (t) => (t['arch/arm/Kconfig'] = 'config FOO\n\tbool "foo on arm"\n'), false],
  ])('%s: recomputed', (_, change, restricted) => {
    const record = firstRun();
    const files = { ...TREE };
    change(files);
    const reach = new CachedReach(memoryTreeReader(files), record);
    expect(reach.covers([FILE])).toBe(false);
    expect(reach.reachOf(FILE) !== null).toBe(restricted);
    expect(reach.computed).toBe(1);
    expect(reach.changed).toBe(true);
    // The new record holds for the changed tree, not for the old one (unless the change left every stamp alone).
    expect(recordHolds(reach.record(), memoryTreeReader(files))).toBe(true);
    expect(recordHolds(reach.record(), memoryTreeReader(TREE))).toBe(false);
  });

  it('a build file the reach never read changes nothing', () => {
    const record = firstRun();
    const reach = new CachedReach(counting({ ...TREE, 'sound/Makefile': 'obj-y += x.o\n' }), record);
    expect(reach.covers([FILE])).toBe(true);
  });

  it('a file not asked about before is computed, the others reused, and the new record has both', () => {
    const files = { ...TREE, 'drivers/foo/Makefile': 'obj-$(CONFIG_FOO) += dev.o\nobj-y += other.o\n' };
    const record = firstRun(files);
    const reach = new CachedReach(memoryTreeReader(files), record);
    expect(reach.covers([FILE, 'drivers/foo/other.c'])).toBe(false);
    expect(reach.reachOf('drivers/foo/other.c')?.evidence).toContain('drivers/Makefile: foo/ needs CONFIG_FOO');
    expect(reach.reachOf(FILE)).not.toBeNull();
    expect(reach.computed).toBe(1);
    expect(new CachedReach(memoryTreeReader(files), reach.record()).covers([FILE, 'drivers/foo/other.c'])).toBe(true);
  });

  it.each<[string, unknown]>([
    ['not an object', 'garbage'],
    ['no answers', { files: [], lists: [] }],
    ['a stamp that is not a string', { files: [['Kconfig', 3]], lists: [], answers: [] }],
    ['evidence that is not a list of strings', { files: [], lists: [], answers: [[FILE, { evidence: [1] }]] }],
  ])('a damaged record (%s) is not one', (_, v) => {
    expect(asReachRecord(v)).toBeNull();
    // ... and a reach given none computes.
    const reach = new CachedReach(memoryTreeReader(TREE), asReachRecord(v));
    expect(reach.covers([FILE])).toBe(false);
    expect(reach.reachOf(FILE)).not.toBeNull();
    expect(reach.computed).toBe(1);
  });

  it('a well-formed record with a forged answer but stamps that do not match is not used', () => {
    const record = firstRun();
    const forged: ReachRecord = { ...record, files: record.files.map(([p, s]) => [p, p === 'drivers/foo/Kconfig' ? 'x' : s]), answers: [[FILE, null]] };
    const reach = new CachedReach(memoryTreeReader(TREE), asReachRecord(JSON.parse(JSON.stringify(forged))));
    expect(reach.reachOf(FILE)).not.toBeNull();
  });

  it('an UNSTABLE stamp, or a reader without stamps, is never reused', () => {
    const record = firstRun();
    const unstable = { ...record, files: record.files.map(([p, s]): [string, string] => [p, p === 'Kconfig' ? UNSTABLE : s]) };
    const inner = memoryTreeReader(TREE);
    expect(new CachedReach({ ...inner, stamp: (p) => (p === 'Kconfig' ? UNSTABLE : inner.stamp!(p)) }, unstable).covers([FILE])).toBe(false);
    expect(new CachedReach({ read: inner.read, list: inner.list }, record).covers([FILE])).toBe(false);
  });
});

describe('dirTreeReader stamps', () => {
  let root: string;
  let outside: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kmap-stamp-'));
    outside = mkdtempSync(join(tmpdir(), 'kmap-stamp-out-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
  const settle = pastRacyWindow;
  /** A reader for a scan starting now, with no racy window (what tests that write a tree and read it give). */
  const reader = () => dirTreeReader(root, { racyMs: 0 });

  it('an edit that keeps the size and the mtime still changes the stamp (ctime)', async () => {
    const file = join(root, 'Kconfig');
    const mtime = new Date(Date.now() - 3600_000);
    const write = (text: string) => {
      writeFileSync(file, text);
      utimesSync(file, mtime, mtime);
    };
    write('config FOO\n');
    await settle();
    const before = reader().stamp!('Kconfig');
    expect(before).not.toBe(UNSTABLE);
    expect(reader().stamp!('Kconfig')).toBe(before);
    await new Promise((r) => setTimeout(r, 20));
    write('config BAR\n');
    await settle();
    const after = reader().stamp!('Kconfig');
    expect(after).not.toBe(UNSTABLE);
    expect(after).not.toBe(before);
  });

  it('a file just written is UNSTABLE (it may change again within the same clock tick), and so is one written after the scan started', async () => {
    const startedAt = Date.now();
    // (Well after it: a file's ctime comes from the kernel's coarse clock, up to a jiffy behind Date.now().)
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(join(root, 'Kconfig'), 'config FOO\n');
    const r = dirTreeReader(root);
    expect(r.read('Kconfig')).toBe('config FOO\n');
    expect(r.stamp!('Kconfig')).toBe(UNSTABLE);
    await settle();
    // Not the time of the stat: the scan's start decides, even with no racy window.
    expect(dirTreeReader(root, { startedAt, racyMs: 0 }).stamp!('Kconfig')).toBe(UNSTABLE);
    expect(reader().stamp!('Kconfig')).not.toBe(UNSTABLE);
  });

  it('a file whose mtime was set back (touch -d, tar x) is UNSTABLE while its ctime is recent', () => {
    const file = join(root, 'Kconfig');
    writeFileSync(file, 'config FOO\n');
    const old = new Date(Date.now() - 3600_000);
    utimesSync(file, old, old);
    expect(dirTreeReader(root).stamp!('Kconfig')).toBe(UNSTABLE);
  });

  it('what read gives null for stamps NO_FILE: missing, a symlinked file, a file in a symlinked directory', () => {
    writeFileSync(join(outside, 'Kconfig'), 'config SECRET\n');
    mkdirSync(join(root, 'drivers'));
    symlinkSync(join(outside, 'Kconfig'), join(root, 'drivers', 'Kconfig'));
    symlinkSync(outside, join(root, 'evil'));
    const r = dirTreeReader(root);
    for (const p of ['Kconfig', 'drivers/Kconfig', 'evil/Kconfig', '../x']) {
      expect(r.read(p)).toBeNull();
      expect(r.stamp!(p)).toBe(NO_FILE);
    }
    expect(dirTreeReader(root).stamp!('evil/Kconfig')).toBe(NO_FILE);
  });
});
