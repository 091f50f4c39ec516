import { declaredTypes, findMapSites, findUnmapSites, type MapSite } from '../mappings.js';
import type { CFunction } from '../source/functions.js';
import { addressBase, calleeName, callArguments, normalizedText, unwrap, type SyntaxNode } from '../syntax/ast.js';
import type { Rule, RuleContext } from './rule.js';

/** Calls that hand their arguments to another thread or context (work, kthreads, RCU, tasklets, timers, async I/O). */
const DEFERS = /^(?:queue_work\w*|queue_delayed_work\w*|schedule_work\w*|schedule_delayed_work\w*|mod_delayed_work\w*|queue_rcu_work|INIT_WORK|INIT_DELAYED_WORK|kthread_run\w*|kthread_create\w*|kthread_queue_work|call_rcu\w*|kfree_rcu|tasklet_init|tasklet_setup|tasklet_schedule\w*|timer_setup|mod_timer\w*|add_timer\w*|hrtimer_start\w*|irq_work_queue\w*|async_schedule\w*|complete|complete_all|submit_bio\w*|blk_execute_rq_nowait|kernel_sendmsg\w*|sock_sendmsg)$/;

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
  const all = findMapSites(pre.body, ctx.api);
  const fieldsOf = (family: (f: string) => boolean) => {
    const fields = new Set<string>();
    const vars = new Set<string>();
    for (const m of all) {
      if (!family(m.api.family)) continue;
      if (m.destination.kind === 'field') {
        const f = lastField(m.destination.node);
        if (f) fields.add(f);
      } else if (m.destination.kind === 'variable') vars.add(m.destination.name);
    }
    for (const a of pre.body.descendants('assignment_expression')) {
      const f = lastField(a.child('left')!);
      const base = addressBase(a.child('right')!);
      if (f && base && vars.has(base)) fields.add(f);
    }
    return fields;
  };
  // A field that also receives a kmap() address (long-lived, may be handed around) is no one-thread cursor.
  const global = fieldsOf((f) => f === 'kmap');
  for (const f of fieldsOf((f) => f === 'local' || f === 'atomic')) if (!global.has(f)) out.add(f);
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
    else if (cur.type === 'update_expression') cur = cur.child('argument'); // `*ptrptr++ = addr`
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


function escapesOf(ctx: RuleContext, site: MapSite, types: ReadonlyMap<string, string>, unmappedTexts: ReadonlySet<string>): Escape[] {
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
    traits: { blocksConversion: true },
    summary: 'A kmap_local_page()/kmap_atomic() address is stored where it outlives the function or handed to another context.',
    doc: `## What it finds
Addresses from \`kmap_local_page()\`, \`kmap_local_folio()\` or \`kmap_atomic()\` (directly or through the variable
holding them) that are stored into a struct field, a global or a static variable, or
passed to something that runs in another context (\`queue_work()\`, \`schedule_work()\`, \`kthread_run()\`,
\`call_rcu()\`, tasklets, timers, completions, async I/O submission), also through \`*p++ = addr\`. Returning the
address is not an escape: the mapping is handed to the caller, in the same thread, whatever the function is
called (mapping-leak and the caller's own checks judge what happens to it next). A field this function unmaps
itself is not reported, nor, in a conversion, a field that already held a \`kmap_atomic()\` address before the patch
(an iterator or buffer cursor such as \`walk->data\`, used by a map/unmap pair of helpers in one thread) unless the
same field is also given a \`kmap()\` address, which may be long-lived. \`kmap()\` addresses are never reported:
they are global and may be handed around.

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
    const seen = new Set<SyntaxNode>();
    for (const site of sites) {
      for (const e of escapesOf(ctx, site, types, unmapped)) {
        if (seen.has(e.node)) continue;
        seen.add(e.node);
        const name = calleeName(site.call)!;
        const atomic = site.api.family === 'atomic';
        ctx.report({
          node: e.node,
          message: `The ${name}() address of line ${site.call.line} ${e.how}`,
          detail: [
            'It outlives the thread that mapped it.',
            atomic ? 'A kmap_atomic() address is only valid on this CPU until kunmap_atomic().' : `A ${name}() address is only valid in this thread until its kunmap_local(), and cannot be handed to other contexts.`,
            'If this was a kmap() conversion, keep kmap()/kunmap() here (or let the user map the page itself), or use page_address() for a page that can never be in highmem.',
          ].join('\n'),
          trace: [
            { line: site.call.line, note: `${name}() maps the page for this thread only` },
            { line: e.node.line, note: `the address ${e.how}` },
          ],
        });
      }
    }
  },
};
