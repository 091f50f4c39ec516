// Mutation bench: recall of the replay rules on bugs put into real kernel conversions.
//
// From each of the 158 corpus conversions (../shared/corpus/build.sh: Linux 6.1 -> 6.12, a
// conversion.patch against the 6.1 tree), the converted function's post-image is mutated one bug at a
// time, in the ways conversions have gone wrong in practice (kmap-rules C1, C4, C7, C7b):
//   dup-unmap        an unmap statement duplicated                          -> double-unmap
//   early-return     `if (fatal_signal_pending(current)) return ...;` right after a map -> mapping-leak
//   return-before-unmap the same early return right before an unmap of a mapping made in the function -> mapping-leak
//   dup-unmap-later  an unmap statement duplicated after the statement that follows it -> double-unmap
//   unmap-deleted    an unmap of a mapping made in the function deleted                 -> mapping-leak
//   swap-unmaps      two adjacent unmaps of nested mappings swapped         -> unmap-order
//   unmap-before-use an unmap moved above the last statement using the address -> use-after-unmap
//   half-unmap       kunmap_local() of a kmap_local_page() address reverted to kunmap_atomic() -> mismatched-unmap
//   half-map         kmap_local_page() reverted to kmap_atomic(), its kunmap_local() kept     -> mismatched-unmap
//   unmap-by-page    kunmap_local(addr) replaced by kunmap(page)             -> mismatched-unmap
//   page-to-local    kunmap_local(addr) given the page instead              -> unmap-page
//   cursor-advanced  the address advanced by PAGE_SIZE before its unmap      -> unmap-outside-page
// and, for the atomic-context rules, the same statement put into both images of the converted section
// (code that relied on kmap_atomic()'s side effects, kmap-rules C2/C3):
//   relies-nofault   __copy_from_user_inatomic() in the section             -> lost-pagefault-disable
//   relies-percpu    __this_cpu_inc() in the section                         -> lost-preempt-disable
//   relies-via-helper a same-file static helper doing the inatomic copy, called in the section -> lost-pagefault-disable
//   kept-nofault     as relies-nofault, the conversion adding pagefault_disable()/enable() around it -> silent
//   kept-percpu      as relies-percpu, with preempt_disable()/enable() around it                  -> silent
// Each mutant is reviewed as the patch "6.1 file -> mutated post-image" (whole files, as with --tree); the
// context mutants as "mutated 6.1 file -> mutated post-image".
// A mutant counts as found when its class's rule reports a finding the patch introduces in the mutated
// function; a mutant not found is "noted" when the review says, for that function, what it could not decide
// (a gap: an address passed to code the file does not show), and silent otherwise. The unmutated
// conversions are reviewed too: any error there is a false alarm.
//
// usage: npm run build && node bench/mutants.mjs [--corpus DIR] [--class NAME] [--misses] [--json]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { analyze } from '../dist/analysis/engine.js';
import { KmapApi } from '../dist/analysis/kmap-api.js';
import { findMapSites, findUnmapSites } from '../dist/analysis/mappings.js';
import { changedFileFromImages } from '../dist/analysis/patch/line-diff.js';
import { loadChangeSets } from '../dist/analysis/patch/load.js';
import { locateFunctions } from '../dist/analysis/source/functions.js';
import { initParser } from '../dist/analysis/syntax/parser.js';

