/**
 * Posts the pull-request review for one run: inline comments for new findings on diff lines only, no
 * duplicates (fingerprints stored in the comments), and marks earlier comments whose finding is gone.
 */
import type { Logger } from 'probot';
import type { Finding, Report } from '../analysis/model.js';
import type { InlineOutcome } from '../comments/check-run.js';
import { normaliseFingerprint, readFingerprint } from '../comments/markdown.js';
import { renderFixedReply, renderInlineComment, renderReviewBody, type RuleLookup } from '../comments/review.js';
import type { Collected, GitHub, PullRef } from './collect.js';
import type { AppConfig } from '../config/repo-config.js';
import { placeFinding } from './diff-lines.js';
import { classifyError } from './retry.js';

export const FIXED_MARKER = '<!-- kmap-review:fixed -->';

interface ExistingComment {
  id: number;
  fingerprint: string;
  path: string;
  rule: string;
}

interface ReviewCommentLite {
  id: number;
  body: string;
  path: string;
  in_reply_to_id?: number;
  user?: { type?: string } | null;
}

function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? (err as { status?: number }).status : undefined;
}

/** The App's earlier top-level comments (by fingerprint) and the ids of threads it already answered as fixed. */
async function readExisting(octokit: GitHub, pr: PullRef): Promise<{ byFp: Map<string, ExistingComment>; answered: Set<number> }> {
  const comments = (await octokit.paginate(octokit.rest.pulls.listReviewComments, {
    owner: pr.owner, repo: pr.repo, pull_number: pr.pullNumber, per_page: 100,
  })) as ReviewCommentLite[];
  const byFp = new Map<string, ExistingComment>();
  const answered = new Set<number>();
  for (const c of comments) {
    if (c.user && c.user.type && c.user.type !== 'Bot') continue;
    if (c.in_reply_to_id !== undefined && c.in_reply_to_id !== null) {
      if (c.body.includes(FIXED_MARKER)) answered.add(c.in_reply_to_id);
      continue;
    }
    const fp = readFingerprint(c.body);
    if (!fp || byFp.has(fp)) continue;
    const rule = /`([a-z0-9-]+)` \((?:error|warning|notice)\)/.exec(c.body)?.[1] ?? 'kmap-review';
    byFp.set(fp, { id: c.id, fingerprint: fp, path: c.path, rule });
  }
  return { byFp, answered };
}

const THREADS_QUERY = `query($owner: String!, $repo: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $repo) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved comments(first: 1) { nodes { databaseId } } }
      }
    }
  }
}`;

const RESOLVE_MUTATION = `mutation($threadId: ID!) { resolveReviewThread(input: { threadId: $threadId }) { thread { id isResolved } } }`;

interface ThreadsResponse {
  repository: { pullRequest: { reviewThreads: {
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    nodes: { id: string; isResolved: boolean; comments: { nodes: { databaseId: number | null }[] } }[];
  } } | null };
}

/** Resolves the threads of `fixed` comments through GraphQL; falls back to a reply when that fails. */
async function markFixed(octokit: GitHub, log: Logger, pr: PullRef, fixed: ExistingComment[], answered: Set<number>): Promise<number> {
  let count = 0;
  try {
    const byCommentId = new Map(fixed.map((c) => [c.id, c]));
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const res: ThreadsResponse = await octokit.graphql<ThreadsResponse>(THREADS_QUERY, { owner: pr.owner, repo: pr.repo, number: pr.pullNumber, after });
      const threads = res.repository.pullRequest?.reviewThreads;
      if (!threads) break;
      for (const t of threads.nodes) {
        const first = t.comments.nodes[0]?.databaseId;
        if (first == null || !byCommentId.has(first)) continue;
        byCommentId.delete(first);
        if (t.isResolved) continue;
        await octokit.graphql(RESOLVE_MUTATION, { threadId: t.id });
        count++;
      }
      if (!threads.pageInfo.hasNextPage) break;
      after = threads.pageInfo.endCursor;
    }
    return count;
  } catch (err) {
    log.warn({ err }, 'resolving review threads through GraphQL failed; replying instead');
  }
  for (const c of fixed) {
    if (answered.has(c.id)) continue;
    try {
      await octokit.rest.pulls.createReplyForReviewComment({
        owner: pr.owner, repo: pr.repo, pull_number: pr.pullNumber, comment_id: c.id,
        body: `${renderFixedReply(c, pr.headSha)}\n${FIXED_MARKER}`,
      });
      count++;
    } catch (err) {
      log.warn({ err, comment: c.id }, 'could not reply to a fixed finding');
    }
  }
  return count;
}

