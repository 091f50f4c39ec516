/**
 * The replay state along one path: the per-thread kmap_local stack (who holds each live address),
 * the names whose mapping was released, known truth of the flags that guard maps and unmaps, and the
 * iteration count of the loops being walked. Immutable: every change returns a new State. `key` is
 * what identical-state merging compares; the trace is evidence only and not part of it.
 */
import type { MapFamily } from '../kmap-api.js';
import type { SyntaxNode } from '../syntax/ast.js';

export interface LiveMapping {
  /** Source offset of the map call: identifies the map site. */
  site: number;
  call: SyntaxNode;
  family: MapFamily;
  line: number;
  /** Variables/fields holding the address (aliases included); empty when the address was overwritten. */
  holders: readonly string[];
  /** Held in an array of mappings (`ptrs[i]` in a loop). */
  array: boolean;
  /** The array group holds at least two elements mapped by the same site. */
  multi: boolean;
  /** The address went to a struct field or through a pointer: not this function's to unmap (mapping-escapes). */
  escaped: boolean;
  /** For array groups: direction of the loop that filled it (+1/-1/0). */
  dir: number;
  /**
   * We are unsure which addresses still point into this mapping (a holder was advanced with `+=`/`++`,
   * or a call derived a pointer from it): after its unmap, uses and unmaps of its holders are not reported.
   */
  quiet: boolean;
  /** A branch skipped this mapping's unmap on a condition the replay could not decide: no leak report. */
  guarded: boolean;
}

export interface Released {
  site: number;
  mapLine: number;
  unmapLine: number;
  unmapText: string;
  /** Do not report uses or unmaps of this name (array elements, uncertain aliases). */
  quiet: boolean;
}

/** One step of the path, as a persistent list (newest first). */
export interface Step {
  line: number;
  note: string;
  kind: 'map' | 'unmap' | 'branch' | 'other';
  site?: number;
  prev: Step | null;
}

export class State {
  /**
   * The key's parts, each built once and handed on to the next states that keep that part: most steps
   * change one part (a trace step none), and the replay asks every state's key.
   */
  private stackKey: string | null = null;
  private releasedKey: string | null = null;
  private factsKey: string | null = null;
  private loopsKey: string | null = null;
  private cachedKey: string | null = null;

  constructor(
    readonly stack: readonly LiveMapping[],
    readonly released: ReadonlyMap<string, Released>,
    readonly facts: ReadonlyMap<string, boolean>,
    readonly loops: ReadonlyMap<number, number>,
    readonly trace: Step | null,
  ) {}

  static initial(): State {
    return new State([], new Map(), new Map(), new Map(), null);
  }

  get key(): string {
    if (this.cachedKey === null) {
      this.stackKey ??= this.stack.map((m) => `${m.site}:${m.holders.join(',')}:${m.multi ? 'm' : ''}${m.escaped ? 'e' : ''}${m.quiet ? 'q' : ''}${m.guarded ? 'g' : ''}`).join('|');
      this.releasedKey ??= [...this.released].map(([k, v]) => `${k}=${v.site}${v.quiet ? 'q' : ''}`).sort().join(',');
      this.factsKey ??= [...this.facts].map(([k, v]) => `${k}=${v ? 1 : 0}`).sort().join(',');
      this.loopsKey ??= [...this.loops].map(([k, v]) => `${k}=${v}`).sort().join(',');
      this.cachedKey = `${this.stackKey}#${this.releasedKey}#${this.factsKey}#${this.loopsKey}`;
    }
    return this.cachedKey;
  }

  with(changes: Partial<Pick<State, 'stack' | 'released' | 'facts' | 'loops' | 'trace'>>): State {
    const next = new State(
      changes.stack ?? this.stack,
      changes.released ?? this.released,
      changes.facts ?? this.facts,
      changes.loops ?? this.loops,
      changes.trace !== undefined ? changes.trace : this.trace,
    );
    let same = true;
    if (changes.stack === undefined) next.stackKey = this.stackKey;
    else same = false;
    if (changes.released === undefined) next.releasedKey = this.releasedKey;
    else same = false;
    if (changes.facts === undefined) next.factsKey = this.factsKey;
    else same = false;
    if (changes.loops === undefined) next.loopsKey = this.loopsKey;
    else same = false;
    if (same) next.cachedKey = this.cachedKey;
    return next;
  }

  step(line: number, note: string, kind: Step['kind'] = 'other', site?: number): State {
    return this.with({ trace: { line, note, kind, site, prev: this.trace } });
  }

  /** Index in the stack of the topmost live mapping held by `name`, or -1. */
  find(name: string): number {
    for (let i = this.stack.length - 1; i >= 0; i--) if (this.stack[i].holders.includes(name)) return i;
    return -1;
  }

  /** Removes `name` as a holder wherever it is; mappings left without holder are dropped when `dropOrphans`. */
  forgetHolder(name: string, dropOrphans: boolean): State {
    const i = this.find(name);
    if (i < 0) return this;
    const m = this.stack[i];
    const holders = m.holders.filter((h) => h !== name);
    const stack = [...this.stack];
    if (!holders.length && dropOrphans) stack.splice(i, 1);
    else stack[i] = { ...m, holders };
    return this.with({ stack });
  }
}

/** The steps of a path, oldest first. */
export function stepsOf(trace: Step | null): Step[] {
  const out: Step[] = [];
  for (let s = trace; s; s = s.prev) out.push(s);
  return out.reverse();
}
