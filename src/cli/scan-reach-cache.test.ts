/**
 * `scan --cache-dir` keeps the Kconfig reach's answers in a file of their own beside the results: the next
 * scan gives the same report from them, a damaged file is recomputed and replaced, and a Kconfig edit
 * changes the answer.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '../../test/helpers/cli.js';
import { writeKconfigTree } from '../../test/helpers/kconfig-tree.js';

const root = join(import.meta.dirname ?? '.', '..', '..');

const leak = (out: string) => (JSON.parse(out) as { findings: Array<{ rule: string; severity: string; note?: string }> }).findings.find((f) => f.rule === 'mapping-leak');

describe('scan --cache-dir and the Kconfig reach', () => {
  it('keeps the answers for the next scan; a damaged file is computed again; a Kconfig edit changes the answer', async () => {
    const tree = mkdtempSync(join(tmpdir(), 'kmap-cli-reach-'));
    const cache = mkdtempSync(join(tmpdir(), 'kmap-cli-reach-cache-'));
    try {
      // Just written: within the racy window (source/file-stamp.ts), so the build files' stamps are UNSTABLE
      // and each scan computes the same record again; its reuse with trusted stamps is
      // scan/tree-kconfig.test.ts's (racyMs 0, which the CLI does not take).
      writeKconfigTree(tree);
      const scan = () => runCaptured(['scan', '--jobs', '1', '--format', 'json', '--cache-dir', cache, tree], { cwd: root });
      const first = await scan();
      expect(leak(first.out)?.severity).toBe('warning');
      const reachFile = readdirSync(cache).find((f) => f.endsWith('.reach.json'));
      expect(reachFile).toMatch(/^scan-[0-9a-f]{12}\.reach\.json$/);
      const saved = readFileSync(join(cache, reachFile!), 'utf8');
      expect(saved).toContain('drivers/demo/leak.c');

      const second = await scan();
      expect(leak(second.out)).toEqual(leak(first.out));
      expect(readFileSync(join(cache, reachFile!), 'utf8')).toBe(saved);

      writeFileSync(join(cache, reachFile!), '{"format": "kmap-review kconfig reach cache 1", "record": [');
      const damaged = await scan();
      expect(damaged.err).toBe('');
      expect(leak(damaged.out)).toEqual(leak(first.out));
      expect(readFileSync(join(cache, reachFile!), 'utf8')).toBe(saved);

      writeFileSync(join(tree, 'drivers/demo/Kconfig'), 'config DEMO\n\ttristate "demo"\n\tdepends on PCI\n');
      const edited = await scan();
      expect(leak(edited.out)?.severity).toBe('error');
      expect(leak(edited.out)?.note ?? '').not.toContain('built only without HIGHMEM');
    } finally {
      rmSync(tree, { recursive: true, force: true });
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
