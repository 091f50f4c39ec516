/**
 * Splits an mbox (a `git format-patch` series, `b4 am` output, a saved mail) into messages.
 *
 * Only what a patch series needs is decoded: headers are unfolded and the Subject's RFC 2047
 * encoded-words are decoded. 7bit/8bit bodies are used as they are (their line numbers stay the
 * input file's line numbers, so diff errors point at the right line). Quoted-printable and base64
 * bodies (single-part, UTF-8 or ASCII) are decoded into `decoded`; their error line numbers then
 * count lines of the decoded body. Multipart messages are not taken apart: an inline patch in one
 * is found as text, attachments encoded inside one are not.
 */
import { InputError, quoteLine } from './errors.js';

export interface MboxMessage {
  /** 1-based position of the message in the file. */
  index: number;
  /** The Subject header, unfolded and decoded: "[PATCH v2 3/7] mm: convert foo". */
  subject: string;
  /** 0-based index of the message's first line (the `From ` line or the first header). */
  start: number;
  /** Body lines are lines[bodyStart, end). */
  bodyStart: number;
  end: number;
  /** The message's headers (lower-case names, unfolded, first occurrence, values as written). */
  headers: ReadonlyMap<string, string>;
  /** The body's lines after quoted-printable / base64 decoding, when it was encoded. */
  decoded?: { encoding: string; lines: string[] };
}

/** The mbox separator, e.g. `From 1a2b3c... Mon Sep 17 00:00:00 2001` or `From a@b Thu Jan  4 10:00:00 2024`. */
const FROM_LINE_RE = /^From \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{1,2}:\d{2}(?::\d{2})?(?: [A-Za-z+\-0-9]+)? \d{4}(?: [+-]\d{4})?$/;
const HEADER_RE = /^([\x21-\x39\x3b-\x7e]+):[ \t]?(.*)$/;

/** True when `line` separates two messages of an mbox. */
export function isFromLine(line: string): boolean {
  return line.startsWith('From ') && FROM_LINE_RE.test(line);
}

/**
 * Splits lines into messages. Returns null when the text is neither an mbox (first non-empty line
 * a `From ` separator) nor a single mail (a header block with a Subject): i.e. a plain diff.
 */
export function splitMbox(name: string, lines: readonly string[]): MboxMessage[] | null {
  let first = 0;
  while (first < lines.length && lines[first] === '') first++;
  if (first >= lines.length) return null;
  const starts: number[] = [];
  if (isFromLine(lines[first]!)) {
    for (let i = first; i < lines.length; i++) if (isFromLine(lines[i]!)) starts.push(i);
  } else if (looksLikeMail(lines, first)) {
    starts.push(first);
  } else {
    return null;
  }
  return starts.map((start, k) => parseMessage(name, lines, start, starts[k + 1] ?? lines.length, k + 1));
}

/** A header block (until the first empty line) holding a Subject. */
function looksLikeMail(lines: readonly string[], first: number): boolean {
  let subject = false;
  for (let i = first; i < lines.length && lines[i] !== ''; i++) {
    const l = lines[i]!;
    if (l.startsWith(' ') || l.startsWith('\t')) continue; // folded
    if (!HEADER_RE.test(l)) return false;
    if (/^subject:/i.test(l)) subject = true;
  }
  return subject;
}

