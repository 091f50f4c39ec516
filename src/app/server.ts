/**
 * The App's HTTP front: what a public App meets on the internet is handled here, before Probot sees it.
 * - WEBHOOK_SECRET is required unless NODE_ENV=development;
 * - only `POST <WEBHOOK_PATH>` with `Content-Type: application/json`, the three GitHub headers and a body
 *   under the size cap (checked while reading: an oversized body is never held in memory);
 * - the X-Hub-Signature-256 HMAC is verified over the raw bytes, in constant time, before parsing;
 * - malformed JSON, or JSON that is not an object, is refused.
 * Every refusal is a 4xx and nothing is enqueued. Accepted events go to Probot's `receive()`, whose
 * handlers only validate and enqueue, so the answer is immediate whatever the workers are doing.
 * `GET /ping` answers PONG (Docker HEALTHCHECK).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Probot, ProbotOctokit, type Logger } from 'probot';
import { createApp, type AppOptions, type AppRuntime } from './index.js';
import { checkWebhookSecret, processEnvironment, readSettings, type ServerSettings } from './settings.js';

const JSON_TYPE = /^\s*application\/json\s*(;|$)/i;

export interface ServerOptions {
  /** The environment the settings are read from (default: the process's; settings.ts). */
  env?: NodeJS.ProcessEnv;
  app?: AppOptions;
  /** Octokit class (tests turn Probot's retry and throttling plugins off). */
  Octokit?: typeof ProbotOctokit;
  maxBodyBytes?: number;
  /** The logger (default: Probot's, from LOG_LEVEL/LOG_FORMAT); tests capture it to check what is logged. */
  log?: Logger;
}

export interface RunningServer {
  server: Server;
  port: number;
  probot: Probot;
  runtime: AppRuntime;
  /** Stops accepting, lets running jobs finish (bounded), closes the queue and workers. */
  close(): Promise<void>;
}