export interface PublishInput {
  pr: PullRef;
  report: Report;
  collected: Collected;
  config: AppConfig;
  rules: RuleLookup;
  checkRunUrl?: string;
}

export async function publishReview(octokit: GitHub, log: Logger, input: PublishInput): Promise<InlineOutcome> {
  const { pr, report, collected, config } = input;
  const outcome: InlineOutcome = { posted: 0, alreadyPosted: 0, resolved: 0, outsideDiff: [], overCap: [] };
  const { byFp, answered } = await readExisting(octokit, pr);

  const current = report.findings.filter((f) => !f.preExisting);
  const seen = new Set<string>();
  const toPost: { f: Finding; comment: Record<string, unknown> }[] = [];
  for (const f of current) {
    const fp = normaliseFingerprint(f.fingerprint);
    if (byFp.has(fp)) {
      if (!seen.has(fp)) outcome.alreadyPosted++;
      seen.add(fp);
      continue;
    }
    if (seen.has(fp)) continue;
    seen.add(fp);
    const placement = placeFinding(f, collected.hunks.get(f.path) ?? []);
    if (!placement) {
      outcome.outsideDiff.push(f);
      continue;
    }
    if (toPost.length >= config.review.maxComments) {
      outcome.overCap.push(f);
      continue;
    }
    const body = renderInlineComment(f, {
      rule: input.rules(f.rule),
      ...(placement.suggestion !== undefined ? { suggestion: placement.suggestion } : {}),
      ...(placement.note ? { note: placement.note } : {}),
    });
    const comment: Record<string, unknown> = { path: f.path, line: placement.line, side: 'RIGHT', body };
    if (placement.startLine !== undefined) Object.assign(comment, { start_line: placement.startLine, start_side: 'RIGHT' });
    toPost.push({ f, comment });
  }

  if (toPost.length > 0) {
    const hasError = toPost.some((p) => p.f.severity === 'error');
    try {
      await octokit.rest.pulls.createReview({
        owner: pr.owner, repo: pr.repo, pull_number: pr.pullNumber,
        commit_id: pr.headSha,
        event: hasError ? config.review.event : 'COMMENT',
        body: renderReviewBody({
          headSha: pr.headSha,
          newComments: toPost.map((p) => p.f),
          notInline: outcome.outsideDiff.length + outcome.overCap.length,
          ...(input.checkRunUrl ? { checkRunUrl: input.checkRunUrl } : {}),
        }),
        comments: toPost.map((p) => p.comment) as never,
      });
      outcome.posted = toPost.length;
    } catch (err) {
      // A transient failure (5xx, timeout, rate limit) fails the job, which is retried: the retry reads
      // the comments again, so a review GitHub did record before the error is not posted twice.
      if (classifyError(err).retryable) throw err;
      const status = statusOf(err);
      log.error({ err, status }, 'posting the review failed');
      outcome.reviewError = status ? `GitHub answered ${status}` : (err as Error).message;
    }
  }

  // Earlier comments whose finding this push no longer has, on files that were analysed (or left the PR).
  const allFps = new Set(report.findings.map((f) => normaliseFingerprint(f.fingerprint)));
  const analysed = new Set(collected.changeSet.files.map((f) => f.newPath ?? f.oldPath ?? ''));
  const fixed = [...byFp.values()].filter(
    (c) => !allFps.has(c.fingerprint) && (analysed.has(c.path) || !collected.allPaths.has(c.path)),
  );
  if (fixed.length > 0) outcome.resolved = await markFixed(octokit, log, pr, fixed, answered);
  return outcome;
}
