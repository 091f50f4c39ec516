/**
 * The production path: the compiled App (`tsc -p tsconfig.build.json`) started by Probot's own CLI,
 * `probot run <dist>/app/index.js` (what `npm start` runs), in a child process with the standard
 * environment, analysing in worker threads. The GitHub API is the local stand-in (GHE_HOST).
 * Uses ./dist when KMAP_BUILT_DIR=dist, otherwise compiles to test/app/.built (removed afterwards).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { freePort } from './helpers/net.js';
import { fileURLToPath } from 'node:url';
import { sign } from '@octokit/webhooks-methods';
import { FakeGitHub } from './helpers/fake-github-server.js';
import { BASE_SHA, HEAD_SHA, KERNEL_FILE, OWNER, REPO, fixture, pullRequestEvent } from './helpers/payloads.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OWN_BUILD = !process.env.KMAP_BUILT_DIR;
const BUILT = OWN_BUILD ? `${ROOT}test/app/.built` : `${ROOT}${process.env.KMAP_BUILT_DIR}`;
const SECRET = 'built-secret';

let fake: FakeGitHub;
let child: ChildProcess;
let port: number;
let output = '';

async function waitFor<T>(what: string, fn: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; server output:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  if (OWN_BUILD) {
    // Emits even when other parts of the tree do not typecheck yet (noEmitOnError is off).
    spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${ROOT}tsconfig.build.json`, '--outDir', BUILT], { cwd: ROOT });
  }
  if (!existsSync(`${BUILT}/app/index.js`)) throw new Error(`no compiled App at ${BUILT}/app/index.js`);
  fake = new FakeGitHub(OWNER, REPO);
  await fake.start();
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  port = await freePort();
  child = spawn(process.execPath, [`${ROOT}node_modules/probot/bin/probot.js`, 'run', `${BUILT}/app/index.js`], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '', APP_ID: '1', PRIVATE_KEY: privateKey, WEBHOOK_SECRET: SECRET, PORT: String(port),
      HOST: '127.0.0.1', GHE_HOST: `127.0.0.1:${fake.port}`, GHE_PROTOCOL: 'http', LOG_LEVEL: 'info', LOG_FORMAT: 'json',
      KMAP_REVIEW_WORKERS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await waitFor('the server to listen', () => output.includes('Listening on'));
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await fake?.stop();
  if (OWN_BUILD) rmSync(BUILT, { recursive: true, force: true });
});

it('answers /ping like the Docker HEALTHCHECK expects', async () => {
  expect(await (await fetch(`http://127.0.0.1:${port}/ping`)).text()).toBe('PONG');
});

it('reviews a wrong-order conversion with the engine in a worker thread', async () => {
  fake.pr = { number: 2, headSha: HEAD_SHA, baseSha: BASE_SHA, draft: false };
  fake.files = [{
    path: KERNEL_FILE, base: fixture('kernel/xor-pages.base.c'), head: fixture('kernel/xor-pages.wrong-order.c'),
    patch: fixture('kernel/xor-pages.wrong-order.patch'),
  }];
  const body = JSON.stringify(pullRequestEvent('opened'));
  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': 'built-1',
      'x-hub-signature-256': await sign(SECRET, body),
    },
    body,
  });
  expect(res.status).toBe(200);
  expect(Date.now() - started).toBeLessThan(5000);
  const run = await waitFor('the check run to complete', () => fake.checkRuns.find((r) => r.status === 'completed'));
  expect(run.conclusion).toBe('failure');
  expect(run.annotations.some((a: any) => a.annotation_level === 'failure')).toBe(true);
  expect(fake.reviewComments.length).toBeGreaterThan(0);
  expect(fake.invalid).toEqual([]);
  expect(fake.unexpected).toEqual([]);
  expect(output).not.toMatch(/"level":50/);
}, 60_000);
