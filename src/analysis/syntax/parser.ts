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
import { Language, Parser, type Node as TSNode } from 'web-tree-sitter';
import { normalizeKernelSource } from './kernel-idioms.js';
import { SyntaxNode } from './ast.js';

const require = createRequire(import.meta.url);
let parser: Parser | null = null;
let initializing: Promise<void> | null = null;

export function initParser(): Promise<void> {
  if (parser) return Promise.resolve();
  initializing ??= (async () => {
    await Parser.init();
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

/** Parses C source. The returned tree's node texts are slices of `source` itself (not the normalised text). */
export function parseC(source: string, lineBase = 0): SyntaxNode {
  const { text, iteratorLoops } = normalizeKernelSource(source);
  const tree = requireParser().parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree');
  try {
    return convert(tree.rootNode, source, lineBase, iteratorLoops);
  } finally {
    tree.delete();
  }
}

/**
 * Copies the WASM tree into plain objects with a cursor walk: property access on web-tree-sitter nodes
 * crosses into WASM each time, so analyses that revisit nodes many times are much faster on copies.
 */
function convert(root: TSNode, source: string, lineBase: number, iteratorLoops: Map<number, string>): SyntaxNode {
  // Lines from offsets (one binary search) rather than cursor.startPosition/endPosition: every cursor
  // getter marshals the cursor into WASM memory, and Points allocate; this copy is the parser's hot path.
  const lineStarts = [0];
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1 + lineBase;
  };
  // Only a tree with errors can hold MISSING nodes: skip asking every node otherwise.
  const mayMiss = root.hasError;
  const cursor = root.walk();
  const make = (parent: SyntaxNode | null, field: string | null): SyntaxNode => {
    const start = cursor.startIndex;
    const end = cursor.endIndex;
    const node = new SyntaxNode(source, cursor.nodeType, field, start, end, lineOf(start), lineOf(end), cursor.nodeIsNamed, mayMiss && cursor.nodeIsMissing, parent);
    if (node.type === 'while_statement' && iteratorLoops.has(node.start)) node.iteratorMacro = iteratorLoops.get(node.start)!;
    if (cursor.gotoFirstChild()) {
      do node.children.push(make(node, cursor.currentFieldName));
      while (cursor.gotoNextSibling());
      cursor.gotoParent();
    }
    return node;
  };
  try {
    return make(null, null);
  } finally {
    cursor.delete();
  }
}
