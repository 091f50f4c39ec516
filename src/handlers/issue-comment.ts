/**
 * Comment commands on pull requests: `/kmap-review recheck | explain RULE | help`.
 * The handler only parses the comment, drops bots and repeated deliveries, and enqueues a command job:
 * it makes no GitHub call. The job (src/app/command-job.ts) acknowledges with 👀, checks that `recheck`
 * comes from someone with write, maintain or admin permission (asked from GitHub: the payload's
 * author_association under-reports private organisation members), replies, and schedules the review.
 */
import type { Probot } from 'probot';
import { enqueueCommand, firstDelivery } from '../app/enqueue.js';
import type { ReviewScheduler } from '../app/scheduler.js';

export interface Command {
  verb: string;
  arg?: string;
}

const COMMAND_RE = /^[ \t]*\/kmap-review(?:[ \t]+([A-Za-z-]+))?(?:[ \t]+(\S+))?[ \t]*$/im;

/** The first `/kmap-review ...` line of a comment (outside code blocks), if any. */
export function parseCommand(body: string | null | undefined): Command | undefined {
  if (!body) return undefined;
  const withoutCode = body.replace(/^```[\s\S]*?^```/gm, '');
  const m = COMMAND_RE.exec(withoutCode);
  if (!m) return undefined;
  return { verb: (m[1] ?? 'help').toLowerCase(), ...(m[2] ? { arg: m[2] } : {}) };
}

export function registerIssueComment(app: Probot, scheduler: ReviewScheduler): void {
  app.on('issue_comment.created', async (context) => {
    const { issue, comment, sender } = context.payload;
    if (!issue.pull_request || sender.type === 'Bot' || comment.user?.type === 'Bot') return;
    const command = parseCommand(comment.body);
    if (!command) return;
    // Replies are not idempotent: a redelivered command must not answer twice.
    if (!(await firstDelivery(context, scheduler))) return;
    const { owner, repo } = context.repo();
    const login = comment.user?.login ?? sender.login;
    await enqueueCommand(context, scheduler, {
      owner, repo, pullNumber: issue.number, headSha: '', trigger: `/kmap-review ${command.verb} by @${login}`,
      command: {
        type: 'comment', verb: command.verb, ...(command.arg ? { arg: command.arg } : {}), commentId: comment.id, login,
        ...(comment.created_at ? { createdAt: comment.created_at } : {}),
      },
    });
  });
}
