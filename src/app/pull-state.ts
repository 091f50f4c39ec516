import type { GitHub } from './collect.js';
import type { PullRequestState } from './scheduler.js';

interface PullLike {
  number: number;
  draft?: boolean;
  state?: string;
  updated_at?: string | null;
  head: { sha: string };
  base: { sha: string };
}

export function pullState(owner: string, repo: string, pr: PullLike): PullRequestState {
  const t = pr.updated_at ? Date.parse(pr.updated_at) : NaN;
  return {
    owner, repo, pullNumber: pr.number, headSha: pr.head.sha, baseSha: pr.base.sha, draft: pr.draft === true,
    updatedAt: Number.isFinite(t) ? t : 0,
  };
}

/** The pull request as it is now (current head), or undefined when it is closed. */
export async function currentPull(octokit: GitHub, owner: string, repo: string, number: number): Promise<PullRequestState | undefined> {
  const { data } = await octokit.rest.pulls.get({ owner, repo, pull_number: number });
  return data.state === 'open' ? pullState(owner, repo, data) : undefined;
}

/** Open pull requests whose head is `sha` (check events from forks carry no pull_requests). */
export async function pullsForSha(octokit: GitHub, owner: string, repo: string, sha: string, known: { number: number }[]): Promise<number[]> {
  if (known.length > 0) return known.map((p) => p.number);
  const open = await octokit.paginate(octokit.rest.pulls.list, { owner, repo, state: 'open', per_page: 100 });
  return open.filter((p) => p.head.sha === sha).map((p) => p.number);
}
