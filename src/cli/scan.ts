/**
 * `kmap-review scan [DIR | --git REV]`: where a tree stands in the move off kmap_atomic()/kmap().
 * Exit status: 0, or 1 when a --baseline is given and the tree has new deprecated uses or new error
 * findings since (the ratchet); 2 for bad input or usage.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../analysis/patch/errors.js';
import { configHash } from '../analysis/config-hash.js';
import { ENGINE_VERSION } from '../analysis/engine.js';
import type { EngineConfig } from '../analysis/model.js';
import { ScanResultCache, type ScanResultStore } from '../analysis/scan/result-cache.js';
import { ReachCacheFile, reachCachePath } from '../analysis/scan/reach-cache-file.js';
import { parseBaseline, type BaselineInput } from '../analysis/scan/totals.js';
import { scanTree, type TreeSource } from '../analysis/scan/tree.js';
import { MemoryResultStore, scanHistory, type HistoryPoint } from '../analysis/scan/history.js';
import { renderScanHtml } from '../comments/html/report.js';
import { renderHistoryCsv, renderHistoryJson, renderHistoryText } from '../comments/scan/history.js';
import { renderScanJson } from '../comments/scan/json.js';
import { renderScanMarkdown } from '../comments/scan/markdown.js';
import { renderScanSarif, type SarifPlace } from '../comments/scan/sarif.js';
import { renderScanText } from '../comments/scan/text.js';
import type { CliIo } from './cli.js';
import { ENGINE_OPTIONS, cliConfigFromOptions, positiveInteger, UsageError } from './options.js';
import { readyPatches, subsystemOfFor } from './scan-html.js';
import { jitFlagsForAnalysis } from './v8-flags.js';
import { TOOL_VERSION } from './version.js';

const FORMATS = ['text', 'json', 'markdown', 'sarif', 'html', 'csv'] as const;
type Format = (typeof FORMATS)[number];

/** Defined by the CLI bundle's first lines (scripts/build-cli.mjs): where its own scan worker bundle is. */
declare const __kmapBundledScanWorker: (() => string) | undefined;

/** The bundled scan worker when this code runs from the bundle; else scanTree's default (tsc's scan-worker.js). */
function bundledScanWorker(): URL | undefined {
  return typeof __kmapBundledScanWorker === 'function' ? new URL(__kmapBundledScanWorker()) : undefined;
}

/**
 * The default cache directory: the user's cache ($XDG_CACHE_HOME, else ~/.cache), never the scanned tree.
 * A tree must not be able to bring its own results: a cache committed to a branch (or shipped in a
 * tarball) with the right name could hide new uses from a ratchet. Each tree has its own file there.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : env.HOME ? join(env.HOME, '.cache') : null;
  return base ? join(base, 'kmap-review') : null;
}

/** Defined by the CLI bundle's first lines (scripts/build-cli.mjs): the bundle's content hash. */
declare const __kmapBuildId: string | undefined;

/**
 * What a cached result depends on besides the file: the engine and tool versions, the build (a rebuilt
 * bundle with the same version number must not reuse results) and the configuration.
 */
export function cacheFingerprint(config: EngineConfig): string {
  const build = typeof __kmapBuildId === 'string' ? __kmapBuildId : 'unbundled';
  return `${ENGINE_VERSION}+${TOOL_VERSION}+${build}:${configHash(config)}`;
}

/**
 * SARIF URIs are resolved against the repository root: a DIR inside a git work tree gets its path from
 * the top-level as prefix, and the top-level as %SRCROOT%; a DIR outside one is its own root.
 */
function sarifPlace(source: TreeSource): SarifPlace {
  if (source.kind !== 'dir') return {};
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd: source.root, encoding: 'utf8' });
  const root = top.status === 0 ? top.stdout.trim() : '';
  if (!root) return { srcRoot: source.root };
  const prefix = relative(realpathSync(root), realpathSync(source.root)).split(sep).join('/');
  return { srcRoot: root, ...(prefix && !prefix.startsWith('..') ? { prefix } : {}) };
}

