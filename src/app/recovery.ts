/**
 * Start-up recovery: finds the check runs that an earlier process left `in_progress` (it crashed, was
 * killed or redeployed mid-review): `kmap-review` on the open pull requests of every installation, and
 * `kmap-review / tree` on the head of each repository's default branch.
 * - Redis queue: the review is queued again (the job reuses the in-progress run and posts nothing twice).
 * - Embedded queue: the pending work died with the process, so the run is completed as cancelled with
 *   the "Re-run kmap-review" button instead of spinning forever.
 * Bounded: at most `maxRepos` repositories and the first 100 open pull requests of each are looked at; a
 * tree run interrupted on an older commit of the default branch (since superseded by a newer push) is not.
 */
import type { Logger } from 'probot';
import { renderInterrupted } from '../comments/check-run.js';
import { closeCheckRun } from './check-runs.js';
import type { GitHub } from './collect.js';
import { CHECK_NAME } from '../config/repo-config.js';
import { pullState } from './pull-state.js';
import type { ReviewJob, WorkQueue } from './queue/types.js';
import { TREE_CHECK_NAME } from './tree/check-run.js';
import { treeJob } from './tree/jobs.js';

export interface RecoveryOptions {
  /** Authenticated as the App (JWT): lists installations. */
  appOctokit: GitHub;
  octokitFor: (installationId: number) => Promise<GitHub>;
  queue: WorkQueue;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Runs started at or after this time belong to the running process and are left alone. */
  startedAt: number;
  maxRepos?: number;
}

export interface RecoveryResult {
  found: number;
  requeued: number;
  cancelled: number;
  errors: number;
}

interface LeftRun {
  id: number;
  name: string;
  status: string;
  head_sha: string;
  started_at: string | null;
}

export async function recoverInterrupted(o: RecoveryOptions): Promise<RecoveryResult> {
  const result: RecoveryResult = { found: 0, requeued: 0, cancelled: 0, errors: 0 };
  let reposLeft = o.maxRepos ?? 200;
  const installations = await o.appOctokit.paginate(o.appOctokit.rest.apps.listInstallations, { per_page: 100 });
  for (const inst of installations) {
    if (reposLeft <= 0) break;
    try {
      const octokit = await o.octokitFor(inst.id);
      /** Runs of `name` left in progress by an earlier process on `ref`: re-queued (Redis) or cancelled. */
      const settle = async (owner: string, repo: string, ref: string, name: string, requeue: (run: LeftRun) => ReviewJob) => {
        const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref, check_name: name, status: 'in_progress', per_page: 10 });
        for (const run of data.check_runs as LeftRun[]) {
          if (run.name !== name || run.status === 'completed') continue;
          const started = run.started_at ? Date.parse(run.started_at) : 0;
          if (started >= o.startedAt) continue;
          result.found++;
          if (o.queue.kind === 'redis') {
            if ((await o.queue.add(requeue(run))) === 'queued') result.requeued++;
          } else {
            await closeCheckRun(octokit, owner, repo, run.id, 'cancelled', renderInterrupted(run.head_sha));
            result.cancelled++;
          }
        }
      };
      const repos = (await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 })) as unknown as
        { name: string; owner: { login: string }; default_branch?: string }[];
      for (const r of repos) {
        if (reposLeft-- <= 0) break;
        const owner = r.owner.login;
        const repo = r.name;
        const { data: pulls } = await octokit.rest.pulls.list({ owner, repo, state: 'open', per_page: 100 });
        for (const pull of pulls) {
          const pr = pullState(owner, repo, pull);
          await settle(owner, repo, pull.head.sha, CHECK_NAME, (run) => ({
            installationId: inst.id, owner, repo, pullNumber: pr.pullNumber, headSha: pr.headSha, baseSha: pr.baseSha,
            draft: pr.draft, updatedAt: pr.updatedAt, trigger: 'recovery after a restart', force: false,
            deliveryId: `recovery-${run.id}`, attempt: 1,
          }));
        }
        // The repo-wide `kmap-review / tree` run of the default branch's head.
        if (r.default_branch) {
          await settle(owner, repo, r.default_branch, TREE_CHECK_NAME, (run) => treeJob({
            installationId: inst.id, owner, repo, headSha: run.head_sha, before: null, trigger: 'recovery after a restart', force: false,
            deliveryId: `recovery-${run.id}`, updatedAt: 0,
          }));
        }
      }
    } catch (err) {
      result.errors++;
      o.log.warn({ err, installation: inst.id }, 'recovery: could not scan an installation');
    }
  }
  o.log.info(result, 'recovery of interrupted reviews done');
  return result;
}
