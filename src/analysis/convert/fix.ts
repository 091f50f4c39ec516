/**
 * `kmap-review fix`: converts the `ready` sites of files (the groups convertFile accepts, the same code
 * `scan` classifies with), lays the result out in kernel style, re-checks the laid-out file, and writes
 * git-style patches with a commit message. What is not converted is listed with the reason.
 */
import { checkFunction, verifyingRules } from '../rules/runner.js';
import type { EngineConfig, Finding } from '../model.js';
import { changedFileFromImages } from '../patch/line-diff.js';
import { unifiedDiff } from '../patch/unified-diff.js';
import { API_DEFINITION, type KmapApi } from '../kmap-api.js';
import { locateFunctions } from '../source/functions.js';
import { calleeName } from '../syntax/ast.js';
import type { OnDemandTree } from '../summaries/on-demand.js';
import { commitMessage, subjectPrefix, type FunctionChange } from './commit-message.js';
import { layoutText } from './layout.js';
import type { SiteClass } from './plan.js';
import { convertFile, DEPRECATED_CALL, type ConvertOptions, type FileConversion } from './verify.js';

export interface FixOptions extends ConvertOptions {
  api: KmapApi;
  config: EngineConfig;
  /** Convert only these functions (by name); default all. */
  functions?: readonly string[];
  /** The tree the file is in, for callee summaries across its files (summaries/on-demand.ts). */
  tree?: OnDemandTree;
}

/** One deprecated call, and what fix did with it. */
export interface FixSite {
  path: string;
  line: number;
  function: string | null;
  api: string;
  /** The scan class (without --add-pagefault-disable): what `scan` says about the site. */
  class: SiteClass;
  converted: boolean;
  /** What the conversion is, or why the site was left alone. */
  detail: string;
  rule: string | null;
}

export interface FixedFile {
  path: string;
  before: string;
  after: string;
  sites: FixSite[];
  changes: FunctionChange[];
  /** Findings on the laid-out file (must be empty: a non-empty list means the file was not changed). */
  recheck: Finding[];
}

/** Rules that do not judge a conversion (as in verify.ts). */

/**
 * Re-analyses the laid-out output against the original: every changed function, every rule with the
 * original function as counterpart. Findings other than notices are returned.
 */
export function recheckLayout(path: string, before: string, after: string, api: KmapApi, config: EngineConfig): Finding[] {
  const file = changedFileFromImages(path, path, before, after);
  const preList = locateFunctions(file.oldText).filter((f) => !f.fragment);
  const preFns = new Map(preList.map((f) => [f.name, f]));
  const postFns = locateFunctions(file.newText).filter((f) => !f.fragment);
  const byName = new Map(postFns.map((f) => [f.name, f]));
  const rules = verifyingRules(config);
  const out: Finding[] = [];
  for (const fn of postFns) {
    const pre = preFns.get(fn.name);
    if (pre && pre.text === fn.text) continue;
    if (fn.hasErrors && !(pre?.hasErrors ?? false)) {
      out.push({ rule: 'parse', severity: 'error', path, line: fn.line, endLine: fn.endLine, message: `the rewritten ${fn.name}() does not parse cleanly`, trace: [], fix: null, preExisting: false, fingerprint: '' });
      continue;
    }
    const found = checkFunction(fn, { path, source: file.newText, image: 'post', isChanged: (l) => file.addedLines.has(l), api, rules, fileFunctions: byName, ...(pre ? { counterpart: pre } : {}) }).filter((f) => f.severity !== 'notice');
    if (!found.length) continue;
    // What the original already had (an existing sleep in a spinlock section...) is not the rewrite's doing.
    const had = pre ? new Set(checkFunction(pre, { path, source: file.oldText, image: 'pre', isChanged: () => true, api, rules, fileFunctions: preFns }).map((f) => f.fingerprint)) : new Set<string>();
    out.push(...found.filter((f) => !had.has(f.fingerprint)));
  }
  return out;
}

function describe(g: FileConversion['plans'][number]['groups'][number], name: string): string {
  if (g.helper) return `replaced with ${g.helper}`;
  const pf = g.addsPagefaultDisable ? ', with pagefault_disable()/pagefault_enable() inside the mapping' : '';
  const re = g.reordered ? ', unmaps put in LIFO order' : '';
  if (name === 'kmap') return `${g.introduces ? `${g.introduces} = ` : ''}kmap_local_page()${re}`;
  if (name === 'kunmap') return `kunmap_local(${g.introduces ?? 'address'})${re}`;
  const to = name.replace('kmap_atomic_prot', 'kmap_local_page_prot').replace('kmap_atomic_pfn', 'kmap_local_pfn').replace('kmap_atomic', 'kmap_local_page').replace('kunmap_atomic', 'kunmap_local');
  return `${to}()${pf}${re}`;
}

/** Converts one file. `fix` without --add-pagefault-disable converts exactly the sites `scan` calls ready. */
export function fixFile(path: string, source: string, options: FixOptions): FixedFile {
  const { tree, ...rest } = options;
  return tree ? tree.run(path, (o) => fixFileWith(path, source, { ...rest, ...o })) : fixFileWith(path, source, rest);
}

