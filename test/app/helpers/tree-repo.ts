/**
 * A small kernel-style git repository in a temp directory, and GitHub's answers about it: the trees API
 * (from `git ls-tree`), the blobs API, and the tarball (`git archive`, which is what GitHub serves).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const defs = require('@octokit/webhooks-examples') as { name: string; examples: Record<string, any>[] }[];

export interface TreeEntry {
  path: string;
  mode: string;
  type: string;
  sha: string;
  size?: number;
  url: string;
}

export class KernelRepo {
  readonly dir = mkdtempSync(join(tmpdir(), 'kmap-tree-'));

  constructor() {
    this.git('init', '-q', '-b', 'master');
  }

  git(...args: string[]): string {
    return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'core.autocrlf=false', ...args], {
      cwd: this.dir, encoding: 'utf8', maxBuffer: 64 << 20,
    });
  }

  /** Writes the files (null deletes) and commits; returns the commit id. */
  commit(files: Record<string, string | null>, message = 'update'): string {
    for (const [path, text] of Object.entries(files)) {
      const full = join(this.dir, path);
      if (text === null) rmSync(full, { force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, text);
      }
    }
    this.git('add', '-A');
    this.git('commit', '-q', '-m', message);
    return this.git('rev-parse', 'HEAD').trim();
  }

  /** `GET /git/trees/{sha}[?recursive=1]` for a commit or tree id. */
  tree(sha: string, recursive: boolean): { sha: string; url: string; tree: TreeEntry[]; truncated: boolean } {
    const out = this.git('ls-tree', '-l', ...(recursive ? ['-r', '-t'] : []), sha);
    const tree = out.split('\n').filter(Boolean).map((line): TreeEntry => {
      const [meta, path] = line.split('\t') as [string, string];
      const [mode, type, id, size] = meta.split(/\s+/) as [string, string, string, string];
      return { path, mode, type, sha: id, ...(type === 'blob' ? { size: Number(size) } : {}), url: `https://api.github.com/repos/x/y/git/${type}s/${id}` };
    });
    return { sha, url: '', tree, truncated: false };
  }

  /** The blob id of `path` at `rev`. */
  blobSha(rev: string, path: string): string {
    return this.git('rev-parse', `${rev}:${path}`).trim();
  }

  /** The tree id of directory `path` at `rev`. */
  treeSha(rev: string, path: string): string {
    return this.git('rev-parse', `${rev}:${path}`).trim();
  }

  /** `GET /git/blobs/{sha}`. */
  blob(sha: string): Record<string, unknown> {
    const content = execFileSync('git', ['cat-file', 'blob', sha], { cwd: this.dir, maxBuffer: 64 << 20 });
    return { sha, node_id: 'B', size: content.length, url: '', content: content.toString('base64'), encoding: 'base64' };
  }

  /** The tarball GitHub serves for `sha` (git archive, wrapped in `owner-repo-short/`). */
  tarball(sha: string, owner: string, repo: string): Buffer {
    return execFileSync('git', ['archive', '--format=tar.gz', `--prefix=${owner}-${repo}-${sha.slice(0, 7)}/`, sha], { cwd: this.dir, maxBuffer: 64 << 20 });
  }

  /** Uncompressed tar of `sha`. */
  tar(sha: string): Buffer {
    return execFileSync('git', ['archive', '--format=tar', '--prefix=top/', sha], { cwd: this.dir, maxBuffer: 64 << 20 });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function example(name: string, pick: (e: Record<string, any>) => boolean): Record<string, any> {
  const ex = defs.find((d) => d.name === name)?.examples.find(pick);
  if (!ex) throw new Error(`no ${name} example`);
  return structuredClone(ex);
}

function adapt(p: Record<string, any>, owner: string, repo: string): Record<string, any> {
  p.installation ??= { id: 1, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==' };
  p.repository.name = repo;
  p.repository.full_name = `${owner}/${repo}`;
  p.repository.owner.login = owner;
  p.repository.owner.name = owner;
  p.repository.default_branch = 'master';
  return p;
}

/** A real `push` payload (@octokit/webhooks-examples) for a push of `after` onto `ref`. */
export function pushEvent(owner: string, repo: string, o: { before: string; after: string; ref?: string; deleted?: boolean }): Record<string, any> {
  const p = adapt(example('push', (e) => e.ref === 'refs/heads/master' && !!e.installation), owner, repo);
  p.ref = o.ref ?? 'refs/heads/master';
  p.before = o.before;
  p.after = o.after;
  p.deleted = o.deleted ?? false;
  p.created = false;
  if (p.head_commit) p.head_commit.id = o.after;
  if (o.deleted) p.head_commit = null;
  return p;
}

/** A real `check_suite` payload for `head` on `branch`. */
export function checkSuiteEvent(owner: string, repo: string, action: 'requested' | 'rerequested', o: { head: string; before: string; branch?: string }): Record<string, any> {
  const p = adapt(example('check_suite', (e) => e.action === action && !!e.installation), owner, repo);
  p.check_suite.head_branch = o.branch ?? 'master';
  p.check_suite.head_sha = o.head;
  p.check_suite.after = o.head;
  p.check_suite.before = o.before;
  p.check_suite.pull_requests = [];
  return p;
}
