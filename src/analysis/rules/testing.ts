/**
 * A RuleTester in the style of ESLint's: table-driven valid and invalid C snippets for one rule.
 * Each snippet is treated as newly added code (every line counts as changed), unless it marks
 * lines with a trailing `// +` comment, in which case only those lines are "added".
 */
import { checkFunction } from './runner.js';
import { attachConversionFixes } from '../convert/conversion-fixes.js';
import { KmapApi } from '../kmap-api.js';
import { DEFAULT_CONFIG, type EngineConfig, type Finding } from '../model.js';
import { changedFileFromImages } from '../patch/line-diff.js';
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
  const engineConfig = { ...DEFAULT_CONFIG, ...config };
  return fns.flatMap((fn) => {
    const found = checkFunction(fn, { path, source: code, image: 'post', isChanged, api, rules: [{ rule, severity: rule.meta.severity }], fileFunctions });
    // The engine's stage after the rules: deprecated-api findings get the verified conversion as their fix.
    attachConversionFixes(found, fn, { path, source: code, api, config: engineConfig });
    return found;
  });
}

/**
 * Findings of `rule` on a conversion: `postCode` checked as the post-image, with each function's
 * pre-image version (same name in `preCode`) as its counterpart. Added lines come from a line diff of
 * the two texts. Findings the pre-image already had are marked preExisting, as the engine does.
 */
export function findingsForConversion(rule: Rule, preCode: string, postCode: string, config?: Partial<EngineConfig>, path = 'mm/example.c'): Finding[] {
  const file = changedFileFromImages(path, path, preCode, postCode);
  const api = new KmapApi({ mapFunctions: config?.mapFunctions ?? {}, unmapFunctions: config?.unmapFunctions ?? {} });
  const preFns = locateFunctions(file.oldText);
  const postFns = locateFunctions(file.newText);
  const preByName = new Map(preFns.map((f) => [f.name, f]));
  const postByName = new Map(postFns.map((f) => [f.name, f]));
  const rules = [{ rule, severity: rule.meta.severity }];
  return postFns.flatMap((fn) => {
    const pre = preByName.get(fn.name);
    const found = checkFunction(fn, { path, source: file.newText, image: 'post', isChanged: (l) => file.addedLines.has(l), api, rules, fileFunctions: postByName, ...(pre ? { counterpart: pre } : {}) });
    if (pre) {
      const before = new Set(checkFunction(pre, { path, source: file.oldText, image: 'pre', isChanged: () => true, api, rules, fileFunctions: preByName }).map((f) => f.fingerprint));
      for (const f of found) f.preExisting = before.has(f.fingerprint);
    }
    return found;
  });
}

/** One conversion test case: the pre-image and post-image of a file, and the post-image findings expected. */
export interface ConversionCase {
  name: string;
  pre: string;
  post: string;
  /** Expected findings (not pre-existing) as [post line, substring of message]; empty for clean conversions. */
  findings?: Array<[number, string]>;
}

/** Table-driven conversion tests: each case yields exactly its findings (pre-existing ones are ignored). */
export function conversionTester(rule: Rule, cases: ConversionCase[], config?: Partial<EngineConfig>): void {
  describe(`${rule.meta.id} (conversions)`, () => {
    beforeAll(initParser);
    it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const found = findingsForConversion(rule, c.pre, c.post, config).filter((f) => !f.preExisting);
      const expected = c.findings ?? [];
      expect(found.map((f) => f.line)).toEqual(expected.map(([line]) => line));
      found.forEach((f, i) => expectWords(f, expected[i][1]));
    });
  });
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
      found.forEach((f, i) => expectWords(f, expected[i][1]));
    });
    // The trait the Kconfig reach reads (kconfig/apply.ts) says what the rule's own Reach does on arch/ paths.
    it(`is a cleanup without HIGHMEM exactly when it has the cleanupWithoutHighmem trait (${rule.meta.traits?.cleanupWithoutHighmem ? 'has' : 'has not'})`, () => {
      const found = cases.invalid.flatMap((c) => findingsFor(rule, c.code, config, 'arch/arm64/example.c'));
      const cleanups = found.filter((f) => f.severity === 'warning' && f.note?.includes('arm64 has no HIGHMEM'));
      expect(found.length).toBeGreaterThan(0);
      expect(cleanups.length).toBe(rule.meta.traits?.cleanupWithoutHighmem ? found.length : 0);
    });
  });
}

/** The words a maintainer reads: a one-line verdict of at most ~120 characters, the why and the fix below it. */
function expectWords(f: Finding, expected: string): void {
  expect([f.message, f.detail ?? ''].join('\n')).toContain(expected);
  expect(f.message).not.toContain('\n');
  expect(f.message.length).toBeLessThanOrEqual(MAX_VERDICT);
}

/** How long a finding's first line may be (the "at most ~120 characters", with room for long names). */
export const MAX_VERDICT = 130;
