/**
 * A file's lines, split once: locating its functions, applying a conversion's edits (every verification
 * round) and the rules that read whole lines all ask for the same file's lines, and splitting a large
 * file each time showed in profiles (a tree scan's candidate files are 26 MB of text).
 */

/** The last few texts split, by identity. */
const recent: Array<{ text: string; lines: readonly string[] }> = [];
const RECENT = 4;

/** The lines of `text` (split at '\n'; shared: copy before editing). */
export function linesOf(text: string): readonly string[] {
  const hit = recent.find((r) => r.text === text);
  if (hit) return hit.lines;
  const lines: readonly string[] = text.split('\n'); // (not frozen: slicing a frozen array is slower; the type keeps callers off)
  recent.unshift({ text, lines });
  if (recent.length > RECENT) recent.pop();
  return lines;
}
