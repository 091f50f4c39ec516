/**
 * The tree's definitions for callee summaries: the lexical index (definitions.ts) says which files may
 * define a name, and only those files are read and located (source/functions.ts, each function parsed
 * on first use) when a summary asks for the name. A file is read once and kept for the tree's lifetime.
 */
import { locateFunctions, type CFunction } from '../source/functions.js';
import type { DefinitionSource, Scope } from './context.js';
import type { DefinitionLookup } from './definitions.js';

/** Headers' definitions (static inline helpers) are visible from every file that may include them. */
const isHeader = (path: string) => /\.h$/i.test(path);

export class TreeDefinitions implements DefinitionSource {
  private readonly scopes = new Map<string, Scope | null>();
  /** Files read and located on demand. */
  filesRead = 0;

  /**
   * `read`: a file's text by its path in the tree, or null when it cannot be read. `onResolve`: told every
   * name looked up in the index and the files it named (what an answer kept by the scan cache depends on).
   */
  constructor(
    readonly index: DefinitionLookup,
    private readonly read: (path: string) => string | null,
    private readonly onResolve?: (name: string, files: readonly string[]) => void,
  ) {}

  scope(path: string): Scope | null {
    let s = this.scopes.get(path);
    if (s !== undefined) return s;
    let text: string | null = null;
    try {
      text = this.read(path);
    } catch {
      text = null;
    }
    s = null;
    if (text !== null) {
      this.filesRead++;
      const byName = new Map<string, CFunction[]>();
      try {
        for (const f of locateFunctions(text)) {
          if (f.fragment) continue;
          const had = byName.get(f.name);
          if (had) had.push(f);
          else byName.set(f.name, [f]);
        }
      } catch {
        byName.clear(); // a file the function scan cannot cut: no definitions from it
      }
      s = { path, defs: (name) => byName.get(name) ?? [] };
    }
    this.scopes.set(path, s);
    return s;
  }

  definitions(name: string, fromPath: string): Array<{ fn: CFunction; scope: Scope }> | { several: number } {
    const named = this.index.files(name);
    this.onResolve?.(name, named);
    const files = named.filter((p) => p !== fromPath);
    // Several files: several definitions (per-arch variants, a stub and the real one), never followed
    // (summaries/context.ts), so none is read. The index may over-count (a macro-made definition): then a
    // name goes unfollowed that could have been, never the other way.
    if (files.length > 1) return { several: files.length };
    const out: Array<{ fn: CFunction; scope: Scope }> = [];
    for (const path of files) {
      const scope = this.scope(path);
      if (!scope) continue;
      const header = isHeader(path);
      for (const fn of scope.defs(name)) if (header || !fn.isStatic) out.push({ fn, scope });
    }
    return out;
  }
}
