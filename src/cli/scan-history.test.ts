import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { buildHistoryRepo, type ScratchRepo } from '../../test/helpers/history-repo.js';
import { runCaptured } from '../../test/helpers/cli.js';

const root = join(import.meta.dirname ?? '.', '..', '..');

const cli = (args: string[], cwd: string) => runCaptured(args, { cwd });

let repo: ScratchRepo;
beforeAll(() => {
  repo = buildHistoryRepo();
});
afterAll(() => repo.cleanup());

describe('kmap-review scan --history', () => {
  it('emits JSON that validates against schema/history-v1.schema.json', async () => {
    const r = await cli(['scan', '--jobs', '1', '--history', `${repo.commits[0]}..main`, '--every', '2', '--format', 'json'], repo.dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    const ajv = new Ajv.default({ allErrors: true, strict: false });
    (addFormats as unknown as { default: (a: unknown) => void }).default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(join(root, 'schema', 'history-v1.schema.json'), 'utf8')));
    expect(validate(doc)).toBe(true);
    expect(doc.points.map((p: { total: number }) => p.total)).toEqual([3, 3, 2, 4]);
  });

  it('emits CSV with one column per class, API and subsystem', async () => {
    const r = await cli(['scan', '--jobs', '1', '--history', `${repo.commits[3]}..main`, '--format', 'csv'], repo.dir);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('commit,date,tag,subject,total,ready,needs-care,blocked,api:kmap,api:kmap_atomic,api:kunmap_atomic,subsystem:DEMO DRIVERS,subsystem:DEMO FS');
    expect(lines.slice(1).map((l) => l.split(',').slice(4).join(','))).toEqual(['3,0,2,1,1,1,1,1,2', '2,0,2,0,0,1,1,0,2', '4,2,2,0,0,2,2,2,2']);
  });

  it('puts the trend chart in the HTML report of B', async () => {
    const r = await cli(['scan', '--jobs', '1', '--history', `${repo.commits[0]}..main`, '--tags', 'v*', '--format', 'html'], repo.dir);
    expect(r.code).toBe(0);
    expect(r.out.match(/<g class="tbar">/g)).toHaveLength(2);
    expect(r.out).toContain('>v2</text>');
    expect(r.out).toContain('<b id="total">4</b>');
  });

  it('with --cache-dir, keeps the results in the cache file `scan --git` of the repository uses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmap-history-cache-'));
    try {
      const a = await cli(['scan', '--jobs', '1', '--history', `${repo.commits[0]}..main`, '--format', 'json', '--cache-dir', dir], repo.dir);
      expect(a.code).toBe(0);
      const files = readdirSync(dir).filter((f) => f.startsWith('scan-'));
      expect(files).toHaveLength(1);
      const kept = JSON.parse(readFileSync(join(dir, files[0]), 'utf8')).files.map((f: [string]) => f[0]).sort();
      // One result per path (the cache's rule): the last content seen.
      expect(kept).toEqual(['drivers/demo/blocked.c', 'drivers/demo/copy.c', 'fs/demo/care.c', 'fs/demo/ready.c']);
      const g = JSON.parse((await cli(['scan', '--jobs', '1', '--git', 'main', '--format', 'json', '--cache-dir', dir], repo.dir)).out);
      expect(g.files.cached).toBe(g.files.analysed);
      expect((await cli(['scan', '--jobs', '1', '--history', `${repo.commits[0]}..main`, '--format', 'json', '--cache-dir', dir], repo.dir)).out).toBe(a.out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives clear errors for bad usage', async () => {
    expect((await cli(['scan', '--history', 'main'], repo.dir)).err).toMatch(/expects A\.\.B/);
    expect((await cli(['scan', '--every', '2'], repo.dir)).err).toMatch(/go with --history/);
    expect((await cli(['scan', '--history', 'main..main', '--every', '0'], repo.dir)).code).toBe(2);
    expect((await cli(['scan', '--format', 'csv'], repo.dir)).err).toMatch(/csv is for --history/);
  });
});
