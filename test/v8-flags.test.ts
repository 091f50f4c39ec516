/**
 * The `kmap-review` process (src/cli/main.ts) sets V8 flags that make the optimising compiler do less, after
 * the bundle is compiled (so the code cache, made without them, still matches), and a scan sets some of them
 * only once its reading loop is optimised. They must be flags this Node knows, and ones V8 takes in a running
 * process (with worker threads started after them).
 */
import { spawnSync } from 'node:child_process';
import { GC_FLAGS, JIT_FLAGS } from '../src/cli/v8-flags.js';

const FLAGS = [...GC_FLAGS, ...JIT_FLAGS];

describe('kmap-review V8 flags', () => {
  it('its V8 flags are ones this Node knows (a typo is refused on a command line)', () => {
    expect(FLAGS.length).toBeGreaterThan(0);
    const r = spawnSync(process.execPath, [...FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('setting them in a running process, then allocating and starting a worker, does not abort V8', () => {
    // A flag V8 cannot change at run time (the GC's threads, say: --single-threaded-gc) aborts it.
    const set = `const v8 = require('node:v8'); for (const f of ${JSON.stringify(FLAGS)}) v8.setFlagsFromString(f);`;
    const work = "const a = []; for (let i = 0; i < 2e6; i++) a.push({ i }); new (require('node:worker_threads').Worker)('process.exit(0)', { eval: true });";
    const r = spawnSync(process.execPath, ['-e', `${set} ${work}`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
