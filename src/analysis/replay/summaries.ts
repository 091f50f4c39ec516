/**
 * What a same-file function does with the addresses it is given, and whether it hands a mapping back,
 * computed by replaying it (never guessed from its name or its comment): the function is replayed with
 * each pointer parameter holding a mapping of its caller, and every path that returns says what became of
 * it. `put_addr(void *a) { zfs_kunmap_local(a); }` unmaps its parameter on every path, so a call to it
 * is an unmap; `get_addr(struct page *p) { return kmap_local_page(p); }` returns a mapping on every path,
 * so `a = get_addr(p)` is a map.
 */
import { createHash } from 'node:crypto';
import type { KmapApi } from '../kmap-api.js';
import type { CFunction } from '../source/functions.js';
import { CALLED_NAME } from '../syntax/ast.js';
import { withoutAnnotations } from '../syntax/kernel-idioms.js';
import { replayFunction, type ParamEffect, type FunctionSummary, type Summaries } from './replay.js';

/** How deep summaries of summaries go (a helper calling a helper calling a helper). */
const MAX_DEPTH = 3;
/** A callee's replay is small: a summary is not worth more than this. */
const SUMMARY_BUDGET = 3000;
/** A backstop, as DEFAULT_TIME_LIMIT_MS in replay.ts: the state budget decides, the same on every machine. */
const SUMMARY_TIME_MS = 500;

type FileMemo<T> = WeakMap<ReadonlyMap<string, CFunction>, WeakMap<KmapApi, Map<string, T>>>;

/** The by-name memo of one file's functions under one API configuration (kept as long as both live). */
function memoFor<T>(memo: FileMemo<T>, fileFunctions: ReadonlyMap<string, CFunction>, api: KmapApi): Map<string, T> {
  let byApi = memo.get(fileFunctions);
  if (!byApi) memo.set(fileFunctions, (byApi = new WeakMap()));
  let m = byApi.get(api);
  if (!m) byApi.set(api, (m = new Map()));
  return m;
}

const summaryMemo: FileMemo<FunctionSummary | null> = new WeakMap();

/** Summaries of the functions of one file, computed when first asked and kept for the file's lifetime. */
export function fileSummaries(fileFunctions: ReadonlyMap<string, CFunction> | undefined, api: KmapApi): Summaries {
  if (!fileFunctions) return { of: () => undefined, mayMapOrUnmap: () => false, mayReturnAddress: () => false };
  const known = memoFor(summaryMemo, fileFunctions, api);
  const inProgress = new Set<string>();
  const touches = touchingMemo(fileFunctions, api);
  const returnsAddress = new Map<string, boolean>();
  const summaries: Summaries = {
    mayMapOrUnmap: (name) => touches(name, MAX_DEPTH),
    mayReturnAddress: (name) => {
      let r = returnsAddress.get(name);
      if (r === undefined) {
        const fn = fileFunctions.get(name);
        r = !!fn && touches(name, MAX_DEPTH) && !NARROW_RETURN.test(bareType(declaredReturnType(fn.text, name)));
        returnsAddress.set(name, r);
      }
      return r;
    },
    of(name: string): FunctionSummary | null | undefined {
      const fn = fileFunctions.get(name);
      if (!fn) return undefined;
      if (known.has(name)) return known.get(name)!;
      // Recursion (a helper calling itself, or a cycle): not decided.
      if (inProgress.has(name) || inProgress.size >= MAX_DEPTH) return null;
      // A summary says nothing of lines, only of what the code does: the same text, calling same-file
      // functions of the same text, has the same summary in another file image (a patch's pre- and
      // post-image share most helpers). Only summaries computed from the top are shared: a nested one may
      // have been cut short by MAX_DEPTH.
      const top = inProgress.size === 0;
      const key = top ? `${api.identity}\u0002${textKey(fileFunctions, name)}` : null;
      const hit = key !== null ? shared.get(key) : undefined;
      if (hit !== undefined) {
        known.set(name, hit);
        return hit;
      }
      inProgress.add(name);
      try {
        const s = summarise(fn, api, summaries);
        known.set(name, s);
        if (key !== null) remember(key, s);
        return s;
      } finally {
        inProgress.delete(name);
      }
    },
  };
  return summaries;
}

/**
 * Summaries by API vocabulary and text key (`identity \u0002 textKey`), shared by every analysis in the process (each review builds
 * its own KmapApi; equal configurations share). Bounded: the oldest are dropped first.
 */
