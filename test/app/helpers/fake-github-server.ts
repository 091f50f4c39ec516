/**
 * A local HTTP stand-in for the GitHub API (reached by the App through GHE_HOST/GHE_PROTOCOL, so under
 * /api/v3). It keeps the state a review needs (one pull request, check runs, review comments, issue
 * comments), answers 422 for review comments on lines outside the diff like GitHub does, and validates
 * every request against GitHub's OpenAPI description.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHunks } from '../../../src/app/diff-lines.js';
import { validateRequest } from './openapi.js';

export interface FakeFile { path: string; base: string | null; head: string | null; patch: string }
export interface Recorded { method: string; path: string; body: any; operationId?: string }

/** Git's blob SHA of a text, like GitHub's contents API returns (the result cache keys on it). */
export function blobSha(text: string): string {
  const buf = Buffer.from(text);
  return createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
}

export class FakeGitHub {
  readonly owner: string;
  readonly repo: string;
  server!: Server;
  port = 0;
  pr = { number: 2, headSha: '', baseSha: '', draft: false };
  files: FakeFile[] = [];
  permissions: Record<string, string> = {};
  checkRuns: any[] = [];
  reviews: any[] = [];
  reviewComments: any[] = [];
  issueComments: any[] = [];
  reactions: any[] = [];
  requests: Recorded[] = [];
  invalid: string[] = [];
  unexpected: string[] = [];
  #nextId = 1000;

