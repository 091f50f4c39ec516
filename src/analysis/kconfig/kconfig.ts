/**
 * The Kconfig files of a tree, read lexically into one index: every `config`/`menuconfig` definition with
 * the dependencies it runs under - its own `depends on` lines, the `if ... endif`, `menu`/`choice ...
 * depends on` blocks around it, the blocks around the `source` line that included its file, and the
 * architecture whose arch/<arch>/Kconfig sourced it. The index follows `source` from the top-level Kconfig,
 * as kconfig does, so files nothing sources are not in it and every definition of a symbol is (kconfig joins
 * a symbol's definitions with ||: one definition without a restriction is enough to lose it).
 *
 * When the index cannot be complete - no top-level Kconfig, a `source` of a file that is missing or whose
 * name has a variable other than the architecture's, an unbalanced block in a file it parsed - it says so
 * (`complete: false`) and the reach answers nothing (reach.ts): a definition it did not see could allow any
 * configuration. Every file is read, but only the files on the way to a symbol asked about are parsed
 * (KconfigIndex): a check of one patch asks about a handful of the ~20,000 symbols.
 */
import { parseExpr, type KExpr } from './expr.js';
import type { TreeReader } from './tree-reader.js';

/** One condition a definition is under, with where it was written (for the evidence). */
export interface Conjunct {
  readonly expr: KExpr;
  /** The expression as written. */
  text: string;
  file: string;
  line: number;
  via: 'depends on' | 'if' | 'menu' | 'choice' | 'arch' | 'default';
}

/** How a definition gets its value besides the user: whether it has a prompt, and its defaults. */
export interface ValueOf {
  prompt: boolean;
  /** `default VALUE [if COND]`, `def_bool VALUE [if COND]` (VALUE y, m, n or an expression). */
  defaults: Array<{ value: Conjunct; cond?: Conjunct }>;
}

export interface Definition {
  symbol: string;
  file: string;
  line: number;
  conds: Conjunct[];
  /** Symbols it selects without a condition (`select FOO`, not `select FOO if BAR`). */
  selects: string[];
  /** The arch/<arch>/Kconfig this definition was read under, if any. */
  arch: string | null;
  value: ValueOf;
}


/**
 * Width of the indentation of the line starting at `pos`, tabs to the next multiple of 8 (as kconfig's lexer
 * counts help text); -1 for a blank line.
 */
function indentAt(text: string, pos: number): number {
  let w = 0;
  for (let i = pos; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32) w++;
    else if (c === 9) w = (w & ~7) + 8;
    else if (c === 10 || c === 13) return -1;
    else return w;
  }
  return -1;
}

/** The line without a `#` comment (outside quotes). */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

