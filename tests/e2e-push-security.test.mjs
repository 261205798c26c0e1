// End to end, push ingress and secrets (product issue 6): attacks on the real HTTP web trigger of
// the Forge emulator (forged / wrong-secret / tampered / stale / future / oversize / malformed /
// wrong content type / missing headers / replay) are rejected with the right 4xx and change
// nothing; valid pushes apply exactly once, also with the previous secret during the rotation grace
// period (and no longer after it); no log line, error, response or stored value of a full run holds
// the API key or the shared secret; the base URL is validated; a revoked key shows in the health
// panel and the poll does not crash-loop.
//
// Run: JIRA_OPENAPI_SPEC=/work/shared/jira/swagger-v3.v3.json node --test tests/e2e-push-security.test.mjs
// (needs the build: node scripts/build.mjs --quiet)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  DEVELOPER, startE2EStack, setupWithSecrets, settle, syncAndSettle, issueOf, categoryOf, appWrites,
  sendPush, pushEvent, signature, eventId, saveSettingsWith, sleep, captureOutput, readTree, tempDir, specViolations,
} from './lib/e2e-helpers.mjs';

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const now = () => Math.floor(Date.now() / 1000);

/** Starts a configured stack whose CATAAM does not push by itself (the tests push by hand). */
async function quietStack(t, opts = {}) {
  const stack = await startE2EStack(t, { findings: 30, seed: 606, autoSetup: false, ...opts });
  const secrets = await setupWithSecrets(stack);
  await syncAndSettle(stack);
  stack.cataam.setSharedSecret(null); // CATAAM's own deliveries are skipped from here on
  const url = await stack.emulator.webTriggerUrl('cataam-push');
  const open = stack.cataam.findings().filter((f) => f.status === 'OPEN' && f.kind === 'IASM').sort(byId);
  return { stack, ...secrets, url, open };
}

