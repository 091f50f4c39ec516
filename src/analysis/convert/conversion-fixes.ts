/**
 * The stage after the rules that gives each `deprecated-api` finding in a whole function the exact fix
 * `kmap-review fix` would make: the function is converted in memory with the review's configuration and
 * re-analysed (verify.ts), and only a site classified `ready` gets its conversion as the fix. A site that
 * is not ready gets none, whatever the rule offered. Fragments (hunks without their function) keep the
 * rule's own rename, if it offered one.
 */
import { calleeName, type SyntaxNode } from '../syntax/ast.js';
import { DEPRECATED_REPLACEMENTS, type KmapApi } from '../kmap-api.js';
import type { EngineConfig, Finding, Fix, LineEdit } from '../model.js';
import type { CFunction } from '../source/functions.js';
import type { ConversionGroup } from './plan.js';
import { BREAK, applyEditsByLine } from './text-edits.js';
import { convertFile, type FileConversion } from './verify.js';

/** The accepted (verified) conversion group of a call, from converting the function alone. */
function groupOf(conv: FileConversion, call: SyntaxNode): ConversionGroup | null {
  for (const plan of conv.plans) {
    for (const g of plan.groups) {
      if (g.refusal) continue;
      if ([...g.maps.map((m) => m.call), ...g.unmaps.map((u) => u.call)].some((c) => c.line === call.line && c.start === call.start)) return g;
    }
  }
  return null;
}

/** A group's edits as whole-line replacements (a line the edits empty is deleted; a BREAK starts a line). */
function lineEdits(source: string, g: ConversionGroup, only?: number): LineEdit[] {
  const edited = applyEditsByLine(source, g.edits, BREAK);
  const original = source.split('\n');
  const lines = [...new Set(g.edits.map((e) => e.line))].filter((l) => only === undefined || l === only).sort((a, b) => a - b);
  return lines.map((l) => {
    const pieces = edited[l - 1].split(BREAK).map((p) => p.replace(/[ \t]+$/, ''));
    const emptied = pieces.length === 1 && pieces[0].trim() === '' && original[l - 1].trim() !== '';
    return { startLine: l, endLine: l, replacement: emptied ? '' : pieces.join('\n') };
  });
}

/** The fix of a deprecated call whose conversion `kmap-review fix` would make (the site is `ready`), or null. */
function verifiedFix(path: string, source: string, call: SyntaxNode, conv: FileConversion): Fix | null {
  const g = groupOf(conv, call);
  if (!g) return null;
  const simple = !g.helper && !g.reordered && !g.introduces && g.maps.every((m) => m.api.family === 'atomic');
  const edits = lineEdits(source, g, simple ? call.line : undefined);
  if (!edits.length) return null;
  const name = calleeName(call)!;
  const description = g.helper
    ? `Replace the open-coded section with ${g.helper}`
    : simple
      ? `Replace ${name}() with ${DEPRECATED_REPLACEMENTS[name]}()`
      : `Convert to kmap_local_page()/kunmap_local()${g.reordered ? ', unmapping in LIFO order' : ''}`;
  return { description, path, edits };
}

/** Replaces the fixes of `fn`'s deprecated-api findings with the verified conversion (or none). */
export function attachConversionFixes(findings: Finding[], fn: CFunction, ctx: { path: string; source: string; api: KmapApi; config: EngineConfig }): void {
  if (fn.fragment) return;
  const mine = findings.filter((f) => f.rule === 'deprecated-api' && f.function === fn.name);
  if (!mine.length) return;
  const conv = convertFile(ctx.path, ctx.source, ctx.api, ctx.config, [fn]);
  const calls = fn.body.descendants('call_expression').filter((c) => { const n = calleeName(c); return !!n && n in DEPRECATED_REPLACEMENTS; });
  const used = new Set<SyntaxNode>();
  for (const f of mine) {
    const call = calls.find((c) => c.line === f.line && !used.has(c));
    if (!call) continue;
    used.add(call);
    f.fix = verifiedFix(ctx.path, ctx.source, call, conv);
  }
}
