/**
 * nock 14 around api.github.com where every intercepted request is validated against GitHub's OpenAPI
 * description (path, method, query names, body schema) and recorded.
 */
import nock from 'nock';
import { validateRequest } from './openapi.js';

export interface Call {
  method: string;
  path: string;
  body: any;
  operationId?: string;
}

type Reply = [number, unknown] | [number, unknown, Record<string, string>];

export class GitHubMock {
  readonly scope: nock.Scope;
  readonly calls: Call[] = [];
  readonly invalid: string[] = [];

  constructor(baseUrl = 'https://api.github.com') {
    this.scope = nock(baseUrl);
  }

  /** Intercepts `method path` (path without query; a RegExp matches the path part) once, or `times` times. */
  on(method: string, path: string | RegExp, reply: (body: any, uri: string) => Reply | unknown, times = 1): this {
    const self = this;
    const matcher = typeof path === 'string' ? (uri: string) => uri.split('?')[0] === path : (uri: string) => path.test(uri.split('?')[0]!);
    this.scope
      .intercept(matcher as unknown as string, method)
      .times(times)
      .reply(function (uri, requestBody) {
        const body = typeof requestBody === 'string' && requestBody !== '' ? safeJson(requestBody) : requestBody;
        const v = validateRequest(method, uri, body);
        self.invalid.push(...v.errors);
        self.calls.push({ method, path: uri, body, ...(v.operationId ? { operationId: v.operationId } : {}) });
        const r = reply(body, uri);
        return (Array.isArray(r) && typeof r[0] === 'number' ? r : [200, r]) as Reply;
      });
    return this;
  }

  /** context.config('kmap-review.yml'): the repo file, then the org's `.github` repo fallback. */
  config(owner: string, repo: string, yaml?: string): this {
    const path = `/repos/${owner}/${repo}/contents/.github%2Fkmap-review.yml`;
    if (yaml === undefined) {
      this.on('GET', path, () => [404, { message: 'Not Found' }]);
      this.on('GET', `/repos/${owner}/.github/contents/.github%2Fkmap-review.yml`, () => [404, { message: 'Not Found' }]);
    } else {
      this.on('GET', path, () => [200, yaml, { 'content-type': 'text/plain; charset=utf-8' }]);
    }
    return this;
  }

  ops(): string[] {
    return this.calls.map((c) => c.operationId ?? `${c.method} ${c.path}`);
  }

  find(operationId: string): Call[] {
    return this.calls.filter((c) => c.operationId === operationId);
  }

  pending(): string[] {
    return this.scope.pendingMocks();
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/**
 * Registers the per-test nock set-up every App test file uses: no real network, a fresh mock per test,
 * and after each test every request valid against GitHub's OpenAPI description and every reply used.
 * `set` receives the test's mock.
 */
export function useGitHubMock(set: (mock: GitHubMock) => void): void {
  let gh: GitHubMock;
  beforeEach(() => {
    nock.disableNetConnect();
    gh = new GitHubMock();
    set(gh);
  });
  afterEach(() => {
    expect(gh.invalid).toEqual([]);
    expect(gh.pending()).toEqual([]);
    nock.cleanAll();
    nock.enableNetConnect();
  });
}
