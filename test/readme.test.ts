// The README documents the public interface: every registered rule must be listed there, and the two
// newcomer commands must stay at the top.
import { readFileSync } from 'node:fs';
import { allRules } from '../src/analysis/rules/index.js';

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
});
