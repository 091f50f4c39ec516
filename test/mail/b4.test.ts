/**
 * kmap-review run exactly as b4 runs a check command: a built `kmap-review` process, the patch message on
 * stdin, cwd at the top of the git tree, no arguments but the configured ones; its output read by
 * b4_driver.py with b4's rules. Email replies are parsed with Python's email package (and git mailinfo)
 * and checked against the patch mails they answer. Skipped when python3 is missing (.ci/run installs it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { makeScratch, patchFile, type Scratch } from './scratch.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DRIVER = join(ROOT, 'test/mail/b4_driver.py');
const HAVE_PYTHON = spawnSync('python3', ['--version']).status === 0;
// The command under test: src/cli/main.ts bundled (ES module, dependencies from node_modules), placed
// two levels under the root so it finds package.json as dist/cli/main.js does.
const BUILT = join(ROOT, `.test-built-${process.pid}`);
const CMD = ['node', join(BUILT, 'cli', 'main.mjs')];

let s: Scratch;
beforeAll(async () => {
  s = makeScratch();
  mkdirSync(join(BUILT, 'cli'), { recursive: true });
  await build({ entryPoints: [join(ROOT, 'src/cli/main.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: join(BUILT, 'cli', 'main.mjs'), logLevel: 'error', target: 'node20' });
}, 60_000);
afterAll(() => {
  s?.cleanup();
  rmSync(BUILT, { recursive: true, force: true });
});

function driver(...args: string[]): any {
  const r = spawnSync('python3', [DRIVER, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`b4_driver.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const d = HAVE_PYTHON ? describe : describe.skip;

d('am-perpatch-check-cmd / prep-perpatch-check-cmd: "kmap-review check --format checkpatch"', () => {
  const check = (k: keyof Scratch['patches']) => driver('check', s.repo, patchFile(s, k), '--', ...CMD, 'check', '--format', 'checkpatch');

  it('a patch with a bug is one failure naming file, line and rule', () => {
    const r = check('leak');
    expect(r.passed).toBe(false);
    expect(r.failures).toEqual([expect.stringMatching(/^drivers\/demo\/demo\.c:11: ERROR: kunmap\(page\) releases a kmap_local_page\(\) mapping .* \[mismatched-unmap\]$/)]);
    expect(r.warnings).toEqual([]);
  });

  it('a clean patch and a patch without C files pass: no output, exit 0', () => {
    for (const k of ['clean', 'docs'] as const) expect(check(k)).toEqual({ rc: 0, failures: [], warnings: [], passed: true });
  });

  it('the two-hunk function is found at the unmap line', () => {
    const r = check('multiHunk');
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]).toMatch(/\[mismatched-unmap\]$/);
  });

  it('an already-applied patch is one failure saying so', () => {
    execFileSync('git', ['am', '-q', patchFile(s, 'clean')], { cwd: s.repo });
    try {
      const r = check('clean');
      expect(r.rc).toBe(2);
      expect(r.failures).toEqual([expect.stringMatching(/already applied/)]);
    } finally {
      execFileSync('git', ['reset', '-q', '--hard', 'HEAD~1'], { cwd: s.repo });
    }
  });
});

d('review-perpatch-check-cmd: "kmap-review check --format b4"', () => {
  const review = (k: keyof Scratch['patches']) => driver('review', s.repo, patchFile(s, k), '--', ...CMD, 'check', '--format', 'b4');

  it('gives fail / pass / [] and nothing on stderr, with B4_TRACKING_FILE set', () => {
    const bad = review('leak');
    expect(bad.stderr).toBe('');
    expect(bad.results.map((r: any) => r.status)).toEqual(['fail']);
    expect(bad.results[0].summary).toContain('drivers/demo/demo.c:11');
    expect(review('clean').results.map((r: any) => r.status)).toEqual(['pass']);
    expect(review('docs').results).toEqual([]);
  });
});

d('--format email: replies read by a real mail parser', () => {
  let replies: any[];
  let patches: any[];
  beforeAll(() => {
    const out = spawnSync(CMD[0]!, [...CMD.slice(1), 'check', '--format', 'email', '--tree', s.repo, patchFile(s, 'series')], { cwd: s.repo, encoding: 'utf8' });
    expect(out.stderr).toBe('');
    const mbox = join(s.dir, 'replies.mbox');
    writeFileSync(mbox, out.stdout);
    replies = driver('mbox', mbox);
    patches = driver('mbox', patchFile(s, 'series'));
  });

  it('one reply per patch with findings, threaded to it, addressed as a list reply', () => {
    expect(replies).toHaveLength(2);
    for (const [i, n] of [[0, 2], [1, 3]] as const) {
      const r = replies[i].headers;
      const p = patches[n].headers; // patches[0] is the cover letter
      expect(r.Subject).toBe(`Re: ${p.Subject}`);
      expect(r['In-Reply-To']).toBe(p['Message-ID'] ?? p['Message-Id']);
      const refs = r.References.split(/\s+/);
      expect(refs[refs.length - 1]).toBe(p['Message-ID'] ?? p['Message-Id']);
      expect(refs).toContain(patches[0].headers['Message-ID'] ?? patches[0].headers['Message-Id']); // the series' thread
      expect(r.To).toBe(p.From);
      expect(r.Cc).toContain('linux-mm@kvack.example');
      expect(r.Cc).toContain('fmdefrancesco@example.com');
      expect(r.From).toBe('Mai Ntainer <maintainer@example.org>');
      expect(r['Message-ID']).toMatch(/^<kmap-review\.[^@]+@example\.org>$/);
      expect(Date.parse(r.Date)).not.toBeNaN();
      expect(replies[i].contentType).toBe('text/plain');
      expect(replies[i].charset).toBe('utf-8');
      expect(replies[i].defects).toEqual([]);
    }
    expect(new Set(replies.map((r) => r.headers['Message-ID'])).size).toBe(2);
  });

  it('quotes only the patch\'s own lines, wraps prose at 78 columns, ends with the footer', () => {
    for (const [i, n] of [[0, 2], [1, 3]] as const) {
      const body: string = replies[i].body;
      const patchLines = new Set((patches[n].body as string).split('\n'));
      const quoted = body.split('\n').filter((l) => l.startsWith('>'));
      expect(quoted.length).toBeGreaterThan(2);
      for (const q of quoted) {
        if (q === '> [...]') continue;
        expect(patchLines.has(q.slice(2))).toBe(true);
      }
      expect(quoted.some((q) => q.startsWith('> @@ '))).toBe(true);
      expect(quoted.length).toBeLessThan((patches[n].body as string).split('\n').length / 2); // not the whole patch
      const prose = body.split('\n').filter((l) => !l.startsWith('>') && !/^[-+]\t/.test(l));
      for (const l of prose) expect(l.length).toBeLessThanOrEqual(78);
      expect(body).toMatch(/^Hi Ira,$/m);
      expect(body).toMatch(/^The path through the code:$/m);
      expect(body).toMatch(/\n-- \nkmap-review \d+\.\d+\.\d+/);
      // The comment follows the quoted line it is about.
      const lines = body.split('\n');
      const at = lines.findIndex((l) => /^This (is a bug|looks wrong): /.test(l));
      expect(lines[at - 2]).toMatch(/^> [+ ]\tkunmap\(/);
      // Each fix is this patch's own post-image (2/3 fixes kunmap(page), 3/3 its kunmap(kaddr)).
      expect(body).toContain(n === 2 ? '-\tkunmap(page);\n+\tkunmap_local(kaddr);' : '-\tkunmap(kaddr);\n+\tkunmap_local(kaddr);');
    }
  });

  it('quotes the second hunk of a two-hunk function, where the wrong unmap is', () => {
    const out = spawnSync(CMD[0]!, [...CMD.slice(1), 'check', '--format', 'email', '--from', 'R <r@example.net>', '--tree', s.repo, patchFile(s, 'multiHunk')], { cwd: s.repo, encoding: 'utf8' });
    const mbox = join(s.dir, 'multi.mbox');
    writeFileSync(mbox, out.stdout);
    const [reply] = driver('mbox', mbox);
    const hunkHeaders = [...s.patches.multiHunk.matchAll(/^@@ .*$/gm)].map((m) => m[0]);
    const quoted = (reply.body as string).split('\n').filter((l) => l.startsWith('> '));
    expect(quoted).toContain(`> ${hunkHeaders[1]}`);
    expect(quoted).not.toContain(`> ${hunkHeaders[0]}`);
    expect(quoted[quoted.length - 1]).toBe('>  \tkunmap(page);');
  });

  it('git mailinfo reads each reply: author, subject and body', () => {
    const out = spawnSync(CMD[0]!, [...CMD.slice(1), 'check', '--format', 'email', patchFile(s, 'leak')], { cwd: s.repo, encoding: 'utf8' });
    const msg = join(s.dir, 'm'), pat = join(s.dir, 'p');
    const info = execFileSync('git', ['mailinfo', msg, pat], { input: out.stdout.replace(/^From kmap-review .*\n/, ''), encoding: 'utf8' });
    expect(info).toMatch(/^Author: Mai Ntainer$/m);
    expect(info).toMatch(/^Email: maintainer@example\.org$/m);
    expect(info).toMatch(/^Subject: demo: use kmap_local_page\(\) in demo_copy\(\)$/m);
  });
});