/** The tree's cache file in `dir`: one file per tree, so that one --cache-dir can serve several trees. */
function openCache(source: TreeSource, dir: string, config: EngineConfig, io: CliIo): ScanResultCache {
  const identity = source.kind === 'dir' ? `dir:${source.root}` : source.kind === 'git' ? `git:${source.repo}` : `texts:${source.name}`;
  const file = join(dir, `scan-${createHash('sha256').update(identity).digest('hex').slice(0, 12)}.json`);
  const { cache, warning } = ScanResultCache.open(file, cacheFingerprint(config));
  if (warning) io.stderr(`kmap-review: ${warning}\n`);
  return cache;
}

export async function runScan(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...ENGINE_OPTIONS,
      git: { type: 'string' },
      format: { type: 'string', default: 'text' },
      baseline: { type: 'string' },
      jobs: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      'max-bytes': { type: 'string' },
      cache: { type: 'boolean', default: false },
      'cache-dir': { type: 'string' },
      history: { type: 'string' },
      every: { type: 'string' },
      tags: { type: 'string' },
    },
  });
  const format = values.format as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${values.format}'`);
  if (positionals.length > 1) throw new UsageError('scan takes one DIR');
  if (positionals.length && values.git) throw new UsageError('give a DIR or --git REV, not both');
  if (values.history !== undefined && (positionals.length || values.git)) throw new UsageError('--history A..B scans the git repository of the current directory: give no DIR or --git');
  if ((values.every !== undefined || values.tags !== undefined) && values.history === undefined) throw new UsageError('--every and --tags go with --history A..B');
  if (values.every !== undefined && values.tags !== undefined) throw new UsageError('give --every N or --tags GLOB, not both');
  if (format === 'csv' && values.history === undefined) throw new UsageError('--format csv is for --history A..B');
  const every = positiveInteger(values.every, '--every');
  const jobs = values.jobs === '0' ? 0 : positiveInteger(values.jobs, '--jobs');
  const maxBytes = positiveInteger(values['max-bytes'], '--max-bytes');
  const { engine: config, select } = await cliConfigFromOptions(values, io.cwd);

  let baseline: BaselineInput | undefined;
  /** The baseline's counts by class and API, for the HTML report's change column. */
  let baselineCounts: { byClass: Record<string, number>; byApi: Record<string, number> } | undefined;
  if (values.baseline) {
    let text: string;
    try {
      text = readFileSync(values.baseline, 'utf8');
    } catch (e) {
      throw new InputError(`cannot read baseline ${values.baseline}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      baseline = parseBaseline(text, values.baseline);
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    baselineCounts = { byClass: {}, byApi: {} };
    for (const s of baseline.sites as Array<{ class?: unknown; api?: unknown }>) {
      if (typeof s.class === 'string') baselineCounts.byClass[s.class] = (baselineCounts.byClass[s.class] ?? 0) + 1;
      if (typeof s.api === 'string') baselineCounts.byApi[s.api] = (baselineCounts.byApi[s.api] ?? 0) + 1;
    }
  }

  let cacheDir: string | null = null;
  if (values['cache-dir'] !== undefined) cacheDir = resolve(io.cwd, values['cache-dir']);
  else if (values.cache) {
    cacheDir = defaultCacheDir();
    if (!cacheDir) io.stderr('kmap-review: --cache: neither XDG_CACHE_HOME nor HOME is set, scanning without a cache (give --cache-dir DIR)\n');
  }
  let source: TreeSource;
  let history: HistoryPoint[] | undefined;
  /** The results of the history's points, reused by the report of B (--format html). */
  let historyResults: ScanResultStore | undefined;
  if (values.history !== undefined) {
    // With --cache, the repository's cache file (the one `scan --git` uses); else results in memory.
    historyResults = cacheDir ? openCache({ kind: 'git', repo: io.cwd, rev: 'HEAD' }, cacheDir, config, io) : new MemoryResultStore();
    const range = values.history;
    const opts = { config, ...(select ? { select } : {}), ...(jobs !== undefined ? { jobs } : {}), ...(maxBytes ? { maxBytes } : {}), ...(every ? { every } : {}), ...(values.tags !== undefined ? { tags: values.tags } : {}) };
    const workerUrl = bundledScanWorker();
    try {
      history = await scanHistory(io.cwd, range, { ...opts, results: historyResults, ...(workerUrl ? { workerUrl } : {}), onReadWarm: jitFlagsForAnalysis });
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    if (historyResults instanceof ScanResultCache && format !== 'html') {
      const warning = historyResults.save(select ? (path) => !select(path) : undefined);
      if (warning) io.stderr(`kmap-review: ${warning} (--cache-dir DIR keeps it in a writable place)\n`);
    }
    if (format === 'json') {
      io.stdout(renderHistoryJson(history) + '\n');
      return 0;
    }
    if (format === 'csv') {
      io.stdout(renderHistoryCsv(history));
      return 0;
    }
    if (format !== 'html') {
      io.stdout(renderHistoryText(history));
      return 0;
    }
    // html: the report of B, with the trend chart.
    values.git = history[history.length - 1].commit;
  }
  // Reports name the tree as the user knows it, not by this machine's absolute path.
  if (values.git) source = { kind: 'git', repo: io.cwd, rev: values.git, label: basename(io.cwd) };
  else {
    const root = resolve(io.cwd, positionals[0] ?? '.');
    let isDir = false;
    try {
      isDir = statSync(root).isDirectory();
    } catch {
      throw new InputError(`${positionals[0] ?? '.'}: no such directory`);
    }
    if (!isDir) throw new InputError(`${positionals[0]}: not a directory (scan takes a tree; use \`kmap-review check\` for a patch)`);
    const given = positionals[0];
    source = { kind: 'dir', root, label: given && given !== '.' && given !== './' ? given.replace(/\/+$/, '') : basename(root) };
  }

  const cache = historyResults ?? (cacheDir ? openCache(source, cacheDir, config, io) : undefined);
  // The Kconfig reach's answers, in a file of their own next to the results (scan/reach-cache-file.ts).
  const reachCache = cache instanceof ScanResultCache ? new ReachCacheFile(reachCachePath(cache.file), cache.fingerprint) : undefined;

  let scan;
  try {
    const workerUrl = bundledScanWorker();
    scan = await scanTree(source, { config, ...(select ? { select } : {}), ...(jobs !== undefined ? { jobs } : {}), ...(maxBytes ? { maxBytes } : {}), ...(baseline ? { baseline } : {}), ...(workerUrl ? { workerUrl } : {}), ...(cache ? { results: cache } : {}), ...(reachCache ? { reachCache } : {}), onReadWarm: jitFlagsForAnalysis });
  } catch (e) {
    // git failures (unknown revision, not a repository) are input errors, not crashes.
    if (source.kind === 'git') throw new InputError((e as Error).message);
    throw e;
  }
  if (cache instanceof ScanResultCache) {
    // Results of files outside a --config selection belong to other scans of the tree: kept.
    const warning = cache.save(select ? (path) => !select(path) : undefined);
    if (warning) io.stderr(`kmap-review: ${warning} (--cache-dir DIR keeps it in a writable place)\n`);
    reachCache?.save();
  }
  if (values.verbose && scan.summaries) {
    const m = scan.summaries;
    const index = m.index ? `index of ${m.index.names} names (${m.index.definitions} definitions in ${m.index.files} files, ${m.indexMs} ms)` : `index not needed (${m.indexMs} ms)`;
    io.stderr(`kmap-review: callee summaries: ${index}, ${m.indexReused} files' names from the cache (${m.unread} not read: unchanged since); ${m.asked} callees asked about, ${m.relevant} with facts, ${m.answersKept} answers kept from the cache, ${m.reanalysed} files analysed again (${m.filesRead} files read, ${m.parsed} definitions parsed, ${m.ms} ms)\n`);
  }
  if (format === 'json') io.stdout(renderScanJson(scan, TOOL_VERSION) + '\n');
  else if (format === 'sarif') io.stdout(renderScanSarif(scan, TOOL_VERSION, sarifPlace(source)) + '\n');
  else if (format === 'markdown') io.stdout(renderScanMarkdown(scan));
  else if (format === 'html') {
    const patches = await readyPatches(scan, source, config);
    io.stdout(renderScanHtml(scan, { patches, subsystemOf: subsystemOfFor(scan, source), toolVersion: TOOL_VERSION, ...(history ? { history } : {}), ...(baselineCounts ? { baselineCounts } : {}) }));
  }
  else io.stdout(renderScanText(scan, { verbose: values.verbose }));
  return scan.baseline && (scan.baseline.added.length || scan.baseline.newErrors.length || scan.baseline.addedInSkipped.length) ? 1 : 0;
}
