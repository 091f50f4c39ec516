/**
 * The tree scan applies the Kconfig reach once the files are analysed: in a directory and in a git revision
 * (whose build files are read from the object store), and on results taken from a result store, which keeps
 * the findings as the file alone decides them.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../model.js';
import { initParser } from '../syntax/parser.js';
import type { ReachRecord, ReachStore } from '../kconfig/reach-cache.js';
import type { FileScan } from './classify.js';
import type { ScanResultStore } from './result-cache.js';
import { scanTree } from './tree.js';
import { writeKconfigTree } from '../../../test/helpers/kconfig-tree.js';
import { pastRacyWindow } from '../../../test/helpers/racy-window.js';
import { standInWorker } from '../../../test/helpers/stand-in-worker.js';


let root: string;
beforeAll(async () => {
  await initParser();
  root = mkdtempSync(join(tmpdir(), 'kmap-scan-kconfig-'));
  writeKconfigTree(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A result store whose entries the test can read. */
class Store implements ScanResultStore {
  readonly m = new Map<string, FileScan>();
  get(path: string, sha: string): FileScan | undefined {
    return this.m.get(`${sha}\0${path}`);
  }
  set(path: string, sha: string, scan: FileScan): void {
    this.m.set(`${sha}\0${path}`, scan);
  }
}

const leakOf = (scan: { findings: Array<{ rule: string; severity: string; note?: string }> }) => scan.findings.find((f) => f.rule === 'mapping-leak');
const NOTE = 'drivers/demo/Makefile: leak.o needs CONFIG_DEMO; drivers/demo/Kconfig: DEMO depends on X86_64';

