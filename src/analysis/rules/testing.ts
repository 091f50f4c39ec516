/**
 * A RuleTester in the style of ESLint's: table-driven valid and invalid C snippets for one rule.
 * Each snippet is treated as newly added code (every line counts as changed), unless it marks
 * lines with a trailing `// +` comment, in which case only those lines are "added".
 */
import { checkFunction } from '../engine.js';
import { KmapApi } from '../kmap-api.js';
import type { EngineConfig, Finding } from '../model.js';
import { locateFunctions } from '../source/functions.js';
import { initParser } from '../syntax/parser.js';
import type { Rule, RuleCase } from './rule.js';

export function findingsFor(rule: Rule, code: string, config?: Partial<EngineConfig>, path = 'mm/example.c'): Finding[] {
  const lines = code.split('\n');
  const marked = new Set<number>();
  lines.forEach((l, i) => {
    if (/\/\/ \+\s*$/.test(l)) marked.add(i + 1);
  });
  const isChanged = marked.size ? (l: number) => marked.has(l) : () => true;
  const api = new KmapApi({ mapFunctions: config?.mapFunctions ?? {}, unmapFunctions: config?.unmapFunctions ?? {} });
  const fns = locateFunctions(code);
  const fileFunctions = new Map(fns.map((f) => [f.name, f]));
  return fns.flatMap((fn) =>
    checkFunction(fn, { path, source: code, image: 'post', isChanged, api, rules: [{ rule, severity: rule.meta.severity }], fileFunctions }),
  );
}

/** Registers jest tests: every valid case yields no finding, every invalid case exactly its findings. */
export function ruleTester(rule: Rule, cases: { valid: RuleCase[]; invalid: RuleCase[] }, config?: Partial<EngineConfig>): void {
  describe(rule.meta.id, () => {
    beforeAll(initParser);
    it('has complete metadata and a doc with every section', () => {
      expect(rule.meta.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(rule.meta.summary.length).toBeGreaterThan(10);
      for (const section of ['## What it finds', '## Why it matters', '## Example', '## Fix']) expect(rule.meta.doc).toContain(section);
    });
    if (cases.valid.length) {
      it.each(cases.valid.map((c) => [c.name, c] as const))('valid: %s', (_name, c) => {
        expect(findingsFor(rule, c.code, config).map((f) => `${f.line}: ${f.message}`)).toEqual([]);
      });
    }
    it.each(cases.invalid.map((c) => [c.name, c] as const))('invalid: %s', (_name, c) => {
      const found = findingsFor(rule, c.code, config);
      const expected = c.findings ?? [];
      expect(found.map((f) => f.line)).toEqual(expected.map(([line]) => line));
      found.forEach((f, i) => expect(f.message).toContain(expected[i][1]));
    });
  });
}
