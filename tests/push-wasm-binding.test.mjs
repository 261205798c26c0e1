// The wasm binding (src/wasm/) as the Forge shim sees it: the built module's exports driven with a
// plain JS host object, and CATAAM reached through the global `fetch` (gloo-net), redirected to a
// local HTTP server. Checks what the end-to-end suites cannot isolate: plain-object answers, error
// codes crossing as `Error.code`, host failures, the CATAAM timeout derived from the remaining time,
// query strings without gloo-net's stray `&`, egress refusals, and cheap ignoring of foreign events.
//
// Run: node --test tests/push-wasm-binding.test.mjs   (needs the build: node scripts/build.mjs --quiet)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const glueFile = join(root, 'build/wasm/cataam_jira.js');
const wasmFile = join(root, 'build/wasm/cataam_jira_bg.wasm');

function loadCore() {
  assert.ok(existsSync(glueFile) && existsSync(wasmFile), 'build/wasm missing: run node scripts/build.mjs');
  // Same loading as forge/wasm.js: no-modules glue evaluated around the compiled module.
  const bindgen = new Function(`${readFileSync(glueFile, 'utf8')}\nreturn wasm_bindgen;`)();
  bindgen.initSync({ module: new WebAssembly.Module(readFileSync(wasmFile)) });
  return bindgen;
}
const core = loadCore();

const API_KEY = 'cataam_binding_test_key';
const CTX = { accountId: 'admin-1' };

