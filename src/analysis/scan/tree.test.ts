import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../model.js';
import { initParser } from '../syntax/parser.js';
import type { FileScan } from './classify.js';
import { Claims, READ_WARM_FILES, scanTree } from './tree.js';
import { standInWorker } from '../../../test/helpers/stand-in-worker.js';

const FIXTURE = join(import.meta.dirname ?? '.', '..', '..', '..', 'test', 'fixtures', 'scan-tree');
const READY = readFileSync(join(FIXTURE, 'fs/demo/ready.c'), 'utf8');
const NEEDS_CARE = readFileSync(join(FIXTURE, 'fs/demo/care.c'), 'utf8');

let root: string;
beforeAll(async () => {
  await initParser();
  root = mkdtempSync(join(tmpdir(), 'kmap-scan-'));
  cpSync(FIXTURE, root, { recursive: true });
  // Latin-1 in a comment: still scanned.
  writeFileSync(join(root, 'drivers/demo/latin1.c'), Buffer.concat([Buffer.from('/* Copyright J\xf6rg */\n', 'latin1'), Buffer.from(READY.replace('demo_copy', 'demo_copy2'))]));
  writeFileSync(join(root, 'drivers/demo/huge.c'), `/* kmap */\n${'x'.repeat(5000)}\n`);
  // Too large but never mentions the API (a generated register header): not worth a "skipped" line.
  writeFileSync(join(root, 'drivers/demo/regs.h'), `#define DEMO_REG 0x1\n${'y'.repeat(5000)}\n`);
  // A symlink out of the tree is never followed.
  const outside = mkdtempSync(join(tmpdir(), 'kmap-outside-'));
  writeFileSync(join(outside, 'secret.c'), READY);
  symlinkSync(join(outside, 'secret.c'), join(root, 'fs/demo/link.c'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('scanTree', () => {
  it('classifies every use in a directory and sums them up', async () => {
    const scan = await scanTree({ kind: 'dir', root }, { config: DEFAULT_CONFIG, jobs: 1, maxBytes: 4096 });
    const byPath = (p: string) => scan.sites.filter((s) => s.path === p).map((s) => `${s.line}:${s.api}:${s.class}`);
    expect(byPath('fs/demo/ready.c')).toEqual(['3:kmap_atomic:ready', '6:kunmap_atomic:ready']);
    expect(byPath('fs/demo/care.c')).toEqual(['3:kmap_atomic:needs-care', '7:kunmap_atomic:needs-care']);
    expect(byPath('drivers/demo/blocked.c')).toEqual(['3:kmap:blocked']);
    expect(byPath('drivers/demo/macro.h')).toEqual(['1:kmap_atomic:needs-care']);
    expect(byPath('drivers/demo/latin1.c')).toEqual(['4:kmap_atomic:ready', '7:kunmap_atomic:ready']);
    expect(scan.sites.some((s) => s.path === 'fs/demo/link.c')).toBe(false);
    expect(scan.files.skipped).toEqual([{ path: 'drivers/demo/huge.c', reason: 'larger than 4096 bytes' }]);
    expect(scan.files.listed).toBe(9);
    expect(scan.findings.map((f) => `${f.path}:${f.line}:${f.rule}`)).toEqual(['drivers/demo/leak.c:6:mapping-leak']);
    expect(scan.totals.bySubsystem?.map((s) => [s.name, s.total])).toEqual([['DEMO DRIVERS', 4], ['DEMO FS', 4]]);
    expect(scan.sites.find((s) => s.path === 'fs/demo/care.c')?.rule).toBe('lost-pagefault-disable');
  });

  it('says once when the reading loop is warm: after READ_WARM_FILES files, or at the end of a smaller tree', async () => {
    const big = mkdtempSync(join(tmpdir(), 'kmap-warm-'));
    try {
      mkdirSync(join(big, 'many'));
      for (let i = 0; i <= READ_WARM_FILES; i++) writeFileSync(join(big, 'many', `f${i}.c`), 'int x;\n');
      for (const [dir, files] of [[big, READ_WARM_FILES + 1], [root, 9]] as const) {
        let selected = 0;
        const calls: number[] = [];
        const scan = await scanTree({ kind: 'dir', root: dir }, { config: DEFAULT_CONFIG, jobs: 1, maxBytes: 4096, select: () => ++selected > 0, onReadWarm: () => calls.push(selected) });
        expect(scan.files.listed).toBe(files);
        expect(calls).toEqual([Math.min(files, READ_WARM_FILES)]);
      }
    } finally {
      rmSync(big, { recursive: true, force: true });
    }
  });

  it('joins paths the same under a root written with a trailing slash', async () => {
    const plain = await scanTree({ kind: 'dir', root }, { config: DEFAULT_CONFIG, jobs: 1, maxBytes: 4096 });
    const slashed = await scanTree({ kind: 'dir', root: `${root}/` }, { config: DEFAULT_CONFIG, jobs: 1, maxBytes: 4096 });
    expect(slashed.sites).toEqual(plain.sites);
    expect(slashed.files.skipped).toEqual(plain.files.skipped);
  });

  it('reads a git revision from the object store', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'kmap-git-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], { cwd: repo });
    git('init', '-q');
    mkdirSync(join(repo, 'fs'));
    writeFileSync(join(repo, 'fs/ready.c'), READY);
    git('add', '.');
    git('commit', '-qm', 'one');
    writeFileSync(join(repo, 'fs/ready.c'), READY.replace(/kmap_atomic/g, 'kmap_local_page').replace(/kunmap_atomic/g, 'kunmap_local'));
    writeFileSync(join(repo, 'fs/care.c'), NEEDS_CARE);
    git('add', '.');
    git('commit', '-qm', 'two');
    try {
      const first = await scanTree({ kind: 'git', repo, rev: 'HEAD~1' }, { config: DEFAULT_CONFIG, jobs: 1 });
      expect(first.sites.map((s) => `${s.path}:${s.class}`)).toEqual(['fs/ready.c:ready', 'fs/ready.c:ready']);
      const second = await scanTree({ kind: 'git', repo, rev: 'HEAD' }, { config: DEFAULT_CONFIG, jobs: 1, baseline: { sites: first.sites } });
      expect(second.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(second.baseline).toMatchObject({ was: 2, now: 2, converted: 2 });
      expect(second.baseline?.added.map((s) => s.path)).toEqual(['fs/care.c', 'fs/care.c']);
      await expect(scanTree({ kind: 'git', repo, rev: 'no-such-rev' }, { config: DEFAULT_CONFIG, jobs: 1 })).rejects.toThrow(/unknown revision/);
      await expect(scanTree({ kind: 'git', repo, rev: '--output=/tmp/x' }, { config: DEFAULT_CONFIG, jobs: 1 })).rejects.toThrow(/not a revision/);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('scans files given in memory', async () => {
    const scan = await scanTree({ kind: 'texts', name: 'pr', items: [{ path: 'a.c', bytes: Buffer.from(READY) }, { path: 'b.c', bytes: Buffer.from('int x;\n') }] }, { config: DEFAULT_CONFIG, jobs: 1 });
    expect(scan.files).toMatchObject({ listed: 2, matched: 1, analysed: 1 });
    expect(scan.totals.byClass.ready).toBe(2);
  });
});

/**
 * The hand-over between this thread and the workers, with stand-in workers (plain JS: jest cannot start the
 * compiled scan-worker.js): every file is analysed exactly once, by a worker or by this thread once it has
 * read everything, and a failing worker fails the scan instead of leaving it waiting.
 */
describe('scanTree: workers', () => {
  const workerFile = standInWorker;
  // Claims each file as scan-worker.js does, reports the ones it got as scanned (no sites) at `stop`, and
  // takes 1 ms a file (so that this thread, done reading, claims some back).
  const echo = workerFile(`
import { workerData } from 'node:worker_threads';
const slots = new Int32Array(workerData.claims);
const scans = [];
parentPort.on('message', (m) => {
  if (m.type === 'file') {
    if (m.index < slots.length && Atomics.compareExchange(slots, m.index, 0, 1) !== 0) return;
    const until = Date.now() + 1;
    while (Date.now() < until);
    scans.push({ path: m.file.path, sites: [], findings: [], functions: 0 });
  } else { parentPort.postMessage({ type: 'results', scans, skipped: [] }); parentPort.close(); }
});`);
  const items = Array.from({ length: 300 }, (_, i) => ({ path: `f${String(i).padStart(3, '0')}.c`, bytes: Buffer.from(READY.replace('demo_copy', `demo_copy${i}`)) }));

  it('every file is analysed once, by a worker or (after the reading) by this thread', async () => {
    const scan = await scanTree({ kind: 'texts', name: 'many', items }, { config: DEFAULT_CONFIG, jobs: 3, workerUrl: echo });
    expect(scan.files).toMatchObject({ listed: 300, matched: 300, analysed: 300 });
    // The files this thread analysed itself are the ones with sites (the stand-ins report none).
    const here = new Set(scan.sites.map((x) => x.path));
    expect(here.size).toBeGreaterThan(0);
    expect(here.size).toBeLessThan(300);
    expect(scan.sites.length).toBe(here.size * 2);
  });

  it.each([2, 3])('with %i threads, a file is analysed by exactly one thread (one scan result per file)', async (jobs) => {
    const scan = await scanTree({ kind: 'texts', name: 'many', items }, { config: DEFAULT_CONFIG, jobs, workerUrl: echo });
    expect(scan.files.analysed).toBe(300);
  });

  it('Claims: the first claim wins; files beyond the capacity stay with their worker', () => {
    const here = new Claims();
    const there = new Claims(here.shared);
    expect(there.claim(7)).toBe(true);
    expect(here.claim(7)).toBe(false);
    expect(here.claim(8)).toBe(true);
    expect(there.claim(8)).toBe(false);
    expect(here.stealable(Claims.CAPACITY - 1)).toBe(true);
    expect(here.stealable(Claims.CAPACITY)).toBe(false);
    expect(there.claim(Claims.CAPACITY)).toBe(true);
    expect(here.claimed(7)).toBe(true);
    expect(here.claimed(9)).toBe(false);
    expect(here.claimed(Claims.CAPACITY + 5)).toBe(true);
  });

  it('a server\'s scan (background) leaves every file to the workers', async () => {
    const scan = await scanTree({ kind: 'texts', name: 'many', items }, { config: DEFAULT_CONFIG, jobs: 1, background: true, workerUrl: echo });
    expect(scan.files).toMatchObject({ matched: 300, analysed: 300 });
    expect(scan.sites).toEqual([]);
  });

  it.each([
    ['reports a failure', `parentPort.postMessage({ type: 'failed', error: 'no parser' });`, 'scan worker: no parser'],
    ['exits', `process.exit(3);`, 'exited with code 3'],
    ['throws', `throw new Error('broken worker');`, 'broken worker'],
  ])('a worker that %s fails the scan (no hang)', async (_name, body, message) => {
    await expect(scanTree({ kind: 'texts', name: 'many', items }, { config: DEFAULT_CONFIG, jobs: 2, workerUrl: workerFile(body) })).rejects.toThrow(message);
  });
});

describe('scanTree: with a result store', () => {
  /** An in-memory store that records what was asked. */
  const memoryStore = () => {
    const m = new Map<string, { sha: string; scan: FileScan }>();
    return {
      asked: [] as string[],
      get(path: string, sha: string) {
        this.asked.push(path);
        const e = m.get(path);
        return e?.sha === sha ? e.scan : undefined;
      },
      set: (path: string, sha: string, scan: FileScan) => void m.set(path, { sha, scan }),
      shaOf: (path: string) => m.get(path)?.sha,
    };
  };

  it('a re-scan takes unchanged files from the store and analyses the changed ones, with the same result', async () => {
    const tree = mkdtempSync(join(tmpdir(), 'kmap-cached-'));
    cpSync(FIXTURE, tree, { recursive: true });
    try {
      const store = memoryStore();
      const opts = { config: DEFAULT_CONFIG, jobs: 1, results: store };
      const first = await scanTree({ kind: 'dir', root: tree }, opts);
      expect(first.files.cached).toBe(0);
      // The key is git's blob id of the file, as `git hash-object` computes it.
      expect(store.shaOf('fs/demo/ready.c')).toBe(execFileSync('git', ['hash-object', join(tree, 'fs/demo/ready.c')], { encoding: 'utf8' }).trim());
      const again = await scanTree({ kind: 'dir', root: tree }, opts);
      expect(again.files).toMatchObject({ matched: first.files.matched, analysed: first.files.analysed, cached: first.files.analysed });
      // (the summaries' stats: times, and what came from the store)
      expect({ ...again, elapsedMs: 0, files: null, summaries: null }).toEqual({ ...first, elapsedMs: 0, files: null, summaries: null });

      // care.c changes (and becomes ready): analysed again, the others still come from the store.
      writeFileSync(join(tree, 'fs/demo/care.c'), READY.replace('demo_copy', 'demo_copy_again'));
      const changed = await scanTree({ kind: 'dir', root: tree }, opts);
      expect(changed.files.cached).toBe(first.files.analysed - 1);
      expect(changed.sites.filter((s) => s.path === 'fs/demo/care.c').map((s) => s.class)).toEqual(['ready', 'ready']);
      const fresh = await scanTree({ kind: 'dir', root: tree }, { config: DEFAULT_CONFIG, jobs: 1 });
      expect(changed.sites).toEqual(fresh.sites);
      expect(changed.findings).toEqual(fresh.findings);
      expect(fresh.files.cached).toBeUndefined();
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  it('in a git revision, a blob is looked up by its object id, once per scan', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'kmap-git-cached-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], { cwd: repo, encoding: 'utf8' });
    git('init', '-q');
    mkdirSync(join(repo, 'fs'));
    writeFileSync(join(repo, 'fs/ready.c'), READY);
    writeFileSync(join(repo, 'fs/care.c'), NEEDS_CARE);
    git('add', '.');
    git('commit', '-qm', 'one');
    try {
      const store = memoryStore();
      const first = await scanTree({ kind: 'git', repo, rev: 'HEAD' }, { config: DEFAULT_CONFIG, jobs: 1, results: store });
      expect(store.shaOf('fs/ready.c')).toBe(git('rev-parse', 'HEAD:fs/ready.c').trim());
      const again = await scanTree({ kind: 'git', repo, rev: 'HEAD' }, { config: DEFAULT_CONFIG, jobs: 1, results: store });
      expect(again.files).toMatchObject({ listed: 2, matched: 2, analysed: 2, cached: 2 });
      expect(again.sites).toEqual(first.sites);
      expect(store.asked).toEqual(['fs/care.c', 'fs/ready.c', 'fs/care.c', 'fs/ready.c']); // once per file and scan
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
