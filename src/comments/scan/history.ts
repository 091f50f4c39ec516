/** `scan --history A..B`: the series as JSON (schema/history-v1.schema.json), CSV or a text table. */
import type { HistoryPoint } from '../../analysis/scan/history.js';

export function renderHistoryJson(points: readonly HistoryPoint[]): string {
  return JSON.stringify({ points }, null, 2);
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * One row per point: commit, date, tag, subject, total, the three classes, then one column per API and per
 * subsystem seen at any point (`api:NAME`, `subsystem:NAME`), 0 where a point has none.
 */
export function renderHistoryCsv(points: readonly HistoryPoint[]): string {
  const apis = [...new Set(points.flatMap((p) => Object.keys(p.byApi)))].sort();
  const subs = [...new Set(points.flatMap((p) => Object.keys(p.bySubsystem)))].sort();
  const head = ['commit', 'date', 'tag', 'subject', 'total', 'ready', 'needs-care', 'blocked', ...apis.map((a) => `api:${a}`), ...subs.map((s) => `subsystem:${s}`)];
  const rows = points.map((p) => [p.commit, p.date, p.tag ?? '', p.subject, p.total, p.byClass.ready, p.byClass['needs-care'], p.byClass.blocked, ...apis.map((a) => p.byApi[a] ?? 0), ...subs.map((s) => p.bySubsystem[s] ?? 0)]);
  return [head, ...rows].map((r) => r.map((v) => csvField(String(v))).join(',')).join('\n') + '\n';
}

export function renderHistoryText(points: readonly HistoryPoint[]): string {
  const out = ['commit        date        total  ready   care  blocked  subject'];
  for (const p of points) out.push(`${(p.tag ?? p.commit.slice(0, 12)).padEnd(12)}  ${p.date.slice(0, 10)}  ${String(p.total).padStart(5)}  ${String(p.byClass.ready).padStart(5)}  ${String(p.byClass['needs-care']).padStart(5)}  ${String(p.byClass.blocked).padStart(7)}  ${p.subject}`);
  return out.join('\n') + '\n';
}
