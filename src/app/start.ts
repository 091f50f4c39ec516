/**
 * What `npm start` (`node dist/app/main.js`) does, decided from the environment and `.env`:
 * - credentials (APP_ID and PRIVATE_KEY or PRIVATE_KEY_PATH) present: the hardened server (server.ts);
 * - missing and NODE_ENV=production: an error (no setup mode in production);
 * - missing otherwise: Probot's setup (manifest) flow, which registers the App from app.yml and writes
 *   APP_ID, PRIVATE_KEY, WEBHOOK_SECRET to `.env`; the next `npm start` reads them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { processEnvironment, type ServerSettings } from './settings.js';

export type StartMode = { mode: 'server' } | { mode: 'setup' } | { mode: 'error'; message: string };

/**
 * Reads `<dir>/.env` (Probot's format: KEY=value lines, PRIVATE_KEY quoted with `\n` escapes) into `env`.
 * A variable already set in the environment wins over the file. Returns the names taken from the file;
 * none when there is no file. A file that cannot be read is an error naming it.
 */
export function loadDotEnv(dir: string, env: NodeJS.ProcessEnv = processEnvironment()): string[] {
  const path = join(dir, '.env');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  const parsed = parseEnv(text) as Record<string, string>;
  const taken: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (env[key] !== undefined && env[key] !== '') continue;
    env[key] = value;
    taken.push(key);
  }
  return taken;
}

type Credentials = Pick<ServerSettings, 'appId' | 'privateKey' | 'privateKeyPath' | 'nodeEnv'>;

export function hasCredentials(s: Credentials): boolean {
  return Boolean(s.appId && (s.privateKey || s.privateKeyPath));
}

export function startMode(s: Credentials): StartMode {
  if (hasCredentials(s)) return { mode: 'server' };
  if (s.nodeEnv === 'production') {
    const missing = [!s.appId && 'APP_ID', !(s.privateKey || s.privateKeyPath) && 'PRIVATE_KEY (or PRIVATE_KEY_PATH)'].filter(Boolean).join(' and ');
    return { mode: 'error', message: `${missing} required with NODE_ENV=production (setup mode is off in production)` };
  }
  return { mode: 'setup' };
}

/** The one line `npm start` prints when it enters setup mode. */
export function setupLine(s: Pick<ServerSettings, 'host' | 'port'>): string {
  const shown = s.host === '0.0.0.0' || s.host === '::' ? 'localhost' : s.host;
  return `kmap-review: no APP_ID/PRIVATE_KEY: setup mode: open http://${shown}:${s.port} and click "Register GitHub App" ` +
    `(GH_ORG=<org> registers it in an organisation); the credentials go to .env, then run npm start again`;
}
