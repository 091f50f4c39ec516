/** Lexical helpers that need no parse: C text with what is not code blanked out. */

/** A C-ish source with comments and string/char literals blanked (same length, newlines kept). */
export function blankCommentsAndStrings(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'/g, (m) => m.replace(/[^\n]/g, ' '));
}
