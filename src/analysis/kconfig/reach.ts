/**
 * Kconfig reach: whether a C file of a tree can only be built into a kernel without HIGHMEM, and the
 * Makefile and Kconfig lines that say so. A file is restricted when every way its directory's Makefiles
 * build it (its object, the composite object it is part of, the directories above it) needs a symbol whose
 * every Kconfig definition depends on something that excludes HIGHMEM (highmem-facts.ts): `depends on
 * X86_64`, `64BIT`, `!HIGHMEM`, an architecture without HIGHMEM, or a symbol that itself depends on one;
 * or, for a definition without a prompt that no `select`/`imply` names, whose every default that can set it
 * does (`config INFINIBAND_VIRT_DMA` / `def_bool !HIGHMEM`: drivers/infiniband/Kconfig).
 *
 * Conservative, because a restriction turns errors into warnings: anything not seen or not understood
 * - a file no Makefile names (headers, `#include`d .c files), a name built through a variable, a guard
 * that is not `$(CONFIG_FOO)`, a symbol without a definition, an expression this module cannot read, an
 * incomplete Kconfig index (kconfig.ts) - restricts nothing. `FOO || COMPILE_TEST` restricts nothing either:
 * COMPILE_TEST can be set on 32-bit x86 with HIGHMEM, and the code is then built (and runs, if booted) with
 * HIGHMEM. `select` is not followed: kconfig warns ("unmet direct dependencies") when a select enables a
 * symbol whose dependencies fail, so a restriction a select breaks is a Kconfig bug of its own.
 *
 * Lazy: a directory's Makefile is read when a file below it is asked about; the Kconfig files are read on
 * the first symbol asked about, and parsed only on the way to the symbols asked about. Everything is cached
 * for the life of the object (one per tree).
 */
import { ARCH_PREFIX, KconfigIndex, type Conjunct, type Definition } from './kconfig.js';
import type { KExpr } from './expr.js';
import { parseKbuild, type Kbuild } from './makefile.js';
import { archExcludesHighmem, excludesHighmem } from './highmem-facts.js';
import { treePath, type TreeReader } from './tree-reader.js';

/** A file's restriction: why it is only ever built without HIGHMEM. */
export interface Restriction {
  /** The Makefile and Kconfig lines, e.g. `drivers/foo/Kconfig: FOO depends on X86_64`, most specific first. */
  evidence: string[];
}

/** What a sub-expression contributes: its text as restricting, and the evidence of the symbols it went through. */
interface Why {
  text: string;
  more: string[];
  /** A symbol defined under arch/ only. */
  archOnly?: boolean;
}

const dirOf = (path: string) => {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
};

const uniq = (items: string[]) => [...new Set(items)];

export class KconfigReach {
  readonly #reader: TreeReader;
  #index: KconfigIndex | null = null;
  readonly #kbuild = new Map<string, { file: string; kb: Kbuild } | null>();
  readonly #symbols = new Map<string, Why | null>();
  readonly #entities = new Map<string, string[] | null>();

  constructor(reader: TreeReader) {
    this.#reader = reader;
  }

  /** The restriction of a file (a path relative to the tree's top), or null when it may be built with HIGHMEM. */
  reachOf(path: string): Restriction | null {
    const p = treePath(path);
    if (p === null || !/\.c$/.test(p)) return null;
    const arch = /^arch\/([^/]+)\//.exec(p)?.[1];
    if (arch && archExcludesHighmem(arch)) return { evidence: [`arch/${arch}/: ${arch} has no HIGHMEM`] };
    try {
      const evidence = this.#entity(`${p.slice(0, -2)}.o`);
      return evidence ? { evidence } : null;
    } catch (e) {
      // A tree built to exhaust the stack (a dependency chain thousands of symbols long) restricts nothing.
      if (e instanceof RangeError) return null;
      throw e;
    }
  }

