/**
 * A scratch kernel-style git repository and mailing-list patches made in it, as a maintainer has them:
 * the patches are `git format-patch` mails against an older commit (their `index` lines name its blobs),
 * and the tree has moved on since (lines added above the functions, a neighbouring change).
 * Everything here is written for the tests; no kernel code.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const DEMO_C = `// SPDX-License-Identifier: GPL-2.0
#include <linux/highmem.h>
#include <linux/string.h>

static int demo_copy(struct page *page, const void *src, size_t len)
{
	void *kaddr;

	kaddr = kmap(page);
	memcpy(kaddr, src, len);
	kunmap(page);
	return 0;
}

static void demo_zero(struct page *page, size_t len)
{
	void *kaddr;

	kaddr = kmap_atomic(page);
	memset(kaddr, 0, len);
	kunmap_atomic(kaddr);
}

static int demo_fill(struct page *page, int pattern, size_t len)
{
	char *p;
	size_t i;
	int ret = 0;

	p = kmap(page);
	for (i = 0; i < len; i++) {
		if (p[i] == pattern)
			continue;
		p[i] = pattern;
		ret++;
	}
	if (ret > 16)
		pr_debug("demo: filled %d bytes\\n", ret);
	if (!ret)
		pr_debug("demo: nothing to fill\\n");
	kunmap(page);
	return ret;
}
`;

export const BUF_C = `// SPDX-License-Identifier: GPL-2.0
#include <linux/highmem.h>

static void buf_read(struct page *page, void *to, size_t len)
{
	void *from = kmap_atomic(page);

	memcpy(to, from, len);
	kunmap_atomic(from);
}
`;

export interface Scratch {
  dir: string;
  /** The repository, checked out at the moved-on commit. */
  repo: string;
  /** Mails (one patch each) and the series mbox. */
  patches: Record<'leak' | 'clean' | 'multiHunk' | 'multiHunkClean' | 'multiHunkLeak' | 'partialUnmap' | 'docs' | 'series', string>;
  /** The commit the patches were made against. */
  base: string;
  cleanup(): void;
}

const git = (repo: string, ...args: string[]) =>
  execFileSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_DATE: '2026-11-02T10:00:00Z', GIT_COMMITTER_DATE: '2026-11-02T10:00:00Z' } });

function write(repo: string, path: string, text: string): void {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), text);
}

function edit(repo: string, path: string, from: string, to: string): void {
  const text = readFileSync(join(repo, path), 'utf8');
  if (!text.includes(from)) throw new Error(`scratch: ${from} not in ${path}`);
  writeFileSync(join(repo, path), text.replace(from, to));
}

/** Commits the edits `fn` makes as the author, and returns the commit as a mail to the lists. */
function mailOf(repo: string, subject: string, fn: () => void, extra: string[] = []): string {
  fn();
  git(repo, 'commit', '-qam', subject, '--author', 'Ira Weiny <ira.weiny@example.com>');
  return git(repo, 'format-patch', '-1', '--stdout', '--thread', '--to', 'linux-mm@kvack.example', '--cc', 'Fabio M. De Francesco <fmdefrancesco@example.com>', ...extra);
}

