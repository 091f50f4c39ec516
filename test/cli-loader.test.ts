/**
 * The `kmap-review` launcher (scripts/cli-loader.cjs) sets V8 flags that make the optimising compiler do
 * less, after the bundle is compiled (so the code cache, made without them, still matches). They must be
 * flags this Node knows, and ones V8 takes in a running process.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? '.', '..');
const loader = createRequire(import.meta.url)(join(root, 'scripts', 'cli-loader.cjs')) as { V8_FLAGS: string[] };

describe('cli-loader', () => {
  it('its V8 flags are ones this Node knows (a typo is refused on a command line)', () => {
    expect(loader.V8_FLAGS.length).toBeGreaterThan(0);
    const r = spawnSync(process.execPath, [...loader.V8_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('setting them in a running process, then allocating and starting a worker, does not abort V8', () => {
    // A flag V8 cannot change at run time (the GC's threads, say: --single-threaded-gc) aborts it.
    const set = `const v8 = require('node:v8'); for (const f of ${JSON.stringify(loader.V8_FLAGS)}) v8.setFlagsFromString(f);`;
    const work = "const a = []; for (let i = 0; i < 2e6; i++) a.push({ i }); new (require('node:worker_threads').Worker)('process.exit(0)', { eval: true });";
    const r = spawnSync(process.execPath, ['-e', `${set} ${work}`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