/** A line the parser below reads: it starts with one of these keywords (sticky: tried at a line's start). */
const KEYWORD_LINE = /[ \t]*((?:menu)?config|if|endif|menu|endmenu|choice|endchoice|depends|select|imply|o?r?source|comment|mainmenu|help|---help---|bool|tristate|string|int|hex|prompt|def_bool|def_tristate|default)(?=[\s#]|$)/y;

/**
 * The logical lines of a Kconfig file that start with a keyword parseKconfig reads, as (keyword, the rest
 * of the line, line number): comments removed, `\` continuations joined, help text dropped. Walks the text
 * by positions: most of a Kconfig file is help text and attributes (range, option...), skipped without
 * making strings of them.
 */
export function kconfigLines(text: string, onLine: (keyword: string, rest: string, line: number) => void): void {
  const len = text.length;
  let pos = 0;
  let lineNo = 1;
  /** End of the line starting at `p` (the index of its newline, or len). */
  const endOf = (p: number) => {
    const e = text.indexOf('\n', p);
    return e < 0 ? len : e;
  };
  const continues = (e: number) => e > 0 && text.charCodeAt(e - 1 - (text.charCodeAt(e - 1) === 13 ? 1 : 0)) === 92;
  while (pos < len) {
    const startLine = lineNo;
    KEYWORD_LINE.lastIndex = pos;
    const m = KEYWORD_LINE.exec(text);
    // The logical line: this one and those it continues onto (`bool "prompt" \` + `if FOO` is one attribute).
    let e = endOf(pos);
    let rest = m ? text.slice(pos + m[0].length, e) : '';
    while (continues(e) && e < len) {
      const next = e + 1;
      const ne = endOf(next);
      if (m) rest = rest.replace(/\\\r?$/, ' ') + text.slice(next, ne);
      e = ne;
      lineNo++;
    }
    pos = e + 1;
    lineNo++;
    if (!m) continue;
    const keyword = m[1]!;
    onLine(keyword, (rest.includes('#') ? stripComment(rest) : rest).trim(), startLine);
    if (keyword === 'help' || keyword === '---help---') {
      // As kconfig's lexer: the help text is the following lines indented at least as deep as its first
      // non-blank line; a line at column 0 ends it, and so does one indented less than the first.
      let helpIndent = -1;
      while (pos < len) {
        const ind = indentAt(text, pos);
        if (ind === 0) break;
        if (ind > 0) {
          if (helpIndent < 0) helpIndent = ind;
          if (ind < helpIndent) break;
        }
        pos = endOf(pos) + 1;
        lineNo++;
      }
    }
  }
}

/** A condition parsed when first asked for: the reach evaluates the conditions of a few symbols among thousands. */
class LazyConjunct implements Conjunct {
  #expr: KExpr | undefined;
  constructor(
    readonly text: string,
    readonly file: string,
    readonly line: number,
    readonly via: Conjunct['via'],
  ) {}
  get expr(): KExpr {
    return (this.#expr ??= parseExpr(this.text));
  }
}

interface Block {
  kind: 'if' | 'menu' | 'choice';
  conds: Conjunct[];
}

/** What one file says, independent of where it was sourced from. */
interface ParsedFile {
  configs: Array<{ symbol: string; line: number; blocks: Block[]; own: Conjunct[]; selects: string[]; value: ValueOf }>;
  sources: Array<{ path: string; line: number; optional: boolean; relative: boolean; blocks: Block[] }>;
  problem?: string;
}

type ConfigEntry = ParsedFile['configs'][number];

const NO_CONFIG = { kind: 'other' } as const;

export function parseKconfig(file: string, text: string): ParsedFile {
  const parsed: ParsedFile = { configs: [], sources: [] };
  const stack: Block[] = [];
  /** The stack as it is now, one array shared by every entry until the next push or pop. */
  let frozen: Block[] | null = null;
  const blocks = () => (frozen ??= [...stack]);
  /** What a `depends on` line belongs to: the config being defined, a menu/choice header, or neither. */
  let current: { kind: 'config'; entry: ConfigEntry } | { kind: 'block'; block: Block } | typeof NO_CONFIG = NO_CONFIG;
  const conj = (text: string, line: number, via: Conjunct['via']): Conjunct => new LazyConjunct(text, file, line, via);
  kconfigLines(text, (word, rest, line) => {
    const entry = current.kind === 'config' ? current.entry : null;
    switch (word) {
      case 'config':
      case 'menuconfig': {
        const e: ConfigEntry = { symbol: rest, line, blocks: blocks(), own: [], selects: [], value: { prompt: false, defaults: [] } };
        parsed.configs.push(e);
        current = { kind: 'config', entry: e };
        return;
      }
      case 'if':
        stack.push({ kind: 'if', conds: [conj(rest, line, 'if')] });
        frozen = null;
        current = NO_CONFIG;
        return;
      case 'menu':
      case 'choice': {
        const block: Block = { kind: word, conds: [] };
        stack.push(block);
        frozen = null;
        current = { kind: 'block', block };
        return;
      }
      case 'endif':
      case 'endmenu':
      case 'endchoice': {
        const want = word === 'endif' ? 'if' : word === 'endmenu' ? 'menu' : 'choice';
        if (stack.pop()?.kind !== want) parsed.problem ??= `${file}:${line}: ${word} without its block`;
        frozen = null;
        current = NO_CONFIG;
        return;
      }
      case 'depends': {
        if (!/^on\s/.test(rest)) return;
        const expr = rest.slice(3).trim();
        if (entry) entry.own.push(conj(expr, line, 'depends on'));
        else if (current.kind === 'block') current.block.conds.push(conj(expr, line, current.block.kind as 'menu' | 'choice'));
        return;
      }
      case 'select':
      case 'imply': {
        if (word === 'select' && entry && /^[A-Za-z0-9_]+$/.test(rest)) entry.selects.push(rest);
        return;
      }
      case 'prompt':
        if (entry) entry.value.prompt = true;
        return;
      case 'bool':
      case 'tristate':
      case 'string':
      case 'int':
      case 'hex':
        if (entry && rest.startsWith('"')) entry.value.prompt = true;
        return;
      case 'default':
      case 'def_bool':
      case 'def_tristate': {
        if (!entry) return;
        // `default y if FOO`: the value and its condition (a quoted value is not a bool's: it restricts nothing).
        const d = /^(.*?)\s+if\s+(.*)$/.exec(rest);
        const valueText = (d ? d[1]! : rest).trim();
        entry.value.defaults.push({ value: conj(valueText, line, 'default'), ...(d ? { cond: conj(d[2]!.trim(), line, 'default') } : {}) });
        return;
      }
      case 'source':
      case 'rsource':
      case 'osource':
      case 'orsource': {
        const q = /^"([^"]*)"/.exec(rest);
        if (!q) parsed.problem ??= `${file}:${line}: ${word} without a quoted file name`;
        else parsed.sources.push({ path: q[1]!, line, optional: word.startsWith('o'), relative: word.endsWith('rsource'), blocks: blocks() });
        current = NO_CONFIG;
        return;
      }
      case 'comment':
      case 'mainmenu':
        current = NO_CONFIG;
        return;
      // help: kconfigLines skips its text. Other attributes (range, option...) are not read.
    }
  });
  if (stack.length) parsed.problem ??= `${file}: ${stack.length} block(s) not closed`;
  return parsed;
}

/** The pseudo-symbol an architecture's Kconfig files are under: `arch:x86` (never a real symbol name). */
export const ARCH_PREFIX = 'arch:';

const ARCH_VARIABLES = /\$\((SRCARCH|ARCH|HEADER_ARCH)\)/;

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/**
 * `config FOO` (group 1) and `source "..."` lines (groups 2, 3), found in one pass without parsing (help text
 * may add a few more: harmless). One pattern, not two, and lines found by their `\n` rather than the `m`
 * flag: a third of the time on Linux's 6 MB of Kconfig (bench/README.md), and the parser's idea of a line
 * (kconfigLines splits at `\n` only; `m` would also start one after a lone `\r`).
 */
const DISCOVER_LINE = /(?:^|\n)[ \t]*(?:(?:menu)?config[ \t]+([A-Za-z0-9_]+)|(o?r?source)[ \t]+"([^"]*)")/g;

