import { DEFAULT_CONFIG } from '../model.js';
import { buildHistoryRepo, type ScratchRepo } from '../../../test/helpers/history-repo.js';
import type { FileScan } from './classify.js';
import { MemoryResultStore, sampleCommits, scanHistory } from './history.js';
import { scanTree } from './tree.js';

let repo: ScratchRepo;
beforeAll(() => {
  repo = buildHistoryRepo();
});
afterAll(() => repo.cleanup());

const config = DEFAULT_CONFIG;

describe('scan --history', () => {
  it('counts every commit of A..B by class, API and subsystem, exactly', async () => {
    const points = await scanHistory(repo.dir, `${repo.commits[0]}..main`, { config, jobs: 0 });
    expect(points.map((p) => p.commit)).toEqual(repo.commits);
    expect(points.map((p) => p.subject)).toEqual(['start: 2 ready in fs, 1 blocked in drivers', 'fs: add a section that needs care', 'fs: convert demo_copy() to kmap_local_page()', 'docs only', 'drivers: remove demo_start()', 'drivers: add a copy helper']);
    expect(points.map((p) => p.date)).toEqual(repo.commits.map((_, i) => new Date((1_700_000_000 + i * 86400) * 1000).toISOString().replace('.000Z', '+00:00')));
    expect(points.map((p) => p.total)).toEqual([3, 5, 3, 3, 2, 4]);
    expect(points.map((p) => p.byClass)).toEqual([
      { ready: 2, 'needs-care': 0, blocked: 1 },
      { ready: 2, 'needs-care': 2, blocked: 1 },
      { ready: 0, 'needs-care': 2, blocked: 1 },
      { ready: 0, 'needs-care': 2, blocked: 1 },
      { ready: 0, 'needs-care': 2, blocked: 0 },
      { ready: 2, 'needs-care': 2, blocked: 0 },
    ]);
    expect(points[1].byApi).toEqual({ kmap_atomic: 2, kunmap_atomic: 2, kmap: 1 });
    expect(points[4].byApi).toEqual({ kmap_atomic: 1, kunmap_atomic: 1 });
    expect(points.map((p) => p.bySubsystem)).toEqual([
      { 'DEMO FS': 2, 'DEMO DRIVERS': 1 },
      { 'DEMO FS': 4, 'DEMO DRIVERS': 1 },
      { 'DEMO FS': 2, 'DEMO DRIVERS': 1 },
      { 'DEMO FS': 2, 'DEMO DRIVERS': 1 },
      { 'DEMO FS': 2 },
      { 'DEMO FS': 2, 'DEMO DRIVERS': 2 },
    ]);
  });

  it('analyses each file content once across the points (the result store by blob id)', async () => {
    const store = new MemoryResultStore();
    const analysed: string[] = [];
    const counting = { get: (p: string, s: string) => store.get(p, s), set: (p: string, s: string, scan: FileScan) => (analysed.push(p), store.set(p, s, scan)) };
    await scanHistory(repo.dir, `${repo.commits[0]}..main`, { config, jobs: 0, results: counting });
    // ready.c, blocked.c at A; care.c; the converted ready.c; copy.c. The docs-only and removal commits cost none.
    expect(analysed.sort()).toEqual(['drivers/demo/blocked.c', 'drivers/demo/copy.c', 'fs/demo/care.c', 'fs/demo/ready.c', 'fs/demo/ready.c']);
  });

  it('gives, at every point, the counts of a whole scan --git of that commit', async () => {
    const points = await scanHistory(repo.dir, `${repo.commits[0]}..main`, { config, jobs: 0 });
    for (const p of points) {
      const whole = await scanTree({ kind: 'git', repo: repo.dir, rev: p.commit }, { config, jobs: 0 });
      expect([p.total, p.byClass, p.byApi, p.bySubsystem]).toEqual([whole.totals.sites, whole.totals.byClass, whole.totals.byApi, Object.fromEntries(whole.totals.bySubsystem!.map((g) => [g.name, g.total]))]);
    }
  });

  it('samples every Nth commit after A, and B always; or the tagged ones', () => {
    const every2 = sampleCommits(repo.dir, `${repo.commits[0]}..main`, { every: 2 });
    expect(every2.map((c) => c.commit)).toEqual([repo.commits[0], repo.commits[2], repo.commits[4], repo.commits[5]]);
    const tagged = sampleCommits(repo.dir, `${repo.commits[1]}..main`, { tags: 'v*' });
    expect(tagged.map((c) => [c.commit, c.tag])).toEqual([[repo.commits[1], undefined], [repo.commits[5], 'v2']]);
  });

  it('rejects a bad range with a clear error', () => {
    expect(() => sampleCommits(repo.dir, 'main', {})).toThrow(/expects A\.\.B/);
    expect(() => sampleCommits(repo.dir, 'nope..main', {})).toThrow(/unknown revision "nope"/);
    expect(() => sampleCommits(repo.dir, `main..${repo.commits[0]}`, {})).toThrow(/not an ancestor/);
  });
});
