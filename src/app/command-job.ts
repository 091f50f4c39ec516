/**
 * The worker side of comment commands (`/kmap-review recheck | explain RULE | help`) and of the Checks
 * tab's re-runs: the command jobs (kind 'command') that the handlers enqueue without calling GitHub.
 *
 * - A comment command is acknowledged with 👀, answered (help, explain, unknown command), and `recheck`
 *   is allowed to people with write, maintain or admin permission only (asked from GitHub; 404 = none):
 *   others get a reply, a closed pull request too; otherwise the current head is reviewed, forced.
 * - A re-run resolves the commit's pull requests (the event's, or the open ones with that head for a fork)
 *   and schedules a forced review of each one's current head.
 *
 * Reviews are scheduled through the ReviewScheduler, so supersede, de-duplication and locking stay keyed
 * by pull request; the command job itself has a key of its own (queue/types.ts, pullKey).
 *
 * Retries: GitHub's transient failures and a full review backlog retry the job with back-off (RetryLater,
 * as review-job.ts). A retried job is idempotent: the 👀 reaction is idempotent on GitHub's side, every
 * reply carries a hidden `<!-- kmap-review:reply:COMMENT_ID -->` marker and a resumed job looks for it
 * before posting, and the pull requests are all read before any review is scheduled (a review scheduled
 * twice is deduplicated by the queue while it is pending, and a review is idempotent anyway).
 */
import type { Logger } from 'probot';
import {
  renderClosed, renderExplain, renderExplainUsage, renderHelp, renderNotAllowed, renderUnknownCommand, renderUnknownRule,
} from '../comments/review-commands.js';
import type { GitHub } from './collect.js';
import { currentPull, pullsForSha } from './pull-state.js';
import type { CommandPayload, JobContext, ReviewJob } from './queue/types.js';
import { classifyError, retryLaterOrGiveUp, type Classified, type RetryPolicy } from './retry.js';
import { BacklogFull, type PullRequestState, type ReviewScheduler, type RuleCatalog } from './scheduler.js';

export interface CommandServices {
  /** An installation's client (Probot's app.auth), with the App's request timeout. */
  octokitFor: (installationId: number | null) => Promise<GitHub>;
  rules: () => Promise<RuleCatalog>;
  /** Where the forced reviews go. */
  scheduler: Pick<ReviewScheduler, 'schedule'>;
  retry: RetryPolicy;
  log: Logger;
}

export type CommandOutcome = 'replied' | 'refused' | 'closed' | 'scheduled' | 'nothing' | 'failed';

type CommentCommand = Extract<CommandPayload, { type: 'comment' }>;
type Rerun = Extract<CommandPayload, { type: 'rerun' }>;

export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

const MAY_RECHECK: readonly Permission[] = ['admin', 'maintain', 'write'];

/** The hidden marker that ties a reply to the comment it answers (found again by a retried job). */
export function replyMarker(commentId: number): string {
  return `<!-- kmap-review:reply:${commentId} -->`;
}

/** The user's permission on the repository; a non-collaborator (404) has none. */
export async function permissionOf(octokit: GitHub, owner: string, repo: string, username: string): Promise<Permission> {
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username });
    const role = (data.role_name ?? '').toLowerCase();
    if (role === 'maintain' || role === 'triage') return role;
    return (data.permission as Permission | undefined) ?? 'none';
  } catch (err) {
    if ((err as { status?: number }).status === 404) return 'none';
    throw err;
  }
}

export class CommandWorker {
  constructor(readonly services: CommandServices) {}

  async process(job: ReviewJob, ctx: JobContext): Promise<CommandOutcome> {
    const s = this.services;
    const cmd = job.command;
    const log = s.log.child({
      pr: `${job.owner}/${job.repo}#${job.pullNumber}`, delivery: job.deliveryId, command: cmd?.type === 'comment' ? cmd.verb : cmd?.type,
      attempt: ctx.attempt,
    });
    if (!cmd) {
      log.error('command job without a command: dropped');
      return 'failed';
    }
    try {
      const octokit = await s.octokitFor(job.installationId);
      return cmd.type === 'comment' ? await this.#comment(octokit, job, cmd, ctx, log) : await this.#rerun(octokit, job, cmd, log);
    } catch (err) {
      const full: Classified | undefined = err instanceof BacklogFull ? { retryable: true, reason: 'the review queue is full' } : undefined;
      retryLaterOrGiveUp(err, ctx, s.retry, log, 'kmap-review command', full);
      return 'failed';
    }
  }

