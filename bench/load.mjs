#!/usr/bin/env node
// Load and fault tests of the GitHub App, run on demand (not in `npm test`): the real server
// (src/app/main.ts, compiled to a temporary directory) with the real engine in a worker thread, against
// the local GitHub stand-in (bench/github-standin.mjs). Loopback only; bounded in count and time (each
// scenario gives up after SCENARIO_LIMIT_MS). Prints the figures; exits 1 when a check fails.
//
//   node bench/load.mjs                 load + faults (+ redis when REDIS_URL is set)
//   node bench/load.mjs load|faults|redis
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { GitHubStandIn } from './github-standin.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);
const SCENARIO_LIMIT_MS = 110_000;
const SECRET = 'load-secret';
const only = process.argv[2];
const fx = (name) => readFileSync(`${ROOT}test/fixtures/github/kernel/${name}`, 'utf8');
const VARIANTS = [
  { text: fx('xor-pages.wrong-order.c'), patch: fx('xor-pages.wrong-order.patch') },
  { text: fx('xor-pages.clean.c'), patch: fx('xor-pages.clean.patch') },
];
const BASE_TEXT = fx('xor-pages.base.c');
const sha = (s) => createHash('sha1').update(s).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

function build() {
  // Inside the project: the compiled App resolves node_modules and package.json ("type": "module") from here.
  const out = mkdtempSync(`${ROOT}bench/.built-`);
  // Emits even if some unrelated file does not typecheck (noEmitOnError is off); the App's files must exist.
  spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${ROOT}tsconfig.build.json`, '--outDir', out], { cwd: ROOT, stdio: 'ignore' });
  try { readFileSync(`${out}/app/main.js`); } catch { throw new Error('the App did not compile'); }
  return out;
}

const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;

/** One App instance: `node <built>/app/main.js` with the standard environment. */
async function startApp(built, standin, extraEnv = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [`${built}/app/main.js`], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH, APP_ID: '1', PRIVATE_KEY: privateKey, WEBHOOK_SECRET: SECRET, PORT: String(port), HOST: '127.0.0.1',
      GHE_HOST: `127.0.0.1:${standin.port}`, GHE_PROTOCOL: 'http', LOG_LEVEL: 'warn', NODE_ENV: 'production',
      KMAP_REVIEW_WORKERS: '1', KMAP_REVIEW_CONCURRENCY: '4', KMAP_REVIEW_GITHUB_TIMEOUT_MS: '1500',
      KMAP_REVIEW_ATTEMPTS: '8', KMAP_REVIEW_RETRY_BASE_MS: '200', KMAP_REVIEW_RETRY_MAX_MS: '2000',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await (await fetch(`http://127.0.0.1:${port}/ping`)).text()).startsWith('PONG')) break;
    } catch { /* not yet */ }
    if (child.exitCode !== null || Date.now() > end) throw new Error(`the App did not start:\n${log}`);
    await sleep(100);
  }
  return { child, port, url: `http://127.0.0.1:${port}/api/github/webhooks`, log: () => log };
}

function peakRssMb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch { return NaN; }
}

async function stopApp(app) {
  if (app.child.exitCode !== null) return;
  const exited = new Promise((r) => app.child.once('exit', r));
  app.child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (app.child.exitCode === null) app.child.kill('SIGKILL');
}

const examples = require('@octokit/webhooks-examples');
const template = examples.find((d) => d.name === 'pull_request').examples.find((e) => e.action === 'synchronize');

/** `repos` repositories (one installation each), `pushes` pushes per pull request. */
function makeWorld(repos, pushes) {
  const world = [];
  for (let i = 0; i < repos; i++) {
    const owner = `org${i}`;
    const repo = 'linux';
    const base = sha(`base-${i}`);
    const heads = Array.from({ length: pushes }, (_, k) => sha(`${owner}-head-${k}`));
    const variantOf = (k) => VARIANTS[(i + k) % 2];
    world.push({
      owner, repo, installation: 100 + i, heads,
      pr: { number: 1, head: heads[0], base, updatedAt: new Date(0).toISOString() },
      files: [{
        path: 'mm/xor_pages.c', base: BASE_TEXT,
        heads: Object.fromEntries(heads.map((h, k) => [h, variantOf(k).text])),
        patches: Object.fromEntries(heads.map((h, k) => [h, variantOf(k).patch])),
      }],
    });
  }
  return world;
}

