import { parseConfig, toEngineConfig, DEFAULT_APP_CONFIG } from '../../src/config/repo-config.js';
import { parseHunks, placeFinding } from '../../src/app/diff-lines.js';
import { annotationBatches, conclusionFor, renderCheckRun, type CheckRunInput } from '../../src/comments/check-run.js';
import { code, fence, fingerprintMarker, readFingerprint, truncate } from '../../src/comments/markdown.js';
import { renderInlineComment } from '../../src/comments/review.js';
import { finding } from './helpers/harness.js';
import { fixture } from './helpers/payloads.js';

describe('.github/kmap-review.yml', () => {
  it('defaults when absent', () => {
    expect(parseConfig(null)).toEqual({ config: DEFAULT_APP_CONFIG, problems: [], source: 'default' });
  });
  it('reads every key', () => {
    const { config, problems } = parseConfig({
      include: ['fs/**/*.c'], exclude: 'fs/legacy/**', rules: { 'use-helper': 'off', 'deprecated-api': 'error', x: false },
      map_functions: { zfs_kmap_local: 'kmap_local_page' }, unmap_functions: { zfs_kunmap_local: 'kunmap_local' },
      review: { event: 'REQUEST_CHANGES', max_comments: 10 }, drafts: true,
      conclusion: { warning: 'neutral' }, max_file_bytes: 1000, max_files: 50,
    });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      include: ['fs/**/*.c'], exclude: ['fs/legacy/**'], drafts: true, maxFileBytes: 1000, maxFiles: 50,
      review: { event: 'REQUEST_CHANGES', maxComments: 10 },
      conclusion: { error: 'failure', warning: 'neutral', notice: 'success' },
    });
    expect(toEngineConfig(config)).toEqual({
      rules: { 'use-helper': 'off', 'deprecated-api': 'error', x: 'off' },
      mapFunctions: { zfs_kmap_local: 'kmap_local_page' }, unmapFunctions: { zfs_kunmap_local: 'kunmap_local' },
    });
  });
  it('says what is wrong and keeps the defaults for the offending keys', () => {
    const { config, problems } = parseConfig(
      { review: { event: 'APPROVE', max_comments: 500, tone: 'nice' }, rules: { 'unmap-order': 'fatal', typo: 'warning' }, drafts: 'yes', conclusion: 'never', include: 5, extra: 1 },
      ['unmap-order'],
    );
    expect(config.review).toEqual(DEFAULT_APP_CONFIG.review);
    expect(config.rules).toEqual({ typo: 'warning' });
    expect(problems).toEqual([
      'unknown key `extra` (known: include, exclude, rules, map_functions, unmap_functions, review, drafts, conclusion, max_file_bytes, max_files, max_analysis_seconds)',
      '`include` must be a list of glob strings',
      '`rules.unmap-order` must be one of `error`, `warning`, `notice`, `off` (got `fatal`)',
      'unknown rule `typo` in `rules`',
      'unknown key `review.tone`',
      '`review.event` must be one of `COMMENT`, `REQUEST_CHANGES` (got `APPROVE`)',
      '`review.max_comments` must be an integer from 0 to 50 (got `500`)',
      '`drafts` must be true or false',
      '`conclusion` must be a mapping of severity to success, neutral or failure',
    ]);
    expect(parseConfig('just a string').problems).toEqual(['the file must be a YAML mapping (key: value)']);
  });
});

