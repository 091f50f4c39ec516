/** Small Markdown helpers shared by the review comments and the check-run output. */
import type { Finding, Severity } from '../analysis/model.js';

/** GitHub's limit for check-run `summary`/`text` and for comment bodies. */
export const GITHUB_TEXT_LIMIT = 65_535;

const FP_RE = /<!-- kmap-review:fp=([A-Za-z0-9_.:-]+) -->/;

/** The hidden marker that lets the App recognise its own comment for a finding on a later run. */
export function fingerprintMarker(fingerprint: string): string {
  return `<!-- kmap-review:fp=${fingerprint.replace(/[^A-Za-z0-9_.:-]/g, '_')} -->`;
}

/** The fingerprint stored in a comment body by fingerprintMarker, if any (normalised the same way). */
export function readFingerprint(body: string | null | undefined): string | undefined {
  return body ? FP_RE.exec(body)?.[1] : undefined;
}

export function normaliseFingerprint(fingerprint: string): string {
  return fingerprint.replace(/[^A-Za-z0-9_.:-]/g, '_');
}

/** A fenced block whose fence is longer than any backtick run inside `code`. */
export function fence(code: string, info = ''): string {
  const longest = Math.max(2, ...(code.match(/`+/g) ?? []).map((m) => m.length));
  const f = '`'.repeat(longest + 1);
  const body = code.endsWith('\n') || code === '' ? code : `${code}\n`;
  return `${f}${info}\n${body}${f}`;
}

/** Inline code that survives backticks in the text. */
export function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const f = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${f}${pad}${text}${pad}${f}`;
}

/** A collapsible section. */
export function details(summary: string, body: string): string {
  return `<details>\n<summary>${summary}</summary>\n\n${body.trim()}\n\n</details>`;
}

/** Escapes the characters that break a Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export const SEVERITY_ICON: Record<Severity, string> = { error: '🛑', warning: '⚠️', notice: 'ℹ️' };

/**
 * Cuts `text` to at most `limit` characters (UTF-16 units, as GitHub counts), at a line boundary when
 * possible, and appends `note` so the reader knows something is missing.
 */
export function truncate(text: string, limit: number, note: string): string {
  if (text.length <= limit) return text;
  const tail = `\n\n${note}`;
  let cut = Math.max(0, limit - tail.length);
  const nl = text.lastIndexOf('\n', cut);
  if (nl > cut * 0.8) cut = nl;
  // Never split a surrogate pair.
  const c = text.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return text.slice(0, cut) + tail;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function location(f: Pick<Finding, 'path' | 'line' | 'endLine'>): string {
  return f.endLine > f.line ? `${f.path}:${f.line}-${f.endLine}` : `${f.path}:${f.line}`;
}

/** The trace as a Markdown list ("- `file.c:47` vfrom = kmap_local_page(from)"). */
export function renderTrace(f: Finding): string {
  return f.trace.map((s) => `- ${code(`${s.path}:${s.line}`)} ${s.note}`).join('\n');
}
