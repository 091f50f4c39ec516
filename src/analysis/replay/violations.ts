/**
 * What the replay finds, as typed facts with no prose: the kind of violation, the mapping it is about,
 * the calls involved and the path that shows it. The replay rules (src/analysis/rules) select the kinds
 * they report and own every word of the message and the trace.
 */
import type { MapFamily } from '../kmap-api.js';
import type { LineRange } from '../model.js';
import type { SyntaxNode } from '../syntax/ast.js';
import type { Step } from './state.js';
import type { Value } from './values.js';

export type ViolationKind = 'unmap-order' | 'mapping-leak' | 'double-unmap' | 'use-after-unmap' | 'stack-depth' | 'unmap-outside-page' | 'mismatched-unmap';

/** A mapping as the rules name it. */
export interface MappingRef {
  /** Source offset of the map call: identifies the map site. */
  site: number;
  /** The map call (or the call to a same-file helper that returns a mapping). */
  call: SyntaxNode;
  line: number;
  /** The variable (or field, or array) that holds the address; null when no name holds it any more. */
  holder: string | null;
  family: MapFamily;
  /** The map function called (kmap_local_page, kmap, or the helper's name). */
  api: string;
  /** The same-file function that made the mapping, when it came from a call to one. */
  viaHelper: string | null;
  /** The page (or folio) expression mapped, as normalized text, when the API takes one. */
  page: string | null;
}

export interface CallRef {
  call: SyntaxNode;
  line: number;
  /** Set when a same-file helper did it (`put_addr()` unmaps its argument). */
  viaHelper?: string | null;
}

export interface Violation {
  kind: ViolationKind;
  /** The node the finding is reported on (its text goes into the fingerprint). */
  node: SyntaxNode;
  /** Variable names only, never line numbers: stable between the pre and post images. */
  key: string;
  mapping: MappingRef;
  /** unmap-order: the mapping still on top of the stack. */
  top?: MappingRef;
  /** The unmap involved: the out-of-order one, the second of a double unmap, the one a use comes after, the one given a bad address. */
  unmap?: CallRef;
  /** mismatched-unmap: the name the unmapped address is held in here (null when not a sure one). */
  hold?: string | null;
  /** double-unmap: the first unmap. */
  earlier?: CallRef;
  /** use-after-unmap: the use. */
  use?: { node: SyntaxNode; line: number; holder: string };
  /** mapping-leak: where the function is left (a return statement, or null for the end of the body). */
  exit?: { line: number; node: SyntaxNode | null };
  /**
   * unmap-order: 'forward-array' when a loop releases an array in the order it was mapped;
   * stack-depth: 'array-loop' | 'remap-loop' | 'depth';
   * unmap-outside-page: 'after' | 'before' the page;
   * use-after-unmap: 'returned' when the use is the return of the address.
   */
  detail?: 'forward-array' | 'array-loop' | 'remap-loop' | 'depth' | 'after' | 'before' | 'returned';
  /** stack-depth: how many mappings are live. */
  live?: number;
  /** stack-depth remap-loop: the line of the mapping still live. */
  previousLine?: number;
  /** unmap-outside-page: the offset of the unmapped address from the start of the mapped page. */
  offset?: Value;
  /** The path, oldest step first, from the mapping's map to the violation. */
  path: Step[];
  /**
   * In a sparse function (CFunction.unseen): the stretches the patch does not show that the part of the
   * path the violation depends on crosses ([] for none). The rules runner makes a note of any but a
   * mismatched-unmap, whose rule judges it.
   */
  unseen?: LineRange[];
}

/** Something the replay could not decide from the code it sees (reported as an analysis gap). */
export interface Undecided {
  line: number;
  reason: string;
}
