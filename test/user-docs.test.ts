// User docs are self-contained: a clone has no ../shared/, so neither the README, docs/ nor the text of
// `kmap-review explain` may point there; docs/rules.md (the background) lists every registered rule.
import { readdirSync, readFileSync } from 'node:fs';
import { allRules } from '../src/analysis/rules/index.js';

const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');
const docs = ['README.md', ...readdirSync(new URL('../docs/', import.meta.url)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

it.each(docs)('%s does not point into ../shared/', (p) => {
  expect(read(p)).not.toMatch(/\.\.\/shared\b|shared folder/);
});

it.each(allRules.map((r) => [r.meta.id, r.meta.severity]))('docs/rules.md lists %s (%s), and its explain text is self-contained', (id, severity) => {
  expect(read('docs/rules.md')).toMatch(new RegExp(`^\\| \`${id}\` \\| ${severity} \\|$`, 'm'));
  const rule = allRules.find((r) => r.meta.id === id)!;
  expect(`${rule.meta.summary}\n${rule.meta.doc}`).not.toMatch(/\.\.\/shared\b/);
});

it('docs/rules.md lists no rule that does not exist', () => {
  const listed = [...read('docs/rules.md').matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
  expect(listed.sort()).toEqual(allRules.map((r) => r.meta.id).sort());
});