describe('diff lines and placement', () => {
  const hunks = parseHunks(fixture('kernel/xor-pages.wrong-order.patch'));
  it('parses the RIGHT-side ranges of the hunks', () => {
    expect(hunks).toEqual([{ start: 9, end: 25 }]);
    expect(parseHunks('@@ -1,3 +0,0 @@\n-a\n-b\n-c')).toEqual([]);
    expect(parseHunks('@@ -5 +5 @@\n-a\n+b\n@@ -40,2 +41,4 @@ fn\n')).toEqual([{ start: 5, end: 5 }, { start: 41, end: 44 }]);
  });
  it('puts a fitting fix in a suggestion on the edited lines', () => {
    const f = finding({ line: 16, fix: { description: 'd', path: 'mm/xor_pages.c', edits: [{ startLine: 16, endLine: 17, replacement: 'a\nb\n' }] } });
    expect(placeFinding(f, hunks)).toEqual({ startLine: 16, line: 17, suggestion: 'a\nb' });
  });
  it('does not suggest a fix that leaves the diff, spans several edits or another file', () => {
    const out = finding({ line: 16, fix: { description: 'd', path: 'mm/xor_pages.c', edits: [{ startLine: 24, endLine: 30, replacement: '' }] } });
    expect(placeFinding(out, hunks)).toEqual({ line: 16 });
    const two = finding({ line: 16, fix: { description: 'd', path: 'mm/xor_pages.c', edits: [{ startLine: 16, endLine: 16, replacement: '' }, { startLine: 17, endLine: 17, replacement: '' }] } });
    expect(placeFinding(two, hunks)).toEqual({ line: 16 });
  });
  it('anchors on the first line in the diff, or nowhere', () => {
    expect(placeFinding(finding({ line: 5, endLine: 12 }), hunks)).toMatchObject({ line: 9 });
    expect(placeFinding(finding({ line: 30 }), hunks)).toBeUndefined();
    expect(placeFinding(finding({ line: 10 }), [])).toBeUndefined();
  });
});