/** `select FOO` and `imply FOO` lines (the name in group 1), by the same idea of a line as DISCOVER_LINE. */
const SELECT_LINE = /(?:^|\n)[ \t]*(?:select|imply)[ \t]+([A-Za-z0-9_]+)/g;

/**
 * The Kconfig files of a tree from the top-level Kconfig on, following `source` as kconfig does. Built in
 * two steps: every file is read and its `source` and `config` lines found by a pattern (which files exist,
 * which defines what, which sources which); a symbol's definitions are then parsed from the files that
 * define it and the files on the way to them from the top only. A file that only help text makes look like a
 * source or a definer is read for nothing, never trusted: the parse decides.
 */
export class KconfigIndex {
  readonly #reader: TreeReader;
  readonly #texts = new Map<string, string>();
  /** Who sources a file: parent paths (a file sourced from several places has several). */
  readonly #parents = new Map<string, Set<string>>();
  readonly #definers = new Map<string, string[]>();
  readonly #parsed = new Map<string, ParsedFile>();
  readonly #definitions = new Map<string, Definition[]>();
  /** The names `select`/`imply` lines name, found when first asked. */
  #selected: Set<string> | null = null;
  #problem: string | undefined;

  constructor(reader: TreeReader) {
    this.#reader = reader;
    const top = reader.read('Kconfig');
    if (top === null) {
      this.#problem = 'the tree has no top-level Kconfig';
      return;
    }
    this.#discover(top);
  }

  /** Whether every file could be read (else the reach claims nothing: a definition may be missing). */
  get complete(): boolean {
    return this.#problem === undefined;
  }

  get problem(): string | undefined {
    return this.#problem;
  }

  /** The targets of a file's `source` line, resolved: every architecture's for arch/$(SRCARCH)/..., each with its name. */
  #targets(path: string, source: string, relative: boolean): Array<{ target: string; arch?: string }> | null {
    const base = relative ? dirOf(path) : '';
    const join = (p: string) => (base ? `${base}/${p}` : p);
    const v = ARCH_VARIABLES.exec(source);
    if (v) {
      const [before, after] = source.split(v[0]);
      const archDir = join(before!).replace(/\/$/, '');
      return (this.#reader.list(archDir) ?? []).map((a) => ({ target: `${archDir}/${a}${after}`, arch: a }));
    }
    return source.includes('$(') ? null : [{ target: join(source) }];
  }

