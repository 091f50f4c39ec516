/**
 * The replay state along one path: the per-thread kmap_local stack (who holds each live address, and how
 * surely), the names whose mapping was released, the known truth of the flags that guard maps and unmaps
 * (and what flags were computed from), the values of the integers that offsets are made of, and the
 * iteration count of the loops being walked. Immutable: every change returns a new State. `key` is what
 * identical-state merging compares; the trace is evidence only and not part of it.
 */
import type { MapFamily } from '../kmap-api.js';
import type { SyntaxNode } from '../syntax/ast.js';
import { freshSymbols, valueKey, type Value } from './values.js';

/**
 * How surely a name holds an address of a mapping:
 * - `base`: the address the map returned (casts aside);
 * - `interior`: that address plus an offset (`kaddr + off`, a cursor advanced with `+=`): still inside the
 *   mapping as long as the code keeps to its page;
 * - `derived`: computed from it by a call or by arithmetic we do not follow (`su = get_usage(kaddr)`,
 *   `(long)vaddr | flags`): maybe a pointer into the mapping, maybe not. A derived holder releases the mapping
 *   when unmapped, but nothing is reported through it.
 */
export type HoldKind = 'base' | 'interior' | 'derived';

export interface Hold {
  name: string;
  kind: HoldKind;
  /** Offset in bytes from the start of the mapped page, when the function shows it. */
  off: Value | null;
  /** Advanced after the map (`p += n`): a cursor, which may have reached the end of the page. */
  moved?: boolean;
}

export interface LiveMapping {
  /** Source offset of the map call (or of the call to a map helper, or -1 - index for a seeded parameter). */
  site: number;
  call: SyntaxNode;
  family: MapFamily;
  line: number;
  holds: readonly Hold[];
  /** The page (or folio) expression mapped, as normalized text, when the API takes one. */
  page: string | null;
  /** Held in an array of mappings (`ptrs[i]` in a loop). */
  array: boolean;
  /** The array group holds at least two elements mapped by the same site. */
  multi: boolean;
  /** For array groups: direction of the loop that filled it (+1/-1/0). */
  dir: number;
  /** A branch skipped this mapping's unmap on a condition the replay could not decide: no leak report. */
  guarded: boolean;
  /** Mapped by a same-file helper that may also return something else (NULL, ERR_PTR): gone when its holder is. */
  mayFail: boolean;
  /**
   * Handed over on this path: its address was stored where the caller can reach it (a parameter's field, a
   * global) or returned. Not this function's to unmap, so no leak; mapping-escapes judges the store.
   */
  escaped: boolean;
  /** Returned to the caller on this path (what makes a function a map helper, in its summary). */
  returned?: boolean;
  /** Summary mode: a parameter's mapping handed to code the file does not show. */
  passedOn?: boolean;
  /** The same-file function whose call made this mapping, when it came from one. */
  viaHelper: string | null;
}

export interface Released {
  site: number;
  mapLine: number;
  mapCall: SyntaxNode;
  unmapLine: number;
  unmapCall: SyntaxNode;
  kind: HoldKind;
  /** Array elements: which element was released is not tracked, so nothing is reported through them. */
  array: boolean;
  /** The path went around a loop since: uses are no longer reported (see replay.ts, take()). */
  looped?: boolean;
  /**
   * Released through a field of what pointer parameter `callerField` points to (`walk->data`), mapped by the
   * caller: a call given that parameter may map the field again (replay.ts, onCall()).
   */
  callerField?: string;
}

/** One step of the path, as a persistent list (newest first). */
export interface Step {
  line: number;
  /** What happened, in words ("taken", "iterates"), or '' when the quoted source says it all. */
  note: string;
  /** The source this step is about (a statement, a call or a condition). */
  node: SyntaxNode | null;
  kind: 'map' | 'unmap' | 'branch' | 'loop' | 'other';
  site?: number;
  prev: Step | null;
}

export class State {
  private stackKey: string | null = null;
  private releasedKey: string | null = null;
  private factsKey: string | null = null;
  private loopsKey: string | null = null;
  private valuesKey: string | null = null;
  private cachedKey: string | null = null;

  constructor(
    readonly stack: readonly LiveMapping[],
    readonly released: ReadonlyMap<string, Released>,
    readonly facts: ReadonlyMap<string, boolean>,
    /** Flags computed from a condition (`bool unmap = a && b;`), by name: evaluated through their definition. */
    readonly defs: ReadonlyMap<string, SyntaxNode>,
    readonly values: ReadonlyMap<string, Value>,
    readonly loops: ReadonlyMap<number, number>,
    readonly trace: Step | null,
  ) {}

  static initial(stack: readonly LiveMapping[] = []): State {
    return new State(stack, new Map(), new Map(), new Map(), new Map(), new Map(), null);
  }

