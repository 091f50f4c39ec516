/**
 * `node dist/cli/fix-corpus.js`: runs `fix` on the 6.1 version of every function of the corpus built by
 * ../shared/corpus/build.sh (the 158 conversions kernel developers made between 6.1 and 6.12) and compares
 * the kmap-related lines with what the developers wrote (whitespace removed):
 *   identical   the same kmap-related lines;
 *   same calls  the same sequence of mapping calls (kmap_local_page, kunmap_local, helpers...), written
 *               differently (another variable name, line split, argument spelling);
 *   different (folios)  the developer also moved the code to folios (kmap_local_folio...), which fix does not do;
 *   different   converted, with other calls than the developer chose (a helper where they kept the open-
 *               coded copy, or the reverse, page_address(), folios...), listed;
 *   partial     some sites converted, some refused;
 *   refused     nothing converted, with the reasons.
 * Every output is also re-analysed as a patch (engine, all rules): it must parse and draw no new finding.
 *
 * usage: node dist/cli/fix-corpus.js [--corpus DIR] [--no-helpers] [--add-pagefault-disable] [--json] [--verbose]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fixFile } from '../analysis/convert/fix.js';
import { analyze } from '../analysis/engine.js';
import { KmapApi } from '../analysis/kmap-api.js';
import { DEFAULT_CONFIG } from '../analysis/model.js';
import { changedFileFromImages } from '../analysis/patch/line-diff.js';
import { loadChangeSets } from '../analysis/patch/load.js';
import { locateFunctions } from '../analysis/source/functions.js';
import { initParser } from '../analysis/syntax/parser.js';

// Piped into `head`: a closed pipe ends the output quietly, not in an EPIPE stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

const { values } = parseArgs({
  options: {
    corpus: { type: 'string', default: process.env.KMAP_CORPUS ?? '/tmp/kmap-corpus' },
    'no-helpers': { type: 'boolean', default: false },
    'add-pagefault-disable': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});
const corpus = values.corpus!;
const tree = join(corpus, 'trees', 'linux-6.1');
const dir = join(corpus, 'conversions');
if (!existsSync(join(dir, 'index.json')) || !existsSync(tree)) {
  process.stderr.write(`fix-corpus: no corpus at ${corpus}; build it with ../shared/corpus/build.sh (about 2 minutes)\n`);
  process.exit(2);
}
const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Array<{ id: string; file: string; func: string }>;

const KMAP_LINE = /\bk(?:un)?map\w*|\bmem(?:cpy|set|zero|move)_(?:from_|to_)?(?:page|folio)|\bmemcpy_page|\bpagefault_(?:dis|en)able|\bpage_address|\bfolio_(?:zero|fill)\w*|\bcopy_(?:user_)?highpage|\bclear_(?:user_)?highpage/;
const CALL = /\b(k(?:un)?map\w*|mem(?:cpy|set|zero|move)_(?:from_|to_)?(?:page|folio)|memcpy_page|pagefault_(?:dis|en)able|page_address|folio_(?:zero|fill)\w*|(?:copy|clear)_(?:user_)?highpage)\s*\(/g;

function kmapLines(text: string): string[] {
  return text.split('\n').filter((l) => KMAP_LINE.test(l) && !/^\s*(?:\*|\/\*|\/\/)/.test(l)).map((l) => l.replace(/\s+/g, ''));
}
function calls(text: string): string[] {
  return [...text.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(CALL)].map((m) => m[1]);
}
function fnText(text: string, name: string): string | null {
  return locateFunctions(text).find((f) => f.name === name && !f.fragment)?.text ?? null;
}

type Outcome = 'identical' | 'same calls' | 'different (folios)' | 'different' | 'partial' | 'refused' | 'not found';
const rows: Array<{ id: string; outcome: Outcome; detail: string; sites: number; converted: number }> = [];
const reasons = new Map<string, number>();
let recheckProblems = 0;
const problems: string[] = [];
await initParser();
const api = new KmapApi();
const started = performance.now();
for (const { id, file, func } of index) {
  const patch = readFileSync(join(dir, id, 'conversion.patch'));
  const [cs] = loadChangeSets([{ name: `${id}/conversion.patch`, content: patch }], { tree });
  const cf = cs.files.find((f) => f.newPath === file) ?? cs.files[0];
  const dev = fnText(cf.newText, func);
  const r = fixFile(file, cf.oldText, { api, config: DEFAULT_CONFIG, functions: [func], helpers: !values['no-helpers'], addPagefaultDisable: values['add-pagefault-disable'] });
  const ours = fnText(r.after, func);
  const sites = r.sites.filter((s) => s.function === func);
  const converted = sites.filter((s) => s.converted).length;
  for (const s of sites.filter((x) => !x.converted)) {
    const key = s.rule ? `${s.class}: ${s.rule}` : `${s.class}: ${s.detail.replace(/`[^`]*`/g, '`…`').replace(/\d+/g, 'N').slice(0, 90)}`;
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  if (!dev || !ours) {
    rows.push({ id, outcome: 'not found', detail: `function ${func} not located`, sites: sites.length, converted });
    continue;
  }
  // The output must parse and draw nothing new on re-analysis (the whole engine, as `check` would).
  if (r.after !== r.before) {
    const report = await analyze({ name: id, files: [changedFileFromImages(file, file, r.before, r.after)], skipped: [] });
    const bad = report.findings.filter((f) => !f.preExisting && f.severity !== 'notice');
    const post = locateFunctions(r.after).find((f) => f.name === func);
    const pre = locateFunctions(r.before).find((f) => f.name === func);
    if (bad.length || (post?.hasErrors && !pre?.hasErrors)) {
      recheckProblems++;
      problems.push(`${id}: ${bad.map((f) => `${f.rule}@${f.line}: ${f.message}`).join('; ') || 'does not parse'}`);
    }
  }
  let outcome: Outcome;
  let detail = '';
  if (!sites.length || converted === 0) {
    outcome = 'refused';
    detail = sites.map((s) => `${s.api}@${s.line}: ${s.detail}`).join(' | ') || 'no deprecated call found';
  } else if (converted < sites.length) {
    outcome = 'partial';
    detail = sites.filter((s) => !s.converted).map((s) => `${s.api}@${s.line}: ${s.detail}`).join(' | ');
  } else if (kmapLines(ours).join('\n') === kmapLines(dev).join('\n')) outcome = 'identical';
  else if (calls(ours).join(',') === calls(dev).join(',')) {
    outcome = 'same calls';
    detail = `ours: ${kmapLines(ours).join(' ')}\n    dev:  ${kmapLines(dev).join(' ')}`;
  } else {
    outcome = calls(dev).some((c) => /folio/.test(c)) && !calls(ours).some((c) => /folio/.test(c)) ? 'different (folios)' : 'different';
    detail = `ours: ${calls(ours).join(',')}\n    dev:  ${calls(dev).join(',')}`;
  }
  rows.push({ id, outcome, detail, sites: sites.length, converted });
}
const seconds = (performance.now() - started) / 1000;
const order: Outcome[] = ['identical', 'same calls', 'different (folios)', 'different', 'partial', 'refused', 'not found'];
const count = (o: Outcome) => rows.filter((r) => r.outcome === o).length;
if (values.json) {
  process.stdout.write(JSON.stringify({ conversions: rows.length, seconds, outcomes: Object.fromEntries(order.map((o) => [o, count(o)])), reasons: Object.fromEntries(reasons), recheckProblems: problems, rows }, null, 2) + '\n');
} else {
  process.stdout.write(`kmap-review fix on ${rows.length} real conversions (6.1 -> 6.12), ${seconds.toFixed(1)} s${values['no-helpers'] ? ' (--no-helpers)' : ''}${values['add-pagefault-disable'] ? ' (--add-pagefault-disable)' : ''}\n\n`);
  for (const o of order) process.stdout.write(`${o.padEnd(18)} ${String(count(o)).padStart(4)}  ${((100 * count(o)) / rows.length).toFixed(1).padStart(5)}%\n`);
  const totalSites = rows.reduce((n, r) => n + r.sites, 0);
  const conv = rows.reduce((n, r) => n + r.converted, 0);
  process.stdout.write(`\nsites: ${conv} of ${totalSites} converted (${((100 * conv) / Math.max(1, totalSites)).toFixed(1)}%)\n`);
  process.stdout.write(`outputs drawing a finding or not parsing on re-analysis: ${recheckProblems}\n`);
  for (const p of problems) process.stdout.write(`  ${p}\n`);
  process.stdout.write('\nwhy sites were left alone:\n');
  for (const [k, n] of [...reasons.entries()].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${String(n).padStart(4)}  ${k}\n`);
  if (values.verbose) for (const r of rows.filter((x) => x.outcome !== 'identical')) process.stdout.write(`\n[${r.outcome}] ${r.id}\n    ${r.detail}\n`);
}
process.exitCode = recheckProblems ? 1 : 0;
