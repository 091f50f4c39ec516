/**
 * The previous default-branch result, for the trend: kept in the App's cache per commit and as "the
 * latest", and read back from the previous commit's check run when the cache does not have it (another
 * instance, a restart; see baseline.ts and history.ts for what the check run holds).
 */
import type { TreeRunPoint } from '../../comments/tree-trend.js';
import type { GitHub } from '../collect.js';
import { decodeBaselineMarker, type CompactBaseline } from './baseline.js';
import type { TreeCache } from './blob-cache.js';
import { TREE_CHECK_NAME } from './check-run.js';
import { decodeHistoryMarker } from './history.js';
import { ZERO_SHA } from './jobs.js';

const baselineKey = (owner: string, repo: string, sha: string) => `tree-baseline:${owner}/${repo}@${sha}`;
const latestKey = (owner: string, repo: string) => `tree-baseline-latest:${owner}/${repo}`;

function isCompact(v: unknown): v is CompactBaseline {
  const b = v as CompactBaseline | undefined;
  return !!b && typeof b.commit === 'string' && Array.isArray(b.sites) && Array.isArray(b.errors) && typeof b.complete === 'boolean';
}

export interface FoundBaseline {
  baseline: CompactBaseline;
  source: 'before' | 'latest';
  /** The run history kept in that check run, when the baseline was read from it. */
  history?: TreeRunPoint[];
}

/**
 * The result for the push's previous head: from the cache, else from that commit's `kmap-review / tree`
 * check run; failing both, the last result the App computed for this repository's default branch.
 */
export async function findBaseline(octokit: GitHub, cache: TreeCache, owner: string, repo: string, headSha: string, before: string | null): Promise<FoundBaseline | undefined> {
  if (before && !ZERO_SHA.test(before) && before !== headSha) {
    const cached = await cache.get(baselineKey(owner, repo, before));
    if (isCompact(cached)) return { baseline: cached, source: 'before' };
    try {
      const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref: before, check_name: TREE_CHECK_NAME, filter: 'latest', per_page: 10 });
      for (const run of data.check_runs) {
        if (run.name !== TREE_CHECK_NAME || run.status !== 'completed') continue;
        const b = decodeBaselineMarker(run.output?.text);
        const history = decodeHistoryMarker(run.output?.text);
        if (b) return { baseline: b, source: 'before', ...(history ? { history } : {}) };
      }
    } catch (err) {
      // The commit may be gone (a force-push): no trend rather than a failed job.
      const status = (err as { status?: number }).status;
      if (status !== 404 && status !== 422) throw err;
    }
  }
  const latest = await cache.get(latestKey(owner, repo));
  if (isCompact(latest) && latest.commit !== headSha) return { baseline: latest, source: 'latest' };
  return undefined;
}

/** This commit's result, as its own baseline and as the repository's latest. */
export async function storeBaseline(cache: TreeCache, owner: string, repo: string, mine: CompactBaseline): Promise<void> {
  await cache.set(baselineKey(owner, repo, mine.commit), mine);
  await cache.set(latestKey(owner, repo), mine);
}