  constructor(owner: string, repo: string) {
    this.owner = owner;
    this.repo = repo;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests other than authentication and reads: what the App posted. */
  writes(): Recorded[] {
    return this.requests.filter((r) => r.method !== 'GET' && !r.path.includes('/access_tokens'));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const body = raw ? JSON.parse(raw) : undefined;
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://x');
    const v = validateRequest(method, req.url ?? '/', body);
    this.invalid.push(...v.errors);
    this.requests.push({ method, path: req.url ?? '', body, ...(v.operationId ? { operationId: v.operationId } : {}) });
    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(data === undefined ? '' : JSON.stringify(data));
    };
    const R = `/api/v3/repos/${this.owner}/${this.repo}`;
    const p = url.pathname;
    const m = (re: RegExp) => re.exec(p);
    let g: RegExpExecArray | null;

    if (method === 'POST' && /^\/api\/v3\/app\/installations\/\d+\/access_tokens$/.test(p)) {
      return send(201, { token: 'ghs_e2e', expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: {}, repository_selection: 'all' });
    }
    if (method === 'GET' && p.endsWith('/contents/.github%2Fkmap-review.yml')) return send(404, { message: 'Not Found' });
    // The start-up recovery's scan: one installation with this one repository and its pull request.
    if (method === 'GET' && p === '/api/v3/app/installations') {
      return send(200, [{ id: 1, account: { login: this.owner }, app_id: 1, target_type: 'Organization' }]);
    }
    if (method === 'GET' && p === '/api/v3/installation/repositories') {
      return send(200, { total_count: 1, repositories: [{ id: 1, name: this.repo, full_name: `${this.owner}/${this.repo}`, owner: { login: this.owner } }] });
    }
    if (method === 'GET' && p === `${R}/pulls`) {
      return send(200, [{ number: this.pr.number, state: 'open', draft: this.pr.draft, head: { sha: this.pr.headSha, ref: 'kmap' }, base: { sha: this.pr.baseSha, ref: 'master' } }]);
    }
    if (method === 'GET' && (g = m(new RegExp(`^${R}/commits/([0-9a-f]+)/check-runs$`)))) {
      const status = url.searchParams.get('status');
      const runs = this.checkRuns
        .filter((r) => r.head_sha === g![1] && r.name === url.searchParams.get('check_name') && (!status || r.status === status))
        .reverse();
      return send(200, { total_count: runs.length, check_runs: runs.slice(0, 1) });
    }
    if (method === 'POST' && p === `${R}/check-runs`) {
      const run = { id: this.#nextId++, ...body, annotations: [], conclusion: null };
      this.checkRuns.push(run);
      return send(201, run);
    }
    if (method === 'PATCH' && (g = m(new RegExp(`^${R}/check-runs/(\\d+)$`)))) {
      const run = this.checkRuns.find((r) => r.id === Number(g![1]));
      if (!run) return send(404, { message: 'Not Found' });
      const { output, ...rest } = body;
      Object.assign(run, rest);
      if (output) {
        run.annotations.push(...(output.annotations ?? []));
        run.output = { ...output, annotations: undefined };
      }
      return send(200, run);
    }
    if (method === 'GET' && p === `${R}/pulls/${this.pr.number}`) {
      return send(200, {
        number: this.pr.number, state: 'open', draft: this.pr.draft,
        head: { sha: this.pr.headSha, ref: 'kmap' }, base: { sha: this.pr.baseSha, ref: 'master' },
      });
    }
    if (method === 'GET' && p === `${R}/pulls/${this.pr.number}/files`) {
      return send(200, this.files.map((f) => ({
        sha: 'a'.repeat(40), filename: f.path, status: f.base === null ? 'added' : f.head === null ? 'removed' : 'modified',
        additions: 1, deletions: 1, changes: 2, blob_url: '', raw_url: '', contents_url: '', patch: f.patch,
      })));
    }
    if (method === 'GET' && (g = m(new RegExp(`^${R}/contents/(.+)$`)))) {
      const path = decodeURIComponent(g[1]!);
      const ref = url.searchParams.get('ref');
      const f = this.files.find((x) => x.path === path);
      const text = f ? (ref === this.pr.baseSha ? f.base : ref === this.pr.headSha ? f.head : null) : null;
      if (text === null) return send(404, { message: 'Not Found' });
      return send(200, { type: 'file', encoding: 'base64', size: Buffer.byteLength(text), name: path, path, sha: blobSha(text), content: Buffer.from(text).toString('base64') });
    }
    if (method === 'GET' && p === `${R}/pulls/${this.pr.number}/comments`) return send(200, this.reviewComments);
    if (method === 'POST' && p === `${R}/pulls/${this.pr.number}/reviews`) {
      for (const c of body.comments ?? []) {
        const f = this.files.find((x) => x.path === c.path);
        const hunks = parseHunks(f?.patch);
        const inDiff = (l: number) => hunks.some((h) => l >= h.start && l <= h.end);
        if (!f || !inDiff(c.line) || (c.start_line !== undefined && !inDiff(c.start_line))) {
          return send(422, { message: 'Unprocessable Entity', errors: ['Pull request review thread line must be part of the diff'] });
        }
      }
      const review = { id: this.#nextId++, ...body };
      this.reviews.push(review);
      for (const c of body.comments ?? []) {
        this.reviewComments.push({ id: this.#nextId++, pull_request_review_id: review.id, ...c, user: { login: 'kmap-review[bot]', type: 'Bot' } });
      }
      return send(200, review);
    }
    if (method === 'POST' && (g = m(new RegExp(`^${R}/issues/comments/(\\d+)/reactions$`)))) {
      this.reactions.push({ comment: Number(g[1]), ...body });
      return send(201, { id: this.#nextId++, content: body.content });
    }
    if (method === 'GET' && (g = m(new RegExp(`^${R}/collaborators/([^/]+)/permission$`)))) {
      const perm = this.permissions[g[1]!];
      return perm ? send(200, { permission: perm, role_name: perm, user: null }) : send(404, { message: 'Not Found' });
    }
    if (method === 'POST' && p === `${R}/issues/${this.pr.number}/comments`) {
      this.issueComments.push(body);
      return send(201, { id: this.#nextId++, ...body });
    }
    this.unexpected.push(`${method} ${req.url}`);
    return send(404, { message: 'Not Found (fake GitHub)' });
  }
}
