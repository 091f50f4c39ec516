// The operator's table in docs/github-app.md ("kmap-review's own") is checked against the code: every
// KMAP_REVIEW_* variable the App or the CLI reads has a row, and every row names a variable that is read.
import { readdirSync, readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const sources = (readdirSync(new URL('src/', root), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('testing.ts'))
  .map((f) => readFileSync(new URL(`src/${f}`, root), 'utf8'));
const read = new Set(sources.flatMap((t) => [...t.matchAll(/\bKMAP_REVIEW_[A-Z_]+[A-Z]\b/g)].map((m) => m[0])));
const guide = readFileSync(new URL('docs/github-app.md', root), 'utf8');
const rows = new Set([...guide.matchAll(/^\| (`KMAP_REVIEW_[A-Z_]+`(?:, `KMAP_REVIEW_[A-Z_]+`)*) \|/gm)]
  .flatMap((m) => m[1]!.split(', ').map((v) => v.replace(/`/g, ''))));

it('finds the variables in the code', () => {
  expect(read.size).toBeGreaterThan(20);
});

it.each([...read].sort())('%s has a row in the guide', (name) => {
  expect(rows).toContain(name);
});

it.each([...rows].sort())('the guide\'s %s is read by the code', (name) => {
  expect(read).toContain(name);
});
