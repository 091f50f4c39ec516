// A local stand-in for the GitHub REST API (under /api/v3, reached through GHE_HOST), for bench/load.mjs:
// many installations and repositories, one pull request each, with check runs, review comments and reviews
// kept in memory, and injectable faults (500/502, 403 secondary rate limit with Retry-After, stalls past
// the client's timeout, dropped connections). Loopback only.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

const blobSha = (text) => createHash('sha1').update(`blob ${Buffer.byteLength(text)}\0`).update(text).digest('hex');
const HUNK = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/;
function hunks(patch) {
  const out = [];
  for (const line of (patch ?? '').split('\n')) {
    const m = HUNK.exec(line);
    if (m) {
      const start = Number(m[1]);
      const n = m[2] === undefined ? 1 : Number(m[2]);
      if (n > 0) out.push([start, start + n - 1]);
    }
  }
  return out;
}

export class GitHubStandIn {
  /** repos: [{ owner, repo, installation, pr: { number, head, base }, files: [{ path, base, heads: {sha: text}, patches: {sha: patch} }] }] */
  constructor({ repos, faults = null, stallMs = 10_000 }) {
    this.repos = new Map(repos.map((r) => [`${r.owner}/${r.repo}`, { ...r, checkRuns: [], comments: [], reviews: [] }]));
    this.faults = faults; // { rate, kinds: [...], max } or null
    this.faultCount = {};
    this.faultsLeft = faults?.max ?? 0;
    this.stallMs = stallMs;
    this.nextId = 1000;
    this.requests = 0;
    this.unexpected = [];
    this.held = new Set();
    this.log = [];
  }

