/**
 * A commit's files from the git trees API, without reading a single file. `recursive=1` answers the
 * whole tree in one request unless it is too big (GitHub truncates at 100,000 entries or 7 MB, which a
 * kernel tree exceeds); then each subtree is listed on its own, recursively again, and a subtree that is
 * still too big is opened one level (non-recursively) and its children listed the same way.
 */
import type { GitHub } from '../collect.js';
import { mapLimit } from '../map-limit.js';

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

/** Every blob of `treeish` (a commit or tree SHA). Symlinks (mode 120000) and submodules are left out. */
export async function listTreeBlobs(octokit: GitHub, owner: string, repo: string, treeish: string, concurrency = 8): Promise<TreeListing> {
  const out: TreeBlob[] = [];
  let requests = 0;
  const add = (prefix: string, entries: RawEntry[]) => {
    for (const e of entries) {
      if (e.type === 'blob' && e.path && e.sha && e.mode !== '120000') out.push({ path: prefix + e.path, sha: e.sha, size: e.size ?? 0 });
    }
  };
  /**
   * Lists `sha` (at `prefix`) recursively; when GitHub truncates, lists it one level and returns its
   * subtrees, which the next round lists the same way.
   */
  const list = async ({ sha, prefix }: { sha: string; prefix: string }): Promise<Array<{ sha: string; prefix: string }>> => {
    requests++;
    const rec = await getTree(octokit, owner, repo, sha, true);
    if (!rec.truncated) {
      add(prefix, rec.tree);
      return [];
    }
    requests++;
    const flat = await getTree(octokit, owner, repo, sha, false);
    if (flat.truncated) throw new Error(`${prefix || '/'}: GitHub truncated even the non-recursive listing of this directory`);
    add(prefix, flat.tree);
    return flat.tree.filter((e) => e.type === 'tree' && e.path && e.sha).map((e) => ({ sha: e.sha!, prefix: `${prefix}${e.path}/` }));
  };
  let round = [{ sha: treeish, prefix: '' }];
  let walked = false;
  for (let depth = 0; round.length; depth++) {
    round = (await mapLimit(round, concurrency, list)).flat();
    if (depth === 0) walked = requests > 1;
  }
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { blobs: out, requests, walked };
}