/** A local CATAAM stand-in; `routes(req)` answers `[status, body]` or `null` to never answer. */
async function startCataam(t, routes) {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, auth: req.headers.authorization });
    const answer = routes(req);
    if (!answer) return; // hang: the client's timeout must fire
    res.writeHead(answer[0], { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer[1]));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const realFetch = globalThis.fetch;
  // The Forge runtime's fetch, in miniature: *.cataam.com goes to the local server, anything else
  // is refused like an egress allowlist violation.
  globalThis.fetch = (input, init) => {
    const url = new URL(input.url ?? String(input));
    if (!url.hostname.endsWith('.cataam.com')) {
      const e = new Error(`URL not included in the external fetch backend permissions: ${url}`);
      e.name = 'ExternalEndpointNotAllowedError';
      return Promise.reject(e);
    }
    return realFetch(new Request(`${origin}${url.pathname}${url.search}`, input), init);
  };
  t.after(async () => {
    globalThis.fetch = realFetch;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { seen };
}

/** A host object per docs/internals.md "Host object", over in-memory maps; counts every call. */
function makeHost({ admin = true, remaining = 50_000 } = {}) {
  const kv = new Map();
  const secrets = new Map();
  const calls = [];
  const logs = [];
  const host = {
    kv,
    secrets,
    calls,
    logs,
    remaining,
    async kvsGet(k) { calls.push('kvsGet'); return kv.has(k) ? structuredClone(kv.get(k)) : null; },
    async kvsSet(k, v, o = {}) {
      calls.push('kvsSet');
      if (o.ifNotExists && kv.has(k)) return false;
      kv.set(k, structuredClone(v));
      return true;
    },
    async kvsDelete(k) { calls.push('kvsDelete'); kv.delete(k); },
    async kvsQuery(prefix) {
      calls.push('kvsQuery');
      return { results: [...kv].filter(([k]) => k.startsWith(prefix)).map(([key, value]) => ({ key, value })), nextCursor: null };
    },
    async kvsTransact(ops) { calls.push('kvsTransact'); for (const o of ops) o.op === 'set' ? kv.set(o.key, o.value) : kv.delete(o.key); },
    async secretGet(n) { calls.push('secretGet'); return secrets.get(n) ?? null; },
    async secretSet(n, v) { calls.push('secretSet'); secrets.set(n, v); },
    async secretDelete(n) { calls.push('secretDelete'); secrets.delete(n); },
    async jira(method, path) {
      calls.push('jira');
      if (path.startsWith('/rest/api/3/mypermissions')) {
        return { status: 200, headers: [['content-type', 'application/json']], body: { permissions: { ADMINISTER: { havePermission: admin } } } };
      }
      return { status: 200, headers: [], body: { issues: [], isLast: true } };
    },
    async queuePush() { calls.push('queuePush'); },
    async webTriggerUrl() { return 'https://example.atlassian-dev.net/x1/wt'; },
    async randomBytes(n) { return randomBytes(n).toString('hex'); },
    now: () => Date.now(),
    remainingMs: () => host.remaining,
    log: (level, message, fields) => logs.push({ level, message, fields }),
  };
  return host;
}

function configure(host) {
  host.kv.set('settings', { baseUrl: 'https://service.cataam.com', projectId: '10000', issueType: 'Bug' });
  host.secrets.set('cataam-api-key', API_KEY);
}

test('version() is the crate version', () => {
  const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8');
  assert.equal(core.version(), cargo.match(/^version = "([^"]+)"/m)[1]);
});

test('resolver answers plain objects; the admin gate and secret flags cross intact', async () => {
  const host = makeHost();
  configure(host);
  const answer = await core.resolver(host, 'getSettings', {}, CTX);
  assert.equal(Object.getPrototypeOf(answer), Object.prototype, 'a plain object, not a Map');
  assert.equal(answer.ok, true);
  assert.equal(answer.settings.priorities.critical, 'Highest');
  assert.equal(answer.apiKeySet, true);
  assert.equal(answer.webTriggerUrl, 'https://example.atlassian-dev.net/x1/wt');
  assert.ok(!JSON.stringify(answer).includes(API_KEY));

  const refused = await core.resolver(makeHost({ admin: false }), 'saveSettings', { baseUrl: 'x' }, CTX);
  assert.deepEqual(refused.error.code, 'FORBIDDEN');
  assert.equal((await core.resolver(host, 'getSettings', {}, {})).error.code, 'FORBIDDEN');
});

test('CATAAM through the global fetch: auth header, org answer, query strings without a stray "&"', async (t) => {
  const cataam = await startCataam(t, (req) => {
    if (req.url === '/api/v1/org') return [200, { id: 'org_1', name: 'Binding Org' }];
    if (req.url.startsWith('/api/v1/findings?')) return [200, { items: [], nextCursor: null }];
    return [404, { error: { code: 'NOT_FOUND', message: 'no' } }];
  });
  const host = makeHost();
  configure(host);
  const answer = await core.resolver(host, 'testConnection', {}, CTX);
  assert.equal(answer.ok, true, JSON.stringify(answer));
  assert.equal(answer.org.name, 'Binding Org');
  assert.equal(cataam.seen[0].auth, `Bearer ${API_KEY}`);

  const polled = await core.poll(host);
  assert.equal(polled.ran, true);
  const list = cataam.seen.find((r) => r.url.startsWith('/api/v1/findings?'));
  assert.ok(list, 'the poll listed findings');
  assert.ok(!list.url.endsWith('&') && !list.url.includes('&&') && !list.url.includes('?&'), list.url);
  const params = new URL(list.url, 'http://x').searchParams;
  assert.ok(Number(params.get('limit')) >= 1);
});

test('a hanging CATAAM times out within the invocation budget; egress refusals are reported', async (t) => {
  await startCataam(t, () => null);
  const host = makeHost();
  configure(host);
  host.remaining = 4_000; // → 1 s timeout (remaining − 3 s margin, at least 1 s)
  const t0 = Date.now();
  const answer = await core.resolver(host, 'testConnection', {}, CTX);
  const took = Date.now() - t0;
  assert.equal(answer.error.code, 'UNREACHABLE');
  assert.match(answer.error.message, /TIMEOUT/);
  assert.ok(took >= 900 && took < 5_000, `took ${took} ms`);

  // A URL outside the allowlist never leaves: the fetch is refused and reported as unreachable.
  host.remaining = 50_000;
  host.kv.set('settings', { baseUrl: 'https://service.cataam.com', projectId: '10000' });
  const realFetch = globalThis.fetch;
  globalThis.fetch = () => {
    const e = new Error('URL not included in the external fetch backend permissions');
    e.name = 'ExternalEndpointNotAllowedError';
    return Promise.reject(e);
  };
  try {
    const blocked = await core.resolver(host, 'testConnection', {}, CTX);
    assert.equal(blocked.error.code, 'UNREACHABLE');
    assert.match(blocked.error.message, /EGRESS_BLOCKED/);
  } finally {
    globalThis.fetch = realFetch;
  }
});

test('host failures cross as Error with the host code; consume retries only outages', async () => {
  const host = makeHost();
  configure(host);
  host.kvsGet = async () => {
    const e = new Error('storage is down');
    e.code = 'KVS';
    throw e;
  };
  await assert.rejects(core.poll(host), (e) => e instanceof Error && e.code === 'KVS' && !e.message.includes(API_KEY));
  await assert.rejects(core.consume(host, { type: 'continue' }), (e) => e.code === 'KVS');

  const ok = makeHost();
  configure(ok);
  const dropped = await core.consume(ok, { type: 'retry' }); // malformed: no findingIds
  assert.deepEqual(dropped, { ran: false, dropped: 'INVALID_INPUT' });
  const unconfigured = await core.poll(makeHost());
  assert.deepEqual(unconfigured, { ran: false, reason: 'NOT_CONFIGURED' });
});

test('push: Forge request in, dynamic response out; signature checked by the core', async () => {
  const host = makeHost();
  const secret = randomBytes(32).toString('hex');
  host.secrets.set('webhook-secret', secret);
  const id = 'evt_01JBXKQ2Z8M5T7P3R9W4C6D1EF';
  const body = JSON.stringify({ id, type: 'finding.updated', createdAt: new Date().toISOString(), findingIds: [] });
  const t = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  const request = (signature) => ({
    method: 'POST',
    path: '/',
    headers: { 'content-type': ['application/json'], 'x-cataam-event-id': [id], 'x-cataam-signature': [signature] },
    queryParameters: {},
    body,
  });
  const accepted = await core.push(host, request(`t=${t},v1=${sig}`));
  assert.equal(accepted.statusCode, 202);
  assert.deepEqual(accepted.headers['Content-Type'], ['application/json']);
  assert.deepEqual(JSON.parse(accepted.body), { accepted: 0 });
  const again = await core.push(host, request(`t=${t},v1=${sig}`));
  assert.deepEqual([again.statusCode, JSON.parse(again.body)], [200, { duplicate: true }]);
  const forged = await core.push(host, request(`t=${t},v1=${'0'.repeat(64)}`));
  assert.deepEqual([forged.statusCode, JSON.parse(forged.body)], [401, { error: { code: 'BAD_SIGNATURE' } }]);
  // Not a request object at all: answered, never thrown.
  const junk = await core.push(host, 42);
  assert.equal(junk.statusCode, 400);
  assert.ok(!JSON.stringify(host.logs).includes(secret));
});

test('issueEvent ignores foreign events without touching the host and unmanaged issues with one read', async () => {
  const host = makeHost();
  configure(host);
  assert.deepEqual(await core.issueEvent(host, { eventType: 'avi:jira:deleted:issue', issue: { id: '1' } }), {
    ran: false,
    reason: 'IGNORED',
  });
  assert.deepEqual(host.calls, []);
  assert.deepEqual(await core.issueEvent(host, { eventType: 'avi:jira:updated:issue', issue: { id: '10001' } }), {
    ran: false,
    reason: 'UNMANAGED',
  });
  assert.deepEqual(host.calls, ['kvsGet']);
});