describe('scanTree with a Kconfig', () => {
  it('a directory: the finding in a file built only with X86_64 is a warning naming the dependency', async () => {
    const scan = await scanTree({ kind: 'dir', root }, { config: DEFAULT_CONFIG, jobs: 1 });
    expect(leakOf(scan)?.severity).toBe('warning');
    expect(leakOf(scan)?.note).toContain(NOTE);
    expect(scan.totals).toBeDefined();
  });

  it('results from a store are changed in the scan, not in the store', async () => {
    const store = new Store();
    const first = await scanTree({ kind: 'dir', root }, { config: DEFAULT_CONFIG, jobs: 1, results: store });
    const again = await scanTree({ kind: 'dir', root }, { config: DEFAULT_CONFIG, jobs: 1, results: store });
    expect(again.files.cached).toBe(first.files.analysed);
    expect(leakOf(again)).toEqual(leakOf(first));
    expect(leakOf(again)?.note?.split('a cleanup, not a runtime bug').length).toBe(2); // once, not once per scan
    const stored = [...store.m.values()].flatMap((s) => s.findings).find((f) => f.rule === 'mapping-leak');
    expect(stored?.severity).toBe('error');
  });

  describe('the reach computed in a worker while this thread makes the tree summaries', () => {
    // Stand-in workers: they claim no file (this thread analyses them all once read), and answer the reach
    // job as told; the real scan-worker.ts answers it in tree-worker.test.ts.
    const workerFile = (onReach: string) =>
      standInWorker(`parentPort.on('message', (m) => {
  if (m.type === 'stop') parentPort.postMessage({ type: 'results', scans: [], skipped: [] });
  else if (m.type === 'reach') { ${onReach} }
});`);
    const scanWith = (onReach: string, reachCache?: ReachStore) => scanTree({ kind: 'dir', root }, { config: DEFAULT_CONFIG, jobs: 2, workerUrl: workerFile(onReach), ...(reachCache ? { reachCache } : {}) });

    it('its answers are used (with their stamps checked), and kept in the store', async () => {
      const kept: ReachRecord[] = [];
      const store: ReachStore = { load: () => null, keep: (r) => void kept.push(r) };
      const answer = { files: [], lists: [], answers: [['drivers/demo/leak.c', { evidence: ['told by the worker'] }]] };
      const scan = await scanWith(`parentPort.postMessage({ type: 'reach', record: ${JSON.stringify(answer)}, changed: true, job: m });`, store);
      expect(leakOf(scan)?.severity).toBe('warning');
      expect(leakOf(scan)?.note).toContain('told by the worker');
      expect(kept.map((r) => r.answers)).toEqual([answer.answers]);
    });

    it.each([
      ['answers nothing (it failed)', `parentPort.postMessage({ type: 'reach', record: null, changed: false });`],
      ['exits', `process.exit(0);`],
      ['throws', `throw new Error('no reach');`],
    ])('a worker that %s: the reach is computed here, as without workers', async (_name, onReach) => {
      const scan = await scanWith(onReach);
      expect(leakOf(scan)?.severity).toBe('warning');
      expect(leakOf(scan)?.note).toContain(NOTE);
    });

    it('stamps that no longer hold: computed here', async () => {
      const stale = { files: [['drivers/demo/Kconfig', 'not its stamp']], lists: [], answers: [['drivers/demo/leak.c', { evidence: ['stale'] }]] };
      const scan = await scanWith(`parentPort.postMessage({ type: 'reach', record: ${JSON.stringify(stale)}, changed: true });`);
      expect(leakOf(scan)?.note).toContain(NOTE);
      expect(leakOf(scan)?.note).not.toContain('stale');
    });
  });

  it('a git revision reads its build files from the object store', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'kmap-git-kconfig-'));
    try {
      cpSync(root, repo, { recursive: true });
      const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], { cwd: repo });
      git('init', '-q');
      git('add', '.');
      git('commit', '-qm', 'one');
      // The working tree's Kconfig no longer restricts: the revision's does.
      writeFileSync(join(repo, 'drivers/demo/Kconfig'), 'config DEMO\n\ttristate "demo"\n');
      const scan = await scanTree({ kind: 'git', repo, rev: 'HEAD' }, { config: DEFAULT_CONFIG, jobs: 1 });
      expect(leakOf(scan)?.note).toContain(NOTE);
      const dir = await scanTree({ kind: 'dir', root: repo }, { config: DEFAULT_CONFIG, jobs: 1 });
      expect(leakOf(dir)?.severity).toBe('error');
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  describe('with a store of the reach\'s answers', () => {
    /** A reach store in memory that counts what it is given. */
    class Reaches implements ReachStore {
      record: ReachRecord | null = null;
      kept = 0;
      load() {
        return this.record && (JSON.parse(JSON.stringify(this.record)) as ReachRecord);
      }
      keep(r: ReachRecord) {
        this.kept++;
        this.record = r;
      }
    }
    // A build file written within the racy window has an UNSTABLE stamp (source/file-stamp.ts).
    const settle = pastRacyWindow;

    it('a directory: unchanged build files give the same answer without a new record; a Kconfig edit recomputes it', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kmap-reach-store-'));
      try {
        cpSync(root, dir, { recursive: true });
        await settle();
        const reaches = new Reaches();
        const opts = { config: DEFAULT_CONFIG, jobs: 1, results: new Store(), reachCache: reaches, racyMs: 0 };
        const first = await scanTree({ kind: 'dir', root: dir }, opts);
        expect(reaches.kept).toBe(1);
        expect(reaches.record?.answers.map(([p]) => p)).toEqual(['drivers/demo/leak.c']);
        const again = await scanTree({ kind: 'dir', root: dir }, opts);
        expect(reaches.kept).toBe(1);
        expect(leakOf(again)).toEqual(leakOf(first));
        expect(leakOf(again)?.note).toContain(NOTE);
        writeFileSync(join(dir, 'drivers/demo/Kconfig'), 'config DEMO\n\ttristate "demo"\n\tdepends on PCI\n');
        const edited = await scanTree({ kind: 'dir', root: dir }, opts);
        expect(reaches.kept).toBe(2);
        expect(leakOf(edited)?.severity).toBe('error');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a git revision: the blob ids decide; a commit that edits a Kconfig recomputes', async () => {
      const repo = mkdtempSync(join(tmpdir(), 'kmap-reach-git-'));
      try {
        cpSync(root, repo, { recursive: true });
        const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], { cwd: repo });
        git('init', '-q');
        git('add', '.');
        git('commit', '-qm', 'one');
        const reaches = new Reaches();
        const opts = { config: DEFAULT_CONFIG, jobs: 1, results: new Store(), reachCache: reaches };
        const first = await scanTree({ kind: 'git', repo, rev: 'HEAD' }, opts);
        expect(leakOf(first)?.note).toContain(NOTE);
        const again = await scanTree({ kind: 'git', repo, rev: 'HEAD' }, opts);
        expect(reaches.kept).toBe(1);
        expect(leakOf(again)).toEqual(leakOf(first));
        writeFileSync(join(repo, 'drivers/demo/Kconfig'), 'config DEMO\n\ttristate "demo"\n');
        git('commit', '-qam', 'two');
        const edited = await scanTree({ kind: 'git', repo, rev: 'HEAD' }, opts);
        expect(reaches.kept).toBe(2);
        expect(leakOf(edited)?.severity).toBe('error');
      } finally {
        rmSync(repo, { recursive: true, force: true });
      }
    });
  });
});
