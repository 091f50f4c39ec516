import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { defaultCacheDir } from './scan.js';
import { runCaptured } from '../../test/helpers/cli.js';

const root = join(import.meta.dirname ?? '.', '..', '..');
const exampleTree = join(root, 'examples', 'tree');

const cli = (args: string[], cwd = root) => runCaptured(args, { cwd });

describe('kmap-review scan', () => {
  it('prints totals, directories and the sites that need care', async () => {
    const r = await cli(['scan', '--jobs', '1', exampleTree]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/10 uses of kmap_atomic\(\)\/kmap\(\) and their unmaps in 1 files/);
    expect(r.out).toMatch(/ready: 8 {3}needs-care: 2 {3}blocked: 0/);
    expect(r.out).toMatch(/^drivers\/misc\/kmap_demo\.c:42: needs-care: kmap_atomic\(\) in demo_fill_from_user\(\): .*\[lost-pagefault-disable\]$/m);
  });

  it('emits JSON that validates against schema/scan-v1.schema.json', async () => {
    const r = await cli(['scan', '--jobs', '1', '--format', 'json', exampleTree]);
    const schema = JSON.parse(readFileSync(join(root, 'schema', 'scan-v1.schema.json'), 'utf8'));
    const validate = new Ajv.default({ allErrors: true, strict: false }).compile(schema);
    const doc = JSON.parse(r.out);
    const valid = validate(doc);
    expect(validate.errors).toBeNull();
    expect(valid).toBe(true);
    expect(doc.sites[0]).toEqual(expect.objectContaining({ path: 'drivers/misc/kmap_demo.c', api: expect.any(String), class: expect.any(String), reason: expect.any(String) }));
  });

  it('SARIF URIs are relative to the git top-level when DIR is inside a work tree, else to DIR (declared)', async () => {
    const top = mkdtempSync(join(tmpdir(), 'kmap-sarif-'));
    try {
      cpSync(exampleTree, join(top, 'sub', 'tree'), { recursive: true });
      const outside = JSON.parse((await cli(['scan', '--jobs', '1', '--format', 'sarif', join(top, 'sub')])).out).runs[0];
      expect(outside.results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('tree/drivers/misc/kmap_demo.c');
      expect(outside.originalUriBaseIds['%SRCROOT%'].uri).toBe(`file://${join(top, 'sub')}/`);
      spawnSync('git', ['init', '-q', top]);
      const inside = JSON.parse((await cli(['scan', '--jobs', '1', '--format', 'sarif', join(top, 'sub')])).out).runs[0];
      expect(inside.results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('sub/tree/drivers/misc/kmap_demo.c');
      expect(inside.originalUriBaseIds['%SRCROOT%'].uri).toBe(`file://${realpathSync(top)}/`);
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });

  it('emits SARIF 2.1.0 that code scanning accepts: rules with help, relative locations, fingerprints', async () => {
    const r = await cli(['scan', '--jobs', '1', '--format', 'sarif', exampleTree]);
    const log = JSON.parse(r.out);
    expect(log.version).toBe('2.1.0');
    const run = log.runs[0];
    const ids = run.tool.driver.rules.map((x: { id: string }) => x.id);
    expect(ids).toContain('deprecated-api');
    for (const rule of run.tool.driver.rules) expect(rule.help.text).toMatch(/## What it finds/);
    expect(run.results).toHaveLength(10);
    for (const res of run.results) {
      expect(ids[res.ruleIndex]).toBe(res.ruleId);
      expect(['error', 'warning', 'note']).toContain(res.level);
      const loc = res.locations[0].physicalLocation;
      // examples/tree is inside this repository: URIs are relative to its top-level, which is %SRCROOT%.
      expect(loc.artifactLocation.uri).toBe('examples/tree/drivers/misc/kmap_demo.c');
      expect(loc.region.startLine).toBeGreaterThan(0);
      expect(Object.values(res.partialFingerprints)[0]).toMatch(/^[0-9a-f]{16}$/);
    }
    // Fingerprints identify sites, not lines: the same scan twice gives the same set.
    const again = JSON.parse((await cli(['scan', '--jobs', '1', '--format', 'sarif', exampleTree])).out);
    expect(again.runs[0].results.map((x: { partialFingerprints: object }) => x.partialFingerprints)).toEqual(run.results.map((x: { partialFingerprints: object }) => x.partialFingerprints));
  });

  it('--config include/exclude: only the selected files are scanned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmap-scan-cfg-'));
    cpSync(exampleTree, join(dir, 'tree'), { recursive: true });
    cpSync(join(exampleTree, 'drivers', 'misc', 'kmap_demo.c'), join(dir, 'tree', 'drivers', 'misc', 'copy.c'));
    writeFileSync(join(dir, 'kmap-review.yml'), 'exclude: ["drivers/misc/copy.c"]\n');
    const all = JSON.parse((await cli(['scan', '--jobs', '1', '--format', 'json', join(dir, 'tree')])).out);
    const selected = JSON.parse((await cli(['scan', '--jobs', '1', '--format', 'json', '--config', join(dir, 'kmap-review.yml'), join(dir, 'tree')])).out);
    expect(new Set(all.sites.map((x: { path: string }) => x.path))).toEqual(new Set(['drivers/misc/kmap_demo.c', 'drivers/misc/copy.c']));
    expect(new Set(selected.sites.map((x: { path: string }) => x.path))).toEqual(new Set(['drivers/misc/kmap_demo.c']));
  });

  it('renders markdown for a check run', async () => {
    const r = await cli(['scan', '--jobs', '1', '--format', 'markdown', exampleTree]);
    expect(r.out).toMatch(/\*\*10\*\* uses of `kmap_atomic\(\)`\/`kmap\(\)`/);
    expect(r.out).toMatch(/### Needs care \(2\)/);
    expect(r.out).toMatch(/\| drivers\/misc \| 10 \| 8 \| 2 \| 0 \|/);
  });

  it('ratchets against a baseline: new uses fail, conversions pass', async () => {
    const tree = mkdtempSync(join(tmpdir(), 'kmap-scan-cli-'));
    cpSync(exampleTree, tree, { recursive: true });
    const baseline = join(tree, '..', `${tree.split('/').pop()}-baseline.json`);
    writeFileSync(baseline, (await cli(['scan', '--jobs', '1', '--format', 'json', tree])).out);
    const file = join(tree, 'drivers/misc/kmap_demo.c');
    const src = readFileSync(file, 'utf8');
    writeFileSync(file, src + '\nstatic void demo_new_use(struct page *page, char *buf)\n{\n\tchar *v = kmap_atomic(page);\n\n\tmemcpy(buf, v, 8);\n\tkunmap_atomic(v);\n}\n');
    const worse = await cli(['scan', '--jobs', '1', '--baseline', baseline, tree]);
    expect(worse.code).toBe(1);
    expect(worse.out).toMatch(/trend: was 10, now 12 \(0 converted or removed, 2 new\)/);
    writeFileSync(file, src.replace(/kmap_atomic\(/g, 'kmap_local_page(').replace(/kunmap_atomic\(/g, 'kunmap_local('));
    const better = await cli(['scan', '--jobs', '1', '--baseline', baseline, tree]);
    expect(better.out).toMatch(/trend: was 10, now 2 \(8 converted or removed, 0 new\)/);
    expect(better.code).toBe(0);
  });

  it('a file the scan skips (grown past --max-bytes) keeps counting: new uses in it fail the ratchet', async () => {
    const tree = mkdtempSync(join(tmpdir(), 'kmap-scan-skip-'));
    cpSync(exampleTree, tree, { recursive: true });
    const baseline = join(tree, '..', `${tree.split('/').pop()}-baseline.json`);
    writeFileSync(baseline, (await cli(['scan', '--jobs', '1', '--format', 'json', tree])).out);
    const file = join(tree, 'drivers/misc/kmap_demo.c');
    const src = readFileSync(file, 'utf8');
    const limit = String(Buffer.byteLength(src) + 200);
    // Past the limit, with no new use (a long comment mentioning kmap_atomic() does not count): still passes.
    writeFileSync(file, `${src}\n/* ${'kmap_atomic(page) '.repeat(40)} */\n`);
    const same = await cli(['scan', '--jobs', '1', '--max-bytes', limit, '--baseline', baseline, tree]);
    expect(same.out).toMatch(/skipped|not analysed|larger than/);
    expect(same.out).toMatch(/\(0 converted or removed, 0 new\)/);
    expect(same.code).toBe(0);
    // Past the limit with a new use: fails, and says where.
    writeFileSync(file, `${src}\n/* ${'x'.repeat(400)} */\nstatic void more(struct page *page)\n{\n\tchar *v = kmap_atomic(page);\n\n\tv[0] = 0;\n\tkunmap_atomic(v);\n}\n`);
    const worse = await cli(['scan', '--jobs', '1', '--max-bytes', limit, '--baseline', baseline, tree]);
    expect(worse.code).toBe(1);
    expect(worse.out).toContain('new uses in a file not analysed: drivers/misc/kmap_demo.c: 12 deprecated calls (lexically), was 10');
    const json = JSON.parse((await cli(['scan', '--jobs', '1', '--format', 'json', '--max-bytes', limit, '--baseline', baseline, tree])).out);
    expect(json.baseline.addedInSkipped).toEqual([expect.objectContaining({ path: 'drivers/misc/kmap_demo.c', was: 10, now: 12 })]);
    expect(json.files.skipped).toEqual([expect.objectContaining({ path: 'drivers/misc/kmap_demo.c', uses: 12 })]);
    rmSync(tree, { recursive: true, force: true });
  });

  it.each([
    [['scan', '/nonexistent/tree'], /no such directory/],
    [['scan', join(root, 'package.json')], /not a directory/],
    [['scan', '--format', 'xml', exampleTree], /--format must be one of text, json, markdown, sarif/],
    [['scan', '--baseline', join(root, 'package.json'), exampleTree], /not a scan result/],
    [['scan', '--jobs', 'many', exampleTree], /--jobs expects a positive whole number/],
    [['scan', exampleTree, exampleTree], /scan takes one DIR/],
  ])('rejects bad input %j with exit 2', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('--cache keeps results in the user\'s cache (never in the tree) for the next scan, which gives the same answer', async () => {
    const tree = mkdtempSync(join(tmpdir(), 'kmap-cli-cache-'));
    const home = mkdtempSync(join(tmpdir(), 'kmap-cli-home-'));
    cpSync(exampleTree, tree, { recursive: true });
    const before = readdirSync(tree, { recursive: true }).sort();
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = home;
    try {
      const first = await cli(['scan', '--jobs', '1', '--cache', '--format', 'json', tree]);
      expect(first.err).toBe('');
      expect(readdirSync(join(home, 'kmap-review')).sort()).toEqual(['.gitignore', expect.stringMatching(/^scan-[0-9a-f]{12}\.json$/)]);
      expect(readdirSync(tree, { recursive: true }).sort()).toEqual(before);
      const second = await cli(['scan', '--jobs', '1', '--cache', '--format', 'json', tree]);
      const [a, b] = [JSON.parse(first.out), JSON.parse(second.out)];
      expect(a.files.cached).toBe(0);
      expect(b.files.cached).toBe(b.files.analysed);
      expect(b.files.analysed).toBeGreaterThan(0);
      for (const doc of [a, b]) {
        delete doc.files.cached;
        delete doc.elapsedMs;
      }
      expect(b).toEqual(a);
      const text = await cli(['scan', '--jobs', '1', '--cache', tree]);
      expect(text.out).toMatch(/, 1 from the cache\)/);
      // Another configuration: nothing cached is used.
      const other = await cli(['scan', '--jobs', '1', '--cache', '--rule', 'unmap-order=off', '--format', 'json', tree]);
      expect(JSON.parse(other.out).files.cached).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
      rmSync(tree, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  });

  it.each([
    [{ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' }, '/x/cache/kmap-review'],
    [{ XDG_CACHE_HOME: 'relative', HOME: '/home/u' }, '/home/u/.cache/kmap-review'], // (XDG: relative paths are ignored)
    [{ HOME: '/home/u' }, '/home/u/.cache/kmap-review'],
    [{}, null],
  ])('the default cache directory for %j is %s', (env, dir) => {
    expect(defaultCacheDir(env)).toBe(dir);
  });

  it('a cache that cannot be written costs a warning, never the scan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmap-cli-cache-'));
    try {
      writeFileSync(join(dir, 'file'), 'in the way');
      const r = await cli(['scan', '--jobs', '1', '--cache-dir', join(dir, 'file', 'cache'), exampleTree]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/10 uses of kmap_atomic/);
      expect(r.err).toMatch(/cannot write the scan cache \(ENOTDIR\): the results are not kept/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports an unknown git revision as bad input', async () => {
    const r = await cli(['scan', '--git', 'no-such-revision-here']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown revision/);
  });
});