  #discover(top: string): void {
    const queue = ['Kconfig'];
    this.#texts.set('Kconfig', top);
    for (let i = 0; i < queue.length; i++) {
      if (i > 20000) {
        this.#problem ??= 'more Kconfig files than the index reads';
        return;
      }
      const path = queue[i]!;
      const text = this.#texts.get(path)!;
      for (const m of text.matchAll(DISCOVER_LINE)) {
        if (m[1] !== undefined) {
          const list = this.#definers.get(m[1]);
          if (!list) this.#definers.set(m[1], [path]);
          else if (list[list.length - 1] !== path) list.push(path);
          continue;
        }
        const word = m[2]!;
        const targets = this.#targets(path, m[3]!, word.endsWith('rsource'));
        if (!targets) {
          if (this.#parse(path).sources.some((x) => x.path === m[3])) this.#problem ??= `${path}: source "${m[3]}" names a variable`;
          continue;
        }
        const expanded = ARCH_VARIABLES.test(m[3]!);
        for (const { target } of targets) {
          let known = this.#texts.has(target);
          if (!known) {
            const t = this.#reader.read(target);
            if (t === null) {
              // A missing architecture file (arch/foo/Kconfig.debug) is fine; a missing plain source is not,
              // once the parse says the line is one (not help text).
              if (!expanded && !word.startsWith('o') && this.#parse(path).sources.some((x) => x.path === m[3])) this.#problem ??= `${path}: source "${m[3]}": no such file`;
              continue;
            }
            this.#texts.set(target, t);
            queue.push(target);
            known = true;
          }
          let parents = this.#parents.get(target);
          if (!parents) this.#parents.set(target, (parents = new Set()));
          parents.add(path);
        }
      }
    }
  }

  #parse(path: string): ParsedFile {
    let parsed = this.#parsed.get(path);
    if (!parsed) {
      parsed = parseKconfig(path, this.#texts.get(path)!);
      if (parsed.problem) this.#problem ??= parsed.problem;
      this.#parsed.set(path, parsed);
    }
    return parsed;
  }

  /** Every definition of a symbol, with the conditions it is under; empty when nothing defines it. */
  definitionsOf(symbol: string): readonly Definition[] {
    const hit = this.#definitions.get(symbol);
    if (hit) return hit;
    const files = this.#definers.get(symbol) ?? [];
    // The files on the way from the top to a definer: only these are parsed and walked.
    const wanted = new Set<string>();
    const up = [...files];
    while (up.length) {
      const f = up.pop()!;
      if (wanted.has(f)) continue;
      wanted.add(f);
      for (const p of this.#parents.get(f) ?? []) up.push(p);
    }
    const defs: Definition[] = [];
    const definers = new Set(files);
    const open = new Set<string>();
    const visit = (path: string, outer: Conjunct[], arch: string | null) => {
      if (open.has(path)) return;
      open.add(path);
      const parsed = this.#parse(path);
      const within = (blocks: Block[]) => (blocks.length ? [...outer, ...blocks.flatMap((b) => b.conds)] : outer);
      if (definers.has(path)) {
        for (const c of parsed.configs) {
          if (c.symbol === symbol) defs.push({ symbol, file: path, line: c.line, conds: [...within(c.blocks), ...c.own], selects: c.selects, arch, value: c.value });
        }
      }
      for (const src of parsed.sources) {
        for (const { target, arch: a } of this.#targets(path, src.path, src.relative) ?? []) {
          if (!wanted.has(target)) continue;
          const conds = within(src.blocks);
          // arch/$(SRCARCH)/Kconfig: each architecture's files under its own name. (Under an architecture
          // already, as arch/um's source of arch/$(HEADER_ARCH)/um/Kconfig, it stays that one.)
          if (arch === null && a !== undefined) visit(target, [...conds, { expr: { t: 'sym', name: `${ARCH_PREFIX}${a}` }, text: a, file: target, line: 0, via: 'arch' }], a);
          else visit(target, conds, arch);
        }
      }
      open.delete(path);
    };
    if (wanted.size) visit('Kconfig', [], null);
    this.#definitions.set(symbol, defs);
    return defs;
  }

  /** Whether some `select` or `imply` line names the symbol (help text mentioning one counts too: harmless). */
  isSelected(symbol: string): boolean {
    if (!this.#selected) {
      // Every selected name at once, in one pass over the texts: a pattern per symbol asked about walked
      // the files that mention it, and common names (MMU, X86) are in most of them.
      this.#selected = new Set();
      for (const text of this.#texts.values()) for (const m of text.matchAll(SELECT_LINE)) this.#selected.add(m[1]!);
    }
    return this.#selected.has(symbol);
  }
}