  async #comment(octokit: GitHub, job: ReviewJob, cmd: CommentCommand, ctx: JobContext, log: Logger): Promise<CommandOutcome> {
    const { owner, repo, pullNumber } = job;
    try {
      // GitHub answers 200 with the existing reaction when it is there already: safe to repeat on a retry.
      await octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: cmd.commentId, content: 'eyes' });
    } catch (err) {
      // A courtesy: a transient failure retries the job, anything else (the comment was deleted) does not stop it.
      if (classifyError(err).retryable) throw err;
      log.warn({ err }, 'could not react to the command');
    }
    const reply = (body: string) => this.#reply(octokit, job, cmd, body, ctx.resumed, log);
    switch (cmd.verb) {
      case 'help':
        await reply(renderHelp());
        return 'replied';
      case 'explain': {
        const catalog = await this.services.rules();
        if (!cmd.arg) await reply(renderExplainUsage(catalog.ids()));
        else {
          const rule = catalog.find(cmd.arg);
          await reply(rule ? renderExplain(rule) : renderUnknownRule(cmd.arg, catalog.ids()));
        }
        return 'replied';
      }
      case 'recheck': {
        const permission = await permissionOf(octokit, owner, repo, cmd.login);
        if (!MAY_RECHECK.includes(permission)) {
          log.info({ login: cmd.login, permission }, 'recheck refused');
          await reply(renderNotAllowed(cmd.login, permission));
          return 'refused';
        }
        const pr = await currentPull(octokit, owner, repo, pullNumber);
        if (!pr) {
          await reply(renderClosed());
          return 'closed';
        }
        await this.#schedule(job, pr, log);
        return 'scheduled';
      }
      default:
        await reply(renderUnknownCommand(cmd.verb));
        return 'replied';
    }
  }

  /**
   * Posts `body` with the command's marker. A resumed job (a retry, or a re-run after its worker died)
   * may have posted it already, perhaps in a request that then failed or timed out: it looks first.
   */
  async #reply(octokit: GitHub, job: ReviewJob, cmd: CommentCommand, body: string, resumed: boolean, log: Logger): Promise<void> {
    const { owner, repo, pullNumber: issue_number } = job;
    const marker = replyMarker(cmd.commentId);
    if (resumed) {
      // Only comments since the command (`since` is by update time, so the reply is among them).
      const comments = await octokit.paginate(octokit.rest.issues.listComments, {
        owner, repo, issue_number, per_page: 100, ...(cmd.createdAt ? { since: cmd.createdAt } : {}),
      });
      const existing = comments.find((c) => c.body?.includes(marker));
      if (existing) {
        log.info({ comment: existing.id }, 'the reply was posted by an earlier attempt: not posting it again');
        return;
      }
    }
    await octokit.rest.issues.createComment({ owner, repo, issue_number, body: `${body}\n\n${marker}` });
  }

  async #rerun(octokit: GitHub, job: ReviewJob, cmd: Rerun, log: Logger): Promise<CommandOutcome> {
    const { owner, repo, headSha } = job;
    const numbers = await pullsForSha(octokit, owner, repo, headSha, cmd.pullNumbers.map((number) => ({ number })));
    if (numbers.length === 0) {
      log.info({ sha: headSha }, 'no open pull request for this commit: nothing to re-run');
      return 'nothing';
    }
    // Every read first: a retry after a failed read has scheduled nothing yet.
    const prs: PullRequestState[] = [];
    for (const n of numbers) {
      const pr = await currentPull(octokit, owner, repo, n);
      if (pr) prs.push(pr);
      else log.info({ pull: n }, 'closed pull request: not re-run');
    }
    for (const pr of prs) await this.#schedule(job, pr, log);
    return prs.length > 0 ? 'scheduled' : 'nothing';
  }

  async #schedule(job: ReviewJob, pr: PullRequestState, log: Logger): Promise<void> {
    const result = await this.services.scheduler.schedule({
      installationId: job.installationId, deliveryId: job.deliveryId, pr, trigger: job.trigger, force: true,
    });
    if (result === 'backlog-full') throw new BacklogFull();
    log.info({ pull: pr.pullNumber, sha: pr.headSha.slice(0, 12), result }, 'forced review scheduled');
  }
}
