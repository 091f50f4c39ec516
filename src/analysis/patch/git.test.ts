import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError } from './errors.js';
import { loadGitRange, parseGitRange } from './git.js';
import { loadChangeSets } from './load.js';

const lines = (...l: string[]) => `${l.join('\n')}\n`;
const sorted = (s: ReadonlySet<number>) => [...s].sort((a, b) => a - b);

let dir: string;
let repo: string;
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Demo', '-c', 'user.email=demo@example.org', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString().trim();
const write = (rel: string, text: string | Buffer) => {
  fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
  fs.writeFileSync(path.join(repo, rel), text);
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmap-review-git-'));
  repo = path.join(dir, 'repo');
  fs.mkdirSync(repo);
  git('init', '-q');
  write('fs/demo/map.c', lines('static int demo(struct page *page)', '{', '\tvoid *p = kmap(page);', '\tint r = check(p);', '', '\tkunmap(page);', '\treturn r;', '}'));
  write('fs/demo/old.h', lines('#define DEMO_OLD 1'));
  write('fs/demo/util.c', lines('int util;', 'int more;'));
  git('add', '.');
  git('commit', '-qm', 'demo: base');
  git('tag', 'base');

  write('fs/demo/map.c', lines('static int demo(struct page *page)', '{', '\tvoid *p = kmap_local_page(page);', '\tint r = check(p);', '', '\tkunmap_local(p);', '\treturn r;', '}'));
  write('Documentation/demo.rst', 'Demo\n');
  git('add', '.');
  git('commit', '-qm', 'demo: use kmap_local_page() in demo()');

  git('mv', 'fs/demo/util.c', 'fs/demo/helpers.c');
  write('fs/demo/helpers.c', lines('int util;', 'int more;', 'int added;'));
  git('rm', '-q', 'fs/demo/old.h');
  write('fs/demo/logo.bin', Buffer.from([1, 0, 2, 0, 3]));
  write('fs/demo/table.h', Buffer.from([0x23, 0, 0x0a])); // a NUL byte: git's binary heuristic
  git('add', '.');
  git('commit', '-qm', 'demo: move helpers, drop old.h');
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadGitRange', () => {
  it('gives one complete ChangeSet per commit, oldest first, named by short sha and subject', () => {
    const sets = loadGitRange('base..HEAD', repo);
    const shorts = git('log', '--reverse', '--format=%h', 'base..HEAD').split('\n');
    expect(sets.map((s) => s.name)).toEqual([`${shorts[0]} demo: use kmap_local_page() in demo()`, `${shorts[1]} demo: move helpers, drop old.h`]);

    const [c1, c2] = sets;
    expect(c1!.files).toHaveLength(1);
    const map = c1!.files[0]!;
    expect(map).toMatchObject({ oldPath: 'fs/demo/map.c', newPath: 'fs/demo/map.c', complete: true });
    expect(sorted(map.removedLines)).toEqual([3, 6]);
    expect(sorted(map.addedLines)).toEqual([3, 6]);
    expect(map.newText.split('\n')[2]).toBe('\tvoid *p = kmap_local_page(page);');
    expect(c1!.skipped).toEqual([{ path: 'Documentation/demo.rst', reason: 'not a C source or header (.c/.h): not analysed' }]);

    const byPath = (p: string) => c2!.files.find((f) => (f.newPath ?? f.oldPath) === p)!;
    expect(byPath('fs/demo/helpers.c')).toMatchObject({ oldPath: 'fs/demo/util.c', oldText: lines('int util;', 'int more;') });
    expect(sorted(byPath('fs/demo/helpers.c').addedLines)).toEqual([3]);
    expect(byPath('fs/demo/old.h')).toMatchObject({ newPath: null, newText: '', oldText: '#define DEMO_OLD 1\n' });
    expect(sorted(byPath('fs/demo/old.h').removedLines)).toEqual([1]);
    expect(c2!.skipped).toEqual([
      { path: 'fs/demo/logo.bin', reason: 'not a C source or header (.c/.h): not analysed' },
      { path: 'fs/demo/table.h', reason: 'binary file: not analysed' },
    ]);
    expect(c2!.files).toHaveLength(2);
  });

  it('is reachable through loadChangeSets', () => {
    expect(loadChangeSets([{ gitRange: 'HEAD~1..HEAD', cwd: repo }], {})).toHaveLength(1);
  });

  it.each<[string, RegExp]>([
    ['-p..HEAD', /a revision may not start with '-'/],
    ['HEAD..--output=/tmp/x', /a revision may not start with '-'/],
    ['HEAD', /expected a commit range A\.\.B/],
    ['A...B', /expected a commit range A\.\.B/],
    ['..HEAD', /expected a commit range A\.\.B/],
    ['a b..HEAD', /expected a commit range A\.\.B/],
    ['HEAD;rm -rf ..HEAD', /expected a commit range A\.\.B/],
  ])('rejects the range %j', (range, message) => {
    expect(() => parseGitRange(range)).toThrow(InputError);
    expect(() => loadGitRange(range, repo)).toThrow(message);
  });

  it('reports unknown revisions, empty ranges, non-repositories and missing directories', () => {
    expect(() => loadGitRange('base..nosuchbranch', repo)).toThrow(/^--git base\.\.nosuchbranch: unknown revision "nosuchbranch" in /);
    expect(() => loadGitRange('HEAD..HEAD', repo)).toThrow('--git HEAD..HEAD: the range holds no commits (merge commits are skipped)');
    const plain = fs.mkdtempSync(path.join(dir, 'plain-'));
    // Stop git's upward search at `dir`, in case the tmp dir itself lies inside a repository.
    const saved = process.env.GIT_CEILING_DIRECTORIES;
    process.env.GIT_CEILING_DIRECTORIES = dir;
    try {
      expect(() => loadGitRange('a..b', plain)).toThrow(/^--git: .*plain-.* is not a git repository/);
    } finally {
      if (saved === undefined) delete process.env.GIT_CEILING_DIRECTORIES;
      else process.env.GIT_CEILING_DIRECTORIES = saved;
    }
    expect(() => loadGitRange('a..b', path.join(dir, 'missing'))).toThrow(/^--git: .*missing: no such directory/);
  });
});