export function makeScratch(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'kmap-mail-'));
  const repo = join(dir, 'linux');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'master');
  git(repo, 'config', 'user.name', 'Mai Ntainer');
  git(repo, 'config', 'user.email', 'maintainer@example.org');
  write(repo, 'drivers/demo/demo.c', DEMO_C);
  write(repo, 'drivers/demo/buf.c', BUF_C);
  write(repo, 'Documentation/demo.rst', 'Demo driver\n===========\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'demo: initial driver');
  const base = git(repo, 'rev-parse', 'HEAD').trim();

  // The patches, each on the base commit.
  const patches = {} as Scratch['patches'];
  patches.leak = mailOf(repo, 'demo: use kmap_local_page() in demo_copy()', () => edit(repo, 'drivers/demo/demo.c', '\tkaddr = kmap(page);\n', '\tkaddr = kmap_local_page(page);\n'));
  git(repo, 'reset', '-q', '--hard', base);
  patches.clean = mailOf(repo, 'demo: use kmap_local_page() in demo_zero()', () => {
    edit(repo, 'drivers/demo/demo.c', '\tkaddr = kmap_atomic(page);\n\tmemset', '\tkaddr = kmap_local_page(page);\n\tmemset');
    edit(repo, 'drivers/demo/demo.c', '\tkunmap_atomic(kaddr);\n}', '\tkunmap_local(kaddr);\n}');
  });
  git(repo, 'reset', '-q', '--hard', base);
  // demo_fill() converted in two hunks (-U2 keeps them apart): the map at its top, the second edit at its bottom.
  const demoFill = (map: string, bottom: [string, string]) =>
    mailOf(
      repo,
      'demo: use kmap_local_page() in demo_fill()',
      () => {
        edit(repo, 'drivers/demo/demo.c', '\tp = kmap(page);\n', map);
        edit(repo, 'drivers/demo/demo.c', ...bottom);
      },
      ['-U2'],
    );
  const localUnmap: [string, string] = ['\tkunmap(page);\n\treturn ret;\n', '\tkunmap_local(p);\n\treturn ret;\n'];
  // The unmap left as kunmap() (a neighbouring line changed): mismatched-unmap across the hunks.
  patches.multiHunk = demoFill('\tp = kmap_local_page(page);\n', ['nothing to fill', 'page already filled']);
  git(repo, 'reset', '-q', '--hard', base);
  // Converted right: nothing to say, with or without the tree.
  patches.multiHunkClean = demoFill('\tp = kmap_local_page(page);\n', localUnmap);
  git(repo, 'reset', '-q', '--hard', base);
  // Converted, with an early return added right after the map: a leak the first hunk shows whole.
  patches.multiHunkLeak = demoFill('\tp = kmap_local_page(page);\n\tif (!len)\n\t\treturn -EINVAL;\n', localUnmap);
  git(repo, 'reset', '-q', '--hard', base);
  // Half a conversion in one hunk that starts inside the function (its signature not shown): the unmap
  // changed, the map it releases still kmap_atomic() three lines above.
  patches.partialUnmap = mailOf(repo, 'demo: unmap demo_zero() with kunmap_local()', () =>
    edit(repo, 'drivers/demo/demo.c', '\tkunmap_atomic(kaddr);\n}', '\tkunmap_local(kaddr);\n}'),
  );
  git(repo, 'reset', '-q', '--hard', base);
  patches.docs = mailOf(repo, 'Documentation: demo: describe the driver', () => edit(repo, 'Documentation/demo.rst', '===========\n', '===========\n\nA demo.\n'));
  git(repo, 'reset', '-q', '--hard', base);

  // A 3-patch series: buf.c clean, then demo_copy with the wrong unmap, then a fix-up of that patch's unmap line.
  edit(repo, 'drivers/demo/buf.c', 'kmap_atomic(page)', 'kmap_local_page(page)');
  edit(repo, 'drivers/demo/buf.c', 'kunmap_atomic(from)', 'kunmap_local(from)');
  git(repo, 'commit', '-qam', 'demo: buf: use kmap_local_page()', '--author', 'Ira Weiny <ira.weiny@example.com>');
  edit(repo, 'drivers/demo/demo.c', '\tkaddr = kmap(page);\n', '\tkaddr = kmap_local_page(page);\n');
  git(repo, 'commit', '-qam', 'demo: use kmap_local_page() in demo_copy()', '--author', 'Ira Weiny <ira.weiny@example.com>');
  edit(repo, 'drivers/demo/demo.c', '\tmemcpy(kaddr, src, len);\n\tkunmap(page);\n', '\tmemcpy(kaddr, src, len);\n\tkunmap(kaddr);\n');
  git(repo, 'commit', '-qam', 'demo: unmap demo_copy() by address', '--author', 'Ira Weiny <ira.weiny@example.com>');
  patches.series = git(repo, 'format-patch', '--stdout', '--thread', '--cover-letter', '--to', 'linux-mm@kvack.example', '--cc', 'Fabio M. De Francesco <fmdefrancesco@example.com>', `${base}..HEAD`);
  git(repo, 'reset', '-q', '--hard', base);

  // The tree moves on: lines above every function, and a change next to demo_copy's unmap.
  edit(repo, 'drivers/demo/demo.c', '#include <linux/string.h>\n', '#include <linux/string.h>\n#include <linux/printk.h>\n\n/* Helpers for the demo device. */\n');
  edit(repo, 'drivers/demo/demo.c', '\tkunmap(page);\n\treturn 0;\n', '\tkunmap(page);\n\treturn 0; /* always succeeds */\n');
  git(repo, 'commit', '-qam', 'demo: document the helpers');

  for (const [k, v] of Object.entries(patches)) writeFileSync(join(dir, `${k}.mbox`), v);
  return { dir, repo, patches, base, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A copy of the repository's working tree without .git (a tarball tree: `patch`-style application). */
export function plainCopy(s: Scratch, name: string): string {
  const to = join(s.dir, name);
  cpSync(s.repo, to, { recursive: true, filter: (src) => !src.split(/[\\/]/).includes('.git') });
  return to;
}

export function patchFile(s: Scratch, k: keyof Scratch['patches']): string {
  return join(s.dir, `${k}.mbox`);
}
