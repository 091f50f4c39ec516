/**
 * The GitHub Action (action.yml -> action/entry.mjs), run as the runner runs it: in a scratch git repository
 * whose pull request is GitHub's example `pull_request.opened` payload with this repository's base and head
 * commits, with GITHUB_EVENT_PATH, GITHUB_WORKSPACE, GITHUB_STEP_SUMMARY and the inputs in the environment.
 * The CLI is this checkout's source, transpiled file by file with esbuild (no type check: tsc covers it).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import examples from '@octokit/webhooks-examples/api.github.com/index.json' with { type: 'json' };
// @ts-expect-error plain JavaScript, no types
import { annotationLines, escapeData, escapeProperty } from '../action/entry.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'kmap-action-'));
const built = `${ROOT}.built-action-test`; // at the top, like dist/: its node_modules and ../../package.json resolve
const repo = join(work, 'repo');
let base = '';
let head = '';

const git = (...args: string[]) => {
  const r = spawnSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.org' } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

beforeAll(async () => {
  const { build } = await import('esbuild');
  const entryPoints = (readdirSync(`${ROOT}src`, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts')).map((f) => `${ROOT}src/${f}`);
  await build({ entryPoints, outdir: built, outbase: `${ROOT}src`, format: 'esm', platform: 'node', target: 'node20', bundle: false, logLevel: 'error' });
  mkdirSync(repo);
  cpSync(`${ROOT}examples/tree`, repo, { recursive: true });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'base');
  base = git('rev-parse', 'HEAD');
  git('apply', `${ROOT}examples/kmap-demo-conversion.patch`);
  git('commit', '-q', '-am', 'misc: kmap_demo: convert to kmap_local_page()');
  head = git('rev-parse', 'HEAD');
}, 60_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(built, { recursive: true, force: true });
});

function event(): string {
  const opened = (examples as Array<{ name: string; examples: Array<Record<string, any>> }>)
    .find((e) => e.name === 'pull_request')!.examples.find((p) => p.action === 'opened')!;
  const payload = structuredClone(opened);
  payload.pull_request.base.sha = base;
  payload.pull_request.head.sha = head;
  const p = join(work, `event-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, JSON.stringify(payload));
  return p;
}

function runAction(inputs: Record<string, string>): { status: number | null; out: string; summary: string } {
  const summary = join(work, `summary-${Math.random().toString(36).slice(2)}.md`);
  writeFileSync(summary, '');
  const r = spawnSync(process.execPath, [`${ROOT}action/entry.mjs`], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '', GITHUB_EVENT_PATH: event(), GITHUB_WORKSPACE: repo, GITHUB_STEP_SUMMARY: summary,
      KMAP_REVIEW_CLI: join(built, 'cli', 'main.js'), ...inputs,
    },
  });
  if (process.env.KMAP_DEBUG_ACTION) console.log(r.stdout, r.stderr);
  return { status: r.status, out: r.stdout + r.stderr, summary: readFileSync(summary, 'utf8') };
}

it('annotates the pull request\'s new findings, writes the job summary and SARIF, fails on errors', () => {
  const r = runAction({ INPUT_FAIL_ON: 'error', INPUT_SARIF: 'out.sarif' });
  expect(r.status).toBe(1);
  const commands = r.out.split('\n').filter((l) => l.startsWith('::'));
  expect(commands.filter((l) => l.startsWith('::error '))).toHaveLength(4);
  expect(commands.filter((l) => l.startsWith('::warning '))).toHaveLength(1);
  expect(commands.filter((l) => l.startsWith('::notice '))).toHaveLength(1);
  expect(commands).toContainEqual(expect.stringMatching(/^::error file=drivers\/misc\/kmap_demo\.c,line=58,title=kmap-review mismatched-unmap::kunmap\(buf->page\) releases/));
  expect(r.out).toContain(`kmap-review: ${base}..${head}: 6 new findings, failing on error`);
  expect(r.summary).toMatch(/^## kmap-review: 🛑 4 errors, 1 warning, 1 notice$/m);
  expect(r.summary).toContain(`Reviewed \`${base}..${head}\`: 1 commit`);
  expect(r.summary).toMatch(/^\| `drivers\/misc\/kmap_demo\.c` \| 58 \| error \| `mismatched-unmap` \| /m);
  const sarif = JSON.parse(readFileSync(join(repo, 'out.sarif'), 'utf8'));
  expect(sarif.version).toBe('2.1.0');
  expect(sarif.runs[0].results).toHaveLength(6);
  expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('drivers/misc/kmap_demo.c');
});

it('fail-on decides the exit status', () => {
  expect(runAction({ INPUT_FAIL_ON: 'never' }).status).toBe(0);
  expect(runAction({ INPUT_FAIL_ON: 'notice' }).status).toBe(1);
  const bad = runAction({ INPUT_FAIL_ON: 'sometimes' });
  expect(bad.status).toBe(2);
  expect(bad.out).toMatch(/^::error title=kmap-review::fail-on must be one of/m);
});

it('a range the checkout does not have is a clear error (exit 2), not a crash', () => {
  const p = event();
  const payload = JSON.parse(readFileSync(p, 'utf8'));
  payload.pull_request.base.sha = '1'.repeat(40);
  writeFileSync(p, JSON.stringify(payload));
  const r = spawnSync(process.execPath, [`${ROOT}action/entry.mjs`], {
    encoding: 'utf8', env: { PATH: process.env.PATH ?? '', GITHUB_EVENT_PATH: p, GITHUB_WORKSPACE: repo, KMAP_REVIEW_CLI: join(built, 'cli', 'main.js') },
  });
  expect(r.status).toBe(2);
  expect(r.stdout).toMatch(/^::error title=kmap-review::.*fetch-depth: 0\)$/m);
  expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
});

it('at most 10 annotations per level; escapes workflow command data and properties', () => {
  const many = Array.from({ length: 12 }, (_, i) => ({ severity: 'error', path: 'a,b:c.c', line: i + 1, rule: 'unmap-order', message: `50%\nline ${i}` }));
  const { lines, left } = annotationLines([...many, { severity: 'warning', path: 'w.c', line: 1, rule: 'stack-depth', message: 'w' }]);
  expect(lines.filter((l: string) => l.startsWith('::error '))).toHaveLength(10);
  expect(lines.filter((l: string) => l.startsWith('::warning '))).toHaveLength(1);
  expect(left).toHaveLength(2);
  expect(lines[0]).toBe('::error file=a%2Cb%3Ac.c,line=1,title=kmap-review unmap-order::50%25%0Aline 0');
  expect(escapeData('a\r\nb')).toBe('a%0D%0Ab');
  expect(escapeProperty('x:y,z')).toBe('x%3Ay%2Cz');
});
