/**
 * The scan's prefilter: a byte search for "kmap" and "kunmap" (plus configured wrapper names). Only
 * files that mention the API are decoded and analysed: the files `grep -lE 'kmap|kunmap'` would pick.
 * Kept apart from sources.ts (which reads directories and git) so the App can use it on fetched blobs.
 */

export const C_FILE = /\.[ch]$/;

/** True when a file's bytes can mention the mapping API. */
export function mayMentionApi(bytes: Uint8Array, extraNames: readonly string[] = []): boolean {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.indexOf('kmap') >= 0 || b.indexOf('kunmap') >= 0) return true;
  return extraNames.some((n) => b.indexOf(n) >= 0);
}