const SHARED_LIMIT = 4096;
const shared = new Map<string, FunctionSummary | null>();

function remember(key: string, s: FunctionSummary | null): void {
  if (shared.size >= SHARED_LIMIT) shared.delete(shared.keys().next().value!);
  shared.set(key, s);
}

/** The text of `name` and of the same-file functions it may call, to MAX_DEPTH: all a summary depends on. */
function textKey(fileFunctions: ReadonlyMap<string, CFunction>, name: string): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  let level = [name];
  for (let depth = 0; depth <= MAX_DEPTH && level.length; depth++) {
    const next: string[] = [];
    for (const n of level) {
      if (seen.has(n)) continue;
      seen.add(n);
      const fn = fileFunctions.get(n);
      if (!fn) continue;
      parts.push(`${n}\u0000${fn.text}`);
      for (const m of fn.text.matchAll(CALLED_NAME)) if (fileFunctions.has(m[1]) && !seen.has(m[1])) next.push(m[1]);
    }
    level = next;
  }
  return createHash('sha1').update(parts.join('\u0001')).digest('base64');
}


/**
 * Return types that cannot carry an address (none, or at most 32 bits: every HIGHMEM kernel's pointers are
 * 32-bit, but an address returned as `int` is truncated on the 64-bit builds of the same code, so no kernel
 * code does it). `long`, `unsigned long`, `uintptr_t` and pointers can: `(unsigned long)kmap_local_page(p)` is
 * seen.
 */
const NARROW_RETURN = /^(?:void|bool|_Bool|int|signed|unsigned|signed int|unsigned int|short|short int|unsigned short|char|signed char|unsigned char|[us](?:8|16|32)|__[us](?:8|16|32)|__(?:le|be)(?:16|32)|vm_fault_t|blk_status_t|enum \w+)$/;
/**
 * The return type as written before the name in the signature (lexically: the function is not parsed for
 * it); '' when the name is not found there, which no narrow type matches.
 */
function declaredReturnType(text: string, name: string): string {
  const open = text.indexOf('{');
  const sig = open < 0 ? text : text.slice(0, open);
  const at = new RegExp(`(?:^|[\\s*])${name}\\s*\\(`).exec(sig);
  return at ? sig.slice(0, at.index + at[0].indexOf(name)) : '';
}

/** The return type without storage classes and the kernel's annotations: `static __always_inline u32` -> `u32`. */
const bareType = (t: string) => withoutAnnotations(t).replace(/\b(?:static|inline|extern)\b/g, '').replace(/\s+/g, ' ').trim();

const touchMemo: FileMemo<boolean> = new WeakMap();

/**
 * Whether a same-file function's text, or the text of the same-file functions it calls (to `depth`),
 * mentions a map or an unmap: a lexical over-approximation, so `false` is sure and `true` means "replay it".
 * It decides only which summaries are worth computing, never what a summary says.
 */
function touchingMemo(fileFunctions: ReadonlyMap<string, CFunction>, api: KmapApi): (name: string, depth: number) => boolean {
  const known = memoFor(touchMemo, fileFunctions, api);
  const visiting = new Set<string>();
  const touches = (name: string, depth: number): boolean => {
    const hit = known.get(name);
    if (hit !== undefined) return hit;
    const fn = fileFunctions.get(name);
    if (!fn) return false;
    if (api.mayUnmap(fn.text) || api.mentionsMapping(fn.text)) {
      known.set(name, true);
      return true;
    }
    if (depth <= 0 || visiting.has(name)) return false; // not memoised: a shallower or acyclic ask may differ
    visiting.add(name);
    try {
      for (const m of fn.text.matchAll(CALLED_NAME)) {
        if (m[1] !== name && fileFunctions.has(m[1]) && touches(m[1], depth - 1)) {
          known.set(name, true);
          return true;
        }
      }
    } finally {
      visiting.delete(name);
    }
    if (depth >= MAX_DEPTH) known.set(name, false);
    return false;
  };
  return touches;
}

function summarise(fn: CFunction, api: KmapApi, summaries: Summaries): FunctionSummary | null {
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
  return { params, returnsMapping, returnsFamily: exits.find((e) => e.returnsMapping)?.returnsMapping ?? null, returnsPointer: fn.returnType.includes('*') };
}
