import { linesOf } from '../source/lines.js';
import { declaredTypes, findMapSites, findUnmapSites, type MapSite } from '../mappings.js';
import type { CFunction } from '../source/functions.js';
import { addressBase, calleeName, callArguments, normalizedText, unwrap, type SyntaxNode } from '../syntax/ast.js';
import type { Rule, RuleContext } from './rule.js';

/** Calls that hand their arguments to another thread or context (work, kthreads, RCU, tasklets, timers, async I/O). */
const DEFERS = /^(?:queue_work\w*|queue_delayed_work\w*|schedule_work\w*|schedule_delayed_work\w*|mod_delayed_work\w*|queue_rcu_work|INIT_WORK|INIT_DELAYED_WORK|kthread_run\w*|kthread_create\w*|kthread_queue_work|call_rcu\w*|kfree_rcu|tasklet_init|tasklet_setup|tasklet_schedule\w*|timer_setup|mod_timer\w*|add_timer\w*|hrtimer_start\w*|irq_work_queue\w*|async_schedule\w*|complete|complete_all|submit_bio\w*|blk_execute_rq_nowait|kernel_sendmsg\w*|sock_sendmsg)$/;

/** Named as a map helper: returns the address and its callers unmap (`*_map_page`, `*_kmap*`, `*get_page*`). */
const MAP_HELPER_NAME = /kmap|(?:^|_)map(?:_|$)|map_page|get_page|get_folio|_get$|get_addr|page_addr|_vaddr$/i;

function isMapHelper(ctx: RuleContext): boolean {
  if (MAP_HELPER_NAME.test(ctx.fn.name)) return true;
  // Documented as one: the comment right above the function says the caller unmaps.
  const lines = linesOf(ctx.source);
  let l = ctx.fn.line - 2;
  while (l >= 0 && lines[l].trim() === '') l--;
  if (l < 0 || !/\*\/\s*$/.test(lines[l])) return false;
  const end = l;
  while (l >= 0 && !/\/\*/.test(lines[l])) l--;
  return /\b(?:k?unmap\w*|put_page|caller must|callers? (?:must|should) (?:un)?map)/i.test(lines.slice(Math.max(l, 0), end + 1).join('\n'));
}

/** Calls that release a mapping they are given, besides the kernel's unmap calls (folio_release_kmap(), *_put_page(addr)...). */
const RELEASE_LIKE = /k?unmap|release_kmap|put_page|put_folio|unmap_page|put_metabuf/i;

/**
 * True when callers of this function in the same file unmap the address it returns: a caller keeps the
 * result in a variable and later hands that variable to an unmap (or unmap-like helper).
 */

function callersUnmap(ctx: RuleContext): boolean {
  const lines = linesOf(ctx.source);
  const mention = new RegExp(`\\b${ctx.fn.name}\\s*\\(`);
  for (const caller of ctx.fileFunctions.values()) {
    if (caller.line === ctx.fn.line) continue;
    const callerText = lines.slice(caller.line - 1, caller.endLine).join('\n');
    // Only a caller that calls this function and releases something can unmap its result: skip parsing the rest.
    if (!mention.test(callerText) || !RELEASE_LIKE.test(callerText)) continue;
    let body: SyntaxNode;
    try {
      body = caller.body; // parsed on first use; a caller that does not parse is skipped
    } catch {
      continue;
    }
    for (const call of body.descendants('call_expression')) {
      if (calleeName(call) !== ctx.fn.name) continue;
      let cur = call;
      while (cur.parent && (cur.parent.type === 'parenthesized_expression' || cur.parent.type === 'cast_expression')) cur = cur.parent;
      const p = cur.parent;
      let v: string | null = null;
      if (p?.type === 'assignment_expression' && p.child('right') === cur) v = addressBase(p.child('left')!);
      else if (p?.type === 'init_declarator' && p.child('value') === cur) {
        let d: SyntaxNode | null = p.child('declarator');
        while (d && d.type !== 'identifier') d = d.child('declarator');
        v = d?.text ?? null;
      }
      if (!v) continue;
      // What the caller releases: the returned address, or a page/folio the helper handed back through `&x`.
      const handles = new Set([v]);
      for (const a of callArguments(call)) {
        const u = unwrap(a);
        if (u.type === 'pointer_expression' && u.child('operator')?.text === '&') {
          const b = addressBase(u.child('argument')!);
          if (b) handles.add(b);
        }
      }
      const released = body.descendants('call_expression').some((c) => c.start > call.end && (ctx.api.unmap(calleeName(c)) || RELEASE_LIKE.test(calleeName(c) ?? '')) && callArguments(c).some((a) => handles.has(addressBase(a) ?? '')));
      if (released) return true;
    }
  }
  return false;
}

/** The name of the last field of an lvalue: `walk->data` -> data. */
function lastField(n: SyntaxNode): string | null {
  const u = unwrap(n);
  return u.type === 'field_expression' ? u.child('field')?.text ?? null : null;
}

/**
 * Fields the pre-image already kept a kmap_atomic()/kmap_local address in (`walk->data = kmap_atomic(...)`):
 * the struct is a cursor used by a map/unmap pair of helpers in one thread (an iterator, a buffer), which a
 * kmap_atomic() address was already confined to. Converting such a store is not an escape the patch adds.
 */
