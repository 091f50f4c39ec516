/**
 * Comment commands on pull requests: `/kmap-review recheck | explain RULE | help`.
 * Acknowledged with 👀; `recheck` needs write, maintain or admin permission (asked from GitHub: the
 * payload's author_association under-reports private organisation members).
 */
import type { Context, Probot } from 'probot';
import {
  renderExplain, renderExplainUsage, renderHelp, renderNotAllowed, renderUnknownCommand, renderUnknownRule,
} from '../comments/review-commands.js';
import { enqueueReview, firstDelivery } from '../app/enqueue.js';
import { currentPull } from '../app/pull-state.js';
import type { ReviewScheduler, RuleCatalog } from '../app/scheduler.js';

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

type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

async function permissionOf(context: Context<'issue_comment'>, username: string): Promise<Permission> {
  try {
    const { data } = await context.octokit.rest.repos.getCollaboratorPermissionLevel(context.repo({ username }));
    const role = (data.role_name ?? '').toLowerCase();
    if (role === 'maintain' || role === 'triage') return role;
    return (data.permission as Permission) ?? 'none';
  } catch (err) {
    if ((err as { status?: number }).status === 404) return 'none';
    throw err;
  }
}

export function registerIssueComment(app: Probot, scheduler: ReviewScheduler, rules: () => Promise<RuleCatalog>): void {
  app.on('issue_comment.created', async (context) => {
    const { issue, comment, sender } = context.payload;
    if (!issue.pull_request || sender.type === 'Bot' || comment.user?.type === 'Bot') return;
    const command = parseCommand(comment.body);
    if (!command) return;
    // Replies are not idempotent: a redelivered command must not answer twice.
    if (!(await firstDelivery(context, scheduler))) return;

    await context.octokit.rest.reactions.createForIssueComment(context.repo({ comment_id: comment.id, content: 'eyes' as const }));
    const reply = (body: string) => context.octokit.rest.issues.createComment(context.issue({ body }));

    switch (command.verb) {
      case 'help':
        await reply(renderHelp());
        return;
      case 'explain': {
        const catalog = await rules();
        if (!command.arg) {
          await reply(renderExplainUsage(catalog.ids()));
          return;
        }
        const rule = catalog.find(command.arg);
        await reply(rule ? renderExplain(rule) : renderUnknownRule(command.arg, catalog.ids()));
        return;
      }
      case 'recheck': {
        const login = comment.user?.login ?? sender.login;
        const permission = await permissionOf(context, login);
        if (!['admin', 'maintain', 'write'].includes(permission)) {
          context.log.info({ login, permission }, 'recheck refused');
          await reply(renderNotAllowed(login, permission));
          return;
        }
        const { owner, repo } = context.repo();
        const pr = await currentPull(context.octokit, owner, repo, issue.number);
        if (!pr) {
          await reply('This pull request is closed: nothing to recheck.');
          return;
        }
        await enqueueReview(context, scheduler, pr, `/kmap-review recheck by @${login}`, true);
        return;
      }
      default:
        await reply(renderUnknownCommand(command.verb));
    }
  });
}
