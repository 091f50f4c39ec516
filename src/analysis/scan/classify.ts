/**
 * Scans one file of a tree: every remaining kmap_atomic*(), kunmap_atomic(), kmap() and kunmap() use,
 * classified by converting it in memory and re-analysing the result (convert/verify.ts), plus the
 * findings the tree rules have on the mapping code already there (existing bugs: wrong unmap order,
 * leaks, ...).
 */
import { createHash } from 'node:crypto';
import { convertFile, DEPRECATED_CALL } from '../convert/verify.js';
import { KMAP_OUTLIVES, type ConversionGroup, type FunctionPlan, type Refusal, type SiteClass } from '../convert/plan.js';
import type { MapSite, UnmapSite } from '../mappings.js';
import { activeRules, checkFunction } from '../rules/runner.js';
import { API_DEFINITION, MAPPING_CALL, type KmapApi } from '../kmap-api.js';
import { blankCommentsAndStrings } from '../syntax/blank.js';
import type { EngineConfig, Finding } from '../model.js';
import { locateFunctions, type CFunction } from '../source/functions.js';
import { functionsMatching, linesMatching, matchSpans } from '../source/matches.js';
import { calleeName, normalizedText, type SyntaxNode } from '../syntax/ast.js';
import type { CalleeSummaries } from '../summaries/context.js';

/** One use of a deprecated API, and what converting it takes. */
export interface ScanSite {
  path: string;
  line: number;
  /** The call as written: kmap_atomic, kunmap_atomic, kmap, kunmap, kmap_atomic_pfn... */
  api: string;
  class: SiteClass;
  /** Why it is not `ready` (or, for ready sites, what the conversion is). */
  reason: string;
  /** The rule whose finding on the converted code decided the class, if one did. */
  rule: string | null;
  function: string | null;
  /** Identity that survives line shifts: path, function, api and occurrence (for baselines and SARIF). */
  key: string;
  /**
   * The statements behind the reason, `path:line what`: the other end of a pair split across functions,
   * the steps (callee chain included) of the finding that refused the conversion.
   */
  evidence?: string[];
}

export interface FileScan {
  path: string;
  sites: ScanSite[];
  /** Findings of the tree rules on the code as it is (pre-existing bugs). */
  findings: Finding[];
  /** Functions analysed (planned or checked). */
  functions: number;
  /**
   * Scanned without a tree's callee summaries: the names of other files' functions that calls inside its
   * atomic sections reach (what the tree scan asks its summary index about). Absent when none, or when
   * the scan had the summaries.
   */
  asks?: string[];
}


const MAPPING_CALLS = new RegExp(MAPPING_CALL.source, 'g');

/**
 * Functions whose tree-rule check would repeat the conversion's: converted by renames alone (the
 * converted code is the original's syntax tree with kmap_atomic*()/kunmap_atomic() renamed), with every
 * group accepted, no other mapping calls (so the rename maps one API family onto another that was not
 * there before), and no tree-rule finding on the converted code. The tree rules treat kmap_atomic() and
 * kmap_local_page() mappings alike (both are stack-like local mappings) and none of them looks at which
 * lines changed, so the original has no finding either.
 */
function checkedByConversion(plans: readonly FunctionPlan[], api: KmapApi, treeRules: ReadonlySet<string>): Set<number> {
  const out = new Set<number>();
  for (const p of plans) {
    const v = p.verified;
    if (!v?.pureRename || p.strays.length || p.groups.some((g) => g.refusal)) continue;
    if (v.findings.some((f) => treeRules.has(f.rule)) || mentionsWrapper(api, p.fn)) continue;
    // Every mapping call in the text is one the groups renamed (a call they did not pair stays kmap_atomic()).
    const calls = [...p.fn.text.matchAll(MAPPING_CALLS)];
    const renamed = p.groups.reduce((n, g) => n + g.maps.length + g.unmaps.length, 0);
    if (calls.length === renamed && calls.every((m) => m[0].includes('_atomic'))) out.add(p.fn.line);
  }
  return out;
}


function mentionsWrapper(api: KmapApi, text: string | CFunction): boolean {
  const names = api.wrapperNames();
  if (!names.length) return false; // (a function's text is joined on first use: not for nothing)
  const t = typeof text === 'string' ? text : text.text;
  return names.some((n) => t.includes(n));
}



function siteKey(path: string, fn: string | null, api: string, n: number): string {
  return createHash('sha256').update([path, fn ?? '', api, String(n)].join('\u0000')).digest('hex').slice(0, 16);
}

