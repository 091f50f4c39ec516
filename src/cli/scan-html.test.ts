import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '../../test/helpers/cli.js';

const root = join(import.meta.dirname ?? '.', '..', '..');
const fixture = join(root, 'test', 'fixtures', 'scan-tree');

const cli = (args: string[], cwd = root) => runCaptured(args, { cwd });

describe('kmap-review scan --format html', () => {
  it('is one self-contained page: no external script, style, font or image', async () => {
    const r = await cli(['scan', '--jobs', '1', '--format', 'html', fixture]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^<!DOCTYPE html>/);
    expect(r.out).not.toMatch(/\b(?:src|href)="(?!#)/);
    expect(r.out).not.toMatch(/@import|url\(/);
    expect(r.out).toContain("default-src 'none'");
    // Every site has a row; the numbers are in the HTML itself.
    expect(r.out.match(/<tr class="site /g)).toHaveLength(6);
    expect(r.out).toContain('<b id="total">6</b>');
    // The one file with ready sites has fix's patch; the needs-care rows their evidence.
    expect(r.out.match(/<details class="patch"/g)).toHaveLength(1);
    expect(r.out.match(/<details class="ev">/g)).toHaveLength(4);
    expect(r.out).toContain('<ol class="trace">');
  });

  it('names the tree as it was given, not by the absolute path of this machine', async () => {
    const given = await cli(['scan', '--jobs', '1', '--format', 'html', 'test/fixtures/scan-tree']);
    expect(given.out).toContain('<title>kmap migration: test/fixtures/scan-tree</title>');
    expect(given.out).not.toContain(root);
    const here = await cli(['scan', '--jobs', '1', '--format', 'html', '.'], fixture);
    expect(here.out).toContain('<title>kmap migration: scan-tree</title>');
  });

  it('escapes what the tree brings (paths, functions, reasons)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmap-html-esc-'));
    try {
      cpSync(join(fixture, 'fs/demo/ready.c'), join(dir, '<b>x.c'));
      const r = await cli(['scan', '--jobs', '1', '--format', 'html', dir]);
      expect(r.code).toBe(0);
      expect(r.out).not.toContain('<b>x.c');
      expect(r.out).toContain('&lt;b&gt;x.c');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows the change by class and API against --baseline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmap-html-base-'));
    try {
      cpSync(fixture, dir, { recursive: true });
      const base = await cli(['scan', '--jobs', '1', '--format', 'json', dir]);
      writeFileSync(join(dir, 'base.json'), base.out);
      const ready = join(dir, 'fs/demo/ready.c');
      writeFileSync(ready, readFileSync(ready, 'utf8').replace('kmap_atomic(', 'kmap_local_page(').replace('kunmap_atomic(', 'kunmap_local('));
      const r = await cli(['scan', '--jobs', '1', '--format', 'html', '--baseline', join(dir, 'base.json'), dir]);
      expect(r.code).toBe(0);
      expect(r.out).toContain('<tr class="c-ready"><th scope="row">ready</th><td class="num">0</td><td class="num">2</td><td class="num change">\u22122</td><td class="num">0</td></tr>');
      expect(r.out).toContain('<th scope="row">kmap_atomic()</th><td class="num">2</td><td class="num">3</td><td class="num change">\u22121</td>');
      expect(r.out).toMatch(/was <b>6<\/b>, now <b>4<\/b>/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
