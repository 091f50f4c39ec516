/**
 * The hardened webhook server (src/app/server.ts) over real HTTP, against the local GitHub stand-in:
 * hostile or broken requests get a 4xx and enqueue nothing; a good delivery is reviewed once, however
 * often it is delivered.
 */
import { generateKeyPairSync } from 'node:crypto';
import { request } from 'node:http';
import { freePort } from './helpers/net.js';
import { sign } from '@octokit/webhooks-methods';
import nock from 'nock';
import { EmbeddedQueue } from '../../src/app/queue/embedded.js';
import { InProcessRunner } from '../../src/app/runner.js';
import { startServer, verifySignature, type RunningServer } from '../../src/app/server.js';
import { FakeGitHub } from './helpers/fake-github-server.js';
import { RULES, TestOctokit, fakeAnalyzer } from './helpers/harness.js';
import { BASE_SHA, HEAD_SHA, KERNEL_FILE, OWNER, REPO, fixture, pullRequestEvent } from './helpers/payloads.js';

const SECRET = 'server-secret';
const MAX_BODY = 64 * 1024;
let fake: FakeGitHub;
let running: RunningServer;
let queue: EmbeddedQueue;
let url: string;
const analyze = fakeAnalyzer([]);
const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
});

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  fake = new FakeGitHub(OWNER, REPO);
  await fake.start();
  fake.pr = { number: 2, headSha: HEAD_SHA, baseSha: BASE_SHA, draft: false };
  fake.files = [{ path: KERNEL_FILE, base: fixture('kernel/xor-pages.base.c'), head: fixture('kernel/xor-pages.clean.c'), patch: fixture('kernel/xor-pages.clean.patch') }];
  queue = new EmbeddedQueue({ concurrency: 2 });
  running = await startServer({
    env: {
      APP_ID: '1', PRIVATE_KEY: Buffer.from(privateKey).toString('base64'), WEBHOOK_SECRET: SECRET, PORT: String(await freePort()),
      HOST: '127.0.0.1', GHE_HOST: `127.0.0.1:${fake.port}`, GHE_PROTOCOL: 'http', LOG_LEVEL: 'fatal', NODE_ENV: 'production',
    },
    Octokit: TestOctokit,
    maxBodyBytes: MAX_BODY,
    app: { runner: new InProcessRunner(analyze), queue, rules: RULES, engineVersion: async () => 'test', production: false },
  });
  url = `http://127.0.0.1:${running.port}/api/github/webhooks`;
});

afterAll(async () => {
  await running?.close();
  await fake?.stop();
  nock.enableNetConnect();
});

async function post(body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers });
  await res.text();
  return res.status;
}

const headersFor = async (body: string, over: Record<string, string> = {}) => ({
  'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': crypto.randomUUID(),
  'x-hub-signature-256': await sign(SECRET, body), ...over,
});

it('refuses to start without WEBHOOK_SECRET outside development', async () => {
  await expect(startServer({ env: { APP_ID: '1', PRIVATE_KEY: privateKey, NODE_ENV: 'production' } })).rejects.toThrow('WEBHOOK_SECRET is required');
});

it('verifies the HMAC over the raw bytes, in constant time, and rejects malformed headers', async () => {
  const body = Buffer.from('{"a":1}');
  expect(verifySignature('k', body, await sign('k', body.toString()))).toBe(true);
  expect(verifySignature('k', body, await sign('other', body.toString()))).toBe(false);
  expect(verifySignature('k', body, 'sha256=zz')).toBe(false);
  expect(verifySignature('k', body, 'sha1=' + 'a'.repeat(40))).toBe(false);
});