/** PRIVATE_KEY (PEM, PEM with literal \n, or base64 of PEM) or PRIVATE_KEY_PATH, like Probot reads it. */
export function readPrivateKey(server: Pick<ServerSettings, 'privateKey' | 'privateKeyPath'>): string | undefined {
  let key: string | undefined;
  try {
    key = server.privateKey ?? (server.privateKeyPath ? readFileSync(server.privateKeyPath, 'utf8') : undefined);
  } catch (err) {
    throw new Error(`PRIVATE_KEY_PATH=${JSON.stringify(server.privateKeyPath)} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!key) return undefined;
  if (!key.includes('-----BEGIN')) {
    const decoded = Buffer.from(key, 'base64').toString('utf8');
    if (decoded.includes('-----BEGIN')) key = decoded;
  }
  return key.replace(/\\n/g, '\n');
}

export function verifySignature(secret: string, body: Buffer, header: string): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'));
}

class TooLarge extends Error {}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.pause();
        reject(new TooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function hasStatus(err: unknown, status: number): boolean {
  const errors = err instanceof AggregateError ? err.errors : [err];
  return errors.some((e) => typeof e === 'object' && e !== null && (e as { status?: number }).status === status);
}

/**
 * Takes the first-use costs before GitHub's traffic does: Node loads its HTTP client (undici and its WASM
 * parser) on the first fetch, which the first job's GitHub request would otherwise pay on the thread that
 * answers webhooks, and the first webhook compiles the signature check and Probot's event path. One GET
 * /ping and one signed `ping` event (which no handler listens to) to this server, before it is reported
 * ready; a failure only costs the warm-up. (The load test's first burst of 40 deliveries: median ack
 * 46-48 ms without it, 29-34 ms with it, over two runs each; the rest of its spread is the first jobs.)
 */
async function warmUp(address: AddressInfo, webhookPath: string, secret: string, log: Logger): Promise<void> {
  const local = address.family === 'IPv6' ? `[${address.address === '::' ? '::1' : address.address}]` : address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
  const base = `http://${local}:${address.port}`;
  try {
    await (await fetch(`${base}/ping`)).text();
    const body = JSON.stringify({ zen: 'kmap-review warm-up', hook_id: 0 });
    const res = await fetch(`${base}${webhookPath}`, {
      method: 'POST', body,
      headers: {
        'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': `kmap-review-warm-up-${process.pid}-${Date.now()}`,
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
    });
    await res.text();
    log.debug({ status: res.status }, 'warm-up done');
  } catch (err) {
    log.debug({ err }, 'warm-up failed (no harm: the first requests pay the first-use costs)');
  }
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const settings = readSettings(options.env ?? processEnvironment());
  const s = settings.server;
  checkWebhookSecret(s);
  const secret = s.webhookSecret ?? 'development';
  const appId = s.appId;
  const privateKey = readPrivateKey(s);
  if (!appId || !privateKey) throw new Error('APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH) are required');
  const maxBody = options.maxBodyBytes ?? s.maxBodyBytes;
  const webhookPath = s.webhookPath;
  const probot = new Probot({
    appId, privateKey, secret,
    baseUrl: s.baseUrl,
    ...(options.log ? { log: options.log } : {}),
    logLevel: s.logLevel ?? 'info',
    logFormat: s.logFormat ?? 'json',
    // Probot can share its request throttling through Redis too, but a request in flight when an instance
    // dies then holds that installation's write slot cluster-wide for 60 s (plugin-throttling's job
    // expiration): opt-in only, so the queue's recovery from a dead instance stays fast.
    ...(settings.queue.redisUrl && s.sharedThrottle ? { redisConfig: settings.queue.redisUrl } : {}),
    Octokit: options.Octokit ?? ProbotOctokit.defaults((o: Record<string, unknown>) => ({
      ...o,
      // Probot retries rate limits forever; twice at the request level, then the job's retry takes over.
      throttle: {
        ...(o.throttle as object | undefined),
        onSecondaryRateLimit: (_after: number, _o: unknown, _k: unknown, retryCount: number) => retryCount < 2,
        onRateLimit: (_after: number, _o: unknown, _k: unknown, retryCount: number) => retryCount < 2,
      },
    })),
  });
  let runtime: AppRuntime | undefined;
  await probot.load(createApp({ production: true, settings, ...options.app, onRuntime: (r) => (runtime = r) }));
  if (!runtime) throw new Error('the App did not start');
  const log = probot.log; // set once Probot is initialised (load() does it)

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (status: number, text: string, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(`${text}\n`);
    };
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    } catch {
      return send(400, 'bad request URL');
    }
    if (path === '/ping' && (req.method === 'GET' || req.method === 'HEAD')) return send(200, 'PONG');
    if (path !== webhookPath.replace(/\/+$/, '')) return send(404, 'not found');
    if (req.method !== 'POST') return send(405, 'POST only', { allow: 'POST' });
    if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) return send(415, 'Content-Type must be application/json');
    const event = req.headers['x-github-event'];
    const id = req.headers['x-github-delivery'];
    const signature = req.headers['x-hub-signature-256'];
    if (typeof event !== 'string' || typeof id !== 'string' || !/^[\w.-]{1,100}$/.test(event) || id.length === 0 || id.length > 200) {
      return send(400, 'X-GitHub-Event and X-GitHub-Delivery are required');
    }
    if (typeof signature !== 'string') return send(401, 'X-Hub-Signature-256 is required');
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) {
      send(413, `body over ${maxBody} bytes`, { connection: 'close' });
      res.on('finish', () => req.destroy());
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, maxBody);
    } catch (err) {
      if (err instanceof TooLarge) {
        send(413, `body over ${maxBody} bytes`, { connection: 'close' });
        res.on('finish', () => req.destroy());
        return;
      }
      return send(400, 'could not read the body');
    }
    if (!verifySignature(secret, body, signature)) {
      log.warn({ delivery: id, event }, 'webhook with a bad signature refused');
      return send(401, 'signature does not match');
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return send(400, 'malformed JSON');
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return send(400, 'the payload must be a JSON object');
    try {
      await probot.receive({ id, name: event as never, payload: payload as never });
      send(200, 'ok');
    } catch (err) {
      if (hasStatus(err, 503)) return send(503, 'overloaded: try again later', { 'retry-after': '60' });
      log.error({ err, delivery: id, event }, 'webhook handler failed');
      send(500, 'handler failed');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err }, 'request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  // Slow clients must not hold sockets open forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const host = s.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(s.port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const port = address.port;
  await warmUp(address, webhookPath, secret, log);
  log.info(`Listening on http://${host}:${port}`);
  const rt = runtime;
  return {
    server, port, probot, runtime: rt,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await rt.close();
    },
  };
}