function fieldsAlreadyLocal(ctx: RuleContext): Set<string> {
  const out = new Set<string>();
  const pre = ctx.counterpart;
  if (!pre) return out;
  const sites = findMapSites(pre.body, ctx.api).filter((m) => m.api.family === 'local' || m.api.family === 'atomic');
  const vars = new Set<string>();
  for (const m of sites) {
    if (m.destination.kind === 'field') {
      const f = lastField(m.destination.node);
      if (f) out.add(f);
    } else if (m.destination.kind === 'variable') vars.add(m.destination.name);
  }
  for (const a of pre.body.descendants('assignment_expression')) {
    const f = lastField(a.child('left')!);
    const base = addressBase(a.child('right')!);
    if (f && base && vars.has(base)) out.add(f);
  }
  return out;
}

interface Escape {
  node: SyntaxNode;
  how: string;
}

function isStaticLocal(fn: CFunction, name: string): boolean {
  return fn.body.descendants('declaration').some((d) =>
    d.children.some((c) => c.type === 'storage_class_specifier' && c.text === 'static') && d.descendants('identifier').some((i) => i.text === name && i.parent?.type !== 'call_expression'),
  );
}

function baseIdentifier(n: SyntaxNode): SyntaxNode | null {
  let cur: SyntaxNode | null = unwrap(n);
  while (cur && cur.type !== 'identifier') {
    if (cur.type === 'field_expression') cur = cur.child('argument');
    else if (cur.type === 'subscript_expression') cur = cur.child('argument');
    else if (cur.type === 'pointer_expression') cur = cur.child('argument');
    else if (cur.type === 'parenthesized_expression' || cur.type === 'cast_expression') cur = unwrap(cur);
    else return null;
    if (cur) cur = unwrap(cur);
  }
  return cur;
}

/** Where an lvalue lives, when storing an address there makes it outlive this thread's use; null when it is a local. */
function storageOf(ctx: RuleContext, lhs: SyntaxNode, types: ReadonlyMap<string, string>, unmappedTexts: ReadonlySet<string>): string | null {
  const l = unwrap(lhs);
  const text = normalizedText(l);
  const base = baseIdentifier(l);
  if (!base) return null;
  const declared = types.get(base.text);
  const isStatic = isStaticLocal(ctx.fn, base.text);
  if (l.type === 'identifier' || (l.type === 'subscript_expression' && declared?.includes('[]'))) {
    if (isStatic) return `the static variable '${base.text}'`;
    if (declared === undefined) return `the global '${base.text}'`;
    return null;
  }
  if (l.type === 'field_expression' || l.type === 'pointer_expression' || l.type === 'subscript_expression') {
    if (unmappedTexts.has(text)) return null; // stored, then unmapped through the same place in this function
    const field = lastField(l);
    if (field && unmappedFields(ctx).has(field)) return null; // the pre-image already kept a thread-local address there
    // A field of a struct on this function's stack lives no longer than the function.
    if (declared !== undefined && !declared.includes('*') && !declared.includes('[]') && !isStatic && l.type === 'field_expression') return null;
    if (declared !== undefined && declared.includes('[]') && !declared.includes('*') && !isStatic) return null; // local array
    if (declared === undefined) return `'${text}' (global data)`;
    return l.type === 'field_expression' ? `the struct field '${text}'` : `'${text}', memory the caller can see`;
  }
  return null;
}

const fieldCache = new WeakMap<RuleContext, Set<string>>();
function unmappedFields(ctx: RuleContext): Set<string> {
  let s = fieldCache.get(ctx);
  if (!s) fieldCache.set(ctx, (s = fieldsAlreadyLocal(ctx)));
  return s;
}

function escapesOf(ctx: RuleContext, site: MapSite, isHelper: () => boolean, types: ReadonlyMap<string, string>, unmappedTexts: ReadonlySet<string>): Escape[] {
  const out: Escape[] = [];
  const d = site.destination;
  let alias: string | null = null;
  if (d.kind === 'field') {
    const where = storageOf(ctx, d.node, types, unmappedTexts);
    if (where) out.push({ node: d.node, how: `is stored into ${where}` });
  } else if (d.kind === 'variable') {
    const where = storageOf(ctx, d.node, types, unmappedTexts);
    if (where) out.push({ node: d.node, how: `is stored into ${where}` });
    else if (d.node.type === 'identifier') alias = d.name;
  } else if (d.kind === 'return') {
    if (!isHelper()) out.push({ node: site.statement, how: 'is returned to the caller' });
  } else if (d.kind === 'argument' && DEFERS.test(calleeName(d.call) ?? '')) {
    out.push({ node: d.call, how: `is passed to ${calleeName(d.call)}(), which runs its work in another context` });
  }
  if (!alias) return out;
  const v = alias;
  const refersTo = (e: SyntaxNode) => addressBase(e) === v;
  ctx.fn.body.walk((n) => {
    if (n.end <= site.call.end) return n.start < site.call.end ? undefined : false;
    if (n.type === 'assignment_expression' && n.child('operator')?.text === '=' && refersTo(n.child('right')!)) {
      const where = storageOf(ctx, n.child('left')!, types, unmappedTexts);
      if (where) out.push({ node: n.child('left')!, how: `is stored into ${where}` });
    } else if (n.type === 'init_declarator' && n.child('value') && refersTo(n.child('value')!) && n.parent && n.parent.children.some((c) => c.type === 'storage_class_specifier' && c.text === 'static')) {
      out.push({ node: n, how: 'is stored into a static variable' });
    } else if (n.type === 'return_statement' && n.namedChildren[0] && refersTo(n.namedChildren[0]) && !isHelper()) {
      out.push({ node: n, how: 'is returned to the caller' });
    } else if (n.type === 'call_expression' && DEFERS.test(calleeName(n) ?? '') && callArguments(n).some((a) => a.descendants('identifier').some((i) => i.text === v))) {
      out.push({ node: n, how: `is passed to ${calleeName(n)}(), which runs its work in another context` });
    }
  });
  return out;
}

