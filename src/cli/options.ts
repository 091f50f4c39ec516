/**
 * Options shared by the subcommands: rule levels, wrapper names and config files all become one
 * EngineConfig here, so `check`, `scan` and `fix` configure the engine the same way.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EngineConfig } from '../analysis/model.js';
import { InputError } from '../analysis/patch/errors.js';
import { allRules, findRule } from '../analysis/rules/index.js';
import { DEFAULT_APP_CONFIG, parseConfig, toEngineConfig } from '../config/repo-config.js';
import type { PathGlobs } from '../config/selection.js';

/** Bad command-line usage: exit 2 with a hint to --help. */
export class UsageError extends Error {}

function wrapperOption(values: string[] | undefined, defaultApi: string, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const m = /^([A-Za-z_]\w*)(?:=([A-Za-z_]\w*))?$/.exec(v);
    if (!m) throw new UsageError(`${flag} expects NAME or NAME=API (C identifiers), got '${v}'`);
    out[m[1]] = m[2] ?? defaultApi;
  }
  return out;
}

async function loadConfigFile(path: string): Promise<EngineConfig & PathGlobs> {
  let raw: unknown;
  try {
    // Loaded on demand: the YAML parser is a noticeable part of start-up time for one-patch runs.
    const { parse: parseYaml } = await import('yaml');
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`cannot read config ${path}: ${(e as Error).message}`);
  }
  const loaded = parseConfig(raw ?? {}, allRules.map((r) => r.meta.id));
  if (loaded.problems.length) throw new InputError(`invalid config ${path}:\n  ${loaded.problems.join('\n  ')}`);
  return { ...toEngineConfig(loaded.config), include: loaded.config.include, exclude: loaded.config.exclude };
}

/** The parseArgs option definitions every engine-running subcommand accepts. */
export const ENGINE_OPTIONS = {
  config: { type: 'string' },
  rule: { type: 'string', multiple: true },
  'map-fn': { type: 'string', multiple: true },
  'unmap-fn': { type: 'string', multiple: true },
} as const;

export interface EngineOptionValues {
  config?: string;
  rule?: string[];
  'map-fn'?: string[];
  'unmap-fn'?: string[];
}

/** What the options configure: the engine, and which files are analysed. */
export interface CliConfig {
  engine: EngineConfig;
  /**
   * The config file's include/exclude globs, or null without --config (every C file). Paths are relative
   * to the tree (scan, fix) or as the patch names them (check), like the App's paths in a repository.
   */
  select: ((path: string) => boolean) | null;
  /** Why an unselected file is skipped, for the report. */
  notSelectedReason: string;
}

/** `cwd`: what a relative --config path is relative to (the CLI's working directory). */
export async function cliConfigFromOptions(values: EngineOptionValues, cwd: string): Promise<CliConfig> {
  const base = values.config ? await loadConfigFile(resolve(cwd, values.config)) : { ...toEngineConfig(DEFAULT_APP_CONFIG), include: [], exclude: [] };
  let select: CliConfig['select'] = null;
  if (values.config) {
    // Loaded on demand, like the YAML parser: one-patch runs without a config do not pay for minimatch.
    const { isSelected } = await import('../config/selection.js');
    const globs: PathGlobs = { include: base.include, exclude: base.exclude };
    select = (path) => isSelected(path, globs);
  }
  const config: EngineConfig = {
    rules: { ...base.rules },
    mapFunctions: { ...base.mapFunctions, ...wrapperOption(values['map-fn'], 'kmap_local_page', '--map-fn') },
    unmapFunctions: { ...base.unmapFunctions, ...wrapperOption(values['unmap-fn'], 'kunmap_local', '--unmap-fn') },
  };
  for (const r of values.rule ?? []) {
    const m = /^([a-z-]+)=(error|warning|notice|off)$/.exec(r);
    if (!m) throw new UsageError(`--rule expects ID=error|warning|notice|off, got '${r}'`);
    if (!findRule(m[1])) throw new UsageError(`--rule: unknown rule '${m[1]}' (see kmap-review rules)`);
    config.rules[m[1]] = m[2] as EngineConfig['rules'][string];
  }
  return { engine: config, select, notSelectedReason: `not selected by include/exclude in ${values.config ?? 'the configuration'}` };
}

/** A positive whole number option, or a usage error naming the flag. */
export function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} expects a positive whole number, got '${value}'`);
  return n;
}
