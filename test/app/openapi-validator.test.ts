import { validateRequest } from './helpers/openapi.js';

describe('OpenAPI request validator (test helper)', () => {
  it('accepts a valid check-run update and rejects a bad annotation level and > 50 annotations', () => {
    const ok = validateRequest('PATCH', '/repos/o/r/check-runs/1', {
      status: 'completed', conclusion: 'failure',
      output: { title: 't', summary: 's', annotations: [{ path: 'a.c', start_line: 1, end_line: 1, annotation_level: 'failure', message: 'm' }] },
    });
    expect(ok.errors).toEqual([]);
    expect(ok.operationId).toBe('checks/update');
    const bad = validateRequest('PATCH', '/repos/o/r/check-runs/1', {
      output: { title: 't', summary: 's', annotations: Array.from({ length: 51 }, () => ({ path: 'a.c', start_line: 1, end_line: 1, annotation_level: 'error', message: 'm' })) },
    });
    expect(bad.errors.length).toBeGreaterThan(0);
  });
  it('rejects an unknown review event, unknown paths and undeclared query parameters', () => {
    expect(validateRequest('POST', '/repos/o/r/pulls/1/reviews', { event: 'NOPE', body: 'x' }).errors.length).toBeGreaterThan(0);
    expect(validateRequest('GET', '/repos/o/r/nope', undefined).errors.length).toBe(1);
    expect(validateRequest('GET', '/repos/o/r/pulls/1/files?per_page=100&bogus=1', undefined).errors).toEqual([
      "pulls/list-files: undeclared query parameter 'bogus'",
    ]);
    expect(validateRequest('GET', '/api/v3/repos/o/r/contents/fs%2Fa.c?ref=abc', undefined).errors).toEqual([]);
  });
});
