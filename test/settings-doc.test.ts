// The operator's tables in docs/github-app.md are checked against the settings module (src/app/settings.ts):
// every KMAP_REVIEW_* setting has a row with its default as the code has it, every row names a setting,
// every KMAP_REVIEW_* name the sources mention is a setting, every Probot name the App reads is in the
// guide, and no other module of src/app reads process.env.
import { readdirSync, readFileSync } from 'node:fs';
import { KMAP_SETTINGS, PROBOT_SETTINGS } from '../src/app/settings.js';

const root = new URL('../', import.meta.url);
const files = (readdirSync(new URL('src/', root), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('testing.ts'));
const source = (f: string) => readFileSync(new URL(`src/${f}`, root), 'utf8');
const mentioned = new Set(files.flatMap((f) => [...source(f).matchAll(/\bKMAP_REVIEW_[A-Z_]+[A-Z]\b/g)].map((m) => m[0])));
const guide = readFileSync(new URL('docs/github-app.md', root), 'utf8');

/** Rows of the "kmap-review's own" table: variable -> its default cell (split when a row has several). */
const rows = new Map<string, string>();
for (const m of guide.matchAll(/^\| (`KMAP_REVIEW_[A-Z_]+`(?:, `KMAP_REVIEW_[A-Z_]+`)*) \| ([^|]+) \|/gm)) {
  const names = m[1]!.split(', ').map((v) => v.replace(/`/g, ''));
  const defaults = names.length === 1 ? [m[2]!.trim()] : m[2]!.trim().split(', ');
  names.forEach((n, i) => rows.set(n, defaults[i] ?? ''));
}
const settings = Object.values(KMAP_SETTINGS);

it('finds the settings and the rows', () => {
  expect(settings.length).toBeGreaterThan(20);
  expect(rows.size).toBe(settings.length);
});

it.each(settings.map((s) => [s.name, s.shown]))('%s has a row in the guide with its default (%s)', (name, shown) => {
  expect(rows.get(name)).toBe(shown);
});

it.each([...rows.keys()].sort())('the guide\'s %s is a setting', (name) => {
  expect(settings.map((s) => s.name)).toContain(name);
});

it.each([...mentioned].sort())('%s, named in src/, is a setting', (name) => {
  expect(settings.map((s) => s.name)).toContain(name);
});

it.each(Object.values(PROBOT_SETTINGS).map((s) => s.name))('%s is in the guide', (name) => {
  expect(guide).toContain(`\`${name}`);
});

it('settings.ts is the only module of src/app that reads process.env', () => {
  const readers = files.filter((f) => f.startsWith('app/') && /process\.env\b/.test(source(f)));
  expect(readers).toEqual(['app/settings.ts']);
});
