/**
 * What a same-file function does with the addresses it is given, and whether it hands a mapping back,
 * computed by replaying it (never guessed from its name or its comment): the function is replayed with
 * each pointer parameter holding a mapping of its caller, and every path that returns says what became of
 * it. `put_addr(void *a) { zfs_kunmap_local(a); }` unmaps its parameter on every path, so a call to it
 * is an unmap; `get_addr(struct page *p) { return kmap_local_page(p); }` returns a mapping on every path,
 * so `a = get_addr(p)` is a map.
 */
import type { KmapApi } from '../kmap-api.js';
import type { CFunction } from '../source/functions.js';
import { replayFunction, type ParamEffect, type FunctionSummary, type Summaries } from './replay.js';

/** How deep summaries of summaries go (a helper calling a helper calling a helper). */
const MAX_DEPTH = 3;
/** A callee's replay is small: a summary is not worth more than this. */
const SUMMARY_BUDGET = 3000;
const SUMMARY_TIME_MS = 40;

const memo = new WeakMap<ReadonlyMap<string, CFunction>, WeakMap<KmapApi, Map<string, FunctionSummary | null>>>();

/** Summaries of the functions of one file, computed when first asked and kept for the file's lifetime. */
export function fileSummaries(fileFunctions: ReadonlyMap<string, CFunction> | undefined, api: KmapApi): Summaries {
  if (!fileFunctions) return { of: () => undefined };
  let byApi = memo.get(fileFunctions);
  if (!byApi) memo.set(fileFunctions, (byApi = new WeakMap()));
  let cache = byApi.get(api);
  if (!cache) byApi.set(api, (cache = new Map()));
  const known = cache;
  const inProgress = new Set<string>();
  const summaries: Summaries = {
    of(name: string): FunctionSummary | null | undefined {
      const fn = fileFunctions.get(name);
      if (!fn) return undefined;
      if (known.has(name)) return known.get(name)!;
      // Recursion (a helper calling itself, or a cycle): not decided.
      if (inProgress.has(name) || inProgress.size >= MAX_DEPTH) return null;
      inProgress.add(name);
      try {
        const s = summarise(fn, api, summaries);
        known.set(name, s);
        return s;
      } finally {
        inProgress.delete(name);
      }
    },
  };
  return summaries;
}

function summarise(fn: CFunction, api: KmapApi, summaries: Summaries): FunctionSummary | null {
  // Nothing to learn from a function that neither maps, unmaps, nor stores or returns a pointer.
  if (!api.mayUnmap(fn.text) && !api.mentionsMapping(fn.text) && !/=|return/.test(fn.text)) return null;
  let result;
  try {
    result = replayFunction(fn, api, { budget: SUMMARY_BUDGET, timeLimitMs: SUMMARY_TIME_MS, summaries, seedParameters: true });
  } catch {
    return null; // a callee the replay cannot follow (too deep) is not summarised
  }
  const exits = result.exits;
  if (!exits || !result.complete || !exits.length) return null;
  const params: ParamEffect[] = [];
  const count = Math.max(0, ...exits.map((e) => e.params.length));
  for (let i = 0; i < count; i++) {
    const outcomes = exits.map((e) => e.params[i]);
    if (outcomes.every((o) => o === undefined)) {
      params.push(null);
      continue;
    }
    if (outcomes.every((o) => o === 'released')) params.push('unmaps');
    else if (outcomes.some((o) => o === 'released')) params.push('may-unmap');
    else if (outcomes.some((o) => o === 'stored')) params.push('stores');
    else if (outcomes.some((o) => o === 'returned')) params.push('returns');
    else if (outcomes.some((o) => o === 'unknown')) params.push('passes-on');
    else params.push(null);
  }
  const returning = exits.filter((e) => e.returnsMapping).length;
  const returnsMapping = returning === 0 ? null : returning === exits.length ? 'always' : 'sometimes';
  return { params, returnsMapping, returnsFamily: exits.find((e) => e.returnsMapping)?.returnsMapping ?? null };
}
