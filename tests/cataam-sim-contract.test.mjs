// Every CATAAM simulator response (happy and error paths) and every push delivery is validated
// against docs/cataam-api.yaml: status codes must be declared for the operation, bodies must match
// the declared schema (OpenAPI 3.0 `nullable` translated for ajv), push signatures must verify.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parse } from 'yaml';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { startCataamSim } from '../dev/cataam-sim/index.mjs';

const spec = parse(readFileSync(new URL('../docs/cataam-api.yaml', import.meta.url), 'utf8'));

/** OpenAPI 3.0 schema → JSON Schema (draft-07) for ajv: `nullable`, `example` handled. */
function toJsonSchema(node) {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'example' || k === 'nullable') continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, toJsonSchema(s)])) : toJsonSchema(v);
  }
  if (node.nullable === true) {
    if (typeof out.type === 'string' && !out.allOf && !out.$ref) {
      out.type = [out.type, 'null'];
      if (out.enum) out.enum = [...out.enum, null];
      return out;
    }
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'cataam', components: { schemas: toJsonSchema(spec.components.schemas) } });
const validators = new Map();
function validatorFor(schema) {
  const ref = schema.$ref ?? null;
  const key = ref ?? JSON.stringify(schema);
  if (!validators.has(key)) {
    validators.set(key, ajv.compile(ref ? { $ref: `cataam${ref}` } : { $id: `inline${validators.size}`, ...toJsonSchema(schema), definitions: {} }));
  }
  return validators.get(key);
}
function assertSchema(schema, value, what) {
  const v = validatorFor(schema);
  assert.ok(v(value), `${what}: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value).slice(0, 400)}`);
}
const schemaRef = (name) => ({ $ref: `#/components/schemas/${name}` });
const resolveRef = (obj) => {
  if (!obj?.$ref) return obj;
  return obj.$ref.replace(/^#\//, '').split('/').reduce((o, k) => o[k], spec);
};

const covered = new Set();
/** Checks one HTTP answer against the operation `method template` in the spec; returns the body. */
async function checked(res, method, template) {
  const op = spec.paths[template]?.[method.toLowerCase()];
  assert.ok(op, `operation ${method} ${template} is in the contract`);
  const status = String(res.status);
  const declared = resolveRef(op.responses[status]);
  assert.ok(declared, `${method} ${template} answered ${status}, which the contract does not declare`);
  covered.add(`${method} ${template} ${status}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = await res.json();
  assertSchema(declared.content['application/json'].schema, body, `${method} ${template} ${status}`);
  for (const [name, h] of Object.entries(declared.headers ?? {})) {
    if (h.required) assert.ok(res.headers.get(name) !== null, `header ${name} is required on ${status}`);
  }
  return body;
}

let sim;
let receiver;
const received = [];
let receiverUrl;
const KEY = 'cataam_contractTestKey0123456789';
const SECRET = 'whsec_contract_test_secret';

before(async () => {
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"accepted":1}');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${receiver.address().port}/x/webtrigger-1`;
  sim = await startCataamSim({ seed: 3, findings: 60, apiKeys: [{ name: 'contract', raw: KEY }], push: { baseDelayMs: 10 } });
});

after(async () => {
  await sim?.close();
  await new Promise((r) => receiver.close(r));
});

const call = (method, path, body, headers = {}) => fetch(sim.url + path, {
  method,
  headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
  body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
});

test('the contract is OpenAPI 3.0.3 with the bearer API-key scheme and every schema compiles', () => {
  assert.equal(spec.openapi, '3.0.3');
  assert.equal(spec.components.securitySchemes.apiKey.scheme, 'bearer');
  assert.deepEqual(spec.security, [{ apiKey: [] }]);
  for (const name of ['Finding', 'ComplianceRun', 'Org', 'Webhook', 'WebhookStatus', 'Error', 'PushEvent', 'FindingPage', 'FindingPatch']) {
    assert.equal(typeof validatorFor(schemaRef(name)), 'function', name);
  }
  const cb = spec.paths['/api/v1/integrations/jira-forge/webhook'].put.callbacks.findingEvent['{$request.body#/url}'].post;
  assert.deepEqual(cb.parameters.map((p) => p.name).sort(), ['X-Cataam-Event-Id', 'X-Cataam-Signature']);
  const text = spec.info.description.replace(/\s+/g, ' ');
  assert.match(text, /±300 seconds/);
  assert.match(text, /65 536 bytes/);
  assert.match(text, /grace period after a rotation/);
  assert.match(text, /X-Cataam-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256\(secret, "<t>\.<raw body>"\)>/);
});

test('the contract is self-consistent: every $ref resolves, every path parameter is declared', () => {
  const refs = [];
  const walk = (node) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      if (typeof node.$ref === 'string') refs.push(node.$ref);
      Object.values(node).forEach(walk);
    }
  };
  walk(spec);
  assert.ok(refs.length > 50);
  for (const ref of new Set(refs)) {
    assert.ok(ref.startsWith('#/'), ref);
    assert.ok(resolveRef({ $ref: ref }), `${ref} resolves`);
  }
  const ids = new Set();
  for (const [template, item] of Object.entries(spec.paths)) {
    const wanted = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [method, op] of Object.entries(item).filter(([k]) => ['get', 'put', 'post', 'patch', 'delete'].includes(k))) {
      const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])].filter((p) => p.in === 'path').map((p) => p.name).sort();
      assert.deepEqual(declared, wanted, `${method} ${template} path parameters`);
      assert.ok(op.operationId && !ids.has(op.operationId), `${method} ${template} has a unique operationId`);
      ids.add(op.operationId);
      assert.ok(Object.keys(op.responses).some((s) => s.startsWith('2')), `${method} ${template} declares a success answer`);
    }
  }
});