  /** Why the index claims nothing, when it does not (for a note in a report). */
  get problem(): string | undefined {
    return this.#index?.problem;
  }

  #kbuildOf(dir: string): { file: string; kb: Kbuild } | null {
    if (!this.#kbuild.has(dir)) {
      const prefix = dir ? `${dir}/` : '';
      let found: { file: string; kb: Kbuild } | null = null;
      // kbuild reads Kbuild when a directory has both.
      for (const name of ['Kbuild', 'Makefile']) {
        const text = this.#reader.read(prefix + name);
        if (text !== null) {
          found = { file: prefix + name, kb: parseKbuild(text) };
          break;
        }
      }
      this.#kbuild.set(dir, found);
    }
    return this.#kbuild.get(dir)!;
  }

  /**
   * Evidence that an object (`dir/x.o`) or a directory (`dir/sub/`) is only built without HIGHMEM, or null.
   * Every way it is named must be restricted: by its own guard or by the way its directory (or the
   * composite object it is part of) is reached.
   */
  #entity(entity: string): string[] | null {
    if (this.#entities.has(entity)) return this.#entities.get(entity)!;
    this.#entities.set(entity, null); // a cycle (a composite naming itself) restricts nothing
    const result = this.#entityUncached(entity);
    this.#entities.set(entity, result);
    return result;
  }

  #entityUncached(entity: string): string[] | null {
    const isDir = entity.endsWith('/');
    const path = isDir ? entity.slice(0, -1) : entity;
    if (isDir) {
      const parts = path.split('/');
      // A top-level directory is built in every configuration; arch/<arch>/ only for that architecture.
      if (parts.length === 1) return null;
      if (parts.length === 2 && parts[0] === 'arch') return archExcludesHighmem(parts[1]) ? [`${path}/: ${parts[1]} has no HIGHMEM`] : null;
    }
    // The closest Makefile above that names it, as `x.o` or `sub/x.o`.
    for (let dir = dirOf(path); ; dir = dirOf(dir)) {
      const found = this.#kbuildOf(dir);
      if (found) {
        const rel = (dir ? path.slice(dir.length + 1) : path) + (isDir ? '/' : '');
        const namings = found.kb.names.get(rel);
        // A Makefile that builds names from variables may build this one through them.
        if (found.kb.opaque) return null;
        if (namings) {
          const evidence: string[] = [];
          for (const n of namings) {
            if (n.opaqueGuard) return null;
            const guard = n.guard ? this.#symbol(n.guard) : null;
            if (guard) {
              evidence.push(`${found.file}: ${rel} needs CONFIG_${n.guard}`, ...guard.more);
              continue;
            }
            const up = this.#entity(n.composite ? `${dir ? `${dir}/` : ''}${n.composite}.o` : `${dir}/`);
            if (!up) return null;
            evidence.push(...up);
          }
          return uniq(evidence);
        }
      }
      if (dir === '') return null;
    }
  }

  #indexNow(): KconfigIndex {
    this.#index ??= new KconfigIndex(this.#reader);
    return this.#index;
  }

  /** Why a symbol can only be set without HIGHMEM, or null. */
  #symbol(name: string): Why | null {
    if (this.#symbols.has(name)) return this.#symbols.get(name)!;
    this.#symbols.set(name, null); // a dependency cycle restricts nothing
    const result = this.#symbolUncached(name);
    this.#symbols.set(name, result);
    return result;
  }

  #symbolUncached(name: string): Why | null {
    const fact = excludesHighmem(name, true);
    if (fact) return { text: name, more: [] };
    const index = this.#indexNow();
    if (!index.complete) return null;
    const defs = index.definitionsOf(name);
    // A file read for these definitions may have shown the index to be incomplete.
    if (!defs.length || !index.complete) return null;
    const more: string[] = [];
    for (const def of defs) {
      const why = this.#definition(def);
      if (!why) return null;
      more.push(...why);
    }
    return { text: name, more: uniq(more), archOnly: defs.every((d) => d.file.startsWith('arch/')) };
  }

  /** Evidence that one definition restricts its symbol: the first condition that excludes HIGHMEM. */
  #definition(def: Definition): string[] | null {
    for (const c of def.conds) {
      const why = this.#expr(c.expr, true);
      if (why) return [describe(def, c, why.text), ...why.more];
    }
    const selected = def.selects.find((s) => excludesHighmem(s, true));
    if (selected) return [`${def.file}: ${def.symbol} selects ${selected}`];
    return this.#byDefaults(def);
  }

  /**
   * A definition without a prompt that nothing selects or implies is set only by its defaults
   * (`def_bool !HIGHMEM`, `default y if 64BIT`): it restricts when every default that can set it does.
   */
  #byDefaults(def: Definition): string[] | null {
    if (def.value.prompt || this.#indexNow().isSelected(def.symbol)) return null;
    const setting = def.value.defaults.filter((d) => d.value.text !== 'n');
    if (!setting.length) return null;
    const evidence: string[] = [];
    for (const d of setting) {
      const constant = d.value.text === 'y' || d.value.text === 'm';
      const why = (constant ? null : this.#expr(d.value.expr, true)) ?? (d.cond ? this.#expr(d.cond.expr, true) : null);
      if (!why) return null;
      evidence.push(`${d.value.file}: ${def.symbol} has no prompt, nothing selects it, and its default is ${d.value.text}${d.cond ? ` if ${d.cond.text}` : ''}`, ...why.more);
    }
    return evidence;
  }

  /** Whether `e` (or its negation, when !positive) being true excludes HIGHMEM. */
  #expr(e: KExpr, positive: boolean): Why | null {
    switch (e.t) {
      case 'sym':
        if (e.name.startsWith(ARCH_PREFIX)) {
          const arch = e.name.slice(ARCH_PREFIX.length);
          return positive && archExcludesHighmem(arch) ? { text: `${arch} (no HIGHMEM)`, more: [] } : null;
        }
        if (!positive) return excludesHighmem(e.name, false) ? { text: `!${e.name}`, more: [] } : null;
        const why = this.#symbol(e.name);
        // An architecture's own symbol (X86_64, PPC64: defined under arch/ only) needs no explaining when named.
        return why?.archOnly ? { text: why.text, more: [] } : why;
      case 'not':
        return this.#expr(e.e, !positive);
      case 'and':
      case 'or': {
        // a && b restricts when either side does; a || b only when both do (and the negations swap).
        const either = (e.t === 'and') === positive;
        const a = this.#expr(e.a, positive);
        if (either && a) return a;
        const b = this.#expr(e.b, positive);
        if (either) return b;
        if (!a || !b) return null;
        return { text: `(${a.text} ${positive ? '||' : '&&'} ${b.text})`, more: [...a.more, ...b.more] };
      }
      case 'cmp': {
        const isOn = (e.op === '=' && e.value !== 'n') || (e.op === '!=' && e.value === 'n');
        const isOff = e.op === '=' && e.value === 'n';
        if (isOn) return this.#expr({ t: 'sym', name: e.sym }, positive);
        if (isOff) return this.#expr({ t: 'sym', name: e.sym }, !positive);
        return null;
      }
      case 'unknown':
        return null;
    }
  }
}

function describe(def: Definition, c: Conjunct, text: string): string {
  if (c.via === 'arch') return `${def.file}: ${def.symbol} is defined for ${text}`;
  if (c.via === 'depends on' && c.file === def.file) return `${def.file}: ${def.symbol} depends on ${text}`;
  // A block around the definition (or around the `source` line that read its file).
  const block = c.via === 'if' ? `if ${text}` : `${c.via} ... depends on ${text}`;
  return `${def.file}: ${def.symbol} is inside "${block}" (${c.file}:${c.line})`;
}
