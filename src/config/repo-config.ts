/**
 * `.github/kmap-review.yml` (the App) and `--config FILE` (the CLI): the configuration, validated by hand (no runtime
 * dependency on a schema library). An invalid file never stops a review: each problem is reported in the
 * check run and the defaults apply for the offending keys.
 */
import type { EngineConfig, Severity } from '../analysis/model.js';

export const CONFIG_FILE = 'kmap-review.yml';
export const CHECK_NAME = 'kmap-review';

export type ReviewEvent = 'COMMENT' | 'REQUEST_CHANGES';
export type Conclusion = 'success' | 'neutral' | 'failure';

export interface AppConfig {
  /** Globs (minimatch) of the files to analyse. */
  include: string[];
  /** Globs of files never to analyse, even when `include` matches. */
  exclude: string[];
  /** Per-rule severity override, or 'off'. */
  rules: Record<string, Severity | 'off'>;
  /** Out-of-tree wrappers: name -> the kernel API it behaves like. */
  mapFunctions: Record<string, string>;
  unmapFunctions: Record<string, string>;
  review: {
    /** Review event used when a new error-level finding is posted (COMMENT otherwise). */
    event: ReviewEvent;
    /** At most this many inline comments per review; the rest go to the check-run summary. */
    maxComments: number;
  };
  /** Analyse draft pull requests too. */
  drafts: boolean;
  /** Check-run conclusion for the worst severity found (pre-existing findings never count). */
  conclusion: Record<Severity, Conclusion>;
  /** Files larger than this (bytes, either side) are skipped. */
  maxFileBytes: number;
  /** At most this many C/H files are fetched and analysed per pull request. */
  maxFiles: number;
  /** Total engine time per pull request; beyond it the result is partial (and says so). */
  maxAnalysisSeconds: number;
}

export const DEFAULT_APP_CONFIG: AppConfig = {
  include: ['**/*.c', '**/*.h'],
  exclude: [],
  rules: {},
  mapFunctions: {},
  unmapFunctions: {},
  review: { event: 'COMMENT', maxComments: 25 },
  drafts: false,
  conclusion: { error: 'failure', warning: 'success', notice: 'success' },
  maxFileBytes: 5 * 1024 * 1024,
  maxFiles: 300,
  maxAnalysisSeconds: 120,
};

/** The JSON schema of the file, for editors and the docs (the validator below implements it). */
export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: '.github/kmap-review.yml',
  type: 'object',
  additionalProperties: false,
  properties: {
    include: { type: 'array', items: { type: 'string' } },
    exclude: { type: 'array', items: { type: 'string' } },
    rules: { type: 'object', additionalProperties: { enum: ['error', 'warning', 'notice', 'off'] } },
    map_functions: { type: 'object', additionalProperties: { type: 'string' } },
    unmap_functions: { type: 'object', additionalProperties: { type: 'string' } },
    review: {
      type: 'object',
      additionalProperties: false,
      properties: {
        event: { enum: ['COMMENT', 'REQUEST_CHANGES'] },
        max_comments: { type: 'integer', minimum: 0, maximum: 50 },
      },
    },
    drafts: { type: 'boolean' },
    conclusion: {
      type: 'object',
      additionalProperties: false,
      properties: {
        error: { enum: ['success', 'neutral', 'failure'] },
        warning: { enum: ['success', 'neutral', 'failure'] },
        notice: { enum: ['success', 'neutral', 'failure'] },
      },
    },
    max_file_bytes: { type: 'integer', minimum: 1 },
    max_files: { type: 'integer', minimum: 1, maximum: 3000 },
    max_analysis_seconds: { type: 'integer', minimum: 1, maximum: 3600 },
  },
} as const;

export interface LoadedConfig {
  config: AppConfig;
  /** Human-readable problems with the file ("`review.event` must be one of ..."); empty when valid. */
  problems: string[];
  /** Where the configuration came from. */
  source: 'default' | 'file';
}

const SEVERITY_OR_OFF = ['error', 'warning', 'notice', 'off'] as const;
const CONCLUSIONS = ['success', 'neutral', 'failure'] as const;
const EVENTS = ['COMMENT', 'REQUEST_CHANGES'] as const;
const TOP_KEYS = Object.keys(CONFIG_SCHEMA.properties);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringArray(v: unknown, key: string, problems: string[]): string[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  if (typeof v === 'string') return [v];
  problems.push(`\`${key}\` must be a list of glob strings`);
  return undefined;
}