test('the schemas reject what the contract forbids (nullable only where declared)', () => {
  const f = sim.findings()[0];
  assertSchema(schemaRef('Finding'), f, 'generated finding');
  const v = validatorFor(schemaRef('Finding'));
  assert.equal(v({ ...f, title: null }), false);
  assert.equal(v({ ...f, severity: 'SEVERE' }), false);
  assert.equal(v({ ...f, extra: 1 }), false);
  assert.equal(v({ ...f, mitre: null, asset: null, dueDate: null, assignedTo: null }), true);
  assert.equal(v({ ...f, id: 'finding-1' }), false);
});

test('auth: missing, malformed, unknown and revoked keys are 401 KEY_REJECTED', async () => {
  for (const headers of [{ authorization: '' }, { authorization: 'Basic abc' }, { authorization: 'Bearer cataam_nope' }, { authorization: 'Bearer notcataam' }]) {
    const res = await call('GET', '/api/v1/org', undefined, headers);
    const body = await checked(res, 'GET', '/api/v1/org');
    assert.equal(res.status, 401);
    assert.equal(body.error.code, 'KEY_REJECTED');
  }
  const raw = sim.createApiKey('short-lived');
  const ok = await call('GET', '/api/v1/findings?limit=1', undefined, { authorization: `Bearer ${raw}` });
  await checked(ok, 'GET', '/api/v1/findings');
  assert.equal(ok.status, 200);
  assert.equal(sim.revokeApiKey('short-lived'), true);
  const gone = await call('GET', '/api/v1/findings/fnd_00000000000000000000000000', undefined, { authorization: `Bearer ${raw}` });
  assert.equal((await checked(gone, 'GET', '/api/v1/findings/{id}')).error.code, 'KEY_REJECTED');
  for (const [m, p, t] of [['PATCH', `/api/v1/findings/${sim.findings()[0].id}`, '/api/v1/findings/{id}'],
    ['PUT', '/api/v1/integrations/jira-forge/webhook', '/api/v1/integrations/jira-forge/webhook'],
    ['GET', '/api/v1/integrations/jira-forge/webhook', '/api/v1/integrations/jira-forge/webhook'],
    ['POST', '/api/v1/compliance-tests/ct_00000000000000000000000000/runs', '/api/v1/compliance-tests/{testId}/runs'],
    ['GET', '/api/v1/compliance-tests/ct_00000000000000000000000000/runs/run_00000000000000000000000000', '/api/v1/compliance-tests/{testId}/runs/{runId}']]) {
    const res = await call(m, p, m === 'GET' ? undefined : {}, { authorization: 'Bearer cataam_wrong' });
    assert.equal(res.status, 401);
    await checked(res, m, t);
  }
});