  async start() {
    this.server = createServer((req, res) => this.#handle(req, res));
    this.server.keepAliveTimeout = 1000;
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = this.server.address().port;
  }

  async stop() {
    for (const t of this.held) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  #fault(method, path) {
    if (!this.faults || this.faultsLeft <= 0 || path.includes('/access_tokens')) return null;
    if (Math.random() >= this.faults.rate) return null;
    this.faultsLeft--;
    const kinds = this.faults.kinds;
    const kind = kinds[Math.floor(Math.random() * kinds.length)];
    this.faultCount[kind] = (this.faultCount[kind] ?? 0) + 1;
    return kind;
  }

  async #handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body;
    try { body = raw ? JSON.parse(raw) : undefined; } catch { body = undefined; }
    this.requests++;
    const method = req.method;
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    const fault = this.#fault(method, p);
    if (process.env.LOAD_DEBUG) this.log.push(`${Date.now() % 100000} ${method} ${p}${url.search} ${fault ?? ''}`);
    const send = (status, data, headers = {}) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(data === undefined ? '' : JSON.stringify(data));
    };
    if (fault === '500' || fault === '502') return send(Number(fault), { message: fault === '500' ? 'Server Error' : 'Bad Gateway' });
    if (fault === '403') {
      return send(403, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }, { 'retry-after': '1' });
    }
    if (fault === 'drop-before') return req.socket.destroy();
    // "stall" and "drop-after" apply the request first (the worst case: a write GitHub did record, whose answer
    // is lost), then hold the response past the client's timeout, or cut the connection.
    const reply = fault === 'stall'
      ? () => { const t = setTimeout(() => { this.held.delete(t); req.socket.destroy(); }, this.stallMs); this.held.add(t); }
      : fault === 'drop-after' ? () => req.socket.destroy() : send;
    try {
      this.#route(method, p, url, body, reply);
    } catch (err) {
      this.unexpected.push(`${method} ${req.url}: ${err.message}`);
      send(500, { message: String(err) });
    }
  }

  #route(method, p, url, body, send) {
    let m;
    if (method === 'POST' && /^\/api\/v3\/app\/installations\/\d+\/access_tokens$/.test(p)) {
      return send(201, { token: 'ghs_standin', expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: {}, repository_selection: 'all' });
    }
    if (method === 'GET' && p === '/api/v3/app/installations') {
      return send(200, [...new Set([...this.repos.values()].map((r) => r.installation))].map((id) => ({ id, account: { login: 'x' } })));
    }
    if (method === 'GET' && p === '/api/v3/installation/repositories') return send(200, { total_count: 0, repositories: [] });
    if (method === 'POST' && p === '/api/graphql') {
      return send(200, { data: { repository: { pullRequest: { reviewThreads: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] } } } } });
    }
    if (!(m = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)(\/.*)$/.exec(p))) return this.#unexpected(method, p, send);
    const r = this.repos.get(`${m[1]}/${m[2]}`);
    if (!r) return send(404, { message: 'Not Found' });
    const rest = m[3];
    const pr = r.pr;
    if (method === 'GET' && rest.startsWith('/contents/.github')) return send(404, { message: 'Not Found' });
    if (method === 'GET' && (m = /^\/commits\/([0-9a-f]+)\/check-runs$/.exec(rest))) {
      const status = url.searchParams.get('status');
      const runs = r.checkRuns.filter((c) => c.head_sha === m[1] && (!status || c.status === status)).reverse();
      return send(200, { total_count: runs.length, check_runs: runs.slice(0, 1) });
    }
    if (method === 'POST' && rest === '/check-runs') {
      const run = { id: this.nextId++, ...body, conclusion: null, createdAt: Date.now() };
      r.checkRuns.push(run);
      return send(201, run);
    }
    if (method === 'PATCH' && (m = /^\/check-runs\/(\d+)$/.exec(rest))) {
      const run = r.checkRuns.find((c) => c.id === Number(m[1]));
      if (!run) return send(404, { message: 'Not Found' });
      const { output, ...fields } = body;
      Object.assign(run, fields, output ? { title: output.title } : {});
      if (fields.status === 'completed') run.doneAt = Date.now();
      return send(200, run);
    }
    if (method === 'GET' && rest === `/pulls/${pr.number}`) {
      return send(200, { number: pr.number, state: 'open', draft: false, updated_at: pr.updatedAt, head: { sha: pr.head, ref: 'k' }, base: { sha: pr.base, ref: 'master' } });
    }
    if (method === 'GET' && rest === '/pulls') {
      return send(200, [{ number: pr.number, state: 'open', draft: false, updated_at: pr.updatedAt, head: { sha: pr.head, ref: 'k' }, base: { sha: pr.base, ref: 'master' } }]);
    }
    if (method === 'GET' && rest === `/pulls/${pr.number}/files`) {
      return send(200, r.files.map((f) => ({ sha: 'c'.repeat(40), filename: f.path, status: 'modified', additions: 1, deletions: 1, changes: 2, patch: f.patches[pr.head] })));
    }
    if (method === 'GET' && (m = /^\/contents\/(.+)$/.exec(rest))) {
      const path = decodeURIComponent(m[1]);
      const ref = url.searchParams.get('ref');
      const f = r.files.find((x) => x.path === path);
      const text = f ? (ref === pr.base ? f.base : f.heads[ref]) : undefined;
      if (text === undefined) return send(404, { message: 'Not Found' });
      return send(200, { type: 'file', encoding: 'base64', size: Buffer.byteLength(text), name: path, path, sha: blobSha(text), content: Buffer.from(text).toString('base64') });
    }
    if (method === 'GET' && rest === `/pulls/${pr.number}/comments`) return send(200, r.comments);
    if (method === 'POST' && rest === `/pulls/${pr.number}/reviews`) {
      const f = (path) => r.files.find((x) => x.path === path);
      for (const c of body.comments ?? []) {
        const hs = hunks(f(c.path)?.patches[body.commit_id]);
        if (!hs.some(([a, b]) => c.line >= a && c.line <= b)) return send(422, { message: 'Pull request review thread line must be part of the diff' });
      }
      const review = { id: this.nextId++, commit_id: body.commit_id };
      r.reviews.push(review);
      for (const c of body.comments ?? []) r.comments.push({ id: this.nextId++, path: c.path, line: c.line, body: c.body, user: { login: 'kmap-review[bot]', type: 'Bot' } });
      return send(200, review);
    }
    if (method === 'POST' && /^\/pulls\/\d+\/comments\/\d+\/replies$/.test(rest)) return send(201, { id: this.nextId++ });
    return this.#unexpected(method, p, send);
  }

  #unexpected(method, p, send) {
    this.unexpected.push(`${method} ${p}`);
    return send(404, { message: 'Not Found (stand-in)' });
  }
}