describe('markdown', () => {
  it('fences and inline code survive backticks', () => {
    expect(fence('a ``` b', 'c')).toBe('````c\na ``` b\n````');
    expect(fence('', 'suggestion')).toBe('```suggestion\n```');
    expect(code('a`b')).toBe('``a`b``');
  });
  it('round-trips fingerprints', () => {
    expect(readFingerprint(`text\n${fingerprintMarker('abc123')}`)).toBe('abc123');
    expect(readFingerprint('nothing')).toBeUndefined();
  });
  it('truncates with a note, at a line boundary, without splitting a surrogate pair', () => {
    const t = truncate('line one\nline two\nline three', 24, '(cut)');
    expect(t).toBe('line one\nline two\n\n(cut)');
    expect(truncate('short', 100, 'x')).toBe('short');
    const e = truncate('😀'.repeat(100), 51, '!');
    expect(e.length).toBeLessThanOrEqual(51);
    expect(e).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
  it('renders an inline comment with the rule, message, trace, fix and why', () => {
    const body = renderInlineComment(finding({ line: 16, note: 'arm64 has no HIGHMEM', fix: { description: 'swap', path: 'p', edits: [{ startLine: 16, endLine: 16, replacement: 'x' }] } }),
      { rule: { id: 'unmap-order', summary: 'LIFO.', doc: '## What it finds\nstuff' } });
    expect(body).toContain('🛑 **kmap-review** `unmap-order` (error):');
    expect(body).toContain('> arm64 has no HIGHMEM');
    expect(body).toContain('**Fix**: swap');
    expect(body).toContain('<summary>Why `unmap-order`? LIFO.</summary>');
    expect(body.endsWith('<!-- kmap-review:fp=fp-unmap-order-16 -->')).toBe(true);
  });
});

describe('check-run output', () => {
  const input = (over: Partial<CheckRunInput> = {}): CheckRunInput => ({
    report: { name: 'PR #2', findings: [], files: [{ path: 'a.c', functionsAnalysed: 3 }], skipped: [], gaps: [] },
    headSha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
    conclusionPolicy: DEFAULT_APP_CONFIG.conclusion,
    configProblems: [], ignoredFiles: 0, notes: [],
    inline: { posted: 0, alreadyPosted: 0, resolved: 0, outsideDiff: [], overCap: [] },
    ...over,
  });
  it('conclusion follows the policy and ignores pre-existing findings', () => {
    const policy = { error: 'failure', warning: 'neutral', notice: 'success' } as const;
    expect(conclusionFor([finding({ line: 1, preExisting: true })], policy)).toBe('success');
    expect(conclusionFor([finding({ line: 1, severity: 'warning' })], policy)).toBe('neutral');
    expect(conclusionFor([finding({ line: 1, severity: 'warning' }), finding({ line: 2 })], policy)).toBe('failure');
  });
  it('summarises counts by rule and file, skipped files, gaps, pre-existing findings and config problems', () => {
    const out = renderCheckRun(input({
      report: {
        name: 'PR #2',
        findings: [finding({ line: 16 }), finding({ line: 25, rule: 'mismatched-unmap', path: 'b.c' }), finding({ line: 3, preExisting: true, rule: 'deprecated-api', severity: 'warning' })],
        files: [{ path: 'mm/xor_pages.c', functionsAnalysed: 2 }, { path: 'b.c', functionsAnalysed: 1 }],
        skipped: [{ path: 'big.c', reason: 'too large' }],
        gaps: [{ path: 'b.c', function: 'f', reason: 'replay budget exhausted' }],
      },
      configProblems: ['unknown key `x`'],
      ignoredFiles: 4,
    }));
    expect(out.title).toBe('2 errors in 2 files');
    expect(out.conclusion).toBe('failure');
    expect(out.summary).toContain('| `unmap-order` | error | 1 | 1 |');
    expect(out.summary).toContain('| mm/xor_pages.c | 1 | 0 | 0 |');
    expect(out.summary).toContain('**Analysed:** 2 C/H files, 3 functions; 4 other files ignored (not C).');
    expect(out.summary).toContain('- `big.c`: too large');
    expect(out.summary).toContain('**Replay:** incomplete, 1 gap:\n- `b.c: f()`: replay budget exhausted');
    expect(out.summary).toContain('**Pre-existing (1, not counted):**');
    expect(out.summary).toContain('- unknown key `x`');
    expect(out.annotations).toHaveLength(2);
  });
  it('keeps summary and text under 65,535 characters with a note, and batches annotations by 50', () => {
    const many = Array.from({ length: 1200 }, (_, i) => finding({ line: i + 1, message: 'm'.repeat(200), fingerprint: `f${i}` }));
    const out = renderCheckRun(input({
      report: { name: 'x', findings: many, files: [], skipped: [], gaps: [] },
      inline: { posted: 0, alreadyPosted: 0, resolved: 0, outsideDiff: many, overCap: [] },
    }));
    expect(out.summary.length).toBeLessThanOrEqual(65535);
    expect(out.text.length).toBeLessThanOrEqual(65535);
    expect(out.text).toContain('details truncated');
    expect(out.annotations).toHaveLength(500);
    expect(annotationBatches(out.annotations).map((b) => b.length)).toEqual(Array(10).fill(50));
    const huge = renderCheckRun(input({ report: { name: 'x', findings: [], files: [], skipped: Array.from({ length: 5 }, (_, i) => ({ path: `f${i}`, reason: 'r'.repeat(30000) })), gaps: [] } }));
    expect(huge.summary.length).toBeLessThanOrEqual(65535);
    expect(huge.summary).toContain('summary truncated');
  });
  it('a clean run says so', () => {
    expect(renderCheckRun(input()).title).toBe('No problems found in 1 file');
    expect(renderCheckRun(input()).summary).toContain('**Replay:** complete');
  });
});

describe('config schema and docs agree with the validator', () => {
  it('the example in docs/github-app.md is valid for both the JSON schema and parseConfig', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { Ajv } = await import('ajv');
    const { CONFIG_SCHEMA } = await import('../../src/config/repo-config.js');
    const doc = readFileSync(new URL('../../docs/github-app.md', import.meta.url), 'utf8');
    const block = /## Configure it[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    const raw = parse(block);
    const validate = new Ajv({ strict: false }).compile(CONFIG_SCHEMA);
    expect(validate(raw)).toBe(true);
    expect(parseConfig(raw).problems).toEqual([]);
    const bad = { review: { event: 'APPROVE' }, extra: 1 };
    expect(validate(bad)).toBe(false);
    expect(parseConfig(bad).problems).toHaveLength(2);
  });
});