function readyReason(g: ConversionGroup, api: string): string {
  if (g.helper) return `replace the open-coded section with ${g.helper}`;
  if (g.reordered && /unmap/.test(api)) return `becomes kunmap_local(), with the unmaps put in LIFO order`;
  if (api === 'kmap') return g.introduces ? `convert to ${g.introduces} = kmap_local_page(); kunmap_local(${g.introduces})` : 'convert to kmap_local_page(); kunmap_local(address)';
  if (api === 'kunmap') return 'becomes kunmap_local() of the mapped address';
  return `rename to ${api.replace('kmap_atomic_prot', 'kmap_local_page_prot').replace('kmap_atomic_pfn', 'kmap_local_pfn').replace('kmap_atomic', 'kmap_local_page').replace('kunmap_atomic', 'kunmap_local')}(): nothing in the section relies on disabled page faults or preemption`;
}

function refusalText(r: Refusal): string {
  return r.rule ? `${r.reason} (line ${r.line})` : r.reason;
}

/** The other end of a mapping split across functions of one file. */
interface Partner {
  fn: string;
  line: number;
  api: string;
}

/**
 * Maps whose unmap is not in their function and unmaps whose map is not in theirs, matched across the
 * functions of the file: kunmap(P) with kmap(P) by the page expression's text, kunmap_atomic(F) with
 * `F = kmap_atomic(...)` by the field it is stored in. Text, not values: a match names where the other
 * end is written, it does not prove every path reaches it; no match says nothing.
 */
function partnersAcrossFunctions(plans: readonly FunctionPlan[]): Map<SyntaxNode, Partner[]> {
  const open: Array<{ fn: string; map: MapSite; key: string }> = [];
  const loose: Array<{ fn: string; unmap: UnmapSite; key: string }> = [];
  const keyOfMap = (m: MapSite) => (m.api.family === 'kmap' ? (m.page ? `kmap\u0000${normalizedText(m.page)}` : null) : m.destination.kind === 'field' ? `atomic\u0000${m.destination.name}` : null);
  const keyOfUnmap = (u: UnmapSite) => (u.arg ? `${u.api.family === 'kmap' ? 'kmap' : 'atomic'}\u0000${normalizedText(u.arg)}` : null);
  for (const p of plans) {
    for (const g of p.groups) {
      if (g.unmaps.length) continue;
      for (const m of g.maps) {
        const key = keyOfMap(m);
        if (key) open.push({ fn: p.fn.name, map: m, key });
      }
    }
    for (const s of p.strays) {
      const key = keyOfUnmap(s.unmap);
      if (key) loose.push({ fn: p.fn.name, unmap: s.unmap, key });
    }
  }
  const out = new Map<SyntaxNode, Partner[]>();
  const add = (n: SyntaxNode, partner: Partner) => out.set(n, [...(out.get(n) ?? []), partner]);
  for (const o of open) {
    for (const l of loose) {
      if (o.key !== l.key || o.fn === l.fn) continue;
      add(o.map.call, { fn: l.fn, line: l.unmap.call.line, api: calleeName(l.unmap.call) ?? 'kunmap' });
      add(l.unmap.call, { fn: o.fn, line: o.map.call.line, api: calleeName(o.map.call) ?? 'kmap' });
    }
  }
  return out;
}

const placesOf = (ps: readonly Partner[]) => ps.map((p) => `${p.fn}() (line ${p.line})`).join(', ');

export interface ScanOptions {
  api: KmapApi;
  config: EngineConfig;
  /** The tree's callee summaries (summaries/context.ts); without them callees of other files are only listed in `asks`. */
  callees?: CalleeSummaries;
}

