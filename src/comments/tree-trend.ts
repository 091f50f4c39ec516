/**
 * The `kmap-review / tree` check run's trend: the uses at its last runs on the default branch as a text
 * sparkline with the numbers, what changed per subsystem since the previous run, and the one command that
 * makes the HTML report of the commit locally (the App serves no pages). Pure: text in, text out.
 */
import type { SiteClass } from '../analysis/convert/plan.js';

/** One default-branch run, as the App keeps it (bounded, oldest first). */
export interface TreeRunPoint {
  commit: string;
  /** When the run finished, ISO 8601. */
  date: string;
  total: number;
  byClass: Record<SiteClass, number>;
  /** Uses per MAINTAINERS entry (or directory). */
  bySubsystem: Record<string, number>;
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** One block character per value, scaled between the smallest and the largest. */
export function sparkline(values: readonly number[]): string {
  if (!values.length) return '';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => BLOCKS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (BLOCKS.length - 1))]).join('');
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '±0';
}

function cell(s: string): string {
  return s.replace(/[|<>*_`[\]\\]/g, (c) => `\\${c}`);
}

/** The command that writes the HTML report of `commit` from a clone that has it. */
export function reportCommand(commit: string): string {
  return `kmap-review scan --format html --git ${commit} > report.html`;
}

export interface TreeTrendOptions {
  /** Rows of the per-subsystem table (default 15). */
  maxRows?: number;
}

/**
 * The trend block. `runs` are the kept runs oldest first, the current one last. The per-subsystem table
 * compares the last two; with one run there is no trend yet, only the command.
 */
export function renderTreeTrend(runs: readonly TreeRunPoint[], options: TreeTrendOptions = {}): string {
  const out: string[] = [];
  const max = options.maxRows ?? 15;
  const now = runs[runs.length - 1];
  if (runs.length >= 2) {
    const prev = runs[runs.length - 2];
    const totals = runs.map((r) => r.total);
    out.push('### Trend of the last runs on the default branch', '');
    out.push(`\`${sparkline(totals)}\` ${totals.join(' → ')} (${signed(now.total - runs[0].total)} over ${runs.length} runs; ${signed(now.total - prev.total)} since \`${prev.commit.slice(0, 12)}\`)`);
    out.push('', `ready ${now.byClass.ready} (${signed(now.byClass.ready - prev.byClass.ready)}), needs care ${now.byClass['needs-care']} (${signed(now.byClass['needs-care'] - prev.byClass['needs-care'])}), blocked ${now.byClass.blocked} (${signed(now.byClass.blocked - prev.byClass.blocked)})`);
    const names = [...new Set([...Object.keys(prev.bySubsystem), ...Object.keys(now.bySubsystem)])];
    const changed = names
      .map((n) => ({ n, was: prev.bySubsystem[n] ?? 0, is: now.bySubsystem[n] ?? 0 }))
      .filter((r) => r.was !== r.is)
      .sort((a, b) => Math.abs(b.is - b.was) - Math.abs(a.is - a.was) || a.n.localeCompare(b.n));
    out.push('');
    if (!changed.length) out.push('No subsystem changed since the previous run.');
    else {
      out.push('| subsystem | was | now | change |', '|---|---:|---:|---:|');
      for (const r of changed.slice(0, max)) out.push(`| ${cell(r.n)} | ${r.was} | ${r.is} | ${signed(r.is - r.was)} |`);
      if (changed.length > max) out.push(`| … ${changed.length - max} more | | | |`);
    }
    out.push('');
  }
  out.push(`The full report of this commit (every site, charts, the ready patches), in a clone that has it: \`${reportCommand(now.commit)}\``);
  return out.join('\n');
}