test('org and findings list/get answers match the contract', async () => {
  const org = await checked(await call('GET', '/api/v1/org'), 'GET', '/api/v1/org');
  assert.equal(org.name, 'Acme Security');
  let cursor = null;
  const seen = [];
  do {
    const res = await call('GET', `/api/v1/findings?limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const page = await checked(res, 'GET', '/api/v1/findings');
    seen.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  assert.equal(seen.length, 60);
  const kinds = new Set(seen.map((f) => f.kind));
  assert.ok(kinds.has('IASM'));
  for (const f of seen) assert.equal(f.kind === 'COMPLIANCE', f.compliance !== null, 'compliance non-null exactly for COMPLIANCE');
  const since = await checked(await call('GET', `/api/v1/findings?updatedSince=${encodeURIComponent(seen[30].updatedAt)}&limit=200`), 'GET', '/api/v1/findings');
  assert.equal(since.items[0].id, seen[30].id);
  const one = await checked(await call('GET', `/api/v1/findings/${seen[5].id}`), 'GET', '/api/v1/findings/{id}');
  assert.deepEqual(one, seen[5]);
});

test('findings error paths: bad query parameters, unknown id, wrong method', async () => {
  for (const [q, code] of [['limit=0', 'INVALID_LIMIT'], ['limit=201', 'INVALID_LIMIT'], ['limit=abc', 'INVALID_LIMIT'],
    ['updatedSince=yesterday', 'INVALID_UPDATED_SINCE'], ['updatedSince=2026-13-45T00:00:00Z', 'INVALID_UPDATED_SINCE'],
    ['cursor=garbage', 'INVALID_CURSOR']]) {
    const res = await call('GET', `/api/v1/findings?${q}`);
    assert.equal(res.status, 400, q);
    assert.equal((await checked(res, 'GET', '/api/v1/findings')).error.code, code, q);
  }
  const missing = await call('GET', '/api/v1/findings/fnd_00000000000000000000000000');
  assert.equal(missing.status, 404);
  assert.equal((await checked(missing, 'GET', '/api/v1/findings/{id}')).error.code, 'NOT_FOUND');
  const patchMissing = await call('PATCH', '/api/v1/findings/fnd_00000000000000000000000000', { status: 'RESOLVED' });
  assert.equal(patchMissing.status, 404);
  await checked(patchMissing, 'PATCH', '/api/v1/findings/{id}');
  const wrong = await call('DELETE', `/api/v1/findings/${sim.findings()[0].id}`);
  assert.equal(wrong.status, 405);
  assert.equal((await wrong.json()).error.code, 'METHOD_NOT_ALLOWED');
  assertSchema(schemaRef('Error'), { error: { code: 'METHOD_NOT_ALLOWED', message: 'x' } }, 'error shape');
});

test('PATCH: valid bodies match FindingPatch and succeed; invalid ones fail both schema and server', async () => {
  const f = sim.findings().find((x) => x.status === 'OPEN');
  const patchSchema = validatorFor(schemaRef('FindingPatch'));
  const good = [
    { status: 'ACKNOWLEDGED' },
    { dueDate: '2027-02-28' },
    { assignedTo: { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Mia Krystof', email: 'mia@example.com' } },
    { assignedTo: { accountId: '5b10a2844c20165700ede21g' } },
    { status: 'OPEN', dueDate: null, assignedTo: null },
  ];
  let last = f.updatedAt;
  for (const body of good) {
    assert.ok(patchSchema(body), JSON.stringify(body));
    const res = await call('PATCH', `/api/v1/findings/${f.id}`, body);
    assert.equal(res.status, 200, JSON.stringify(body));
    const out = await checked(res, 'PATCH', '/api/v1/findings/{id}');
    for (const [k, v] of Object.entries(body)) {
      if (k === 'assignedTo' && v) assert.equal(out.assignedTo.accountId, v.accountId);
      else assert.deepEqual(out[k], v);
    }
    assert.ok(out.updatedAt > last, 'updatedAt bumped');
    last = out.updatedAt;
  }
  const bad = [
    [{}, 'INVALID_BODY'], [{ status: 'CLOSED' }, 'INVALID_STATUS'], [{ dueDate: '2026-02-30' }, 'INVALID_DUE_DATE'],
    [{ dueDate: '31/12/2026' }, 'INVALID_DUE_DATE'], [{ assignedTo: { displayName: 'x' } }, 'INVALID_ASSIGNED_TO'],
    [{ assignedTo: 'me' }, 'INVALID_ASSIGNED_TO'], [{ title: 'nope' }, 'INVALID_BODY'], [[], 'INVALID_BODY'],
  ];
  for (const [body, code] of bad) {
    if (code !== 'INVALID_DUE_DATE' || !/^\d{4}/.test(body.dueDate)) assert.equal(patchSchema(body), false, JSON.stringify(body));
    const res = await call('PATCH', `/api/v1/findings/${f.id}`, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal((await checked(res, 'PATCH', '/api/v1/findings/{id}')).error.code, code);
  }
  const huge = await call('PATCH', `/api/v1/findings/${f.id}`, JSON.stringify({ status: 'OPEN', pad: 'x'.repeat(1100 * 1024) }));
  assert.equal(huge.status, 413);
  assert.equal((await checked(huge, 'PATCH', '/api/v1/findings/{id}')).error.code, 'BODY_TOO_LARGE');
  const notJson = await call('PATCH', `/api/v1/findings/${f.id}`, '{not json');
  assert.equal((await checked(notJson, 'PATCH', '/api/v1/findings/{id}')).error.code, 'INVALID_BODY');
});

test('compliance runs: 202 RUNNING, then a finished ComplianceRun; unknown test/run are 404', async () => {
  const f = sim.findings().find((x) => x.kind === 'COMPLIANCE');
  assert.ok(f, 'the seed has a compliance finding');
  const testId = f.compliance.testId;
  const start = await call('POST', `/api/v1/compliance-tests/${testId}/runs`, {});
  assert.equal(start.status, 202);
  const run = await checked(start, 'POST', '/api/v1/compliance-tests/{testId}/runs');
  assert.equal(run.status, 'RUNNING');
  assert.equal(run.logs, null);
  const done = await checked(await call('GET', `/api/v1/compliance-tests/${testId}/runs/${run.runId}`), 'GET', '/api/v1/compliance-tests/{testId}/runs/{runId}');
  assert.equal(done.status, 'FAIL');
  assert.ok(done.finishedAt);
  const noBody = await call('POST', `/api/v1/compliance-tests/${testId}/runs`);
  assert.equal(noBody.status, 202);
  await checked(noBody, 'POST', '/api/v1/compliance-tests/{testId}/runs');
  const badBody = await call('POST', `/api/v1/compliance-tests/${testId}/runs`, { force: true });
  assert.equal((await checked(badBody, 'POST', '/api/v1/compliance-tests/{testId}/runs')).error.code, 'INVALID_BODY');
  const unknown = await call('POST', '/api/v1/compliance-tests/ct_00000000000000000000000000/runs', {});
  assert.equal(unknown.status, 404);
  await checked(unknown, 'POST', '/api/v1/compliance-tests/{testId}/runs');
  const unknownRun = await call('GET', `/api/v1/compliance-tests/${testId}/runs/run_00000000000000000000000000`);
  assert.equal(unknownRun.status, 404);
  await checked(unknownRun, 'GET', '/api/v1/compliance-tests/{testId}/runs/{runId}');
  const after = await checked(await call('GET', `/api/v1/findings/${f.id}`), 'GET', '/api/v1/findings/{id}');
  assert.equal(after.compliance.result, 'FAIL');
  assert.ok(after.updatedAt > f.updatedAt);
});

test('webhook registration GET/PUT and their errors match the contract', async () => {
  const before = await checked(await call('GET', '/api/v1/integrations/jira-forge/webhook'), 'GET', '/api/v1/integrations/jira-forge/webhook');
  assert.deepEqual(before, { url: null, registeredAt: null, sharedSecretSet: false });
  for (const body of [{ url: 'ftp://example.com/x' }, { url: 'not a url' }, { url: 42 }, { url: receiverUrl, secret: 'x' }]) {
    const res = await call('PUT', '/api/v1/integrations/jira-forge/webhook', body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.match((await checked(res, 'PUT', '/api/v1/integrations/jira-forge/webhook')).error.code, /^INVALID_(URL|BODY)$/);
  }
  const put = await call('PUT', '/api/v1/integrations/jira-forge/webhook', { url: receiverUrl });
  assert.equal(put.status, 200);
  const reg = await checked(put, 'PUT', '/api/v1/integrations/jira-forge/webhook');
  assert.equal(reg.url, receiverUrl);
  sim.setSharedSecret(SECRET);
  const now = await checked(await call('GET', '/api/v1/integrations/jira-forge/webhook'), 'GET', '/api/v1/integrations/jira-forge/webhook');
  assert.deepEqual(now, { url: receiverUrl, registeredAt: reg.registeredAt, sharedSecretSet: true });
  assert.ok(!JSON.stringify(now).includes(SECRET));
});

test('push deliveries match the callback contract and their signatures verify', async () => {
  await sim.idle();
  received.length = 0;
  const open = sim.findings().find((f) => f.status === 'OPEN' && f.kind === 'IASM');
  sim.resolve(open.id);
  sim.reopen(open.id);
  sim.markFalsePositive(open.id);
  const created = sim.createFinding({ kind: 'COMPLIANCE' });
  assertSchema(schemaRef('Finding'), created, 'created finding');
  await sim.idle();
  assert.equal(received.length, 4);
  const cb = spec.paths['/api/v1/integrations/jira-forge/webhook'].put.callbacks.findingEvent['{$request.body#/url}'].post;
  const types = [];
  for (const { headers, raw } of received) {
    for (const p of cb.parameters) assertSchema(p.schema, headers[p.name.toLowerCase()], p.name);
    assert.equal(headers['content-type'], 'application/json');
    assert.ok(Buffer.byteLength(raw) <= 65536);
    const event = JSON.parse(raw);
    assertSchema(cb.requestBody.content['application/json'].schema, event, 'PushEvent');
    assert.equal(headers['x-cataam-event-id'], event.id);
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(headers['x-cataam-signature']);
    assert.ok(Math.abs(Date.now() / 1000 - Number(t)) <= 300, 'timestamp within tolerance');
    const expected = createHmac('sha256', SECRET).update(`${t}.${raw}`).digest();
    assert.ok(timingSafeEqual(expected, Buffer.from(v1, 'hex')), 'signature verifies');
    const wrong = createHmac('sha256', 'other-secret').update(`${t}.${raw}`).digest();
    assert.ok(!timingSafeEqual(wrong, Buffer.from(v1, 'hex')));
    types.push([event.type, event.findingIds[0]]);
  }
  assert.deepEqual(types.sort(), [
    ['finding.created', created.id], ['finding.reopened', open.id], ['finding.resolved', open.id], ['finding.updated', open.id],
  ].sort());
  for (const entry of sim.deliveries.slice(-4)) assert.equal(entry.status, 'delivered');
});

test('fault answers (429 with Retry-After, 5xx) match the contract', async () => {
  sim.setFaults({ seed: 9, rate429Rate: 0.5, error5xxRate: 0.5, retryAfterSeconds: 2 });
  try {
    const statuses = new Set();
    for (let i = 0; i < 20; i++) {
      const res = await call('GET', '/api/v1/findings?limit=1');
      const body = await checked(res, 'GET', '/api/v1/findings');
      statuses.add(res.status);
      if (res.status === 429) {
        assert.equal(res.headers.get('retry-after'), '2');
        assert.equal(body.error.code, 'RATE_LIMITED');
      } else {
        assert.match(body.error.code, /^(INTERNAL|UNAVAILABLE)$/);
      }
    }
    assert.ok(statuses.has(429) && [...statuses].some((s) => s >= 500));
  } finally {
    sim.setFaults(null);
  }
});

test('every contract operation was exercised with a success and an error answer', () => {
  for (const [template, ops] of Object.entries(spec.paths)) {
    for (const method of Object.keys(ops).filter((k) => ['get', 'put', 'post', 'patch'].includes(k))) {
      const seen = [...covered].filter((c) => c.startsWith(`${method.toUpperCase()} ${template} `)).map((c) => Number(c.split(' ').pop()));
      assert.ok(seen.some((s) => s < 300), `${method} ${template}: success path covered`);
      assert.ok(seen.some((s) => s >= 400), `${method} ${template}: error path covered`);
    }
  }
});