export const mappingEscapes: Rule = {
  meta: {
    id: 'mapping-escapes',
    severity: 'error',
    summary: 'A kmap_local_page()/kmap_atomic() address is stored, returned or handed to another context.',
    doc: `## What it finds
Addresses from \`kmap_local_page()\`, \`kmap_local_folio()\` or \`kmap_atomic()\` (directly or through the variable
holding them) that are stored into a struct field, a global or a static variable, returned to the caller, or
passed to something that runs in another context (\`queue_work()\`, \`schedule_work()\`, \`kthread_run()\`,
\`call_rcu()\`, tasklets, timers, completions, async I/O submission). Map helpers are exempt from the return check:
functions named like \`*_map_page()\`, \`*_kmap*()\`, \`*_get_page()\`, or documented as returning an address their
callers unmap, and functions whose callers in the same file pass the returned address to an unmap
(\`kunmap_local()\`, \`folio_release_kmap()\`, ...) or release the page it handed back through a pointer argument
(\`lf = get_name(sb, de, &folio); ... put_name_folio(folio);\`). A field this function unmaps itself is not reported, nor, in a conversion, a field that
already held a \`kmap_atomic()\` address before the patch (an iterator or buffer cursor such as \`walk->data\`, used by a
map/unmap pair of helpers in one thread): the patch does not make that address any less confined.
\`kmap()\` addresses are never reported: they are global and may be handed around.

## Why it matters
Documentation/mm/highmem.rst: local mappings "are only valid in the context of the caller and cannot be handed
to other contexts", and "it is necessary to make sure that the kernel virtual memory pointer is only valid in the
thread that obtained it" when converting \`kmap()\`. A \`kmap()\` whose address lives in \`obj->vaddr\` cannot simply
become \`kmap_local_page()\`: another thread, a work item or a later call may use the address after the mapping
slot was reused, and on HIGHMEM that reads or writes another page.

## Example
\`\`\`c
	obj->vaddr = kmap_local_page(obj->page);    /* was kmap(obj->page) */
	schedule_work(&obj->work);                   /* the worker reads obj->vaddr */
\`\`\`

## Fix
Keep \`kmap()\`/\`kunmap()\` for mappings that outlive the function or cross contexts, map inside the worker
itself with \`kmap_local_page()\`, or use \`page_address()\` when the page can never be in highmem
(\`alloc_page(GFP_KERNEL)\` without \`__GFP_HIGHMEM\`).`,
  },

  check(ctx) {
    const sites = findMapSites(ctx.fn.body, ctx.api).filter((s) => s.api.family === 'local' || s.api.family === 'atomic');
    if (!sites.length) return;
    const types = declaredTypes(ctx.fn.node);
    const unmapped = new Set(findUnmapSites(ctx.fn.body, ctx.api).flatMap((u) => (u.argBase ? [u.argBase] : [])));
    // Only asked when an address is returned (it reads the comment above and every caller in the file).
    let helper: boolean | undefined;
    const isHelper = () => (helper ??= isMapHelper(ctx) || callersUnmap(ctx));
    const seen = new Set<SyntaxNode>();
    for (const site of sites) {
      for (const e of escapesOf(ctx, site, isHelper, types, unmapped)) {
        if (seen.has(e.node)) continue;
        seen.add(e.node);
        const name = calleeName(site.call)!;
        const what = site.api.family === 'atomic' ? 'a kmap_atomic() address is only valid on this CPU until kunmap_atomic()' : `a ${name}() address is only valid in this thread, until the matching kunmap_local(), and cannot be handed to other contexts`;
        ctx.report({
          node: e.node,
          message: `The address mapped by ${name}() at line ${site.call.line} ${e.how}, but ${what}. If this was a kmap() conversion, the mapping needs to stay kmap()/kunmap() (or the user must map the page itself with kmap_local_page()), or use page_address() if the page can never be in highmem.`,
          trace: [
            { line: site.call.line, note: `${name}() maps the page for this thread only` },
            { line: e.node.line, note: `the address ${e.how}` },
          ],
        });
      }
    }
  },
};