function payloadFor(r, k) {
  const p = structuredClone(template);
  p.installation = { id: r.installation, node_id: 'x' };
  p.repository.name = r.repo;
  p.repository.full_name = `${r.owner}/${r.repo}`;
  p.repository.owner.login = r.owner;
  p.number = p.pull_request.number = 1;
  p.pull_request.head.sha = p.after = r.heads[k];
  p.pull_request.base.sha = r.pr.base;
  p.pull_request.draft = false;
  p.pull_request.state = 'open';
  p.pull_request.updated_at = new Date(Date.UTC(2026, 0, 1, 0, 0, k)).toISOString();
  return p;
}

/** A delivery as GitHub sends it: the body and its signature are made before the request leaves. */
function signed(url, body, id) {
  return {
    url, body,
    headers: {
      'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': id,
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    },
  };
}

/**
 * Posts one delivery. The time is the App's: from the moment the request has been handed to the network
 * (the socket write finished) to the end of its answer. Timing from before the client's own work would
 * charge the App for the load generator: 40 requests set up in a burst cost it tens of milliseconds.
 */
function deliver({ url, body, headers }) {
  return new Promise((resolve, reject) => {
    let sent = NaN;
    const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - sent }));
      res.on('error', reject);
    });
    req.on('finish', () => (sent = performance.now()));
    req.on('error', reject);
    req.end(body);
  });
}

const deliverSafe = (d) => deliver(d).catch(() => ({ status: 0, ms: NaN }));

/**
 * Sends every push of every repository (in push order per repository), plus `dups` re-deliveries of
 * earlier delivery ids, in bursts of `burst` concurrent requests, spread over the given App URLs.
 */
async function sendAll(world, standin, urls, { pushes, dups, burst, pauseMs, onBurst }) {
  const items = [];
  for (let k = 0; k < pushes; k++) for (const r of world) items.push({ r, k, id: randomUUID() });
  for (let d = 0; d < dups; d++) {
    const orig = items[Math.floor((d * items.length) / dups)];
    items.splice(Math.min(items.length, items.indexOf(orig) + 5 + (d % 7)), 0, { ...orig, dup: true });
  }
  const acks = [];
  let n = 0;
  for (let i = 0; i < items.length; i += burst) {
    const batch = items.slice(i, i + burst);
    // The pull request's head moves as the pushes are sent (GitHub's state when the webhook leaves).
    for (const it of batch) {
      const state = standin.repos.get(`${it.r.owner}/${it.r.repo}`);
      if (!it.dup && it.k >= it.r.heads.indexOf(state.pr.head)) {
        state.pr.head = it.r.heads[it.k];
        state.pr.updatedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, it.k)).toISOString();
      }
    }
    // Built and signed first, then sent together: the burst's own preparation is not counted as the App's time.
    const ready = batch.map((it) => signed(urls[n++ % urls.length], JSON.stringify(payloadFor(it.r, it.k)), it.id));
    const results = await Promise.all(ready.map(deliverSafe));
    acks.push(...results);
    await onBurst?.(i / burst);
    if (pauseMs) await sleep(pauseMs);
  }
  return { acks, sent: items.length };
}

