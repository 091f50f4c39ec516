/** Real GitHub webhook payloads (@octokit/webhooks-examples), adapted to a kernel repository. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
interface Example { action?: string; installation?: unknown; [k: string]: unknown }
const defs = require('@octokit/webhooks-examples') as { name: string; examples: Example[] }[];

export const OWNER = 'kmap-test';
export const REPO = 'linux';
export const BASE_SHA = 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e';
export const HEAD_SHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';
export const PR_NUMBER = 2;
export const KERNEL_FILE = 'mm/xor_pages.c';

const FIXTURES = fileURLToPath(new URL('../../fixtures/github/', import.meta.url));
export function fixture(name: string): string {
  return readFileSync(`${FIXTURES}${name}`, 'utf8');
}

function example(name: string, action: string): Record<string, any> {
  const def = defs.find((d) => d.name === name);
  const ex = def?.examples.find((e) => e.action === action && e.installation) ?? def?.examples.find((e) => e.action === action);
  if (!ex) throw new Error(`no ${name}.${action} example`);
  const p = structuredClone(ex) as Record<string, any>;
  p.installation ??= { id: 1, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==' };
  p.repository.name = REPO;
  p.repository.full_name = `${OWNER}/${REPO}`;
  p.repository.owner.login = OWNER;
  return p;
}

export interface PrOptions { headSha?: string; baseSha?: string; draft?: boolean; number?: number }

export function pullRequestEvent(action: 'opened' | 'synchronize' | 'reopened' | 'ready_for_review', o: PrOptions = {}): Record<string, any> {
  const p = example('pull_request', action);
  const pr = p.pull_request;
  pr.number = p.number = o.number ?? PR_NUMBER;
  pr.head.sha = o.headSha ?? HEAD_SHA;
  pr.base.sha = o.baseSha ?? BASE_SHA;
  pr.draft = o.draft ?? false;
  pr.state = 'open';
  pr.title = 'mm: convert xor_pages() to kmap_local_page()';
  if (action === 'synchronize') p.after = pr.head.sha;
  return p;
}

export function issueCommentEvent(body: string, o: { login?: string; userType?: string; onPullRequest?: boolean } = {}): Record<string, any> {
  const p = example('issue_comment', 'created');
  p.issue.number = PR_NUMBER;
  if (o.onPullRequest !== false) {
    p.issue.pull_request = { url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${PR_NUMBER}` };
  } else delete p.issue.pull_request;
  p.comment.body = body;
  p.comment.id = 444500041;
  p.comment.user.login = o.login ?? 'maintainer';
  p.comment.user.type = o.userType ?? 'User';
  p.sender.login = o.login ?? 'maintainer';
  p.sender.type = o.userType ?? 'User';
  return p;
}

export function checkRunEvent(action: 'rerequested' | 'requested_action', o: { identifier?: string; pulls?: number[] } = {}): Record<string, any> {
  const p = example('check_run', action);
  p.check_run.name = 'kmap-review';
  p.check_run.head_sha = HEAD_SHA;
  p.check_run.pull_requests = (o.pulls ?? [PR_NUMBER]).map((n) => ({
    url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${n}`, id: 1, number: n,
    head: { ref: 'kmap', sha: HEAD_SHA, repo: { id: 1, url: '', name: REPO } },
    base: { ref: 'master', sha: BASE_SHA, repo: { id: 1, url: '', name: REPO } },
  }));
  if (action === 'requested_action') p.requested_action = { identifier: o.identifier ?? 'recheck' };
  return p;
}

export function checkSuiteEvent(): Record<string, any> {
  const p = example('check_suite', 'rerequested');
  p.check_suite.head_sha = HEAD_SHA;
  p.check_suite.pull_requests = [];
  return p;
}

/** The `GET /pulls/{n}` answer for the current state of the PR. */
export function pullResponse(o: PrOptions = {}): Record<string, any> {
  const pr = pullRequestEvent('opened', o).pull_request;
  return pr;
}

export function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** A `GET /repos/{o}/{r}/contents/{path}` answer for a file. */
export function contentResponse(path: string, text: string, sha = 'b'.repeat(40)): Record<string, unknown> {
  const size = Buffer.byteLength(text);
  return {
    type: 'file', encoding: 'base64', size, name: path.split('/').pop(), path, content: base64(text), sha,
    url: '', git_url: null, html_url: null, download_url: null, _links: { self: '', git: null, html: null },
  };
}

/** A `GET /pulls/{n}/files` entry. */
export function prFile(filename: string, patch: string | undefined, status = 'modified'): Record<string, unknown> {
  return {
    sha: 'c'.repeat(40), filename, status, additions: 5, deletions: 5, changes: 10,
    blob_url: '', raw_url: '', contents_url: '', ...(patch === undefined ? {} : { patch }),
  };
}
