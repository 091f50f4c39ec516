/**
 * A scratch git repository whose commits convert, add and remove uses (kernel-style fixtures from
 * test/fixtures/scan-tree), for the history tests. Each step's expected counts are written by hand.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const fixtures = join(import.meta.dirname ?? '.', '..', 'fixtures', 'scan-tree');

export interface ScratchRepo {
  dir: string;
  /** Commit ids, oldest first. */
  commits: string[];
  cleanup(): void;
}

export function buildHistoryRepo(): ScratchRepo {
  const dir = mkdtempSync(join(tmpdir(), 'kmap-history-'));
  let when = 1_700_000_000;
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org', GIT_AUTHOR_DATE: `${when} +0000`, GIT_COMMITTER_DATE: `${when} +0000` },
    }).trim();
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  const copy = (from: string, to = from) => {
    mkdirSync(dirname(join(dir, to)), { recursive: true });
    cpSync(join(fixtures, from), join(dir, to));
  };
  const commits: string[] = [];
  const commit = (subject: string) => {
    git('add', '-A');
    git('commit', '-q', '-m', subject);
    when += 86400;
    commits.push(git('rev-parse', 'HEAD'));
  };
  git('init', '-q', '-b', 'main');
  copy('MAINTAINERS');
  copy('fs/demo/ready.c');
  copy('drivers/demo/blocked.c');
  put('README', 'not C\n');
  commit('start: 2 ready in fs, 1 blocked in drivers'); // 0: total 3
  copy('fs/demo/care.c');
  commit('fs: add a section that needs care'); // 1: total 5
  put('fs/demo/ready.c', readFileSync(join(fixtures, 'fs/demo/ready.c'), 'utf8').replace('kmap_atomic(', 'kmap_local_page(').replace('kunmap_atomic(', 'kunmap_local('));
  commit('fs: convert demo_copy() to kmap_local_page()'); // 2: total 3
  put('README', 'still not C\n');
  commit('docs only'); // 3: total 3
  rmSync(join(dir, 'drivers/demo/blocked.c'));
  commit('drivers: remove demo_start()'); // 4: total 2
  copy('fs/demo/ready.c', 'drivers/demo/copy.c');
  commit('drivers: add a copy helper'); // 5: total 4
  git('tag', 'v2');
  return { dir, commits, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