/** Waits until every latest head has a completed run and nothing is in progress; then checks the invariants. */
async function settle(world, standin, deadline) {
  for (;;) {
    const pending = [...standin.repos.values()].filter((r) =>
      r.checkRuns.some((c) => c.status !== 'completed') || !r.checkRuns.some((c) => c.head_sha === r.pr.head && c.status === 'completed'));
    if (pending.length === 0) {
      await sleep(1500); // anything still queued would show up now
      const again = [...standin.repos.values()].some((r) => r.checkRuns.some((c) => c.status !== 'completed'));
      if (!again) return true;
    }
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

function verify(standin) {
  const problems = [];
  let completedLatest = 0;
  let comments = 0;
  for (const [name, r] of standin.repos) {
    const latest = r.checkRuns.filter((c) => c.head_sha === r.pr.head);
    const done = latest.filter((c) => c.status === 'completed' && c.conclusion !== 'cancelled');
    if (done.length !== 1) problems.push(`${name}: ${done.length} completed check runs for the latest head (want 1)`);
    else completedLatest++;
    const stuck = r.checkRuns.filter((c) => c.status !== 'completed');
    if (stuck.length) problems.push(`${name}: ${stuck.length} check runs left ${stuck[0].status}`);
    const fps = r.comments.map((c) => /kmap-review:fp=([\w.:-]+)/.exec(c.body)?.[1]).filter(Boolean);
    if (new Set(fps).size !== fps.length) problems.push(`${name}: duplicate comments (${fps.length} comments, ${new Set(fps).size} findings)`);
    comments += r.comments.length;
  }
  if (standin.unexpected.length) problems.push(`unexpected requests: ${standin.unexpected.slice(0, 3).join('; ')}`);
  return { problems, completedLatest, comments };
}

function report(name, { acks, sent, ok, v, rss, ms, standin, extra = '' }) {
  const lat = acks.map((a) => a.ms).filter((x) => Number.isFinite(x));
  const statuses = {};
  for (const a of acks) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
  console.log(`\n${name}`);
  console.log(`  deliveries: ${sent} (${JSON.stringify(statuses)}), repositories: ${standin.repos.size}, GitHub requests: ${standin.requests}`);
  console.log(`  webhook ack: p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms  (target p99 < 100 ms)`);
  console.log(`  all reviews settled in ${(ms / 1000).toFixed(1)} s; peak RSS ${rss}`);
  if (extra) console.log(`  ${extra}`);
  console.log(`  latest heads with exactly one completed check run: ${v.completedLatest}/${standin.repos.size}; inline comments: ${v.comments}`);
  if (!ok) v.problems.unshift('did not settle in time');
  console.log(v.problems.length ? `  FAILED:\n    ${v.problems.join('\n    ')}` : '  checks: passed (no lost job, no duplicate comment, nothing left in progress)');
  return v.problems.length === 0;
}

async function scenarioLoad(built) {
  const world = makeWorld(20, 8);
  const standin = new GitHubStandIn({ repos: world });
  await standin.start();
  const app = await startApp(built, standin);
  try {
    const t0 = Date.now();
    const { acks, sent } = await sendAll(world, standin, [app.url], { pushes: 8, dups: 40, burst: 40, pauseMs: 250 });
    const ok = await settle(world, standin, t0 + SCENARIO_LIMIT_MS);
    const rss = `${peakRssMb(app.child.pid)} MB (App process; worker threads included)`;
    return report('load: 200 signed deliveries in bursts of 40, 20 repositories x 8 pushes + 40 re-deliveries', { acks, sent, ok, v: verify(standin), rss, ms: Date.now() - t0, standin });
  } finally {
    await stopApp(app);
    await standin.stop();
  }
}

async function scenarioFaults(built) {
  const world = makeWorld(10, 4);
  const standin = new GitHubStandIn({ repos: world, faults: { rate: 0.12, max: 40, kinds: ['500', '502', '403', 'stall', 'drop-before', 'drop-after'] }, stallMs: 4000 });
  await standin.start();
  const app = await startApp(built, standin);
  try {
    const t0 = Date.now();
    const { acks, sent } = await sendAll(world, standin, [app.url], { pushes: 4, dups: 10, burst: 25, pauseMs: 250 });
    const ok = await settle(world, standin, t0 + SCENARIO_LIMIT_MS);
    const rss = `${peakRssMb(app.child.pid)} MB`;
    if (process.env.LOAD_DEBUG && !ok) {
      for (const [name, r] of standin.repos) {
        if (r.checkRuns.some((c) => c.status !== 'completed')) console.log(name, JSON.stringify(r.checkRuns.map((c) => [c.id, c.head_sha.slice(0, 4), c.status, c.conclusion, c.createdAt - t0])), standin.log.filter((l) => l.includes(name)).join('\n'));
      }
      console.log(app.log().split('\n').filter((l) => l.includes('org')).slice(-40).join('\n'));
    }
    return report('faults: 50 deliveries, 10 repositories, ~12 % of GitHub requests fail', {
      acks, sent, ok, v: verify(standin), rss, ms: Date.now() - t0, standin, extra: `faults injected: ${JSON.stringify(standin.faultCount)}`,
    });
  } finally {
    await stopApp(app);
    await standin.stop();
  }
}

async function scenarioRedis(built) {
  const world = makeWorld(20, 4);
  const standin = new GitHubStandIn({ repos: world });
  await standin.start();
  const env = { REDIS_URL: process.env.REDIS_URL, KMAP_REVIEW_QUEUE: `load-${Date.now()}`, KMAP_REVIEW_LOCK_MS: '3000', KMAP_REVIEW_CONCURRENCY: '3' };
  const a = await startApp(built, standin, env);
  const b = await startApp(built, standin, env);
  let killedWith = 0;
  const urls = [a.url, b.url];
  try {
    const t0 = Date.now();
    const { acks, sent } = await sendAll(world, standin, urls, {
      pushes: 4, dups: 10, burst: 30, pauseMs: 200,
      onBurst: async (i) => {
        if (i !== 1) return;
        // Mid-run: instance A dies without warning, with reviews in progress.
        killedWith = [...standin.repos.values()].reduce((n, r) => n + r.checkRuns.filter((c) => c.status !== 'completed').length, 0);
        a.child.kill('SIGKILL');
        // Like a load balancer, later deliveries go to the surviving instance only.
        urls.splice(0, urls.length, b.url);
      },
    });
    const ok = await settle(world, standin, t0 + SCENARIO_LIMIT_MS);
    const v = verify(standin);
    if (process.env.LOAD_DEBUG) {
      for (const [name, r] of standin.repos) {
        console.log(name, r.checkRuns.map((c) => `${c.head_sha.slice(0, 4)} ${c.conclusion} +${((c.createdAt - t0) / 1000).toFixed(1)}..${((c.doneAt - t0) / 1000).toFixed(1)}`).join(' | '));
      }
    }
    return report('redis: two App instances share a burst; one is killed (SIGKILL) mid-run', {
      acks: acks.filter((x) => x.status === 200), sent, ok, v, rss: `${peakRssMb(b.child.pid)} MB (surviving instance)`, ms: Date.now() - t0, standin,
      extra: `check runs in progress when instance A was killed: ${killedWith}; deliveries not acknowledged: ${acks.filter((x) => x.status !== 200).length}`,
    });
  } finally {
    await stopApp(a);
    await stopApp(b);
    await standin.stop();
  }
}

const built = build();
let failed = false;
const hardStop = setTimeout(() => { console.error('load: overall time limit reached'); process.exit(1); }, 6 * 60_000);
try {
  console.log(`machine: ${process.arch}, node ${process.version}, ${(await import('node:os')).availableParallelism()} CPUs`);
  if (!only || only === 'load') failed = !(await scenarioLoad(built)) || failed;
  if (!only || only === 'faults') failed = !(await scenarioFaults(built)) || failed;
  if ((!only && process.env.REDIS_URL) || only === 'redis') {
    if (!process.env.REDIS_URL) throw new Error('the redis scenario needs REDIS_URL');
    failed = !(await scenarioRedis(built)) || failed;
  } else if (!only) console.log('\nredis: skipped (set REDIS_URL to run it)');
} finally {
  clearTimeout(hardStop);
  rmSync(built, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
