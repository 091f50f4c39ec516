/**
 * The layers, as the developers' guide draws them: the engine (src/analysis) knows neither GitHub nor
 * output formats; renderers (src/comments) render findings and know nothing of GitHub's transport; the App
 * (src/app) and the CLI (src/cli) adapt the world to the engine. And no module imports itself back through
 * others: an import cycle makes load order matter and layers blur.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [p] : [];
  });
}

/**
 * Relative imports of a module (static `import ... from`, `export ... from` and `import('...')`), as source
 * paths; with `runtime`, only those that load code (`import type` is erased by the compiler).
 */
function importsOf(file: string, runtime: boolean): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(import|export)\s(type\s)?[^'"]*?from\s*'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)) {
    if (runtime && m[2]) continue;
    const spec = m[3] ?? m[4];
    out.push(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
  }
  return out;
}

const files = sources(root);
const graph = new Map(files.map((f) => [f, importsOf(f, false).filter((t) => files.includes(t))]));
const runtimeGraph = new Map(files.map((f) => [f, importsOf(f, true).filter((t) => files.includes(t))]));
const layer = (f: string) => relative(root, f).split('/')[0];

test('the engine imports nothing from the renderers, the App or the CLI', () => {
  const bad = [...graph].flatMap(([f, ts]) => (layer(f) === 'analysis' ? ts.filter((t) => layer(t) !== 'analysis').map((t) => `${relative(root, f)} -> ${relative(root, t)}`) : []));
  expect(bad).toEqual([]);
});

test('the renderers import nothing from the App or the CLI', () => {
  const bad = [...graph].flatMap(([f, ts]) => (layer(f) === 'comments' ? ts.filter((t) => ['app', 'cli'].includes(layer(t))).map((t) => `${relative(root, f)} -> ${relative(root, t)}`) : []));
  expect(bad).toEqual([]);
});

test('no import cycles (in the code that loads: type-only imports are erased)', () => {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const t of runtimeGraph.get(f) ?? []) {
      if (state.get(t) === 'open') cycles.push(stack.slice(stack.indexOf(t)).concat(t).map((x) => relative(root, x)).join(' -> '));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  expect(cycles).toEqual([]);
});

test('the import scan sees the imports (a check that cannot pass vacuously)', () => {
  const engine = graph.get(join(root, 'analysis', 'engine.ts')) ?? [];
  expect(engine.map((t) => relative(root, t))).toContain(join('analysis', 'kmap-api.ts'));
});
