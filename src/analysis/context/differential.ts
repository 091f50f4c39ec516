/**
 * The differential: calls that need a context (page faults or preemption disabled) which the
 * pre-image gave them on every path and the post-image no longer gives on some path.
 *
 * Calls are matched across the images by their normalized text and occurrence (the k-th
 * `__copy_from_user_inatomic(kaddr, uaddr, PAGE_SIZE)` of the post-image is the k-th of the
 * pre-image), falling back to the callee name and occurrence when the arguments changed.
 */
import type { CFunction } from '../source/functions.js';
import { calleeName, type SyntaxNode } from '../syntax/ast.js';
import type { NeedKind } from './atomic-api.js';
import { analyseContext, type FunctionContext, type Hold } from './dataflow.js';
import { needSites, satisfiedBy, siteKey, type CalleeOptions, type NeedSite } from './sites.js';

export interface LostContext {
  /** The post-image site that now runs without the context. */
  site: NeedSite;
  /** Its pre-image counterpart, and the section that gave it the context there. */
  preSite: NeedSite;
  preHold: Hold;
  /** Sections still open at the post-image site (none of them gives the needed context). */
  postHolds: readonly Hold[];
}

function occurrence(sites: NeedSite[], key: (s: NeedSite) => string): Map<NeedSite, [string, number]> {
  const count = new Map<string, number>();
  const out = new Map<NeedSite, [string, number]>();
  for (const s of sites) {
    const k = key(s);
    const n = count.get(k) ?? 0;
    count.set(k, n + 1);
    out.set(s, [k, n]);
  }
  return out;
}

const byName = (s: NeedSite) => `${calleeName(s.call) ?? s.call.type}\u0000${s.need.kind}`;

export function lostContexts(post: CFunction, pre: CFunction, fileFunctions: ReadonlyMap<string, CFunction>, kind: NeedKind, opts: CalleeOptions = {}): LostContext[] {
  // Only a pre-image site inside a section can have lost its context, and sites are matched across the
  // images by text or by callee name (with their occurrence): in the pre-image, callees are followed only
  // for the calls named like a call inside a section. Sites of other names can neither be lost nor shift
  // the occurrence count of those names.
  let preCtx: FunctionContext | null = null;
  const followInPre = (): CalleeOptions => {
    preCtx ??= analyseContext(pre);
    const names = new Set<string>();
    for (const c of preCtx.calls) {
      const name = c.holds.length ? calleeName(c.call) : null;
      if (name) names.add(name);
    }
    return { ...opts, followInSections: { alsoNamed: names } };
  };
  let preSites: NeedSite[];
  let postSites: NeedSite[];
  if (opts.tree || opts.asks) {
    // The pre-image first: its calls inside atomic sections are the ones whose callees the tree is asked
    // about, and the post-image (where the sections are gone) asks about the same callees. A post-image call
    // can only pair with a pre-image site of its name: the same names are followed there (and the calls
    // inside a section, whose callees the tree is asked about).
    const follow = followInPre();
    preSites = needSites(pre, fileFunctions, kind, follow);
    if (!preSites.length) return [];
    const alsoAsk = new Set(preSites.flatMap((s) => (s.via ? [calleeName(s.call) ?? ''] : [])));
    postSites = needSites(post, fileFunctions, kind, { ...follow, alsoAsk });
    if (!postSites.length) return [];
  } else {
    // The file alone: the post-image first, since most converted sections need nothing and the pre-image's
    // data flow is then never needed.
    postSites = needSites(post, fileFunctions, kind, opts);
    if (!postSites.length) return [];
    preSites = needSites(pre, fileFunctions, kind, followInPre());
    if (!preSites.length) return [];
  }
  preCtx ??= analyseContext(pre);
  const postCtx = analyseContext(post);

  const preByText = new Map<string, NeedSite>();
  for (const [s, [k, n]] of occurrence(preSites, siteKey)) preByText.set(`${k}\u0001${n}`, s);
  const preByName = new Map<string, NeedSite>();
  for (const [s, [k, n]] of occurrence(preSites, byName)) preByName.set(`${k}\u0001${n}`, s);
  const postText = occurrence(postSites, siteKey);
  const postName = occurrence(postSites, byName);

  const out: LostContext[] = [];
  for (const site of postSites) {
    const c = postCtx.at(site.call);
    if (!c || !c.reached) continue;
    if (satisfiedBy(site.need, calleeName(site.call), c.holds)) continue;
    const [tk, tn] = postText.get(site)!;
    const [nk, nn] = postName.get(site)!;
    const preSite = preByText.get(`${tk}\u0001${tn}`) ?? preByName.get(`${nk}\u0001${nn}`);
    if (!preSite) continue;
    const pc = preCtx.at(preSite.call);
    if (!pc || !pc.reached) continue;
    const preHold = satisfiedBy(preSite.need, calleeName(preSite.call), pc.holds);
    if (!preHold) continue;
    out.push({ site, preSite, preHold, postHolds: c.holds });
  }
  return out;
}

/**
 * The post-image mapping call whose section a site sits in: the last local/atomic map call before it
 * in the function (by position), for the trace.
 */
export function enclosingMapCall(fn: CFunction, at: SyntaxNode, isMap: (call: SyntaxNode) => boolean): SyntaxNode | null {
  let best: SyntaxNode | null = null;
  for (const call of fn.body.descendants('call_expression')) if (call.start < at.start && isMap(call) && (!best || call.start > best.start)) best = call;
  return best;
}