const { values } = parseArgs({
  options: {
    corpus: { type: 'string', default: process.env.KMAP_CORPUS ?? '/tmp/kmap-corpus' },
    class: { type: 'string' },
    misses: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const corpus = values.corpus;
const tree = join(corpus, 'trees', 'linux-6.1');
const dir = join(corpus, 'conversions');
if (!existsSync(join(dir, 'index.json'))) {
  process.stderr.write(`mutants: no corpus at ${corpus}; build it with ../shared/corpus/build.sh\n`);
  process.exit(2);
}

await initParser();
const api = new KmapApi();
const STACK = new Set(['local', 'atomic']);

/** The statement directly inside a block (compound or case), or null. */
function blockStatement(n) {
  let s = n;
  while (s.parent && s.parent.type !== 'compound_statement' && s.parent.type !== 'case_statement') {
    if (['if_statement', 'for_statement', 'while_statement', 'do_statement', 'switch_statement', 'labeled_statement', 'else_clause'].includes(s.parent.type)) return null;
    s = s.parent;
  }
  return s.parent ? s : null;
}

/** True when the statement is alone on its line(s). */
function ownLines(lines, s) {
  const first = lines[s.line - 1];
  const last = lines[s.endLine - 1];
  const text = s.text;
  return first.trim().startsWith(text.split('\n')[0].trim()) && last.trim().endsWith(text.split('\n').pop().trim()) && (s.line !== s.endLine || first.trim() === text.trim());
}

const indentOf = (line) => /^\s*/.exec(line)[0];

function returnValue(fn) {
  const t = fn.returnType.replace(/\b(?:static|inline|__always_inline|noinline|__must_check)\b/g, '').trim();
  if (/^void\s*$/.test(t)) return 'return;';
  if (t.includes('*')) return 'return NULL;';
  if (/\bbool\b/.test(t)) return 'return false;';
  if (/^(?:int|long|ssize_t|loff_t|s32|s64)\s*$/.test(t)) return 'return -EINTR;';
  if (/^(?:unsigned|u8|u16|u32|u64|size_t|__wsum|__u32|vm_fault_t|blk_status_t|__le32|__be32|uint\w*)/.test(t)) return 'return 0;';
  return null;
}

/** Names the address of a map site is held in, when it is a plain local variable. */
function mapVariable(site) {
  return site.destination.kind === 'variable' && /^[A-Za-z_]\w*$/.test(site.destination.name) ? site.destination.name : null;
}

/**
 * The statement after which a mutant goes in right after a map: the map's statement, or the declarations
 * that follow it (kernel style keeps them first); null when either is not alone on its lines.
 */
function insertionPointAfterMap(m, lines) {
  const first = blockStatement(m.call);
  if (!first || !ownLines(lines, first)) return null;
  const sib = first.parent.namedChildren;
  let i = sib.indexOf(first);
  while (sib[i + 1] && sib[i + 1].type === 'declaration') i++;
  return ownLines(lines, sib[i]) ? sib[i] : null;
}

function mutantsOf(fn, lines) {
  const out = [];
  const body = fn.body;
  const maps = findMapSites(body, api).filter((m) => STACK.has(m.api.family));
  const unmaps = findUnmapSites(body, api).filter((u) => STACK.has(u.api.family) && !u.api.takesPage);
  const mapOf = (name, before) => maps.filter((m) => mapVariable(m) === name && m.call.end <= before).pop();
  const edit = (f) => {
    const copy = [...lines];
    const expectLine = f(copy);
    return { lines: copy, expectLine };
  };
  const unmapStmt = (u) => {
    const s = blockStatement(u.call);
    return s && s.type === 'expression_statement' && s.line === s.endLine && ownLines(lines, s) ? s : null;
  };

  const ret = returnValue(fn);
  for (const u of unmaps) {
    const s = unmapStmt(u);
    if (!s) continue;
    const line = lines[s.line - 1];
    out.push({ cls: 'dup-unmap', rule: 'double-unmap', at: s.line, ...edit((c) => (c.splice(s.line, 0, line), s.line + 1)) });
    // The duplicate one statement further on: the release is followed across what comes between.
    const next = s.parent.namedChildren[s.parent.namedChildren.indexOf(s) + 1];
    if (next && next.type === 'expression_statement' && ownLines(lines, next)) {
      out.push({ cls: 'dup-unmap-later', rule: 'double-unmap', at: next.endLine + 1, ...edit((c) => (c.splice(next.endLine, 0, line), next.endLine + 1)) });
    }
    const m = u.argBase ? mapOf(u.argBase, u.call.start) : undefined;
    if (!m) continue;
    // (A leak is reported where the function returns; its trace starts at the map.)
    out.push({ cls: 'unmap-deleted', rule: 'mapping-leak', at: m.call.line, ...edit((c) => ((c[s.line - 1] = ''), m.call.line)) });
    if (ret) {
      const ind = indentOf(line);
      out.push({
        cls: 'return-before-unmap', rule: 'mapping-leak', at: s.line + 1,
        ...edit((c) => (c.splice(s.line - 1, 0, `${ind}if (fatal_signal_pending(current))`, `${ind}\t${ret}`), s.line + 1)),
      });
    }
    const holder = u.argBase;
    if (m.api.family === 'local' && u.api.name === 'kunmap_local') {
      out.push({ cls: 'half-unmap', rule: 'mismatched-unmap', at: s.line, ...edit((c) => ((c[s.line - 1] = line.replace('kunmap_local', 'kunmap_atomic')), s.line)) });
      if (m.api.name === 'kmap_local_page' && m.page && m.call.line === m.call.endLine) {
        const page = m.page.text;
        out.push({ cls: 'unmap-by-page', rule: 'mismatched-unmap', at: s.line, ...edit((c) => ((c[s.line - 1] = `${indentOf(line)}kunmap(${page});`), s.line)) });
        out.push({ cls: 'page-to-local', rule: 'unmap-page', at: s.line, ...edit((c) => ((c[s.line - 1] = `${indentOf(line)}kunmap_local(${page});`), s.line)) });
        const ml = lines[m.call.line - 1];
        if (ml.includes('kmap_local_page(')) out.push({ cls: 'half-map', rule: 'mismatched-unmap', at: s.line, ...edit((c) => ((c[m.call.line - 1] = ml.replace('kmap_local_page(', 'kmap_atomic(')), s.line)) });
      }
      if (u.arg && u.arg.text === holder) {
        out.push({ cls: 'cursor-advanced', rule: 'unmap-outside-page', at: s.line, ...edit((c) => (c.splice(s.line - 1, 0, `${indentOf(line)}${holder} += PAGE_SIZE;`), s.line + 1)) });
      }
    }
    // An unmap moved above the last statement before it (in its block) that uses the address.
    const mapStmt = blockStatement(m.call);
    let p = s;
    const siblings = s.parent.namedChildren;
    const idx = siblings.indexOf(s);
    for (let i = idx - 1; i >= 0; i--) {
      const x = siblings[i];
      if (mapStmt && x.start <= mapStmt.start) break;
      if (x.type === 'comment' || x.type === 'case_statement' || x.type === 'labeled_statement') break;
      const mentions = x.descendants('identifier').some((id) => id.text === holder && !(id.parent?.type === 'assignment_expression' && id.field === 'left'));
      if (x.descendants('call_expression').some((c) => api.map(c.child('function')?.text ?? null) || api.unmap(c.child('function')?.text ?? null))) break;
      if (mentions) {
        p = x;
        break;
      }
    }
    if (p !== s && ownLines(lines, p)) {
      out.push({
        cls: 'unmap-before-use', rule: 'use-after-unmap', at: p.line + 1,
        ...edit((c) => {
          c.splice(s.line - 1, 1);
          c.splice(p.line - 1, 0, `${indentOf(lines[p.line - 1])}${line.trim()}`);
          return p.line + 1;
        }),
      });
    }
  }

  // Two adjacent unmaps of different addresses, both mapped here: swapped.
  for (const u of unmaps) {
    const s = unmapStmt(u);
    if (!s) continue;
    const sib = s.parent.namedChildren;
    const next = sib[sib.indexOf(s) + 1];
    if (!next || next.type !== 'expression_statement' || next.line !== s.line + 1) continue;
    const v = unmaps.find((w) => unmapStmt(w) === next);
    if (!v || !u.argBase || !v.argBase || u.argBase === v.argBase) continue;
    if (!mapOf(u.argBase, u.call.start) || !mapOf(v.argBase, v.call.start)) continue;
    out.push({ cls: 'swap-unmaps', rule: 'unmap-order', at: s.line, ...edit((c) => (([c[s.line - 1], c[s.line]] = [c[s.line], c[s.line - 1]]), s.line)) });
  }

  // An early return right after a map whose address stays in a local variable.
  if (ret) {
    for (const m of maps) {
      if (!mapVariable(m)) continue;
      const s = insertionPointAfterMap(m, lines);
      if (!s) continue;
      const ind = indentOf(lines[s.line - 1]);
      out.push({
        cls: 'early-return', rule: 'mapping-leak', at: s.endLine + 2,
        ...edit((c) => (c.splice(s.endLine, 0, `${ind}if (fatal_signal_pending(current))`, `${ind}\t${ret}`), s.endLine + 2)),
      });
    }
  }
  return out;
}

/** After the statement of the first map into `name`'s variable (and the declarations that follow it), or null. */
function afterMap(fn, lines, family, name) {
  const m = findMapSites(fn.body, api).find((x) => x.api.family === family && (name === undefined ? mapVariable(x) : mapVariable(x) === name));
  const s = m ? insertionPointAfterMap(m, lines) : null;
  if (!s || !findUnmapSites(fn.body, api).some((u) => u.call.start > s.end)) return null;
  return { line: s.endLine, indent: indentOf(lines[s.line - 1]), name: mapVariable(m) };
}

/**
 * The same statement put into the kmap_atomic() section of the pre-image and the kmap_local_page() section
 * of the post-image: code that relied on the side effects of kmap_atomic(). `kept` variants wrap it, in the
 * post-image only, in what the conversion should have added: then the rules must stay silent.
 */
function contextMutantsOf(preFn, preLines, postFn, postLines) {
  const pre = afterMap(preFn, preLines, 'atomic');
  const post = pre && afterMap(postFn, postLines, 'local', pre.name);
  if (!pre || !post) return [];
  const both = (cls, rule, stmt, opts = {}) => {
    const a = [...preLines];
    const b = [...postLines];
    const inPost = opts.wrap ? [opts.wrap[0], ...stmt, opts.wrap[1]] : stmt;
    a.splice(pre.line, 0, ...stmt.map((l) => pre.indent + l));
    b.splice(post.line, 0, ...inPost.map((l) => post.indent + l));
    let at = post.line + 1 + (opts.wrap ? 1 : 0);
    if (opts.helper) {
      // The helper goes right above the function in both images (the inserted lines are below it).
      a.splice(preFn.line - 1, 0, ...opts.helper);
      b.splice(postFn.line - 1, 0, ...opts.helper);
      at += opts.helper.length;
    }
    return { cls, rule, at, expect: opts.wrap ? 'silent' : 'finding', preLines: a, lines: b, expectLine: at };
  };
  const copy = ['kmap_bench_left = __copy_from_user_inatomic(kmap_bench_dst, kmap_bench_src, 8);'];
  const percpu = ['__this_cpu_inc(kmap_bench_events);'];
  return [
    both('relies-nofault', 'lost-pagefault-disable', copy),
    both('relies-percpu', 'lost-preempt-disable', percpu),
    both('relies-via-helper', 'lost-pagefault-disable', ['kmap_bench_copyin();'], {
      helper: ['static void kmap_bench_copyin(void)', '{', '\tkmap_bench_left = __copy_from_user_inatomic(kmap_bench_dst, kmap_bench_src, 8);', '}', ''],
    }),
    both('kept-nofault', 'lost-pagefault-disable', copy, { wrap: ['pagefault_disable();', 'pagefault_enable();'] }),
    both('kept-percpu', 'lost-preempt-disable', percpu, { wrap: ['preempt_disable();', 'preempt_enable();'] }),
  ];
}

const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
const stats = new Map();
const misses = [];
let baselineErrors = 0;
const started = performance.now();
for (const entry of index) {
  const patch = readFileSync(join(dir, entry.id, 'conversion.patch'));
  let cs;
  try {
    [cs] = loadChangeSets([{ name: entry.id, content: patch }], { tree });
  } catch {
    continue;
  }
  const file = cs.files.find((f) => f.newPath === entry.file);
  if (!file) continue;
  const base = await analyze(cs);
  baselineErrors += base.findings.filter((f) => f.severity === 'error' && !f.preExisting).length;
  const lines = file.newText.split('\n');
  const fn = locateFunctions(file.newText).find((f) => f.name === entry.func);
  if (!fn) continue;
  const preFn = file.oldText !== null ? locateFunctions(file.oldText).find((f) => f.name === entry.func) : undefined;
  const muts = [...mutantsOf(fn, lines), ...(preFn ? contextMutantsOf(preFn, file.oldText.split('\n'), fn, lines) : [])];
  for (const mut of muts) {
    if (values.class && mut.cls !== values.class) continue;
    const post = mut.lines.join('\n');
    const changed = changedFileFromImages(entry.file, entry.file, mut.preLines ? mut.preLines.join('\n') : file.oldText, post);
    const report = await analyze({ name: `${entry.id}:${mut.cls}`, files: [changed], skipped: [] });
    const hits = report.findings.filter((f) => f.rule === mut.rule && !f.preExisting && f.function === entry.func);
    const silent = mut.expect === 'silent';
    const s = stats.get(mut.cls) ?? { rule: mut.rule, mutants: 0, found: 0, noted: 0, atLine: 0, silent };
    s.mutants++;
    const right = silent ? !hits.length : hits.length > 0;
    if (right) s.found++;
    else if (!silent && report.gaps.some((g) => g.function === entry.func)) s.noted++;
    if (!silent && hits.some((f) => f.line === mut.expectLine || f.trace.some((t) => t.line === mut.expectLine))) s.atLine++;
    stats.set(mut.cls, s);
    if (!right) misses.push({ id: entry.id, cls: mut.cls, line: mut.expectLine, other: report.findings.filter((f) => !f.preExisting).map((f) => `${f.rule}@${f.line}`), gaps: report.gaps.map((g) => g.reason) });
  }
}
const seconds = (performance.now() - started) / 1000;

if (values.json) {
  process.stdout.write(JSON.stringify({ seconds, baselineErrors, classes: Object.fromEntries(stats), misses }, null, 2) + '\n');
} else {
  process.stdout.write(`mutants of ${index.length} real conversions (Linux 6.1 -> 6.12), ${seconds.toFixed(1)} s\n`);
  process.stdout.write(`false errors on the unmutated conversions: ${baselineErrors}\n\n`);
  process.stdout.write(`${'class'.padEnd(19)} ${'rule'.padEnd(22)} ${'mutants'.padStart(7)} ${'found'.padStart(6)} ${'recall'.padStart(7)} ${'at line'.padStart(8)} ${'noted'.padStart(6)} ${'silent'.padStart(7)}\n`);
  let tm = 0;
  let tf = 0;
  let tn = 0;
  for (const [cls, s] of stats) {
    if (s.silent) continue;
    tm += s.mutants;
    tf += s.found;
    tn += s.noted;
    process.stdout.write(`${cls.padEnd(19)} ${s.rule.padEnd(22)} ${String(s.mutants).padStart(7)} ${String(s.found).padStart(6)} ${(s.found / s.mutants).toFixed(3).padStart(7)} ${String(s.atLine).padStart(8)} ${String(s.noted).padStart(6)} ${String(s.mutants - s.found - s.noted).padStart(7)}\n`);
  }
  process.stdout.write(`${'all'.padEnd(19)} ${''.padEnd(22)} ${String(tm).padStart(7)} ${String(tf).padStart(6)} ${(tf / Math.max(tm, 1)).toFixed(3).padStart(7)} ${''.padStart(8)} ${String(tn).padStart(6)} ${String(tm - tf - tn).padStart(7)}\n`);
  const quiet = [...stats].filter(([, s]) => s.silent);
  if (quiet.length) {
    process.stdout.write(`\nmust stay silent (the conversion kept the context)\n${'class'.padEnd(18)} ${'rule'.padEnd(20)} ${'mutants'.padStart(8)} ${'silent'.padStart(6)} ${'share'.padStart(7)}\n`);
    for (const [cls, s] of quiet) process.stdout.write(`${cls.padEnd(18)} ${s.rule.padEnd(20)} ${String(s.mutants).padStart(8)} ${String(s.found).padStart(6)} ${(s.found / s.mutants).toFixed(3).padStart(7)}\n`);
  }
  if (values.misses) for (const m of misses) process.stdout.write(`miss ${m.cls} ${m.id} line ${m.line}: ${m.other.join(' ') || 'nothing'}${m.gaps.length ? `\n    gaps: ${m.gaps.join('\n    gaps: ')}` : ''}\n`);
}