test('push attack suite: every bad request is refused with its 4xx and changes nothing; valid pushes apply exactly once', async (t) => {
  const { stack, secret, url, open } = await quietStack(t);
  const { jira, cataam } = stack;
  const victim = open[0];
  cataam.resolve(victim.id); // CATAAM changed; only a push (or the next poll) would tell the app
  const issueKey = issueOf(jira, victim.id).key;
  const body = () => pushEvent([victim.id], { type: 'finding.resolved' });
  const jiraFrom = jira.requestLog.length;
  const cataamFrom = cataam.requestLog.length;

  const attacks = [
    ['forged signature', () => sendPush(url, { body: body(), signatureHeader: `t=${now()},v1=${randomBytes(32).toString('hex')}` }), 401, 'BAD_SIGNATURE'],
    ['wrong secret', () => sendPush(url, { body: body(), secret: randomBytes(32).toString('hex') }), 401, 'BAD_SIGNATURE'],
    ['signature without v1', () => sendPush(url, { body: body(), signatureHeader: `t=${now()}` }), 401, 'BAD_SIGNATURE'],
    ['stale timestamp (−360 s)', () => sendPush(url, { body: body(), secret, t: now() - 360 }), 401, 'STALE_TIMESTAMP'],
    ['future timestamp (+360 s)', () => sendPush(url, { body: body(), secret, t: now() + 360 }), 401, 'STALE_TIMESTAMP'],
    ['tampered body', async () => {
      const signed = JSON.stringify(body());
      const tampered = signed.replace(victim.id, open[1].id);
      return sendPush(url, { body: tampered, id: JSON.parse(signed).id, signatureHeader: signature(secret, now(), signed) });
    }, 401, 'BAD_SIGNATURE'],
    ['oversize body (> 64 KiB), validly signed', () => {
      const big = { ...body(), findingIds: [victim.id], padding: 'x'.repeat(70 * 1024) };
      return sendPush(url, { body: big, secret });
    }, 413, 'PAYLOAD_TOO_LARGE'],
    ['malformed JSON, validly signed', () => sendPush(url, { body: '{"id": "evt_x", "findingIds": [', id: eventId(), secret }), 400, 'MALFORMED_JSON'],
    ['wrong content type', () => sendPush(url, { body: body(), secret, contentType: 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['missing signature header', () => sendPush(url, { body: body(), secret, omit: ['x-cataam-signature'] }), 400, 'MISSING_HEADER'],
    ['missing event id header', () => sendPush(url, { body: body(), secret, omit: ['x-cataam-event-id'] }), 400, 'MISSING_HEADER'],
    ['event id header differs from the signed body', () => sendPush(url, { body: body(), secret, id: eventId() }), 400, 'INVALID_EVENT'],
    ['not a POST', () => sendPush(url, { body: body(), secret, method: 'PUT' }), 405, 'METHOD_NOT_ALLOWED'],
  ];
  for (const [name, send, status, code] of attacks) {
    const res = await send();
    assert.equal(res.status, status, `${name}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/, `${name}: JSON answer`);
    assert.equal(res.json?.error?.code, code, `${name}: ${res.text.slice(0, 200)}`);
    assert.deepEqual(Object.keys(res.json), ['error'], `${name}: the answer reveals nothing else`);
  }
  await settle(stack);
  assert.deepEqual(appWrites(jira, jiraFrom).map((e) => `${e.method} ${e.path}`), [], 'no Jira change after the attacks');
  assert.equal(categoryOf(issueOf(jira, victim.id)), 'new', `${issueKey} untouched`);
  assert.deepEqual(cataam.requestLog.slice(cataamFrom).map((e) => `${e.method} ${e.path}`), [], 'the app did not even read CATAAM for a refused push');

  await t.test('a valid push is applied exactly once; its replay is a no-op', async () => {
    const event = body();
    const t0 = now() - 200; // within the ±300 s tolerance
    const first = await sendPush(url, { body: event, secret, t: t0 });
    assert.equal(first.status, 202, first.text);
    assert.deepEqual(first.json, { accepted: 1 });
    await settle(stack);
    assert.equal(categoryOf(issueOf(jira, victim.id)), 'done', 'the push was applied');
    const transitions = appWrites(jira, jiraFrom).filter((e) => e.path.endsWith('/transitions'));
    assert.equal(transitions.length, 1, 'exactly one transition');

    const from = jira.requestLog.length;
    const cFrom = cataam.requestLog.length;
    const replay = await sendPush(url, { body: event, secret, t: t0 }); // the very same bytes
    assert.equal(replay.status, 200, replay.text);
    assert.deepEqual(replay.json, { duplicate: true });
    const resigned = await sendPush(url, { body: event, secret }); // CATAAM re-delivering the event
    assert.equal(resigned.status, 200);
    assert.deepEqual(resigned.json, { duplicate: true });
    await settle(stack);
    assert.deepEqual(appWrites(jira, from), [], 'a replay changes nothing');
    assert.deepEqual(cataam.requestLog.slice(cFrom).map((e) => `${e.method} ${e.path}`), [], 'a replay reads nothing');
  });

  await t.test('a push naming several findings applies each', async () => {
    const targets = open.slice(2, 5);
    for (const f of targets) cataam.resolve(f.id);
    const res = await sendPush(url, { body: pushEvent(targets.map((f) => f.id)), secret });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(res.json, { accepted: 3 });
    await settle(stack);
    for (const f of targets) assert.equal(categoryOf(issueOf(jira, f.id)), 'done');
  });

  await t.test('rotation: the previous secret works during the grace period, not after it', async () => {
    const saved = await saveSettingsWith(stack, { secretGraceSeconds: 3 });
    assert.equal(saved.ok, true, JSON.stringify(saved.error));
    const rotated = await stack.invoke('generateSecret', {});
    assert.equal(rotated.ok, true);
    const newSecret = rotated.secret;
    assert.match(newSecret, /^[0-9a-f]{32,}$/);
    assert.notEqual(newSecret, secret);
    assert.ok(rotated.previousSecretValidUntil > Date.now(), 'the answer says until when the previous secret works');

    const [a, b, c, d] = open.slice(5, 9);
    for (const f of [a, b, c, d]) cataam.resolve(f.id);
    const withOld = await sendPush(url, { body: pushEvent([a.id]), secret });
    assert.equal(withOld.status, 202, `previous secret within the grace period: ${withOld.text}`);
    const withNew = await sendPush(url, { body: pushEvent([b.id]), secret: newSecret });
    assert.equal(withNew.status, 202, withNew.text);
    await settle(stack);
    assert.equal(categoryOf(issueOf(jira, a.id)), 'done');
    assert.equal(categoryOf(issueOf(jira, b.id)), 'done');

    await sleep(Math.max(0, rotated.previousSecretValidUntil - Date.now()) + 300);
    const from = jira.requestLog.length;
    const expired = await sendPush(url, { body: pushEvent([c.id]), secret });
    assert.equal(expired.status, 401, `previous secret after the grace period: ${expired.text}`);
    assert.equal(expired.json?.error?.code, 'BAD_SIGNATURE');
    await settle(stack);
    assert.deepEqual(appWrites(jira, from), []);
    assert.equal(categoryOf(issueOf(jira, c.id)), 'new', 'nothing applied with the expired secret');
    const stillNew = await sendPush(url, { body: pushEvent([d.id]), secret: newSecret });
    assert.equal(stillNew.status, 202);
    await settle(stack);
    assert.equal(categoryOf(issueOf(jira, d.id)), 'done');
  });

  await t.test('Jira requests conform to the official OpenAPI spec', () => {
    const bad = specViolations(stack);
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} requests do not conform`);
  });
});

test('leak test: no log line, error, HTTP answer or stored value of a full run contains the API key or the shared secret', async (t) => {
  // pass through: the test runner's own reports travel on this process's stdout too
  const capture = captureOutput({ passThrough: true });
  let captured = '';
  const stopCapture = () => {
    if (capture) captured = capture.stop();
  };
  t.after(stopCapture);
  const emulatorLog = [];
  const dir = tempDir(t);
  const stack = await startE2EStack(t, {
    findings: 40, seed: 808, autoSetup: false, dataDir: dir,
    emulator: { log: (level, message) => emulatorLog.push(`${level} ${message}`) },
  });
  const { jira, cataam, emulator } = stack;
  const answers = [];
  const call = async (fn, payload = {}, accountId) => {
    try {
      const r = await stack.invoke(fn, payload, accountId);
      answers.push({ fn, r });
      return r;
    } catch (e) {
      answers.push({ fn, thrown: String(e?.stack ?? e) });
      return null;
    }
  };
  const secrets = await setupWithSecrets(stack);
  const { apiKey, secret } = secrets;
  answers.push({ fn: 'saveSettings', r: secrets.saved });
  await syncAndSettle(stack);
  const url = await emulator.webTriggerUrl('cataam-push');
  const open = cataam.findings().filter((f) => f.status === 'OPEN').sort(byId);

  // pushes: valid, replayed, and refused
  const pushes = [];
  cataam.resolve(open[0].id); // CATAAM pushes this itself, signed with the secret
  const ev = pushEvent([open[1].id]);
  cataam.resolve(open[1].id);
  pushes.push(await sendPush(url, { body: ev, secret }));
  pushes.push(await sendPush(url, { body: ev, secret }));
  pushes.push(await sendPush(url, { body: pushEvent([open[2].id]), secret: 'not-the-secret' }));
  pushes.push(await sendPush(url, { body: pushEvent([open[2].id]), secret, t: now() - 1000 }));
  pushes.push(await sendPush(url, { body: '{oops', id: eventId(), secret }));
  await settle(stack);

  // every resolver function, as admin and as a non-admin, with good and bad input
  await call('getSettings');
  await call('getHealth');
  await call('testConnection', {});
  await call('testConnection', { apiKey: 'cataam_thisIsNotAValidKey000000000000000' });
  await call('testConnection', { apiKey: 'not-a-key' });
  await call('listProjects', { query: 'SEC', startAt: 0 });
  await call('saveSettings', { baseUrl: 'http://service.cataam.com', apiKey });
  await call('saveSettings', { baseUrl: 'https://evil.example.com', apiKey, projectId: secrets.projectId });
  await call('saveSettings', { baseUrl: 'https://service.cataam.com', apiKey: `${apiKey} with spaces`, projectId: secrets.projectId });
  await call('reregisterWebhook');
  await call('syncNow');
  await call('retryDeadLetter', { findingId: 'fnd_doesNotExist' });
  await call('getSettings', {}, DEVELOPER.accountId);
  await call('saveSettings', { baseUrl: 'https://service.cataam.com', apiKey }, DEVELOPER.accountId);
  await call('noSuchFunction');
  await settle(stack);
  // a rotation (its answer shows the new secret once, by design) and a revoked key
  const rotated = await call('generateSecret');
  cataam.setSharedSecret(rotated.secret);
  cataam.revokeApiKey(secrets.apiKeyName);
  await syncAndSettle(stack);
  await call('getHealth');
  await call('testConnection', {});
  await settle(stack);
  cataam.flush();
  jira.save();
  await emulator.close(); // flushes the emulator's state to disk
  stopCapture();

  const haystacks = [
    ['console output of the invocations', captured],
    ['emulator log', emulatorLog.join('\n')],
    ['invocation errors', JSON.stringify(emulator.invocations.map((r) => [r.error, r.errorName, r.errorCode]))],
    ['resolver answers (generateSecret answers excluded: they show the new secret once by design)', JSON.stringify(answers.filter((a) => a.fn !== 'generateSecret'))],
    ['push answers', JSON.stringify(pushes.map((p) => [p.status, p.text, [...p.headers]]))],
    ['KVS dump', JSON.stringify(emulator.kvsDump())],
    ['Jira requests (bodies and paths)', JSON.stringify(stack.exchanges.map((x) => [x.path, x.reqBody]))],
    ['Jira request log (paths, queries)', JSON.stringify(jira.requestLog)],
    ['CATAAM request log (paths, queries)', JSON.stringify(cataam.requestLog)],
    ['files the emulator persisted (KVS, secrets at rest, queue)', readTree(join(dir, 'forge')).map((f) => f.text).join('\n')],
  ];
  assert.ok(captured.length > 0 || emulator.invocations.length > 0, 'output was captured');
  assert.ok(emulator.invocations.length > 10, 'a full run happened');
  for (const [where, text] of haystacks) {
    for (const [name, value] of [['API key', apiKey], ['shared secret', secret], ['rotated shared secret', rotated.secret]]) {
      assert.ok(!text.includes(value), `${name} found in ${where}`);
      // also its distinctive tail, in case it was cut or prefixed
      assert.ok(!text.includes(value.slice(-24)), `part of the ${name} found in ${where}`);
    }
  }
  // the secrets are stored: in secret storage, not in plain KVS
  const dump = JSON.parse(haystacks.find(([w]) => w === 'KVS dump')[1]);
  assert.ok(dump.secrets.length >= 2, `secret storage holds the key and the secret: ${dump.secrets}`);
});

test('base URL validation through the resolver: http://, userinfo, foreign host → clear error, nothing saved', async (t) => {
  const stack = await startE2EStack(t, { findings: 10, seed: 11, autoSetup: false });
  const secrets = await setupWithSecrets(stack);
  const before = await stack.invoke('getSettings', {});
  assert.equal(before.ok, true);
  const otherKey = stack.cataam.createApiKey('Other integration');
  const cases = [
    ['http://service.cataam.com', 'INVALID_URL'],
    ['https://user:password@service.cataam.com', 'INVALID_URL'],
    ['https://admin@service.cataam.com', 'INVALID_URL'],
    ['https://evil.example.com', 'HOST_NOT_ALLOWED'],
    ['https://service.cataam.com.evil.example', 'HOST_NOT_ALLOWED'],
    ['https://127.0.0.1', 'HOST_NOT_ALLOWED'],
    ['not a url', 'INVALID_URL'],
  ];
  for (const [baseUrl, code] of cases) {
    const r = await stack.invoke('saveSettings', { baseUrl, apiKey: otherKey, projectId: secrets.projectId, projectKey: 'SEC' });
    assert.equal(r.ok, false, `${baseUrl} must be refused`);
    const fields = r.error.fields ?? (r.error.field ? [r.error] : []);
    const f = fields.find((x) => x.field === 'baseUrl');
    assert.ok(f, `${baseUrl}: the error names the baseUrl field: ${JSON.stringify(r.error)}`);
    assert.equal(f.code, code, `${baseUrl}: ${JSON.stringify(f)}`);
    assert.ok(typeof f.message === 'string' && f.message.length > 10, 'a clear message');
    assert.ok(!JSON.stringify(r).includes(otherKey), 'the answer never echoes the key');
    const t2 = await stack.invoke('testConnection', { baseUrl });
    assert.equal(t2.ok, false, `testConnection refuses ${baseUrl} too`);
  }
  const after = await stack.invoke('getSettings', {});
  assert.deepEqual(after.settings, before.settings, 'nothing was saved');
  // the stored key is still the first one: revoking the other key does not matter to the app
  stack.cataam.revokeApiKey('Other integration');
  const conn = await stack.invoke('testConnection', {});
  assert.equal(conn.ok, true, `the stored key was not replaced: ${JSON.stringify(conn.error)}`);
  // and nothing was sent anywhere but CATAAM's real host
  assert.ok(stack.cataam.requestLog.every((e) => e.path.startsWith('/api/v1/')));
});

test('revoked API key: health shows the key as rejected, the poll does not crash-loop, a new key recovers', async (t) => {
  const stack = await startE2EStack(t, { findings: 20, seed: 99, autoSetup: false });
  const { cataam, emulator } = stack;
  const secrets = await setupWithSecrets(stack);
  await syncAndSettle(stack);
  const ok = await stack.invoke('getHealth', {});
  assert.equal(ok.health.connection.state, 'ok', JSON.stringify(ok.health.connection));

  cataam.revokeApiKey(secrets.apiKeyName);
  const perPoll = [];
  for (let i = 0; i < 3; i++) {
    const from = cataam.requestLog.length;
    const invFrom = emulator.invocations.length;
    const rec = await stack.sync();
    await settle(stack);
    // Ending with an explicit, secret-free "key rejected" error is a clean end; a trap, a
    // timeout or any other failure is not.
    assert.equal(rec.timedOut, false);
    assert.ok(rec.ok || /reject/i.test(rec.error ?? ''), `the poll ends cleanly on a rejected key: ${rec.error}`);
    assert.ok(rec.durationMs < 10_000, `the poll gives up fast: ${rec.durationMs} ms`);
    const calls = cataam.requestLog.slice(from);
    assert.ok(calls.length >= 1 && calls.every((e) => e.status === 401), 'the poll tried CATAAM and was refused');
    perPoll.push(calls.length);
    const invocations = emulator.invocations.slice(invFrom);
    assert.ok(invocations.length <= 3, `no storm of invocations: ${invocations.map((r) => r.functionKey)}`);
    assert.deepEqual(emulator.queueSnapshot(), [], 'nothing left queued to hammer CATAAM');
  }
  assert.ok(Math.max(...perPoll) <= 3, `a rejected key costs at most a few requests per poll: ${perPoll}`);
  const health = await stack.invoke('getHealth', {});
  assert.equal(health.ok, true);
  assert.equal(health.health.connection.state, 'key_rejected', JSON.stringify(health.health.connection));
  const test1 = await stack.invoke('testConnection', {});
  assert.equal(test1.ok, false);
  assert.equal(test1.error.code, 'KEY_REJECTED');

  // Rotation recovers: new key saved, poll works again, health back to ok.
  const fresh = cataam.createApiKey('Jira Production 2');
  const saved = await saveSettingsWith(stack, { apiKey: fresh });
  assert.equal(saved.ok, true, JSON.stringify(saved.error));
  const f = cataam.createFinding({ kind: 'IASM', severity: 'HIGH' });
  await settle(stack);
  await syncAndSettle(stack);
  assert.ok(issueOf(stack.jira, f.id), 'syncing again after the new key');
  const back = await stack.invoke('getHealth', {});
  assert.equal(back.health.connection.state, 'ok');
});