  get key(): string {
    if (this.cachedKey === null) {
      // Fresh symbols are named in order of first appearance, the stack's first (see freshSymbols()): the
      // values' part depends on the stack's, and is recomputed when either changes. (Loops, not spreads and
      // maps: a key is made for most states the replay visits, and the maps are mostly empty or small.)
      if (this.stackKey === null || this.valuesKey === null) {
        const sym = this.stack.length || this.values.size ? freshSymbols() : undefined;
        let stackKey = '';
        for (let i = 0; i < this.stack.length; i++) {
          const m = this.stack[i];
          let holds = '';
          for (let j = 0; j < m.holds.length; j++) {
            const h = m.holds[j];
            holds += `${j ? ',' : ''}${h.name}/${h.kind[0]}${h.moved ? 'm' : ''}${h.off ? valueKey(h.off, sym) : ''}`;
          }
          stackKey += `${i ? '|' : ''}${m.site}:${holds}:${m.multi ? 'm' : ''}${m.guarded ? 'g' : ''}${m.escaped ? 'e' : ''}${m.returned ? 'r' : ''}${m.passedOn ? 'p' : ''}`;
        }
        this.stackKey = stackKey;
        this.valuesKey = this.values.size ? [...this.values].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k, v]) => `${k}=${valueKey(v, sym)}`).join(',') : '';
      }
      this.releasedKey ??= sortedParts(this.released, (k, v) => `${k}=${v.site}${v.kind[0]}${v.looped ? 'l' : ''}`);
      this.factsKey ??= `${sortedParts(this.facts, (k, v) => `${k}=${v ? 1 : 0}`)}/${sortedParts(this.defs, (k, v) => `${k}@${v.start}`)}`;
      this.loopsKey ??= sortedParts(this.loops, (k, v) => `${k}=${v}`);
      this.cachedKey = `${this.stackKey}#${this.releasedKey}#${this.factsKey}#${this.valuesKey}#${this.loopsKey}`;
    }
    return this.cachedKey;
  }

  with(changes: Partial<Pick<State, 'stack' | 'released' | 'facts' | 'defs' | 'values' | 'loops' | 'trace'>>): State {
    const next = new State(
      changes.stack ?? this.stack,
      changes.released ?? this.released,
      changes.facts ?? this.facts,
      changes.defs ?? this.defs,
      changes.values ?? this.values,
      changes.loops ?? this.loops,
      changes.trace !== undefined ? changes.trace : this.trace,
    );
    let same = true;
    // (The stack's part is only kept with the values': fresh symbols are named across both.)
    if (changes.stack === undefined && changes.values === undefined) next.stackKey = this.stackKey;
    if (changes.stack !== undefined) same = false;
    if (changes.released === undefined) next.releasedKey = this.releasedKey;
    else same = false;
    if (changes.facts === undefined && changes.defs === undefined) next.factsKey = this.factsKey;
    else same = false;
    if (changes.values === undefined && changes.stack === undefined) next.valuesKey = this.valuesKey;
    if (changes.values !== undefined) same = false;
    if (changes.loops === undefined) next.loopsKey = this.loopsKey;
    else same = false;
    if (same) next.cachedKey = this.cachedKey;
    return next;
  }

  step(line: number, note: string, node: SyntaxNode | null, kind: Step['kind'] = 'other', site?: number): State {
    // The commonest change by far (every statement a path walks): only the trace, so every key part stays.
    const next = new State(this.stack, this.released, this.facts, this.defs, this.values, this.loops, { line, note, node, kind, site, prev: this.trace });
    next.stackKey = this.stackKey;
    next.releasedKey = this.releasedKey;
    next.factsKey = this.factsKey;
    next.loopsKey = this.loopsKey;
    next.valuesKey = this.valuesKey;
    next.cachedKey = this.cachedKey;
    return next;
  }

  /** Index in the stack of the topmost live mapping held by `name`, or -1. */
  find(name: string): number {
    for (let i = this.stack.length - 1; i >= 0; i--) if (this.stack[i].holds.some((h) => h.name === name)) return i;
    return -1;
  }

  holdOf(name: string): { index: number; hold: Hold } | null {
    const i = this.find(name);
    if (i < 0) return null;
    return { index: i, hold: this.stack[i].holds.find((h) => h.name === name)! };
  }

  /** Replaces the mapping at `i`. */
  replace(i: number, m: LiveMapping): State {
    const stack = [...this.stack];
    stack[i] = m;
    return this.with({ stack });
  }

  remove(i: number): State {
    const stack = [...this.stack];
    stack.splice(i, 1);
    return this.with({ stack });
  }

  /** Removes `name` as a holder wherever it is; a mapping left with no holder is dropped when `dropOrphans`. */
  forgetHolder(name: string, dropOrphans: boolean): State {
    const i = this.find(name);
    if (i < 0) return this;
    const m = this.stack[i];
    const holds = m.holds.filter((h) => h.name !== name);
    if (!holds.length && dropOrphans) return this.remove(i);
    return this.replace(i, { ...m, holds });
  }

  unrelease(name: string): State {
    if (!this.released.has(name)) return this;
    const released = new Map(this.released);
    released.delete(name);
    return this.with({ released });
  }
}

/** A map's entries as text, sorted and joined by commas (the order of insertion differs from path to path). */
function sortedParts<K, V>(m: ReadonlyMap<K, V>, part: (k: K, v: V) => string): string {
  if (m.size === 0) return '';
  if (m.size === 1) for (const [k, v] of m) return part(k, v);
  const parts: string[] = [];
  for (const [k, v] of m) parts.push(part(k, v));
  return parts.sort().join(',');
}

/** The steps of a path, oldest first. */
export function stepsOf(trace: Step | null): Step[] {
  const out: Step[] = [];
  for (let s = trace; s; s = s.prev) out.push(s);
  return out.reverse();
}
