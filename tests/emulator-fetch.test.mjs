// What leaves a container: product REST (asApp/asUser) to a stand-in Jira, the egress allowlist
// with dev aliases, and the admin page's bridge reaching the resolver as a principal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../dev/emulator/index.mjs';

const appDir = fileURLToPath(new URL('./fixtures/mini-app/', import.meta.url));

/** A loopback HTTP server that answers every request with what it received. */
async function echoServer(t) {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, host: req.headers.host });
    const body = JSON.stringify({ path: req.url, authorization: req.headers.authorization ?? null });
    res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-remaining': '99' });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${server.address().port}`, seen };
}

test('product fetch: asApp and asUser reach jiraUrl with the emulator-set Authorization', async (t) => {
  const jira = await echoServer(t);
  const platform = await startEmulator({ appDir, jiraUrl: jira.url });
  t.after(() => platform.close());
  const app = await platform.invokeResolver('jira', { asUser: false }, { accountId: 'u-42' });
  assert.deepEqual(app, { status: 200, body: { path: '/rest/api/3/myself', authorization: 'Bearer app' } });
  const user = await platform.invokeResolver('jira', { asUser: true }, { accountId: 'u-42' });
  assert.equal(user.body.authorization, 'Bearer user:u-42', 'asUser() acts as the invocation principal');
  await assert.rejects(platform.invokeResolver('jira', { asUser: true }, {}), /Authentication Required/, 'asUser() without a user principal');
  assert.equal(jira.seen.length, 2);
});

test('egress: only allowlisted hosts, aliases map them to loopback', async (t) => {
  const cataam = await echoServer(t);
  const wild = await echoServer(t);
  const platform = await startEmulator({
    appDir,
    egressAliases: { 'service.example.test': cataam.url, 'a.wild.example.test': wild.url },
  });
  t.after(() => platform.close());
  const call = (url, fn = 'egress') => platform.invokeResolver(fn, { url }, {});

  const ok = await call('https://service.example.test/api/v1/org?x=1');
  assert.equal(ok.ok, true);
  assert.equal(JSON.parse(ok.text).path, '/api/v1/org?x=1');
  const viaGlobal = await call('https://a.wild.example.test/ping', 'globalFetch');
  assert.equal(viaGlobal.ok, true, 'the global fetch (what gloo-net binds) is the filtered one too');
  assert.equal(JSON.parse(viaGlobal.text).path, '/ping');

  for (const url of ['https://evil.example.test/', 'https://wild.example.test/', 'http://service.example.test/', cataam.url]) {
    const denied = await call(url);
    assert.equal(denied.ok, false, url);
    assert.match(denied.error.message, /URL not included in the external fetch backend permissions/);
  }
  assert.equal(cataam.seen.length, 1, 'denied requests never left the container');
});

test('bridge endpoint runs the resolver as the principal in the URL', async (t) => {
  const platform = await startEmulator({ appDir });
  t.after(() => platform.close());
  const post = (account, body) => fetch(`${platform.url}/__bridge/${account}/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const res = await post('u-admin', { functionKey: 'whoami', payload: {} });
  assert.equal(res.status, 200);
  const { result } = await res.json();
  assert.deepEqual(result, { accountId: 'u-admin', cloudId: platform.cloudId, moduleKey: 'mini-admin' });
  const missing = await post('u-admin', { functionKey: 'noSuchFunction' });
  assert.equal(missing.status, 500);
  assert.match((await missing.json()).error.message, /no definition for 'noSuchFunction'/);
});

test('admin page: Jira-like frame, resource served with the bridge injected; @forge/bridge invoke works through it', async (t) => {
  const platform = await startEmulator({ appDir });
  t.after(() => platform.close());
  const frame = await fetch(`${platform.url}/admin/?as=u-admin`);
  assert.equal(frame.status, 200);
  const frameHtml = await frame.text();
  const src = /<iframe[^>]*src="([^"]+)"/.exec(frameHtml)[1];
  assert.equal(src, '/admin/app/u-admin/mini-admin/index.html');
  assert.equal((await fetch(`${platform.url}/admin/`)).status, 400, 'a principal is required');

  const page = await (await fetch(platform.url + src)).text();
  const scripts = [...page.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.match(scripts[0][1], /^ nonce="[^"]+"$/, 'the bridge script comes first, inline, admitted by nonce');
  assert.equal(scripts[1][1], ' src="app.js"', 'then the app bundle');
  const js = await fetch(`${platform.url}/admin/app/u-admin/mini-admin/app.js`);
  assert.match(js.headers.get('content-type'), /javascript/);
  assert.equal((await fetch(`${platform.url}/admin/app/u-admin/mini-admin/..%2F..%2Fmanifest.yml`)).status, 403);

  // Run the injected bridge as the browser would, then the real @forge/bridge on top of it.
  const window = {};
  runInNewContext(scripts[0][2], { window, fetch: (u, o) => fetch(new URL(u, platform.url), o), JSON, Promise, Error, encodeURIComponent, String });
  globalThis.__bridge = window.__bridge;
  t.after(() => delete globalThis.__bridge);
  const bridge = createRequire(import.meta.url)('@forge/bridge');
  assert.deepEqual(await bridge.invoke('whoami', {}), { accountId: 'u-admin', cloudId: platform.cloudId, moduleKey: 'mini-admin' });
  const ctx = await bridge.view.getContext();
  assert.equal(ctx.accountId, 'u-admin');
  assert.equal(ctx.extension.type, 'jira:adminPage');
  assert.equal(ctx.moduleKey, 'mini-admin');
  await assert.rejects(bridge.invoke('noSuchFunction', {}), /no definition/);
});
