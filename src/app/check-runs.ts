/** The `kmap-review` check run's life cycle: find, start (in_progress), complete (annotations in batches). */
import type { Logger } from 'probot';
import { annotationBatches, renderFailed, renderInProgress, type CheckRunOutput } from '../comments/check-run.js';
import type { GitHub } from './collect.js';
import { CHECK_NAME } from '../config/repo-config.js';

export const RECHECK_ACTION = { label: 'Re-run kmap-review', description: 'Analyse the head commit again', identifier: 'recheck' };

export interface ExistingCheck {
  id: number;
  status: string;
  conclusion: string | null;
  startedAt: string | null;
}

/** The latest `kmap-review` check run on `sha`, if any. */
export async function findCheckRun(octokit: GitHub, owner: string, repo: string, sha: string): Promise<ExistingCheck | undefined> {
  const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref: sha, check_name: CHECK_NAME, filter: 'latest', per_page: 10 });
  const run = data.check_runs.find((r) => r.name === CHECK_NAME);
  return run ? { id: run.id, status: run.status, conclusion: run.conclusion, startedAt: run.started_at } : undefined;
}

export async function startCheckRun(octokit: GitHub, owner: string, repo: string, sha: string, trigger: string): Promise<number> {
  const { data } = await octokit.rest.checks.create({
    owner, repo, name: CHECK_NAME, head_sha: sha, status: 'in_progress',
    started_at: new Date().toISOString(),
    external_id: sha,
    output: renderInProgress(sha, trigger),
  });
  return data.id;
}

/** Completes the check run; annotations beyond 50 go in extra updates (GitHub appends them). */
export async function completeCheckRun(octokit: GitHub, owner: string, repo: string, checkRunId: number, out: CheckRunOutput): Promise<void> {
  const batches = annotationBatches(out.annotations);
  const base = { title: out.title, summary: out.summary, ...(out.text ? { text: out.text } : {}) };
  for (let i = 0; i < batches.length - 1; i++) {
    await octokit.rest.checks.update({ owner, repo, check_run_id: checkRunId, output: { ...base, annotations: batches[i] } });
  }
  const last = batches.at(-1);
  await octokit.rest.checks.update({
    owner, repo, check_run_id: checkRunId,
    status: 'completed', conclusion: out.conclusion, completed_at: new Date().toISOString(),
    output: { ...base, ...(last ? { annotations: last } : {}) },
    actions: [RECHECK_ACTION],
  });
}

/** Completes the run as neutral with the reason; `rethrow` lets a caller retry when GitHub refuses. */
export async function failCheckRun(octokit: GitHub, log: Logger, owner: string, repo: string, checkRunId: number, sha: string, reason: string, rethrow = false): Promise<void> {
  try {
    await octokit.rest.checks.update({
      owner, repo, check_run_id: checkRunId,
      status: 'completed', conclusion: 'neutral', completed_at: new Date().toISOString(),
      output: renderFailed(sha, reason),
      actions: [RECHECK_ACTION],
    });
  } catch (err) {
    if (rethrow) throw err;
    log.error({ err }, 'could not mark the check run as failed');
  }
}

/** Completes a run with a plain message and the re-run button (superseded, interrupted). */
export async function closeCheckRun(
  octokit: GitHub, owner: string, repo: string, checkRunId: number,
  conclusion: 'cancelled' | 'neutral' | 'skipped', output: { title: string; summary: string },
): Promise<void> {
  await octokit.rest.checks.update({
    owner, repo, check_run_id: checkRunId,
    status: 'completed', conclusion, completed_at: new Date().toISOString(), output, actions: [RECHECK_ACTION],
  });
}
