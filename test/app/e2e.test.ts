/**
 * End to end over HTTP: Probot's own `run()` reads the standard environment (APP_ID, PRIVATE_KEY,
 * WEBHOOK_SECRET, PORT, HOST, GHE_HOST, GHE_PROTOCOL), authenticates as an App with a generated RSA key
 * against a local stand-in for the GitHub API, and receives signed webhooks. The analysis is the real
 * engine (in process here; production runs it in worker threads, see worker-runner.test.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import { freePort } from './helpers/net.js';
import { sign } from '@octokit/webhooks-methods';
import nock from 'nock';
import { run, type Server } from 'probot';
import type { ChangeSet, EngineConfig } from '../../src/analysis/model.js';
import { createApp } from '../../src/app/index.js';
import { EmbeddedQueue } from '../../src/app/queue/embedded.js';
import { InProcessRunner, type AnalysisRunner } from '../../src/app/runner.js';
import { FakeGitHub } from './helpers/fake-github-server.js';
import { TestOctokit } from './helpers/harness.js';
import { BASE_SHA, HEAD_SHA, KERNEL_FILE, OWNER, REPO, fixture, issueCommentEvent, pullRequestEvent } from './helpers/payloads.js';

const SECRET = 'e2e-secret';
const CLEAN_SHA = '1234567890abcdef1234567890abcdef12345678';
/** The wrong-order fixture's error: unmap-order on line 16 (replay), or mismatched-unmap on line 25. */
const EXPECTED_ERRORS = [{ rule: 'unmap-order', line: 16 }, { rule: 'mismatched-unmap', line: 25 }];

let fake: FakeGitHub;
let server: Server;
let queue: EmbeddedQueue;
let url: string;
let delayMs = 0;
const engine = new InProcessRunner();
const runner: AnalysisRunner = {
  async analyze(cs: ChangeSet, config: EngineConfig) {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    return engine.analyze(cs, config);
  },
  close: () => engine.close(),
};

async function deliver(name: string, payload: unknown, o: { id?: string; secret?: string } = {}): Promise<Response> {
  const body = JSON.stringify(payload);
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': name,
      'x-github-delivery': o.id ?? crypto.randomUUID(),
      'x-hub-signature-256': await sign(o.secret ?? SECRET, body),
    },
    body,
  });
}

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  fake = new FakeGitHub(OWNER, REPO);
  await fake.start();
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const port = await freePort();
  queue = new EmbeddedQueue({ concurrency: 2 });
  server = await run(createApp({ runner, queue }), {
    env: {
      APP_ID: '1', PRIVATE_KEY: privateKey, WEBHOOK_SECRET: SECRET, PORT: String(port), HOST: '127.0.0.1',
      GHE_HOST: `127.0.0.1:${fake.port}`, GHE_PROTOCOL: 'http', LOG_LEVEL: 'fatal',
    },
    Octokit: TestOctokit,
  });
  url = `http://127.0.0.1:${port}/api/github/webhooks`;
});

afterAll(async () => {
  await queue?.onIdle();
  await server?.stop();
  await fake?.stop();
  await runner.close();
  nock.enableNetConnect();
});

afterEach(() => {
  expect(fake.invalid).toEqual([]);
  expect(fake.unexpected).toEqual([]);
});

function usePullRequest(headSha: string, headFixture: string, patchFixture: string): void {
  fake.pr = { number: 2, headSha, baseSha: BASE_SHA, draft: false };
  fake.files = [{ path: KERNEL_FILE, base: fixture('kernel/xor-pages.base.c'), head: fixture(headFixture), patch: fixture(patchFixture) }];
}

