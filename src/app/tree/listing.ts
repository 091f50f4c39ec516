/**
 * A commit's files from the git trees API, without reading a single file. `recursive=1` answers the
 * whole tree in one request unless it is too big (GitHub truncates at 100,000 entries or 7 MB, which a
 * kernel tree exceeds); then each subtree is listed on its own, recursively again, and a subtree that is
 * still too big is opened one level (non-recursively) and its children listed the same way.
 */
import type { GitHub } from '../collect.js';

export interface TreeBlob {
  path: string;
  sha: string;
  /** Bytes; the trees API gives it for every blob. */
  size: number;
}

export interface TreeListing {
  blobs: TreeBlob[];
  /** Requests made (1 when the tree was not truncated). */
  requests: number;
  /** True when GitHub truncated the first answer and subtrees were walked. */
  walked: boolean;
}

interface RawEntry {
  path?: string;
  mode?: string;
  type?: string;
  sha?: string;
  size?: number;
}

async function getTree(octokit: GitHub, owner: string, repo: string, sha: string, recursive: boolean): Promise<{ tree: RawEntry[]; truncated: boolean }> {
  const { data } = await octokit.rest.git.getTree({ owner, repo, tree_sha: sha, ...(recursive ? { recursive: '1' } : {}) });
  return { tree: data.tree as RawEntry[], truncated: data.truncated };
}

/** At most `n` promises from `fn` at once (only the requests hold a slot, so nesting cannot deadlock). */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Every blob of `treeish` (a commit or tree SHA). Symlinks (mode 120000) and submodules are left out. */
export async function listTreeBlobs(octokit: GitHub, owner: string, repo: string, treeish: string, concurrency = 8): Promise<TreeListing> {
  const out: TreeBlob[] = [];
  const limit = limiter(Math.max(1, concurrency));
  let requests = 0;
  const add = (prefix: string, entries: RawEntry[]) => {
    for (const e of entries) {
      if (e.type === 'blob' && e.path && e.sha && e.mode !== '120000') out.push({ path: prefix + e.path, sha: e.sha, size: e.size ?? 0 });
    }
  };
  /** Lists `sha` (at `prefix`) recursively; when GitHub truncates, descends one level and recurses. */
  const walk = async (sha: string, prefix: string): Promise<boolean> => {
    requests++;
    const rec = await limit(() => getTree(octokit, owner, repo, sha, true));
    if (!rec.truncated) {
      add(prefix, rec.tree);
      return false;
    }
    requests++;
    const flat = await limit(() => getTree(octokit, owner, repo, sha, false));
    if (flat.truncated) throw new Error(`${prefix || '/'}: GitHub truncated even the non-recursive listing of this directory`);
    add(prefix, flat.tree);
    await Promise.all(flat.tree.filter((e) => e.type === 'tree' && e.path && e.sha).map((e) => walk(e.sha!, `${prefix}${e.path}/`)));
    return true;
  };
  const walked = await walk(treeish, '');
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { blobs: out, requests, walked };
}
