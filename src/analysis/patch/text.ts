/**
 * Bytes -> lines, shared by patch inputs and tree files so both are treated the same way:
 *  - strict UTF-8 (a silent U+FFFD replacement would make context lines mismatch far from the
 *    real cause, so the first bad byte is reported with its line number instead);
 *  - a size cap checked before decoding, so a huge input is refused in O(1);
 *  - CRLF line endings stripped consistently (a patch saved from a mail client often has CRLF while
 *    the tree has LF, or the reverse); whether the input had them is remembered in `crlf`.
 */
import { InputError } from './errors.js';

/** Default cap on one input (a patch file, stdin, one tree file or git blob): 32 MiB. */
export const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

/** Text split into lines, without line terminators. */
export interface TextLines {
  lines: string[];
  /** True when the text ended with a newline (or was empty); false after `\ No newline at end of file`. */
  finalNewline: boolean;
  /** True when at least one line ended with CRLF (all `\r` before `\n` were stripped). */
  crlf: boolean;
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}

/** Throws when `size` exceeds the cap, naming the size, the cap and the option that raises it. */
export function checkSize(name: string, size: number, maxBytes: number): void {
  if (size > maxBytes) {
    throw new InputError(
      `${name}: input is ${formatSize(size)} (${size} bytes), over the size cap of ${formatSize(maxBytes)} ` +
        `(${maxBytes} bytes); raise the cap with --max-bytes (option maxBytes) if this is intended`,
    );
  }
}

/**
 * Offset of the first byte that is not part of a well-formed UTF-8 sequence, or -1.
 * Only called after TextDecoder has already failed, to say *where* (TextDecoder does not).
 */
export function firstInvalidUtf8(buf: Uint8Array): number {
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // > U+10FFFF
    } else return i;
    if (i + need >= n) return i; // sequence truncated by the end of the input
    const second = buf[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const c = buf[i + k]!;
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes strict UTF-8; on failure throws an InputError naming the line and the bad byte. */
export function decodeUtf8(name: string, content: Uint8Array): string {
  try {
    return decoder.decode(content);
  } catch {
    const at = firstInvalidUtf8(content);
    const off = at < 0 ? 0 : at;
    let line = 1;
    for (let i = 0; i < off; i++) if (content[i] === 0x0a) line++;
    const byte = content[off] ?? 0;
    throw new InputError(
      `${name}:${line}: not valid UTF-8 (byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')} at offset ${off}); ` +
        `re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)`,
    );
  }
}

/** Splits text into lines, stripping one `\r` before each `\n` (and at the very end). Linear time. */
export function splitLines(text: string): TextLines {
  if (text === '') return { lines: [], finalNewline: true, crlf: false };
  const lines = text.split('\n');
  let finalNewline = true;
  if (lines[lines.length - 1] === '') lines.pop();
  else finalNewline = false;
  let crlf = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.endsWith('\r') && (i < lines.length - 1 || finalNewline)) {
      lines[i] = l.slice(0, -1);
      crlf = true;
    }
  }
  return { lines, finalNewline, crlf };
}

/** The inverse of splitLines, always with LF endings (line numbers are unchanged by CRLF stripping). */
export function joinLines(lines: readonly string[], finalNewline: boolean): string {
  if (lines.length === 0) return '';
  return lines.join('\n') + (finalNewline ? '\n' : '');
}

/** Size check + strict decoding + line splitting: the one way every input becomes lines. */
export function decodeLines(name: string, content: Uint8Array, maxBytes: number = DEFAULT_MAX_BYTES): TextLines {
  checkSize(name, content.length, maxBytes);
  return splitLines(decodeUtf8(name, content));
}
