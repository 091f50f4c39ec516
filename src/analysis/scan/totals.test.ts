import type { Finding } from '../model.js';
import type { ScanSite } from './classify.js';
import { compareWithBaseline, computeTotals, directoryOf, parseBaseline } from './totals.js';

const site = (path: string, cls: ScanSite['class'], key: string, api = 'kmap_atomic'): ScanSite => ({ path, line: 1, api, class: cls, reason: '', rule: null, function: 'f', key });
const finding = (fingerprint: string, severity: Finding['severity'] = 'error'): Finding => ({ rule: 'mapping-leak', severity, path: 'a.c', line: 1, endLine: 1, message: 'm', trace: [], fix: null, preExisting: false, fingerprint });

describe('scan totals', () => {
  it('sums per class, API and two-level directory', () => {
    const t = computeTotals([site('fs/demo/a.c', 'ready', '1'), site('fs/demo/b.c', 'needs-care', '2', 'kmap'), site('mm/x.c', 'blocked', '3')], [finding('f')], null);
    expect(t.byClass).toEqual({ ready: 1, 'needs-care': 1, blocked: 1 });
    expect(t.byApi).toEqual({ kmap_atomic: 2, kmap: 1 });
    expect(t.byDirectory).toEqual([
      { name: 'fs/demo', ready: 1, needsCare: 1, blocked: 0, total: 2 },
      { name: 'mm', ready: 0, needsCare: 0, blocked: 1, total: 1 },
    ]);
    expect(t.bySubsystem).toBeNull();
    expect(t.findings).toEqual({ 'mapping-leak:error': 1 });
    expect(directoryOf('Makefile.c')).toBe('Makefile.c');
  });

  it('compares with a baseline: converted, new uses and new errors', () => {
    const b = compareWithBaseline([site('a.c', 'ready', 'k1'), site('a.c', 'ready', 'k3')], [finding('old'), finding('new'), finding('w', 'warning')], { sites: [{ key: 'k1' }, { key: 'k2' }], findings: [{ fingerprint: 'old' }] });
    expect(b.was).toBe(2);
    expect(b.now).toBe(2);
    expect(b.converted).toBe(1);
    expect(b.added.map((s) => s.key)).toEqual(['k3']);
    expect(b.newErrors.map((f) => f.fingerprint)).toEqual(['new']);
  });

  it('reads a baseline only from a scan result', () => {
    expect(parseBaseline('{"sites":[{"key":"a"}],"findings":[{"fingerprint":"f"}]}', 'b.json')).toEqual({ sites: [{ key: 'a' }], findings: [{ fingerprint: 'f' }] });
    expect(() => parseBaseline('not json', 'b.json')).toThrow(/b.json: not JSON/);
    expect(() => parseBaseline('{"findings":[]}', 'b.json')).toThrow(/not a scan result/);
  });
});