function parseMessage(name: string, lines: readonly string[], start: number, end: number, index: number): MboxMessage {
  let i = isFromLine(lines[start]!) ? start + 1 : start;
  const headers = new Map<string, string>();
  let last = ''; // the header being unfolded, '' when it is a repeated one we ignore
  for (; i < end && lines[i] !== ''; i++) {
    const l = lines[i]!;
    if (l.startsWith(' ') || l.startsWith('\t')) {
      if (last) headers.set(last, `${headers.get(last)} ${l.trim()}`);
      continue;
    }
    const m = HEADER_RE.exec(l);
    if (!m) break; // no header block: the body starts right away
    const key = m[1]!.toLowerCase();
    last = headers.has(key) ? '' : key; // the first occurrence wins
    if (last) headers.set(key, m[2]!.trim());
  }
  const bodyStart = i < end && lines[i] === '' ? i + 1 : i;
  const subject = decodeWords(headers.get('subject') ?? '');
  const cte = (headers.get('content-transfer-encoding') ?? '').toLowerCase();
  const msg: MboxMessage = { index, subject, start, bodyStart, end, headers };
  if (cte === 'quoted-printable' || cte === 'base64') {
    const about = `${name}:${start + 1}: message ${index}${subject ? ` (${quoteLine(subject)})` : ''}`;
    const type = (headers.get('content-type') ?? 'text/plain').toLowerCase();
    const charset = /charset="?([^";\s]+)/.exec(type)?.[1] ?? 'us-ascii';
    if (!type.startsWith('text/plain') || !['utf-8', 'utf8', 'us-ascii'].includes(charset)) {
      throw new InputError(`${about}: a ${cte} body of type ${JSON.stringify(type)} is not supported (only text/plain in UTF-8); save the patch as sent by git (e.g. with \`b4 am\`)`);
    }
    const body = lines.slice(bodyStart, end);
    const bytes = cte === 'base64' ? Buffer.from(body.join(''), 'base64') : decodeQuotedPrintable(body);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new InputError(`${about}: its ${cte} body does not decode to UTF-8 text`);
    }
    const decoded = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    if (decoded[decoded.length - 1] === '') decoded.pop();
    msg.decoded = { encoding: cte, lines: decoded };
  }
  return msg;
}

/** RFC 2045 quoted-printable: `=XX` bytes, `=` at the end of a line joins it to the next. */
export function decodeQuotedPrintable(lines: readonly string[]): Buffer {
  const out: number[] = [];
  for (const line of lines) {
    let soft = false;
    for (let k = 0; k < line.length; k++) {
      const c = line.charCodeAt(k);
      if (c === 0x3d /* = */) {
        if (k === line.length - 1) {
          soft = true;
          break;
        }
        const hex = line.slice(k + 1, k + 3);
        if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
          out.push(parseInt(hex, 16));
          k += 2;
          continue;
        }
        out.push(c); // a stray '=' is kept, as RFC 2045 suggests
      } else if (c < 0x80) out.push(c);
      else for (const b of Buffer.from(line[k]!, 'utf8')) out.push(b);
    }
    if (!soft) out.push(0x0a);
  }
  return Buffer.from(out);
}

/** Decodes RFC 2047 encoded-words (=?utf-8?q?...?= / =?utf-8?b?...?=) in a header value. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?)/g, '$1') // whitespace between encoded-words is dropped
    .replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g, (all, charset: string, enc: string, text: string) => {
      const cs = charset.toLowerCase().replace(/\*.*$/, '');
      const bufEnc = cs === 'utf-8' || cs === 'utf8' || cs === 'us-ascii' ? 'utf8' : cs === 'iso-8859-1' || cs === 'latin1' ? 'latin1' : null;
      if (!bufEnc) return all;
      const bytes =
        enc.toLowerCase() === 'b'
          ? Buffer.from(text, 'base64')
          : Buffer.from(
              text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
              'latin1',
            );
      return bytes.toString(bufEnc);
    });
}

/** "[PATCH v2 3/7] mm: convert foo" -> { n: 3, total: 7, title: "mm: convert foo" }. */
export function parseSubject(subject: string): { n: number | null; total: number | null; title: string } {
  const s = subject.replace(/^(?:(?:re|fwd?):\s*)+/i, '');
  const m = /^\[([^\]]*)\]\s*(.*)$/.exec(s);
  if (!m) return { n: null, total: null, title: s };
  const pos = /(\d+)\/(\d+)/.exec(m[1]!);
  return { n: pos ? Number(pos[1]) : null, total: pos ? Number(pos[2]) : null, title: m[2]! };
}

/** True for replies ("Re: ..."), which are discussion, not patches of the series. */
export function isReply(subject: string): boolean {
  return /^re:/i.test(subject.trim());
}

/** A cover letter: "[PATCH 0/N] ...". */
export function isCoverLetter(subject: string): boolean {
  return parseSubject(subject).n === 0;
}

/** The ChangeSet name of a patch of a series: "3/7 mm: convert foo" (or the subject, or a fallback). */
export function patchName(fallback: string, subject: string): string {
  const { n, total, title } = parseSubject(subject);
  if (n !== null && total !== null) return `${n}/${total} ${title}`;
  return title || fallback;
}
