/**
 * `npm start` (= `node <dist>/app/main.js`) started as a real process, three ways:
 * 1. no credentials: Probot's setup (manifest) flow answers with its "Register GitHub App" form;
 * 2. after registration (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET in `.env`, in Probot's own format): the
 *    hardened server answers /ping and refuses an unsigned delivery;
 * 3. NODE_ENV=production without credentials: exit 1 with one line, no stack.
 * And `node <dist>/app/receive.js` (one event, no server) with only GITHUB_TOKEN: reviews against the local
 * GitHub stand-in and exits 0; with GitHub unreachable exits 1, naming the network failure.
 * Uses ./dist when KMAP_BUILT_DIR=dist, otherwise transpiles src/ file by file with esbuild (no type check,
 * about a second; tsc and the typecheck cover the types) to test/app/.built-start (removed afterwards).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './helpers/net.js';
import { FakeGitHub } from './helpers/fake-github-server.js';
import { BASE_SHA, HEAD_SHA, KERNEL_FILE, OWNER, REPO, fixture, pullRequestEvent } from './helpers/payloads.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OWN_BUILD = !process.env.KMAP_BUILT_DIR;
const BUILT = OWN_BUILD ? `${ROOT}test/app/.built-start` : `${ROOT}${process.env.KMAP_BUILT_DIR}`;
const children: ChildProcess[] = [];
const dirs: string[] = [];

interface Started { child: ChildProcess; output: () => string; exited: Promise<number | null> }

/** A directory like a fresh clone's top level, as far as setup mode reads it (app.yml, package.json). */
function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kmap-start-'));
  dirs.push(dir);
  copyFileSync(`${ROOT}app.yml`, join(dir, 'app.yml'));
  copyFileSync(`${ROOT}package.json`, join(dir, 'package.json'));
  return dir;
}

function start(cwd: string, env: Record<string, string>, args = [`${BUILT}/app/main.js`]): Started {
  let output = '';
  const child = spawn(process.execPath, args, {
    cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

async function waitFor(what: string, s: Started, test: (out: string) => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test(s.output())) {
    if (s.child.exitCode !== null) throw new Error(`exited (${s.child.exitCode}) before ${what}:\n${s.output()}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  if (OWN_BUILD) {
    const { build } = await import('esbuild');
    const entryPoints = (readdirSync(`${ROOT}src`, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts')).map((f) => `${ROOT}src/${f}`);
    await build({ entryPoints, outdir: BUILT, outbase: `${ROOT}src`, format: 'esm', platform: 'node', target: 'node20', bundle: false, logLevel: 'error' });
  }
  if (!existsSync(`${BUILT}/app/main.js`)) throw new Error(`no compiled App at ${BUILT}/app/main.js`);
}, 120_000);

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (OWN_BUILD) rmSync(BUILT, { recursive: true, force: true });
});

it('without credentials starts the setup (manifest) flow and says so in one line', async () => {
  const port = await freePort();
  // NO_SMEE_SETUP: the test machine has no network for the smee.io channel Probot would create.
  const s = start(checkout(), { PORT: String(port), HOST: '127.0.0.1', NO_SMEE_SETUP: 'true' });
  await waitFor('setup mode to listen', s, (o) => /Listening on/.test(o));
  const setupLines = s.output().split('\n').filter((l) => l.startsWith('kmap-review:'));
  expect(setupLines).toEqual([expect.stringContaining(`setup mode: open http://127.0.0.1:${port}`)]);
  const res = await fetch(`http://127.0.0.1:${port}/`);
  expect(res.status).toBe(200); // after Probot's redirect to /probot
  const page = await res.text();
  expect(page).toContain('Register GitHub App');
  // The manifest posted to GitHub is app.yml's: the App's name and its least-privilege permissions.
  expect(page).toContain('kmap-review');
  expect(page).toMatch(/checks(&quot;|")?:\s*(&quot;|")?write/);
}, 90_000);

it('after registration reads .env and runs the hardened server', async () => {
  const dir = checkout();
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  // What Probot's setup writes (manifest-creation.js + update-env.js): the PEM quoted, newlines as \n.
  writeFileSync(join(dir, '.env'), [
    'APP_ID=12345', `PRIVATE_KEY="${privateKey.replace(/\n/g, '\\n')}"`, 'WEBHOOK_SECRET=from-dot-env',
    'GITHUB_CLIENT_ID=Iv1.0', 'GITHUB_CLIENT_SECRET=x',
  ].join('\n'));
  const port = await freePort();
  const closed = await freePort(); // nothing listens: GitHub is unreachable, and nothing must need it
  const s = start(dir, {
    PORT: String(port), HOST: '127.0.0.1', KMAP_REVIEW_RECOVERY: '0', KMAP_REVIEW_WORKERS: '1',
    GHE_HOST: `127.0.0.1:${closed}`, GHE_PROTOCOL: 'http', LOG_FORMAT: 'json',
  });
  await waitFor('the server to listen', s, (o) => o.includes('Listening on'));
  expect(s.output()).not.toContain('setup mode');
  expect(await (await fetch(`http://127.0.0.1:${port}/ping`)).text()).toBe('PONG\n');
  const body = JSON.stringify({ action: 'opened', installation: { id: 1 } });
  const unsigned = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
    method: 'POST', body,
    headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': 'd-1' },
  });
  expect(unsigned.status).toBe(401);
  // Signed with another secret than .env's: refused too (the secret really came from .env).
  const { sign } = await import('@octokit/webhooks-methods');
  const wrong = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
    method: 'POST', body,
    headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'd-2', 'x-hub-signature-256': await sign('other', body) },
  });
  expect(wrong.status).toBe(401);
  const right = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
    method: 'POST', body: JSON.stringify({ zen: 'hi', hook_id: 1 }),
    headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'd-3', 'x-hub-signature-256': await sign('from-dot-env', JSON.stringify({ zen: 'hi', hook_id: 1 })) },
  });
  expect(right.status).toBe(200);
}, 90_000);

