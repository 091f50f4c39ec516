import type { ChangeSet } from '../../src/analysis/model.js';
import { DEFAULT_CONFIG } from '../../src/analysis/model.js';
import { JobQueue } from '../../src/app/queue.js';
import { InProcessRunner, WorkerThreadRunner } from '../../src/app/runner.js';

const cs = (name: string): ChangeSet => ({
  name,
  skipped: [],
  files: [{ oldPath: 'a.c', newPath: 'a.c', oldText: '', newText: '', addedLines: new Set([1, 2, 3]), removedLines: new Set(), complete: true }],
});

describe('WorkerThreadRunner', () => {
  const workerUrl = new URL('../fixtures/github/echo-worker.mjs', import.meta.url);

  it('runs analyses in worker threads, in parallel up to the pool size', async () => {
    const runner = new WorkerThreadRunner({ workerUrl, size: 2 });
    try {
      const reports = await Promise.all(['a', 'b', 'c', 'd'].map((n) => runner.analyze(cs(n), DEFAULT_CONFIG)));
      expect(reports.map((r) => r.name)).toEqual(['a', 'b', 'c', 'd']);
      expect(reports[0]!.files).toEqual([{ path: 'a.c', functionsAnalysed: 3 }]);
    } finally {
      await runner.close();
    }
  });

  it('reports engine errors, replaces a crashed worker and times out a hung one', async () => {
    const runner = new WorkerThreadRunner({ workerUrl, size: 1, timeoutMs: 500 });
    try {
      await expect(runner.analyze(cs('fail'), DEFAULT_CONFIG)).rejects.toThrow('engine said no');
      await expect(runner.analyze(cs('crash'), DEFAULT_CONFIG)).rejects.toThrow('exited with code 3');
      await expect(runner.analyze(cs('hang'), DEFAULT_CONFIG)).rejects.toThrow('timed out');
      expect((await runner.analyze(cs('ok'), DEFAULT_CONFIG)).name).toBe('ok');
    } finally {
      await runner.close();
    }
    await expect(runner.analyze(cs('late'), DEFAULT_CONFIG)).rejects.toThrow('closed');
  });
});

describe('InProcessRunner', () => {
  it('uses the given analyze function', async () => {
    const r = new InProcessRunner(async (c) => ({ name: c.name, findings: [], files: [], skipped: [], gaps: [] }));
    expect((await r.analyze(cs('x'), DEFAULT_CONFIG)).name).toBe('x');
  });
});

describe('JobQueue', () => {
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('runs jobs of one key in order, different keys concurrently, up to the limit; logs failures', async () => {
    const errors: unknown[] = [];
    const q = new JobQueue({ concurrency: 2, log: { error: (o) => errors.push(o) } });
    const log: string[] = [];
    let running = 0;
    let peak = 0;
    const job = (name: string, ms: number, fail = false) => async () => {
      running++;
      peak = Math.max(peak, running);
      log.push(`start ${name}`);
      await tick(ms);
      log.push(`end ${name}`);
      running--;
      if (fail) throw new Error(name);
    };
    q.push('pr1', job('1a', 30));
    q.push('pr1', job('1b', 5, true));
    q.push('pr2', job('2a', 10));
    q.push('pr3', job('3a', 10));
    expect(q.size).toBe(4);
    await q.onIdle();
    expect(peak).toBe(2);
    expect(log.indexOf('end 1a')).toBeLessThan(log.indexOf('start 1b'));
    expect(log.indexOf('start 2a')).toBeLessThan(log.indexOf('end 1a'));
    expect(errors).toHaveLength(1);
    expect(q.size).toBe(0);
    await q.onIdle();
  });
});
