/**
 * The `kmap-review` launcher (scripts/cli-loader.cjs): a `scan` runs with V8 flags that make the optimising
 * compiler do less, set after the bundle is compiled (so the code cache, made by a review, still matches);
 * nothing else gets them.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? '.', '..');
const loader = createRequire(import.meta.url)(join(root, 'scripts', 'cli-loader.cjs')) as {
  v8FlagsFor(argv: string[]): string[];
  SCAN_V8_FLAGS: string[];
};

describe('cli-loader', () => {
  it.each([
    [['node', 'kmap-review', 'scan', '.'], true],
    [['node', 'kmap-review', 'scan', '--git', 'HEAD'], true],
    [['node', 'kmap-review', 'check', 'x.patch'], false], // one patch: the defaults suit a short run
    [['node', 'kmap-review', 'fix', 'scan'], false],
    [['node', 'kmap-review'], false],
  ])('argv %j: scan flags = %s', (argv, expected) => {
    expect(loader.v8FlagsFor(argv)).toEqual(expected ? loader.SCAN_V8_FLAGS : []);
  });

  it('the flags are ones this Node accepts, and setting them while running is taken without a crash', () => {
    // A typo would make every scan fail at start; a flag V8 cannot change at run time (the GC's threads, say) aborts.
    const set = `const v8 = require('node:v8'); for (const f of ${JSON.stringify(loader.SCAN_V8_FLAGS)}) v8.setFlagsFromString(f);`;
    const work = "const a = []; for (let i = 0; i < 2e6; i++) a.push({ i }); new (require('node:worker_threads').Worker)('process.exit(0)', { eval: true });";
    const r = spawnSync(process.execPath, ['-e', `${set} ${work}`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const asOptions = spawnSync(process.execPath, [...loader.SCAN_V8_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(asOptions.stderr).toBe('');
  });
});