export function scanFile(path: string, source: string, options: ScanOptions): FileScan {
  const { api, config } = options;
  const out: FileScan = { path, sites: [], findings: [], functions: 0 };
  const callees = options.callees ? { callees: options.callees } : { calleeAsks: new Set<string>() };
  // Files that only mention the API in passing (a comment, `bpf_kmap_...`) are not located or parsed.
  // (The searches are remembered: the functions and lines that call it are asked again below.)
  if (!matchSpans(source, MAPPING_CALL).length && !mentionsWrapper(api, source)) return out;
  const all = locateFunctions(source);
  const fns = all.filter((f) => !API_DEFINITION.test(f.name));
  const conversion = matchSpans(source, DEPRECATED_CALL).length ? convertFile(path, source, api, config, fns, callees) : null;
  const counters = new Map<string, number>();
  const push = (line: number, apiName: string, cls: SiteClass, reason: string, rule: string | null, fn: string | null, evidence: string[] = []) => {
    const k = `${fn ?? ''}\u0000${apiName}`;
    const n = counters.get(k) ?? 0;
    counters.set(k, n + 1);
    out.sites.push({ path, line, api: apiName, class: cls, reason, rule, function: fn, key: siteKey(path, fn, apiName, n), ...(evidence.length ? { evidence } : {}) });
  };

  const covered = new Set<number>();
  const partners = partnersAcrossFunctions(conversion?.plans ?? []);
  const evidenceOf = (ps: readonly Partner[] | undefined) => (ps ?? []).map((p) => `${path}:${p.line} ${p.api}() in ${p.fn}()`);
  for (const plan of conversion?.plans ?? []) {
    for (const g of plan.groups) {
      const calls = [...g.maps.map((m) => m.call), ...g.unmaps.map((u) => u.call)].sort((a, b) => a.start - b.start);
      for (const call of calls) {
        const name = calleeName(call) ?? 'kmap';
        covered.add(call.line);
        if (g.refusal) {
          // A map whose unmap is in another function of the file: the reason names where.
          const ps = partners.get(call);
          const where = ps ? `; its ${ps[0].api}() is in ${placesOf(ps)}` : '';
          push(call.line, name, g.refusal.class, refusalText(g.refusal) + where, g.refusal.rule ?? null, plan.fn.name, [...evidenceOf(ps), ...(g.refusal.evidence ?? [])]);
        } else push(call.line, name, 'ready', readyReason(g, name), null, plan.fn.name);
      }
    }
    for (const s of plan.strays) {
      covered.add(s.unmap.call.line);
      const ps = partners.get(s.unmap.call);
      const apiName = calleeName(s.unmap.call) ?? 'kunmap';
      if (s.unmap.api.family === 'kmap') {
        // One pair, one class: a kmap() whose kunmap() is in another function is blocked, so is the kunmap().
        const mapped = ps ? `the page kmap()ed in ${placesOf(ps)}` : 'a page kmap()ed in another function';
        push(s.unmap.call.line, apiName, 'blocked', `kunmap() of ${mapped}: ${KMAP_OUTLIVES.replace('the function', 'that function')}`, null, plan.fn.name, evidenceOf(ps));
      } else {
        const reason = ps ? `kunmap_atomic() of \`${normalizedText(s.unmap.arg!)}\`, where ${placesOf(ps)} stores a kmap_atomic() address: the map and unmap are in different functions; convert both ends together, keeping LIFO order` : s.refusal.reason;
        push(s.unmap.call.line, apiName, s.refusal.class, reason, null, plan.fn.name, evidenceOf(ps));
      }
    }
  }

  // Uses the function scan cannot see: macro bodies, initialisers, code outside kernel-style functions.
  if (conversion) {
    let blank: string[] | null = null;
    // Among all functions: a use inside the API's own definitions (highmem-internal.h) is not a site.
    const inFunction = (line: number) => all.find((f) => f.line <= line && line <= f.endLine);
    for (const line of linesMatching(source, DEPRECATED_CALL)) {
      if (covered.has(line)) continue;
      const i = line - 1;
      blank ??= blankCommentsAndStrings(source).split('\n'); // only when a candidate line exists
      const text = blank[i];
      for (const m of text.matchAll(/\b(kmap_atomic(?:_prot|_pfn)?|kunmap_atomic|kmap|kunmap)\s*\(/g)) {
        const before = text.slice(0, m.index);
        // Definitions and prototypes of the API itself, and `#define kmap(...)`.
        if (/#\s*define\s*$/.test(before) || /(?:\bvoid|\bstruct\s+\w+|\bint|\bunsigned\s+long)\s*\*?\s*$/.test(before)) continue;
        // A member call (`obj->kmap(...)`, `ops.kunmap(...)`) is a function pointer of that name, not the API.
        if (/(?:->|\.)\s*$/.test(before)) continue;
        const fn = inFunction(line);
        if (fn) {
          // A use inside a function the planner did not pair (an API wrapper's own body): still a use.
          if (API_DEFINITION.test(fn.name)) continue;
          push(line, m[1], 'needs-care', 'not a plain call the converter can pair (a macro argument, a function pointer, or an unparsed construct): convert by hand', null, fn.name);
        } else if (/^\s*#\s*define\b/.test(text) || /\\\s*$/.test(blank[i - 1] ?? '')) {
          push(line, m[1], 'needs-care', 'in a macro: every expansion site must be checked, convert by hand', null, null);
        } else {
          push(line, m[1], 'needs-care', 'outside any function the scanner recognises: convert by hand', null, null);
        }
      }
    }
  }
  out.sites.sort((a, b) => a.line - b.line);

  // Existing bugs in the mapping code as it is.
  // Rules run on existing mapping code: the ones that find bugs without a "before" (RuleTraits.existingCode).
  const rules = activeRules(config, 'existingCode');
  const byName = new Map<string, CFunction>(fns.filter((f) => !f.fragment).map((f) => [f.name, f]));
  const alreadyChecked = checkedByConversion(conversion?.plans ?? [], api, new Set(rules.map((r) => r.rule.meta.id)));
  const callers = functionsMatching(fns, source, MAPPING_CALL);
  for (const fn of fns) {
    // kmap_atomic() sections must be LIFO too: a wrong order there is an existing bug, reported as such.
    if (!callers.has(fn) && !mentionsWrapper(api, fn)) continue;
    out.functions++;
    if (alreadyChecked.has(fn.line)) continue;
    out.findings.push(...checkFunction(fn, { path, source, image: 'pre', isChanged: () => true, api, rules, fileFunctions: byName, ...callees }));
  }
  if (callees.calleeAsks?.size) out.asks = [...callees.calleeAsks].sort();
  return out;
}
