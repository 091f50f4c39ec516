// The README documents the public interface: every registered rule must be listed there, and the two
// newcomer commands must stay at the top, and the sample output it shows is what `npm run example` prints.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { allRules } from '../src/analysis/rules/index.js';
import { initParser } from '../src/analysis/syntax/parser.js';
import { runCaptured } from './helpers/cli.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it.each(allRules.map((r) => [r.meta.id, r.meta.severity]))('lists rule %s with severity %s', (id, severity) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${id}\` \\| ${severity} \\|`, 'm'));
  });

  it('starts with the install-and-run and the test commands', () => {
    const top = readme.split('\n').slice(0, 15).join('\n');
    expect(top).toContain('npm ci && npm run example');
    expect(top).toContain('npm test');
  });

  it('shows output `npm run example` really prints', async () => {
    await initParser();
    const sample = /prints findings such as:\n\n```\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(sample).toBeTruthy();
    const root = fileURLToPath(new URL('..', import.meta.url));
    const r = await runCaptured(['check', '--tree', 'examples/tree', 'examples/kmap-demo-conversion.patch'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.out).toContain(sample!);
  });
});
