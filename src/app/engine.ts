/**
 * The App's one door to the engine (src/analysis): the rules, the engine + tool version, the analysis and
 * the repo-wide scanner. Each part is loaded on first use, so the thread answering webhooks does not load
 * the parser and the rules until a job needs them (the analysis itself runs in worker threads: runner.ts).
 */
import { readFileSync } from 'node:fs';
import type { ChangeSet, EngineConfig, Report } from '../analysis/model.js';
import type { RuleCatalog } from './scheduler.js';

export async function loadEngineRules(): Promise<RuleCatalog> {
  const mod = await import('../analysis/rules/index.js');
  const info = (r: { meta: { id: string; summary: string; doc: string } }) => ({ id: r.meta.id, summary: r.meta.summary, doc: r.meta.doc });
  return {
    find: (id) => {
      const r = mod.findRule(id);
      return r ? info(r) : undefined;
    },
    ids: () => mod.allRules.map((r: { meta: { id: string } }) => r.meta.id),
  };
}

/** The nearest package.json's version above this module (src/app, dist/app or another build directory). */
function toolVersion(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kmap-review' && pkg.version) return pkg.version;
    } catch {
      /* not here: go up */
    }
    if (dir.pathname === '/') return '0';
  }
}

let versionMemo: Promise<string> | undefined;
/** Engine version and tool version: a release with changed rules never reuses older cached results. */
export function engineVersion(): Promise<string> {
  return (versionMemo ??= import('../analysis/engine.js').then((m) => `${m.ENGINE_VERSION}+${toolVersion()}`));
}

type AnalyzeFn = (changeSet: ChangeSet, config: EngineConfig) => Promise<Report>;

let analyzeMemo: Promise<AnalyzeFn> | undefined;
/** The engine's analyze(), in this thread. */
export function loadAnalyze(): Promise<AnalyzeFn> {
  return (analyzeMemo ??= import('../analysis/engine.js').then((m) => m.analyze));
}

/** The engine's scanner, loaded on the first tree job (one module after the other: jest's ESM loader trips on parallel imports). */
let scanner: Promise<{
  scanTree: typeof import('../analysis/scan/tree.js').scanTree;
  mayMentionApi: typeof import('../analysis/scan/prefilter.js').mayMentionApi;
  KmapApi: typeof import('../analysis/kmap-api.js').KmapApi;
  computeTotals: typeof import('../analysis/scan/totals.js').computeTotals;
  compareWithBaseline: typeof import('../analysis/scan/totals.js').compareWithBaseline;
  parseMaintainers: typeof import('../analysis/scan/maintainers.js').parseMaintainers;
  directoryOf: typeof import('../analysis/scan/totals.js').directoryOf;
  fixPatchForSites: typeof import('../analysis/convert/fix.js').fixPatchForSites;
  ENGINE_VERSION: string;
}> | undefined;

export function loadScanner(): NonNullable<typeof scanner> {
  return (scanner ??= (async () => {
    const { scanTree } = await import('../analysis/scan/tree.js');
    const { mayMentionApi } = await import('../analysis/scan/prefilter.js');
    const { KmapApi } = await import('../analysis/kmap-api.js');
    const { computeTotals, compareWithBaseline, directoryOf } = await import('../analysis/scan/totals.js');
    const { parseMaintainers } = await import('../analysis/scan/maintainers.js');
    const { fixPatchForSites } = await import('../analysis/convert/fix.js');
    const { ENGINE_VERSION } = await import('../analysis/engine.js');
    return { scanTree, mayMentionApi, KmapApi, computeTotals, compareWithBaseline, directoryOf, fixPatchForSites, parseMaintainers, ENGINE_VERSION };
  })());
}
