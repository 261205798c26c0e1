// Conformance checks against Jira's official OpenAPI spec (`shared/jira/swagger-v3.v3.json`, path in
// env `JIRA_OPENAPI_SPEC`): validate a request body and a response body for (method, path, status)
// with the spec's own schemas ($refs resolved by ajv, `strict: false`, ajv-formats). Only the
// schemas that are actually used get compiled, and each compiled validator is cached.

import fs from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

/** The message every test prints when the spec location is missing. */
export const SPEC_MISSING = 'JIRA_OPENAPI_SPEC is not set (point it at shared/jira/swagger-v3.v3.json)';
const SPEC_ID = 'jira-openapi';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

let cached = null;

/**
 * Load (once) the spec named by `JIRA_OPENAPI_SPEC` (or `specPath`).
 * @throws {Error} with `SPEC_MISSING` when the env var is unset
 */
export function loadSpec(specPath = process.env.JIRA_OPENAPI_SPEC) {
  if (!specPath) throw new Error(SPEC_MISSING);
  if (cached && cached.path === specPath) return cached;
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, addUsedSchema: false });
  addFormats(ajv);
  ajv.addSchema({ $id: SPEC_ID, components: spec.components }, SPEC_ID);
  const templates = Object.keys(spec.paths).map((t) => {
    const names = [];
    const re = new RegExp(`^${t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}/g, (_, n) => { names.push(n); return '([^/]+)'; })}$`);
    return { template: t, re, params: names.length };
  }).sort((a, b) => a.params - b.params || b.template.length - a.template.length);
  cached = { path: specPath, spec, ajv, templates, validators: new Map() };
  return cached;
}

/** Rewrite local `#/components/...` refs so they resolve inside the registered spec document. */
function rebase(schema) {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (!schema || typeof schema !== 'object') return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${SPEC_ID}${v}` : rebase(v);
  return out;
}

function compile(ctx, key, schema) {
  let v = ctx.validators.get(key);
  if (!v) {
    v = ctx.ajv.compile(rebase(schema));
    ctx.validators.set(key, v);
  }
  return v;
}

/**
 * The spec operation for a concrete request, e.g. ('GET', '/rest/api/3/issue/SEC-1').
 * Literal path segments win over templated ones (`/issue/bulk` before `/issue/{issueIdOrKey}`).
 * @returns {{ template: string, operation: object } | null}
 */
export function findOperation(method, path) {
  const ctx = loadSpec();
  const m = method.toLowerCase();
  const pathname = path.split('?')[0].replace(/\/$/, '') || '/';
  for (const t of ctx.templates) {
    if (!t.re.test(pathname)) continue;
    const op = ctx.spec.paths[t.template][m];
    if (op) return { template: t.template, operation: op };
  }
  return null;
}

const isEmptySchema = (s) => !s || (typeof s === 'object' && Object.keys(s).length === 0);
const describe = (errors) => (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`);

/**
 * Validate a request body for (method, path).
 * @returns {{ valid: boolean, errors: string[], template?: string }}
 */
export function validateRequest(method, path, body) {
  const ctx = loadSpec();
  const found = findOperation(method, path);
  if (!found) return { valid: false, errors: [`${method} ${path} is not an operation of the Jira REST API`] };
  const rb = found.operation.requestBody;
  const schema = rb?.content?.['application/json']?.schema;
  if (body === null || body === undefined) {
    return rb?.required ? { valid: false, errors: ['request body is required'], template: found.template } : { valid: true, errors: [], template: found.template };
  }
  if (!rb) return { valid: false, errors: [`${method} ${found.template} takes no request body`], template: found.template };
  if (isEmptySchema(schema)) return { valid: true, errors: [], template: found.template };
  const v = compile(ctx, `req ${method.toLowerCase()} ${found.template}`, schema);
  const valid = v(body);
  return { valid, errors: valid ? [] : describe(v.errors), template: found.template };
}

/**
 * Validate a response (status + parsed JSON body, or null when empty) for (method, path).
 * A status the spec does not document is a failure, except 429 and 5xx, which any Jira endpoint may
 * answer and which are checked against `ErrorCollection`.
 * @returns {{ valid: boolean, errors: string[], template?: string }}
 */
export function validateResponse(method, path, status, body) {
  const ctx = loadSpec();
  const found = findOperation(method, path);
  if (!found) return { valid: false, errors: [`${method} ${path} is not an operation of the Jira REST API`] };
  const responses = found.operation.responses ?? {};
  let resp = responses[String(status)] ?? responses[`${String(status)[0]}XX`];
  if (!resp && (status === 429 || status >= 500)) resp = { content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorCollection' } } } };
  if (!resp) return { valid: false, errors: [`status ${status} is not documented for ${method.toUpperCase()} ${found.template}`], template: found.template };
  const content = resp.content;
  const schema = content?.['application/json']?.schema;
  if (!content || isEmptySchema(schema) || schema === null) return { valid: true, errors: [], template: found.template };
  if (body === null || body === undefined) return { valid: false, errors: [`status ${status} must carry a body`], template: found.template };
  const v = compile(ctx, `res ${method.toLowerCase()} ${found.template} ${status}`, schema);
  const valid = v(body);
  return { valid, errors: valid ? [] : describe(v.errors), template: found.template };
}

/** Validate any value against a named component schema (e.g. 'ErrorCollection'). */
export function validateSchema(name, value) {
  const ctx = loadSpec();
  if (!ctx.spec.components.schemas[name]) throw new Error(`no schema ${name} in the spec`);
  const v = compile(ctx, `schema ${name}`, { $ref: `#/components/schemas/${name}` });
  const valid = v(value);
  return { valid, errors: valid ? [] : describe(v.errors) };
}

/** Every method+template pair of the spec matching a predicate (for coverage reports). */
export function operations(filter = () => true) {
  const ctx = loadSpec();
  const out = [];
  for (const [t, item] of Object.entries(ctx.spec.paths)) for (const m of METHODS) if (item[m] && filter(m, t)) out.push({ method: m.toUpperCase(), template: t });
  return out;
}
