/**
 * The one place that knows about tree-sitter. We use the official WASM binding (web-tree-sitter) with
 * the grammar that tree-sitter-c ships as tree-sitter-c.wasm: the native binding breaks under jest
 * from the second test file on and compiles from source on Debian 12.
 *
 * Callers await `initParser()` once, then parse synchronously. Trees are converted to our compact
 * SyntaxNode form (see ast.ts) and the WASM tree is freed at once, so nothing leaks WASM memory.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Language, Parser, type Node as TSNode, type Tree } from 'web-tree-sitter';
import { normalizeKernelSource } from './kernel-idioms.js';
import { SyntaxNode } from './ast.js';

const require = createRequire(import.meta.url);
let parser: Parser | null = null;
let initializing: Promise<void> | null = null;

/**
 * The parts of web-tree-sitter's Emscripten module that the fast tree copy calls directly. Emscripten fills
 * in the options object given to Parser.init() with the module's exports, so this is how we reach them.
 * Each `_ts_tree_cursor_*_wasm(tree)` export reads the cursor from the binding's transfer buffer (and the
 * moving ones write it back): web-tree-sitter's TreeCursor copies the cursor in and out of that buffer with
 * four generic setValue/getValue calls around every call, which was a quarter of the whole copy.
 */
interface CursorBinding {
  HEAP32: Int32Array;
  _ts_init(): number;
  _ts_tree_cursor_goto_first_child_wasm(tree: number): number;
  _ts_tree_cursor_goto_next_sibling_wasm(tree: number): number;
  _ts_tree_cursor_goto_parent_wasm(tree: number): number;
  _ts_tree_cursor_current_node_type_id_wasm(tree: number): number;
  _ts_tree_cursor_current_node_is_named_wasm(tree: number): number;
  _ts_tree_cursor_current_node_is_missing_wasm(tree: number): number;
  _ts_tree_cursor_current_field_id_wasm(tree: number): number;
  _ts_tree_cursor_start_index_wasm(tree: number): number;
  _ts_tree_cursor_end_index_wasm(tree: number): number;
}

const CURSOR_CALLS = [
  '_ts_init', '_ts_tree_cursor_goto_first_child_wasm', '_ts_tree_cursor_goto_next_sibling_wasm', '_ts_tree_cursor_goto_parent_wasm',
  '_ts_tree_cursor_current_node_type_id_wasm', '_ts_tree_cursor_current_node_is_named_wasm', '_ts_tree_cursor_current_node_is_missing_wasm',
  '_ts_tree_cursor_current_field_id_wasm', '_ts_tree_cursor_start_index_wasm', '_ts_tree_cursor_end_index_wasm',
] as const;

/** Set when the binding has everything the fast copy needs (else the public TreeCursor API is used). */
let binding: { calls: CursorBinding; transferBuffer: number } | null = null;

/** False when web-tree-sitter no longer exposes what the fast copy needs (parsing still works, slower). */
export function fastCopyAvailable(): boolean {
  return binding !== null;
}

export function initParser(): Promise<void> {
  if (parser) return Promise.resolve();
  initializing ??= (async () => {
    const module: Partial<CursorBinding> = {};
    await Parser.init(module);
    if (CURSOR_CALLS.every((k) => typeof module[k] === 'function') && module.HEAP32 instanceof Int32Array) {
      const calls = module as CursorBinding;
      // ts_init() only returns the static transfer buffer's address (and writes the ABI versions into it).
      binding = { calls, transferBuffer: calls._ts_init() };
    }
    // The bytes, not the path: given a path, web-tree-sitter reads it through node:fs/promises, whose loading
    // and round trips cost a one-patch CLI run about 5 ms.
    const language = await Language.load(readFileSync(require.resolve('tree-sitter-c/tree-sitter-c.wasm')));
    const p = new Parser();
    p.setLanguage(language);
    parser = p;
  })();
  return initializing;
}

function requireParser(): Parser {
  if (!parser) throw new Error('initParser() must be awaited before parsing');
  return parser;
}

/**
 * Tokens the copy leaves out: anonymous tokens that are not in a grammar field (parentheses, semicolons,
 * commas, keywords such as `if`, `return` and `struct`, a declarator's `*`): ~30 % of the nodes of kernel
 * C (punctuation ~20 %, the rest ~10 %; measured on 150 files). Nothing reads them: texts come from offsets, and statements, arguments and operators are named
 * nodes or fields (`a + b`'s `+` is the binary expression's `operator`). A MISSING token is kept, as it
 * marks a syntax error, and so are braces: a block's `{` anchors inserted declarations (convert/plan.ts).
 */
const KEPT_ANONYMOUS = new Set(['{', '}']);
function isDroppedToken(type: string | undefined, named: boolean, missing: boolean): boolean {
  return !named && !missing && type !== undefined && !KEPT_ANONYMOUS.has(type);
}

/** Parses C source. The returned tree's node texts are slices of `source` itself (not the normalised text). */
export function parseC(source: string, lineBase = 0, copy: 'fast' | 'portable' = 'fast'): SyntaxNode {
  const { text, iteratorLoops } = normalizeKernelSource(source);
  const tree = requireParser().parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree');
  try {
    const lines = lineIndex(source, lineBase);
    return copy === 'fast' && binding
      ? copyTreeFast(tree, binding.calls, binding.transferBuffer, source, lines, iteratorLoops)
      : convert(tree.rootNode, source, lines, iteratorLoops);
  } finally {
    tree.delete();
  }
}