it('with NODE_ENV=production and no credentials exits 1 with one line', async () => {
  const s = start(checkout(), { NODE_ENV: 'production', PORT: String(await freePort()), HOST: '127.0.0.1' });
  expect(await s.exited).toBe(1);
  const lines = s.output().trim().split('\n');
  expect(lines).toEqual([expect.stringMatching(/^kmap-review: APP_ID and PRIVATE_KEY \(or PRIVATE_KEY_PATH\) required with NODE_ENV=production/)]);
}, 30_000);

it('a bad setting (from .env too) stops the start with one line naming each bad variable and value, exit 1', async () => {
  const dir = checkout();
  writeFileSync(join(dir, '.env'), 'KMAP_REVIEW_WORKERS=four\n');
  const s = start(dir, { KMAP_REVIEW_TREE_BATCH_BYTES: '32MiB', PORT: String(await freePort()), HOST: '127.0.0.1' });
  expect(await s.exited).toBe(1);
  expect(s.output().trim().split('\n')).toEqual([
    'kmap-review: bad settings: KMAP_REVIEW_WORKERS="four" is not a whole number above 0; KMAP_REVIEW_TREE_BATCH_BYTES="32MiB" is not a whole number above 0',
  ]);
}, 30_000);

describe('receive: one event with only a token', () => {
  function payloadFile(): string {
    const dir = checkout();
    writeFileSync(join(dir, 'event.json'), JSON.stringify(pullRequestEvent('opened')));
    return dir;
  }
  const receiveArgs = [`${BUILT}/app/receive.js`, '-e', 'pull_request', '-p', 'event.json'];

  it('reviews the pull request and exits 0', async () => {
    const fake = new FakeGitHub(OWNER, REPO);
    await fake.start();
    try {
      fake.pr = { number: 2, headSha: HEAD_SHA, baseSha: BASE_SHA, draft: false };
      fake.files = [{
        path: KERNEL_FILE, base: fixture('kernel/xor-pages.base.c'), head: fixture('kernel/xor-pages.wrong-order.c'),
        patch: fixture('kernel/xor-pages.wrong-order.patch'),
      }];
      const s = start(payloadFile(), {
        GITHUB_TOKEN: 'ghs_test', GHE_HOST: `127.0.0.1:${fake.port}`, GHE_PROTOCOL: 'http', KMAP_REVIEW_WORKERS: '1',
      }, receiveArgs);
      expect(await s.exited).toBe(0);
      expect(s.output()).toContain(`${OWNER}/${REPO}#2: review done`);
      expect(s.output()).not.toMatch(/WEBHOOK_SECRET/);
      const run = fake.checkRuns.find((r) => r.status === 'completed');
      expect(run?.conclusion).toBe('failure');
      expect(fake.reviewComments.length).toBeGreaterThan(0);
    } finally {
      await fake.stop();
    }
  }, 60_000);

  it('exits 1 when GitHub cannot be reached, and says it was the connection', async () => {
    const closed = await freePort();
    const s = start(payloadFile(), {
      GITHUB_TOKEN: 'ghs_test', GHE_HOST: `127.0.0.1:${closed}`, GHE_PROTOCOL: 'http',
      KMAP_REVIEW_ATTEMPTS: '2', KMAP_REVIEW_RETRY_BASE_MS: '10', KMAP_REVIEW_WORKERS: '1',
    }, receiveArgs);
    expect(await s.exited).toBe(1);
    expect(s.output()).toContain('the connection to GitHub failed');
    expect(s.output()).not.toContain('GitHub answered 500');
    expect(s.output()).toMatch(/could not publish: kmap-test\/linux#2/);
  }, 60_000);

  it('exits 2 on a payload that is not JSON', async () => {
    const dir = checkout();
    writeFileSync(join(dir, 'event.json'), '{ nope');
    const s = start(dir, { GITHUB_TOKEN: 'ghs_test' }, receiveArgs);
    expect(await s.exited).toBe(2);
    expect(s.output().trim()).toMatch(/^kmap-review: cannot read the payload event.json: /);
  }, 30_000);
});
