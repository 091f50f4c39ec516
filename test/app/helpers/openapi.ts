/**
 * Validates a request against GitHub's own OpenAPI description (@octokit/openapi, api.github.com):
 * the path template and method must exist, query parameters must be declared, and a JSON body must
 * satisfy the operation's request-body schema.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const require = createRequire(import.meta.url);

interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: object }> };
}

interface Route {
  template: string;
  regex: RegExp;
  params: number;
  methods: Record<string, Operation>;
}

let routes: Route[] | undefined;
const validators = new Map<string, ValidateFunction>();
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
// ajv-formats is CommonJS with a default export.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv) => void;
addFormats(ajv);

function load(): Route[] {
  if (routes) return routes;
  const file = require.resolve('@octokit/openapi/generated/api.github.com.deref.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as { paths: Record<string, Record<string, Operation>> };
  routes = Object.entries(spec.paths).map(([template, methods]) => ({
    template,
    regex: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    params: (template.match(/\{/g) ?? []).length,
    methods,
  }));
  return routes;
}

export interface ValidationResult {
  operationId?: string;
  template?: string;
  errors: string[];
}

/** `path` may include a query string and a GHE `/api/v3` prefix. */
export function validateRequest(method: string, rawPath: string, body: unknown): ValidationResult {
  const url = new URL(rawPath, 'http://x');
  let path = decodeURIComponent(url.pathname).replace(/^\/api\/v3(?=\/)/, '');
  if (path === '/api/graphql') path = '/graphql';
  if (path === '/graphql') return { operationId: 'graphql', template: '/graphql', errors: [] };
  const candidates = load()
    .filter((r) => r.regex.test(url.pathname.replace(/^\/api\/v3(?=\/)/, '')) || r.regex.test(path))
    .sort((a, b) => a.params - b.params);
  const m = method.toLowerCase();
  const route = candidates.find((r) => r.methods[m]);
  if (!route) return { errors: [`${method} ${path}: no such operation in GitHub's OpenAPI description`] };
  const op = route.methods[m]!;
  const errors: string[] = [];
  const declared = new Set((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
  for (const q of url.searchParams.keys()) {
    if (!declared.has(q)) errors.push(`${op.operationId}: undeclared query parameter '${q}'`);
  }
  const schema = op.requestBody?.content?.['application/json']?.schema;
  if (schema) {
    const key = `${m} ${route.template}`;
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile(schema);
      validators.set(key, validate);
    }
    const data = typeof body === 'string' && body !== '' ? JSON.parse(body) : body ?? {};
    if (!validate(data)) {
      for (const e of validate.errors ?? []) errors.push(`${op.operationId}: body${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
    }
  } else if (body && typeof body === 'object' && Object.keys(body).length > 0 && m !== 'get') {
    errors.push(`${op.operationId}: sends a body but the operation takes none`);
  }
  return { operationId: op.operationId, template: route.template, errors };
}
