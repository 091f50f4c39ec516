/**
 * `npm run corpus`: runs the engine on every real conversion built by ../shared/corpus/build.sh
 * (Linux 6.1 -> 6.12, each a conversion.patch against the 6.1 tree) and prints counts by rule and
 * severity, then every error and warning. These patches were reviewed and merged, so an error here is a
 * false alarm until shown otherwise. Exit 1 when any error-level finding is new in a conversion.
 *
 * usage: node dist/cli/corpus.js [--corpus DIR] [--quiet] [--json]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { analyze } from '../analysis/engine.js';
import type { Finding } from '../analysis/model.js';
import { loadChangeSets } from '../analysis/patch/load.js';
import { renderFindingText } from '../comments/text.js';

// Piped into `head`: a closed pipe ends the output quietly, not in an EPIPE stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

const { values } = parseArgs({
  options: {
    corpus: { type: 'string', default: process.env.KMAP_CORPUS ?? '/tmp/kmap-corpus' },
    quiet: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const corpus = values.corpus!;
const tree = join(corpus, 'trees', 'linux-6.1');
const dir = join(corpus, 'conversions');
if (!existsSync(join(dir, 'index.json')) || !existsSync(tree)) {
  process.stderr.write(`corpus: no corpus at ${corpus}; build it with ../shared/corpus/build.sh (about 2 minutes)\n`);
  process.exit(2);
}

const ids = readdirSync(dir).filter((d) => /^\d{4}-/.test(d)).sort();
const counts = new Map<string, { error: number; warning: number; notice: number; preExisting: number }>();
const shown: Array<{ id: string; finding: Finding }> = [];
const failures: string[] = [];
let gaps = 0;
const started = performance.now();
for (const id of ids) {
  const patch = readFileSync(join(dir, id, 'conversion.patch'));
  try {
    const [cs] = await loadChangeSets([{ name: `${id}/conversion.patch`, content: patch }], { tree });
    const report = await analyze(cs);
    gaps += report.gaps.length;
    for (const f of report.findings) {
      const c = counts.get(f.rule) ?? { error: 0, warning: 0, notice: 0, preExisting: 0 };
      if (f.preExisting) c.preExisting++;
      else c[f.severity]++;
      counts.set(f.rule, c);
      if (!f.preExisting && f.severity !== 'notice') shown.push({ id, finding: f });
    }
  } catch (e) {
    failures.push(`${id}: ${(e as Error).message}`);
  }
}
const seconds = (performance.now() - started) / 1000;

if (values.json) {
  process.stdout.write(JSON.stringify({ conversions: ids.length, seconds, counts: Object.fromEntries(counts), failures, findings: shown }, null, 2) + '\n');
} else {
  const rows = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
  const total = { error: 0, warning: 0, notice: 0, preExisting: 0 };
  process.stdout.write(`kmap-review on ${ids.length} real conversions (Linux 6.1 -> 6.12), ${seconds.toFixed(2)} s\n\n`);
  process.stdout.write(`${'rule'.padEnd(28)} ${'error'.padStart(6)} ${'warning'.padStart(8)} ${'notice'.padStart(7)} ${'pre-existing'.padStart(13)}\n`);
  for (const [rule, c] of rows) {
    process.stdout.write(`${rule.padEnd(28)} ${String(c.error).padStart(6)} ${String(c.warning).padStart(8)} ${String(c.notice).padStart(7)} ${String(c.preExisting).padStart(13)}\n`);
    for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += c[k];
  }
  process.stdout.write(`${'total'.padEnd(28)} ${String(total.error).padStart(6)} ${String(total.warning).padStart(8)} ${String(total.notice).padStart(7)} ${String(total.preExisting).padStart(13)}\n`);
  process.stdout.write(`analysis gaps reported: ${gaps}; conversions that failed to load: ${failures.length}\n`);
  for (const f of failures) process.stdout.write(`  failed: ${f}\n`);
  if (!values.quiet && shown.length) {
    process.stdout.write('\nerrors and warnings:\n');
    for (const { id, finding } of shown) process.stdout.write(`[${id}] ${renderFindingText(finding)}\n`);
  }
}
process.exitCode = shown.some(({ finding }) => finding.severity === 'error') || failures.length ? 1 : 0;