function fixFileWith(path: string, source: string, options: FixOptions): FixedFile {
  const { api, config } = options;
  const empty: FixedFile = { path, before: source, after: source, sites: [], changes: [], recheck: [] };
  if (!DEPRECATED_CALL.test(source)) return empty;
  const fns = locateFunctions(source).filter((f) => !API_DEFINITION.test(f.name) && (!options.functions || options.functions.includes(f.name)));
  const conv = convertFile(path, source, api, config, fns, options);
  const sites: FixSite[] = [];
  const changes = new Map<string, FunctionChange>();
  for (const plan of conv.plans) {
    for (const g of plan.groups) {
      const calls = [...g.maps.map((m) => m.call), ...g.unmaps.map((u) => u.call)].sort((a, b) => a.start - b.start);
      for (const call of calls) {
        const name = calleeName(call) ?? 'kmap';
        const cls: SiteClass = g.refusal ? g.refusal.class : g.addsPagefaultDisable ? 'needs-care' : 'ready';
        const detail = g.refusal ? (g.refusal.rule ? `${g.refusal.reason} (line ${g.refusal.line})` : g.refusal.reason) : describe(g, name);
        sites.push({ path, line: call.line, function: plan.fn.name, api: name, class: cls, converted: !g.refusal, detail, rule: g.refusal?.rule ?? (g.addsPagefaultDisable ? 'lost-pagefault-disable' : null) });
      }
      if (g.refusal) continue;
      const c = changes.get(plan.fn.name) ?? { function: plan.fn.name, atomic: false, kmap: false, helpers: [], reordered: false, pagefault: false };
      if (g.maps.some((m) => m.api.family === 'atomic')) c.atomic = true;
      if (g.maps.some((m) => m.api.family === 'kmap')) c.kmap = true;
      if (g.helper) c.helpers.push(g.helper.slice(0, g.helper.indexOf('(')));
      if (g.reordered) c.reordered = true;
      if (g.addsPagefaultDisable) c.pagefault = true;
      changes.set(plan.fn.name, c);
    }
    for (const s of plan.strays) {
      sites.push({ path, line: s.unmap.call.line, function: plan.fn.name, api: calleeName(s.unmap.call) ?? 'kunmap', class: s.refusal.class, converted: false, detail: s.refusal.reason, rule: null });
    }
  }
  sites.sort((a, b) => a.line - b.line);
  if (!conv.edits.length) return { ...empty, sites };
  const after = layoutText(source, conv.edits);
  const recheck = recheckLayout(path, source, after, api, config);
  if (recheck.length) {
    // The laid-out file draws a finding the line-preserving check did not: convert nothing in it.
    for (const s of sites) {
      if (s.converted) {
        s.converted = false;
        s.class = 'needs-care';
        s.detail = `layout re-check: ${recheck[0].message} (line ${recheck[0].line})`;
        s.rule = recheck[0].rule;
      }
    }
    return { ...empty, sites, recheck };
  }
  return { path, before: source, after, sites, changes: [...changes.values()], recheck };
}

export interface PatchMessage {
  files: string[];
  subject: string;
  body: string;
  diff: string;
}

/** Groups changed files into patches: one per file, or one per subsystem (`subsystemOf`) with split. */
export function buildPatches(files: readonly FixedFile[], subsystemOf?: (path: string) => string): PatchMessage[] {
  const changed = files.filter((f) => f.after !== f.before);
  const groups = new Map<string, FixedFile[]>();
  for (const f of changed) {
    const key = subsystemOf ? subsystemOf(f.path) : f.path;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups.values()].map((fs) => {
    const { subject, body } = commitMessage({ prefix: subjectPrefix(fs.map((f) => f.path)), files: fs.map((f) => f.path), changes: fs.flatMap((f) => f.changes) });
    return { files: fs.map((f) => f.path), subject, body, diff: fs.map((f) => unifiedDiff(f.path, f.before, f.after)).join('') };
  });
}

/** A series of patches in `git format-patch` mbox form (what `git am` applies). */
export function renderSeries(patches: readonly PatchMessage[], author = 'kmap-review <kmap-review@invalid>'): string {
  return patches
    .map((p, i) => {
      const n = patches.length > 1 ? `[PATCH ${i + 1}/${patches.length}]` : '[PATCH]';
      const stat = p.files.map((f) => ` ${f}`).join('\n');
      return `From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: ${author}\nSubject: ${n} ${p.subject}\n\n${p.body}\n---\n${stat}\n\n${p.diff}-- \nkmap-review\n`;
    })
    .join('\n');
}

/**
 * For the App's tree check run: the patch (an mbox series, one patch per file) converting the `ready`
 * sites of the given files, and how many sites it converts. Files that do not mention the API cost a
 * byte search.
 */
export function fixPatchForSites(files: ReadonlyArray<{ path: string; text: string }>, options: FixOptions): { patch: string; converted: number; files: number } {
  const fixed = files.map((f) => fixFile(f.path, f.text, { ...options, addPagefaultDisable: false }));
  const patches = buildPatches(fixed);
  return { patch: patches.length ? renderSeries(patches) : '', converted: fixed.reduce((n, f) => n + (f.after !== f.before ? f.sites.filter((s) => s.converted).length : 0), 0), files: patches.length };
}
