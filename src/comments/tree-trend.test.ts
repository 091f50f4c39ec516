import { appendRun, runPointOf, TREE_HISTORY_RUNS } from '../app/tree/history.js';
import { renderTreeTrend, reportCommand, sparkline, type TreeRunPoint } from './tree-trend.js';

const point = (commit: string, total: number, bySubsystem: Record<string, number>, ready = 0): TreeRunPoint => ({
  commit: commit.repeat(40).slice(0, 40), date: '2026-01-01T00:00:00.000Z', total, byClass: { ready, 'needs-care': total - ready, blocked: 0 }, bySubsystem,
});

describe('the tree check run trend', () => {
  it('draws a sparkline scaled between the lowest and highest value', () => {
    expect(sparkline([10, 5, 0])).toBe('█▅▁');
    expect(sparkline([3, 3])).toBe('▄▄');
    expect(sparkline([])).toBe('');
  });

  it('shows the numbers, the per-subsystem changes since the previous run, and ends with the report command', () => {
    const runs = [point('a', 12, { 'DEMO FS': 8, 'DEMO DRIVERS': 4 }, 6), point('b', 10, { 'DEMO FS': 8, 'DEMO DRIVERS': 2 }, 4), point('c', 7, { 'DEMO FS': 5, NEW: 2 }, 3)];
    const md = renderTreeTrend(runs);
    expect(md).toContain('`█▅▁` 12 → 10 → 7 (−5 over 3 runs; −3 since `bbbbbbbbbbbb`)');
    expect(md).toContain('ready 3 (−1), needs care 4 (−2), blocked 0 (±0)');
    const table = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| subsystem'));
    expect(table).toEqual(['| DEMO FS | 8 | 5 | −3 |', '| DEMO DRIVERS | 2 | 0 | −2 |', '| NEW | 0 | 2 | +2 |']);
    expect(md.trimEnd().endsWith(`\`${reportCommand('c'.repeat(40))}\``)).toBe(true);
  });

  it('with one run, only the command', () => {
    const md = renderTreeTrend([point('a', 3, {})]);
    expect(md).not.toMatch(/Trend/);
    expect(md).toContain('kmap-review scan --format html --git aaaaaaaa');
  });

  it('keeps a bounded history, a re-run replacing its commit, ignoring what is not a history', () => {
    let kept: unknown = 'garbage';
    for (let i = 0; i < TREE_HISTORY_RUNS + 5; i++) kept = appendRun(kept, point(String.fromCharCode(97 + (i % 26)), i, {}));
    const runs = kept as TreeRunPoint[];
    expect(runs).toHaveLength(TREE_HISTORY_RUNS);
    expect(runs[runs.length - 1].total).toBe(TREE_HISTORY_RUNS + 4);
    expect(runs[0].total).toBe(5);
    const again = appendRun(runs, { ...runs[runs.length - 1], total: 99 });
    expect(again).toHaveLength(TREE_HISTORY_RUNS);
    expect(again.map((r) => r.total).slice(-2)).toEqual([TREE_HISTORY_RUNS + 3, 99]);
    expect(appendRun([{ nope: 1 }, null], point('z', 1, {}))).toHaveLength(1);
  });

  it('takes a run point from the scan totals, by subsystem or else by directory', () => {
    const totals = { sites: 3, byClass: { ready: 1, 'needs-care': 1, blocked: 1 }, byApi: {}, findings: {}, byDirectory: [{ name: 'fs/x', total: 3, ready: 1, needsCare: 1, blocked: 1 }], bySubsystem: null };
    expect(runPointOf('f'.repeat(40), { totals }, new Date(0))).toEqual({ commit: 'f'.repeat(40), date: '1970-01-01T00:00:00.000Z', total: 3, byClass: { ready: 1, 'needs-care': 1, blocked: 1 }, bySubsystem: { 'fs/x': 3 } });
  });
});
