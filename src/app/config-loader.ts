/**
 * Reads `.github/kmap-review.yml` like Probot's `context.config()` (the repository, then the owner's
 * `.github` repository), but with a size cap before parsing and a YAML parser limited in aliases, so a
 * hostile file cannot cost memory or time. Problems never stop a review: they are reported and the
 * defaults apply.
 */
import { parse } from 'yaml';
import type { GitHub } from './collect.js';
import { CONFIG_FILE, parseConfig, type LoadedConfig } from '../config/repo-config.js';

export const MAX_CONFIG_BYTES = 64 * 1024;

function status(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? (err as { status?: number }).status : undefined;
}

async function fetchRaw(octokit: GitHub, owner: string, repo: string): Promise<string | null> {
  try {
    const res = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', {
      owner, repo, path: `.github/${CONFIG_FILE}`, mediaType: { format: 'raw' },
    });
    return typeof res.data === 'string' ? res.data : JSON.stringify(res.data);
  } catch (err) {
    if (status(err) === 404) return null;
    throw err;
  }
}

/** The parsed configuration; a transient GitHub error propagates (the job is retried). */
export async function loadRepoConfig(octokit: GitHub, owner: string, repo: string, knownRules: readonly string[]): Promise<LoadedConfig> {
  let text = await fetchRaw(octokit, owner, repo);
  if (text === null && repo !== '.github') text = await fetchRaw(octokit, owner, '.github');
  if (text === null) return parseConfig(null, knownRules);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) {
    return { ...parseConfig(null, knownRules), source: 'file', problems: [`the file is ${bytes} bytes, over the ${MAX_CONFIG_BYTES}-byte limit: ignored`] };
  }
  let raw: unknown;
  try {
    // maxAliasCount bounds "billion laughs" expansion; YAML 1.2 core schema has no custom tags to run.
    raw = parse(text, { maxAliasCount: 100, prettyErrors: false });
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    return { ...parseConfig(null, knownRules), source: 'file', problems: [`could not be parsed: ${msg}`] };
  }
  return parseConfig(raw ?? null, knownRules);
}