function stringMap(v: unknown, key: string, problems: string[]): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) {
    problems.push(`\`${key}\` must be a mapping of wrapper name to kernel API name`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string') out[k] = val;
    else problems.push(`\`${key}.${k}\` must be a string (the kernel API it behaves like)`);
  }
  return out;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], key: string, problems: string[]): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  problems.push(`\`${key}\` must be one of ${allowed.map((a) => `\`${a}\``).join(', ')} (got \`${String(v)}\`)`);
  return undefined;
}

function intIn(v: unknown, min: number, max: number, key: string, problems: string[]): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  problems.push(`\`${key}\` must be an integer from ${min} to ${max} (got \`${String(v)}\`)`);
  return undefined;
}

/**
 * Validates the parsed YAML and merges it over the defaults. `knownRules`, when given, flags rule ids the
 * engine does not know (a typo would otherwise silently do nothing).
 */
export function parseConfig(raw: unknown, knownRules?: readonly string[]): LoadedConfig {
  const problems: string[] = [];
  const config: AppConfig = structuredClone(DEFAULT_APP_CONFIG);
  if (raw === null || raw === undefined) return { config, problems, source: 'default' };
  if (!isPlainObject(raw)) {
    return { config, problems: ['the file must be a YAML mapping (key: value)'], source: 'file' };
  }
  for (const key of Object.keys(raw)) {
    if (!TOP_KEYS.includes(key)) problems.push(`unknown key \`${key}\` (known: ${TOP_KEYS.join(', ')})`);
  }
  config.include = stringArray(raw.include, 'include', problems) ?? config.include;
  config.exclude = stringArray(raw.exclude, 'exclude', problems) ?? config.exclude;

  if (raw.rules !== undefined && raw.rules !== null) {
    if (!isPlainObject(raw.rules)) problems.push('`rules` must be a mapping of rule id to error, warning, notice or off');
    else {
      for (const [id, sev] of Object.entries(raw.rules)) {
        // YAML reads a bare `off` as the string "off" (YAML 1.2), but `false` may appear too.
        const value = sev === false ? 'off' : sev;
        const s = oneOf(value, SEVERITY_OR_OFF, `rules.${id}`, problems);
        if (s) config.rules[id] = s;
        if (knownRules && !knownRules.includes(id)) problems.push(`unknown rule \`${id}\` in \`rules\``);
      }
    }
  }
  config.mapFunctions = stringMap(raw.map_functions, 'map_functions', problems) ?? config.mapFunctions;
  config.unmapFunctions = stringMap(raw.unmap_functions, 'unmap_functions', problems) ?? config.unmapFunctions;

  if (raw.review !== undefined && raw.review !== null) {
    if (!isPlainObject(raw.review)) problems.push('`review` must be a mapping with `event` and/or `max_comments`');
    else {
      for (const key of Object.keys(raw.review)) {
        if (key !== 'event' && key !== 'max_comments') problems.push(`unknown key \`review.${key}\``);
      }
      config.review.event = oneOf(raw.review.event, EVENTS, 'review.event', problems) ?? config.review.event;
      config.review.maxComments =
        intIn(raw.review.max_comments, 0, 50, 'review.max_comments', problems) ?? config.review.maxComments;
    }
  }
  if (raw.drafts !== undefined) {
    if (typeof raw.drafts === 'boolean') config.drafts = raw.drafts;
    else problems.push('`drafts` must be true or false');
  }
  if (raw.conclusion !== undefined && raw.conclusion !== null) {
    if (!isPlainObject(raw.conclusion)) problems.push('`conclusion` must be a mapping of severity to success, neutral or failure');
    else {
      for (const key of Object.keys(raw.conclusion)) {
        if (!['error', 'warning', 'notice'].includes(key)) problems.push(`unknown key \`conclusion.${key}\``);
      }
      for (const sev of ['error', 'warning', 'notice'] as const) {
        config.conclusion[sev] = oneOf(raw.conclusion[sev], CONCLUSIONS, `conclusion.${sev}`, problems) ?? config.conclusion[sev];
      }
    }
  }
  config.maxFileBytes = intIn(raw.max_file_bytes, 1, Number.MAX_SAFE_INTEGER, 'max_file_bytes', problems) ?? config.maxFileBytes;
  config.maxFiles = intIn(raw.max_files, 1, 3000, 'max_files', problems) ?? config.maxFiles;
  config.maxAnalysisSeconds = intIn(raw.max_analysis_seconds, 1, 3600, 'max_analysis_seconds', problems) ?? config.maxAnalysisSeconds;
  return { config, problems, source: 'file' };
}

export function toEngineConfig(config: AppConfig): EngineConfig {
  return {
    rules: { ...config.rules },
    mapFunctions: { ...config.mapFunctions },
    unmapFunctions: { ...config.unmapFunctions },
  };
}
