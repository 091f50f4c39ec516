/**
 * The scan's prefilter: a byte search for "kmap" and "kunmap" (plus configured wrapper names). Only
 * files that mention the API are decoded and analysed: the files `grep -lE 'kmap|kunmap'` would pick.
 * Kept apart from sources.ts (which reads directories and git) so the App can use it on fetched blobs.
 */

const K = 0x6b;
const U = 0x75;
const N = 0x6e;
const M = 0x6d;
const A = 0x61;
const P = 0x70;

/**
 * True when the bytes contain "kmap" or "kunmap". One pass from each "k" (Buffer.indexOf of a byte is a
 * memchr) instead of two whole-buffer searches: every file of a tree goes through here, and most contain
 * neither word, so the two searches read a kernel tree's gigabyte twice (about a third slower).
 */
function mentionsKmapOrKunmap(b: Buffer): boolean {
  for (let i = b.indexOf(K); i >= 0; i = b.indexOf(K, i + 1)) {
    const c = b[i + 1];
    if (c === M ? b[i + 2] === A && b[i + 3] === P : c === U && b[i + 2] === N && b[i + 3] === M && b[i + 4] === A && b[i + 5] === P) return true;
  }
  return false;
}

/** True when a file's bytes can mention the mapping API. */
export function mayMentionApi(bytes: Uint8Array, extraNames: readonly string[] = []): boolean {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (mentionsKmapOrKunmap(b)) return true;
  return extraNames.some((n) => b.indexOf(n) >= 0);
}

