/** The `kmap-review / tree` check run: found and started on a commit, completed as failed or cancelled. */
import type { CheckRunKind } from '../check-job.js';
import { closeCheckRun } from '../check-runs.js';
import type { GitHub } from '../collect.js';

export const TREE_CHECK_NAME = 'kmap-review / tree';

export interface TreeRun {
  id: number;
  status: string;
  conclusion: string | null;
}

export async function findTreeRun(octokit: GitHub, owner: string, repo: string, sha: string): Promise<TreeRun | undefined> {
  const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref: sha, check_name: TREE_CHECK_NAME, filter: 'latest', per_page: 10 });
  const run = data.check_runs.find((r) => r.name === TREE_CHECK_NAME);
  return run ? { id: run.id, status: run.status, conclusion: run.conclusion } : undefined;
}

export async function startTreeRun(octokit: GitHub, owner: string, repo: string, sha: string, trigger: string): Promise<number> {
  const { data } = await octokit.rest.checks.create({
    owner, repo, name: TREE_CHECK_NAME, head_sha: sha, status: 'in_progress', started_at: new Date().toISOString(), external_id: `tree:${sha}`,
    output: { title: 'Scanning the tree for kmap uses…', summary: `Scanning \`${sha.slice(0, 12)}\` (${trigger}): every kmap_atomic()/kmap() use, classified.` },
  });
  return data.id;
}

/** The tree run for check-job.ts. */
export const TREE_RUN: CheckRunKind = {
  find: (octokit, job) => findTreeRun(octokit, job.owner, job.repo, job.headSha),
  start: (octokit, job) => startTreeRun(octokit, job.owner, job.repo, job.headSha, job.trigger),
  fail: (octokit, job, id, reason) => closeCheckRun(octokit, job.owner, job.repo, id, 'neutral', {
    title: 'kmap-review could not scan the tree',
    summary: `The scan of \`${job.headSha.slice(0, 12)}\` failed: ${reason}\n\nUse **Re-run** to try again.`.slice(0, 65_000),
  }),
  cancel: (octokit, job, id) => closeCheckRun(octokit, job.owner, job.repo, id, 'cancelled', {
    title: 'Superseded by a newer push',
    summary: `The scan of \`${job.headSha.slice(0, 12)}\` was stopped: the default branch has a newer head, which is scanned instead.`,
  }),
};

/** `https://github.com` for api.github.com, `https://host` for a GHE `https://host/api/v3`. */
export function htmlBaseOf(octokit: GitHub): string {
  const api = String((octokit.request.endpoint.DEFAULTS as { baseUrl?: string }).baseUrl ?? 'https://api.github.com');
  if (/^https?:\/\/api\.github\.com\/?$/.test(api)) return 'https://github.com';
  return api.replace(/\/api\/v3\/?$/, '').replace(/\/$/, '');
}
