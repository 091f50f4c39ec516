/**
 * RFC 5322 header helpers for review replies: encoded-words for non-ASCII, folding, address lists,
 * Message-ID and Date.
 */
import { randomBytes } from 'node:crypto';

/** An RFC 2047 encoded-word (base64) for a non-ASCII phrase; ASCII is returned as it is. */
export function encodeWord(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  return `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}

/** `Name <addr>` with the name quoted or encoded as needed. */
export function formatAddress(name: string, addr: string): string {
  if (!name) return `<${addr}>`;
  // eslint-disable-next-line no-control-regex
  if (!/^[\x20-\x7e]*$/.test(name)) return `${encodeWord(name)} <${addr}>`;
  return /[()<>@,;:\\".[\]]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}" <${addr}>` : `${name} <${addr}>`;
}

/** Splits an address list on commas outside quotes and angle brackets. */
export function splitAddresses(list: string | undefined): string[] {
  if (!list) return [];
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c === '\\' && quoted) {
      cur += c + (list[++i] ?? '');
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '<') angle++;
    else if (!quoted && c === '>') angle = Math.max(0, angle - 1);
    if (c === ',' && !quoted && angle === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The bare address of `Name <a@b>` or `a@b`, lower-cased, for de-duplication. */
export function bareAddress(a: string): string {
  return (/<([^>]*)>/.exec(a)?.[1] ?? a).trim().toLowerCase();
}

/** The display name of an address (decoded when it was an encoded-word), else the local part. */
export function displayName(a: string, decode: (s: string) => string): string {
  const m = /^\s*"?(.*?)"?\s*<[^>]*>\s*$/.exec(a);
  const name = m?.[1] ? decode(m[1]).trim() : '';
  return name || bareAddress(a).split('@')[0]!;
}

/** Folds a header line at commas/spaces so no line exceeds 78 columns where possible. */
export function foldHeader(name: string, value: string): string {
  const first = `${name}: `;
  if (first.length + value.length <= 78) return first + value;
  const parts = value.split(/(?<=,) /);
  const lines: string[] = [];
  let line = first;
  for (const p of parts) {
    if (line.length > first.length && line.length + 1 + p.length > 78) {
      lines.push(line);
      line = ' ' + p;
    } else line += (line === first || line === ' ' ? '' : ' ') + p;
  }
  lines.push(line);
  return lines.join('\n');
}

/** A fresh Message-ID at the sender's domain. */
export function newMessageId(fromAddress: string, now: Date): string {
  const domain = /@([^>\s]+)/.exec(fromAddress)?.[1] ?? 'kmap-review.invalid';
  return `<kmap-review.${now.getTime().toString(36)}.${randomBytes(6).toString('hex')}@${domain}>`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date, in UTC: "Thu, 03 Dec 2026 07:47:02 +0000". */
export function rfc2822Date(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** The Message-IDs of a References / In-Reply-To value. */
export function messageIds(v: string | undefined): string[] {
  return v ? [...v.matchAll(/<[^<>\s]+>/g)].map((m) => m[0]) : [];
}