it('hostile and broken requests get a 4xx and nothing is enqueued or asked of GitHub', async () => {
  const body = JSON.stringify(pullRequestEvent('opened'));
  expect(await post(body, await headersFor(body, { 'x-hub-signature-256': await sign('forged', body) }))).toBe(401);
  const { 'x-hub-signature-256': _drop, ...unsigned } = await headersFor(body);
  expect(await post(body, unsigned)).toBe(401);
  expect(await post(body, await headersFor(body, { 'content-type': 'application/x-www-form-urlencoded' }))).toBe(415);
  const { 'x-github-event': _e, ...noEvent } = await headersFor(body);
  expect(await post(body, noEvent)).toBe(400);
  const broken = '{"action": "opened", ';
  expect(await post(broken, await headersFor(broken))).toBe(400);
  const list = '[1,2]';
  expect(await post(list, await headersFor(list))).toBe(400);
  const big = JSON.stringify({ pad: 'x'.repeat(MAX_BODY) });
  expect(await post(big, await headersFor(big))).toBe(413);
  // Without Content-Length (chunked): the cap is enforced while reading.
  const chunkedStatus = await new Promise<number>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': 'chunked', 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', (e) => (/EPIPE|ECONNRESET/.test(String(e)) ? undefined : reject(e)));
    for (let i = 0; i < 20; i++) req.write('x'.repeat(8192));
    req.end();
  });
  expect(chunkedStatus).toBe(413);
  expect((await fetch(url)).status).toBe(405);
  expect((await fetch(url.replace('/api/github/webhooks', '/nope'))).status).toBe(404);
  expect(await (await fetch(url.replace('/api/github/webhooks', '/ping'))).text()).toBe('PONG\n');
  await queue.onIdle();
  expect(await queue.stats()).toEqual({ pending: 0, running: 0, delayed: 0 });
  expect(fake.requests).toEqual([]);
  expect(analyze.calls).toHaveLength(0);
});

it('a signed delivery is acknowledged and reviewed once, however often it is delivered', async () => {
  const body = JSON.stringify(pullRequestEvent('opened'));
  const headers = await headersFor(body, { 'x-github-delivery': 'delivery-once' });
  const statuses = await Promise.all([post(body, headers), post(body, headers), post(body, headers)]);
  expect(statuses).toEqual([200, 200, 200]);
  await queue.onIdle();
  expect(analyze.calls).toHaveLength(1);
  expect(fake.checkRuns).toHaveLength(1);
  expect(fake.checkRuns[0]).toMatchObject({ status: 'completed', conclusion: 'success' });
  expect(fake.invalid).toEqual([]);
  expect(fake.unexpected).toEqual([]);
});

it('logs neither the private key, the installation token nor the webhook secret, even at trace level', async () => {
  const { pino } = await import('pino');
  let logged = '';
  const sink = { write: (line: string) => void (logged += line) };
  const log = pino({ level: 'trace' }, sink);
  const own = await startServer({
    env: {
      APP_ID: '1', PRIVATE_KEY: Buffer.from(privateKey).toString('base64'), WEBHOOK_SECRET: SECRET, PORT: String(await freePort()),
      HOST: '127.0.0.1', GHE_HOST: `127.0.0.1:${fake.port}`, GHE_PROTOCOL: 'http', NODE_ENV: 'production',
    },
    Octokit: TestOctokit,
    maxBodyBytes: MAX_BODY,
    log,
    app: { runner: new InProcessRunner(analyze), queue: new EmbeddedQueue({ concurrency: 1 }), rules: RULES, engineVersion: async () => 'test', production: false },
  });
  const tokens = () => fake.requests.filter((r) => r.path.includes('/access_tokens')).length;
  const before = tokens();
  try {
    const hook = `http://127.0.0.1:${own.port}/api/github/webhooks`;
    const body = JSON.stringify(pullRequestEvent('synchronize'));
    const send = async (headers: Record<string, string>) => (await fetch(hook, { method: 'POST', body, headers })).status;
    expect(await send(await headersFor(body, { 'x-hub-signature-256': await sign('forged', body) }))).toBe(401);
    expect(await send(await headersFor(body))).toBeLessThan(300);
    // The review runs: GitHub is asked for an installation token, then for the pull request's files.
    for (let i = 0; i < 100 && tokens() === before; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await own.close();
  }
  expect(tokens()).toBeGreaterThan(before);
  expect(logged).toMatch(/bad signature/); // the capture works: something was logged
  // Before taking traffic the server warmed its own webhook path with a signed ping (accepted: 200).
  expect(logged).toMatch(/"status":200,"msg":"warm-up done"/);
  const keyBody = privateKey.split('\n').filter((l) => l && !l.startsWith('-----'));
  for (const secret of ['ghs_e2e', SECRET, Buffer.from(privateKey).toString('base64').slice(0, 40), ...keyBody.slice(0, 3)]) expect(logged).not.toContain(secret);
});
