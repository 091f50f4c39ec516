import { readlinkSync } from 'node:fs';
import { getPriority } from 'node:os';
import { runInBackground } from './background-thread.js';

const linux = process.platform === 'linux';

(linux ? describe : describe.skip)('runInBackground (Linux)', () => {
  it('lowers the calling thread\'s priority by its thread id', () => {
    // This test's own thread (a jest worker process): one step lower is harmless here.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    const before = getPriority(tid);
    expect(runInBackground(Math.min(19, before + 1))).toBe(true);
    expect(getPriority(tid)).toBe(Math.min(19, before + 1));
  });
});
