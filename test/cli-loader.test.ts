/**
 * The `kmap-review` launcher (scripts/cli-loader.cjs): a `scan` is re-run in a Node started with the
 * options that keep V8's background threads from competing with the scan's worker threads; nothing else is.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? '.', '..');
const loader = createRequire(import.meta.url)(join(root, 'scripts', 'cli-loader.cjs')) as {
  wantsScanOptions(argv: string[], execArgv: string[]): boolean;
  SCAN_NODE_OPTIONS: string[];
};

describe('cli-loader', () => {
  it.each([
    [['node', 'kmap-review', 'scan', '.'], [], true],
    [['node', 'kmap-review', 'scan', '--git', 'HEAD'], ['--liftoff-only'], true],
    [['node', 'kmap-review', 'scan', '.'], ['--v8-pool-size=1', '--single-threaded-gc'], false], // already re-run: no loop
    [['node', 'kmap-review', 'check', 'x.patch'], [], false], // one patch: a second process would only cost start-up time
    [['node', 'kmap-review', 'fix', 'scan'], [], false],
    [['node', 'kmap-review'], [], false],
  ])('argv %j, node options %j: re-run = %s', (argv, execArgv, expected) => {
    expect(loader.wantsScanOptions(argv, execArgv)).toBe(expected);
  });

  it('the options are ones this Node accepts (a typo would make every scan fail at start)', () => {
    const r = spawnSync(process.execPath, [...loader.SCAN_NODE_OPTIONS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