describe('the App over HTTP', () => {
  it('answers /ping', async () => {
    const res = await fetch(url.replace('/api/github/webhooks', '/ping'));
    expect(await res.text()).toBe('PONG');
  });

  it('a wrong-order unmap: failed check run with the annotation and an inline comment on that line; a re-delivery posts nothing twice', async () => {
    usePullRequest(HEAD_SHA, 'kernel/xor-pages.wrong-order.c', 'kernel/xor-pages.wrong-order.patch');
    const payload = pullRequestEvent('opened');
    const res = await deliver('pull_request', payload, { id: 'delivery-1' });
    expect(res.status).toBe(200);
    await queue.onIdle();

    expect(fake.checkRuns).toHaveLength(1);
    const run = fake.checkRuns[0];
    expect(run).toMatchObject({ name: 'kmap-review', head_sha: HEAD_SHA, status: 'completed', conclusion: 'failure' });
    const errors = run.annotations.filter((a: any) => a.annotation_level === 'failure');
    const hits = EXPECTED_ERRORS.filter((e) => errors.some((a: any) => a.start_line === e.line && a.title === `kmap-review: ${e.rule}`));
    expect(hits.length).toBeGreaterThan(0);
    if (process.env.KMAP_E2E_VERBOSE) console.log(JSON.stringify({ hits, annotations: run.annotations.map((a: any) => [a.start_line, a.title, a.annotation_level]) }));
    expect(fake.reviews).toHaveLength(1);
    for (const e of hits) {
      const comment = fake.reviewComments.find((c) => c.line === e.line || (c.start_line <= e.line && c.line >= e.line));
      expect(comment).toBeDefined();
      expect(comment.body).toContain(`\`${e.rule}\` (error)`);
      expect(comment.body).toMatch(/<!-- kmap-review:fp=[\w.:-]+ -->/);
    }
    const writes = fake.writes().length;

    // The same delivery again (GitHub's "Redeliver"), then the same event under a new delivery id.
    expect((await deliver('pull_request', payload, { id: 'delivery-1' })).status).toBe(200);
    expect((await deliver('pull_request', payload)).status).toBe(200);
    await queue.onIdle();
    expect(fake.writes()).toHaveLength(writes);
    expect(fake.reviews).toHaveLength(1);
  });

  it('a forged signature gets 400 and nothing is posted', async () => {
    const before = fake.requests.length;
    const res = await deliver('pull_request', pullRequestEvent('opened'), { secret: 'not-the-secret' });
    expect(res.status).toBe(400);
    await queue.onIdle();
    expect(fake.requests.length).toBe(before);
  });

  it('a clean conversion gets a successful check run and no review', async () => {
    usePullRequest(CLEAN_SHA, 'kernel/xor-pages.clean.c', 'kernel/xor-pages.clean.patch');
    fake.reviewComments = [];
    const reviews = fake.reviews.length;
    const res = await deliver('pull_request', pullRequestEvent('synchronize', { headSha: CLEAN_SHA }));
    expect(res.status).toBe(200);
    await queue.onIdle();
    const run = fake.checkRuns.filter((r) => r.head_sha === CLEAN_SHA);
    expect(run).toHaveLength(1);
    expect(run[0]).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(run[0].annotations.filter((a: any) => a.annotation_level === 'failure')).toEqual([]);
    expect(fake.reviews.length).toBe(reviews);
  });

  it("a maintainer's /kmap-review recheck runs again; a reader's does not", async () => {
    fake.permissions = { maintainer: 'write', reader: 'read' };
    const runs = fake.checkRuns.length;
    expect((await deliver('issue_comment', issueCommentEvent('/kmap-review recheck', { login: 'reader' }))).status).toBe(200);
    await queue.onIdle();
    expect(fake.checkRuns.length).toBe(runs);
    expect(fake.issueComments.at(-1).body).toContain('Sorry @reader');

    expect((await deliver('issue_comment', issueCommentEvent('/kmap-review recheck', { login: 'maintainer' }))).status).toBe(200);
    await queue.onIdle();
    expect(fake.checkRuns.length).toBe(runs + 1);
    expect(fake.checkRuns.at(-1)).toMatchObject({ head_sha: CLEAN_SHA, status: 'completed', conclusion: 'success' });
    expect(fake.reactions.map((r) => r.content)).toEqual(['eyes', 'eyes']);
  });

  it('acknowledges a burst of webhooks at once while the analysis runs in the background', async () => {
    delayMs = 1500;
    try {
      const shas = ['a', 'b', 'c'].map((c) => c.repeat(40));
      const started = Date.now();
      const responses = await Promise.all(shas.map((sha, i) => {
        usePullRequest(sha, 'kernel/xor-pages.clean.c', 'kernel/xor-pages.clean.patch');
        return deliver('pull_request', pullRequestEvent('synchronize', { headSha: sha, number: 2 + i * 0 }));
      }));
      const elapsed = Date.now() - started;
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(elapsed).toBeLessThan(1500);
      await queue.onIdle();
    } finally {
      delayMs = 0;
    }
  });
});
