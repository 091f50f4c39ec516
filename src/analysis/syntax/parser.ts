/**
 * The one place that knows about tree-sitter. We use the official WASM binding (web-tree-sitter) with
 * the grammar that tree-sitter-c ships as tree-sitter-c.wasm: the native binding breaks under jest
 * from the second test file on and compiles from source on Debian 12.
 *
 * Callers await `initParser()` once, then parse synchronously. Trees are converted to our compact
 * SyntaxNode form (see ast.ts) and the WASM tree is freed at once, so nothing leaks WASM memory.
 */
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
    const language = await Language.load(require.resolve('tree-sitter-c/tree-sitter-c.wasm'));
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
  const cursor = root.walk();
  const make = (parent: SyntaxNode | null, field: string | null): SyntaxNode => {
    const n = cursor.currentNode;
    const node = new SyntaxNode(
      source, cursor.nodeType, field, cursor.startIndex, cursor.endIndex,
      cursor.startPosition.row + 1 + lineBase, cursor.endPosition.row + 1 + lineBase,
      cursor.nodeIsNamed, n.isMissing, parent,
    );
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