/**
 * Lines from offsets (one binary search) rather than from tree-sitter points: every point crosses into
 * WASM and allocates, and this copy is the parser's hot path.
 */
function lineIndex(source: string, lineBase: number): (offset: number) => number {
  const lineStarts = [0];
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  return (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1 + lineBase;
  };
}

/**
 * The same copy as convert(), calling the binding's cursor exports directly: the cursor stays in the
 * transfer buffer for the whole walk (nothing else runs in between), and is copied back into the JS
 * TreeCursor before it is deleted (moving it can reallocate its stack). parser.test.ts checks that both
 * copies agree on real-world code.
 */
function copyTreeFast(tree: Tree, c: CursorBinding, transferBuffer: number, source: string, lineOf: (offset: number) => number, iteratorLoops: Map<number, string>): SyntaxNode {
  const root = tree.rootNode;
  const mayMiss = root.hasError;
  const types = tree.language.types;
  const fields = tree.language.fields;
  const cursor = root.walk(); // leaves the new cursor in the transfer buffer
  const t = (tree as unknown as { 0: number })[0];
  const make = (parent: SyntaxNode | null, field: string | null): SyntaxNode => {
    const start = c._ts_tree_cursor_start_index_wasm(t);
    const end = c._ts_tree_cursor_end_index_wasm(t);
    const type = types[c._ts_tree_cursor_current_node_type_id_wasm(t)] || 'ERROR';
    const named = c._ts_tree_cursor_current_node_is_named_wasm(t) === 1;
    const missing = mayMiss && c._ts_tree_cursor_current_node_is_missing_wasm(t) === 1;
    const node = new SyntaxNode(source, type, field, start, end, lineOf(start), lineOf(end), named, missing, parent);
    if (type === 'while_statement' && iteratorLoops.has(start)) node.iteratorMacro = iteratorLoops.get(start)!;
    return node;
  };
  /**
   * The walk, without recursion: a file's nesting is the input's to choose (3,000 nested `?:` overflowed the
   * stack of a recursive copy), and depth is judged later, on the copy (rules/runner.ts MAX_NESTING).
   * `parents[k]` is filled with `children[k]`, the cursor on a child of the last of them.
   */
  const walkCopy = (): SyntaxNode => {
    const root = make(null, null);
    if (c._ts_tree_cursor_goto_first_child_wasm(t) !== 1) return root;
    const parents: SyntaxNode[] = [root];
    const children: SyntaxNode[][] = [[]];
    for (;;) {
      const top = parents.length - 1;
      const childField = fields[c._ts_tree_cursor_current_field_id_wasm(t)] ?? null;
      if (!(childField === null && isDroppedToken(types[c._ts_tree_cursor_current_node_type_id_wasm(t)], c._ts_tree_cursor_current_node_is_named_wasm(t) === 1, mayMiss && c._ts_tree_cursor_current_node_is_missing_wasm(t) === 1))) {
        const child = make(parents[top], childField);
        children[top].push(child);
        if (c._ts_tree_cursor_goto_first_child_wasm(t) === 1) {
          parents.push(child);
          children.push([]);
          continue;
        }
      }
      // The next sibling; or, the last child done, its parent is complete: the parent's next sibling.
      while (c._ts_tree_cursor_goto_next_sibling_wasm(t) !== 1) {
        parents.pop()!.children = children.pop()!;
        c._ts_tree_cursor_goto_parent_wasm(t);
        if (!parents.length) return root;
      }
    }
  };
  try {
    return walkCopy();
  } finally {
    // HEAP32 is re-created when WASM memory grows: read it now, not at the start.
    const heap = c.HEAP32;
    const js = cursor as unknown as Record<number, number>;
    for (let i = 0; i < 4; i++) js[i] = heap[(transferBuffer >> 2) + i];
    cursor.delete();
  }
}

/**
 * Copies the WASM tree into plain objects with a cursor walk: property access on web-tree-sitter nodes
 * crosses into WASM each time, so analyses that revisit nodes many times are much faster on copies.
 */
function convert(root: TSNode, source: string, lineOf: (offset: number) => number, iteratorLoops: Map<number, string>): SyntaxNode {
  // Only a tree with errors can hold MISSING nodes: skip asking every node otherwise.
  const mayMiss = root.hasError;
  const cursor = root.walk();
  const make = (parent: SyntaxNode | null, field: string | null): SyntaxNode => {
    const start = cursor.startIndex;
    const end = cursor.endIndex;
    const node = new SyntaxNode(source, cursor.nodeType, field, start, end, lineOf(start), lineOf(end), cursor.nodeIsNamed, mayMiss && cursor.nodeIsMissing, parent);
    if (node.type === 'while_statement' && iteratorLoops.has(node.start)) node.iteratorMacro = iteratorLoops.get(node.start)!;
    if (cursor.gotoFirstChild()) {
      const children: SyntaxNode[] = [];
      do {
        const childField = cursor.currentFieldName ?? null;
        if (childField === null && isDroppedToken(cursor.nodeType, cursor.nodeIsNamed, mayMiss && cursor.nodeIsMissing)) continue;
        children.push(make(node, childField));
      } while (cursor.gotoNextSibling());
      cursor.gotoParent();
      node.children = children;
    }
    return node;
  };
  try {
    return make(null, null);
  } finally {
    cursor.delete();
  }
}
