// Behaviour of the CATAAM simulator: API-key hashing and revocation, keyset paging, asynchronous
// compliance runs, push retries/backoff and skip reasons, fault determinism, persistence,
// deterministic realistic data, and the HTML console pages and forms over HTTP.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCataamSim } from '../dev/cataam-sim/index.mjs';
import { MITRE_TECHNIQUES } from '../dev/cataam-sim/generator.mjs';

const KEY = 'cataam_behaviourKey';
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

async function withSim(opts, fn) {
  const sim = await startCataamSim({ apiKeys: [{ name: 'tests', raw: KEY }], ...opts });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

const api = (sim, method, path, body, key = KEY) => fetch(sim.url + path, {
  method,
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body: body === undefined ? undefined : JSON.stringify(body),
});

/** A receiver whose answers are scripted: `answers` is consumed per request, last one repeats. */
async function startReceiver(answers) {
  const hits = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const a = answers[Math.min(hits.length, answers.length - 1)];
      hits.push({ at: Date.now(), headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      if (a === 'drop') { req.socket.destroy(); return; }
      res.writeHead(a.status, { 'content-type': 'application/json', ...(a.headers ?? {}) });
      res.end(JSON.stringify(a.body ?? {}));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/x/trigger`, hits, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

async function form(sim, path, fields) {
  return fetch(sim.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

test('generator: same seed → same findings; realistic spread; ~1 in 8 compliance', async () => {
  const a = await startCataamSim({ seed: 42, findings: 400 });
  const b = await startCataamSim({ seed: 42, findings: 400 });
  const c = await startCataamSim({ seed: 43, findings: 400 });
  try {
    assert.deepEqual(a.findings(), b.findings().map((f) => ({ ...f, url: f.url })));
    assert.notDeepEqual(a.findings().map((f) => f.id), c.findings().map((f) => f.id));
    const all = a.findings();
    const compliance = all.filter((f) => f.kind === 'COMPLIANCE');
    assert.ok(compliance.length >= 25 && compliance.length <= 80, `compliance share ${compliance.length}/400`);
    const sev = new Set(all.map((f) => f.severity));
    assert.deepEqual([...sev].sort(), ['CRITICAL', 'HIGH', 'INFO', 'LOW', 'MEDIUM']);
    assert.ok(new Set(all.map((f) => f.title)).size >= 15, 'varied titles');
    assert.ok(all.some((f) => f.title === 'Exposed RDP service'));
    for (const f of all.filter((x) => x.mitre)) assert.equal(MITRE_TECHNIQUES[f.mitre.techniqueId], f.mitre.name);
    const iasm = all.filter((f) => f.kind === 'IASM');
    assert.ok(iasm.every((f) => f.asset.hostname && f.asset.ip && f.asset.port && f.asset.service && f.description.length > 80 && f.remediation.length > 40));
    assert.ok(iasm.every((f) => f.complianceControls.length >= 1));
    for (const f of compliance) {
      assert.match(f.compliance.framework, /^(ISO 27001|SOC 2|PCI DSS|CIS AWS Foundations)$/);
      assert.match(f.compliance.testId, /^ct_/);
      if (f.compliance.result === 'FAIL') {
        assert.ok(f.compliance.logs.split('\n').length >= 5, 'multi-line failure logs');
        assert.match(f.compliance.logs, /FAIL/);
      }
    }
    assert.equal(new Set(all.map((f) => f.id)).size, 400);
    assert.equal(new Set(all.map((f) => f.updatedAt)).size, 400, 'distinct updatedAt values');
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

test('API keys: only SHA-256 hashes are stored; revocation works at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cataam-keys-'));
  try {
    await withSim({ dataDir: dir, findings: 3 }, async (sim) => {
      const raw = sim.createApiKey('Jira Production');
      assert.match(raw, /^cataam_[A-Za-z0-9]{40}$/);
      assert.notEqual(sim.createApiKey('Other'), raw);
      assert.throws(() => sim.createApiKey('Jira Production'), /already exists/);
      assert.throws(() => sim.createApiKey('  '), /name/);
      assert.ok(!JSON.stringify(sim.apiKeys()).includes(raw));
      assert.deepEqual(sim.apiKeys().map((k) => k.name), ['tests', 'Jira Production', 'Other']);
      sim.flush();
      const snapshot = readFileSync(join(dir, 'cataam-sim.json'), 'utf8');
      assert.ok(!snapshot.includes(raw), 'raw key never persisted');
      assert.ok(!snapshot.includes(KEY), 'preset raw key never persisted');
      assert.ok(snapshot.includes(sha256(raw)), 'hash persisted');
      assert.equal((await api(sim, 'GET', '/api/v1/org', undefined, raw)).status, 200);
      assert.ok(sim.apiKeys().find((k) => k.name === 'Jira Production').lastUsedAt);
      assert.equal(sim.revokeApiKey('Jira Production'), true);
      assert.equal(sim.revokeApiKey('Jira Production'), false);
      const res = await api(sim, 'GET', '/api/v1/org', undefined, raw);
      assert.equal(res.status, 401);
      assert.equal((await res.json()).error.code, 'KEY_REJECTED');
      assert.equal((await api(sim, 'GET', '/api/v1/org')).status, 200, 'other keys unaffected');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('paging: (updatedAt, id) order, inclusive updatedSince, keyset cursors survive concurrent changes', async () => {
  await withSim({ seed: 5, findings: 450 }, async (sim) => {
    const pages = [];
    let cursor = null;
    const items = [];
    do {
      const res = await api(sim, 'GET', `/api/v1/findings?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      const page = await res.json();
      pages.push(page.items.length);
      items.push(...page.items);
      cursor = page.nextCursor;
      if (pages.length === 1) {
        // A finding from the first page changes while we page: it must come back at the end.
        sim.resolve(items[3].status === 'RESOLVED' ? items[4].id : items[3].id);
      }
    } while (cursor);
    assert.deepEqual(pages, [200, 200, 51]);
    const keys = items.map((f) => `${f.updatedAt}|${f.id}`);
    assert.deepEqual(keys, [...keys].sort(), 'ascending (updatedAt, id)');
    assert.equal(new Set(items.map((f) => f.id)).size, 450, 'nothing skipped');
    const moved = items[items.length - 1];
    assert.equal(moved.status, 'RESOLVED');

    const all = sim.findings().sort((x, y) => (x.updatedAt < y.updatedAt ? -1 : 1));
    const pivot = all[100];
    const since = await (await api(sim, 'GET', `/api/v1/findings?limit=200&updatedSince=${encodeURIComponent(pivot.updatedAt)}`)).json();
    assert.equal(since.items[0].id, pivot.id, 'updatedSince is inclusive');
    assert.equal(since.items.length, 200);
    const offset = pivot.updatedAt.replace('Z', '+00:00');
    const sinceOffset = await (await api(sim, 'GET', `/api/v1/findings?limit=1&updatedSince=${encodeURIComponent(offset)}`)).json();
    assert.equal(sinceOffset.items[0].id, pivot.id, 'offsets are accepted');
    const deflt = await (await api(sim, 'GET', '/api/v1/findings')).json();
    assert.equal(deflt.items.length, 100, 'default limit 100');
    const future = await (await api(sim, 'GET', '/api/v1/findings?updatedSince=2999-01-01T00:00:00Z')).json();
    assert.deepEqual(future, { items: [], nextCursor: null });
  });
});

test('every change bumps updatedAt strictly monotonically', async () => {
  await withSim({ seed: 8, findings: 20 }, async (sim) => {
    const ids = sim.findings().map((f) => f.id);
    const stamps = [];
    for (let i = 0; i < 60; i++) {
      const id = ids[i % ids.length];
      const cur = sim.finding(id);
      const f = i % 2 === 0
        ? (cur.status === 'RESOLVED' ? sim.reopen(id) : sim.resolve(id))
        : sim.update(id, { dueDate: cur.dueDate === '2027-01-01' ? '2027-01-02' : '2027-01-01' });
      stamps.push(Date.parse(f.updatedAt));
    }
    const res = await api(sim, 'PATCH', `/api/v1/findings/${ids[0]}`, { assignedTo: { accountId: 'acc-1', displayName: 'Ann' } });
    stamps.push(Date.parse((await res.json()).updatedAt));
    for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i] > stamps[i - 1], `stamp ${i} strictly greater`);
    const before = sim.finding(ids[1]);
    const same = await (await api(sim, 'PATCH', `/api/v1/findings/${ids[1]}`, { status: before.status })).json();
    assert.equal(same.updatedAt, before.updatedAt, 'a no-op PATCH changes nothing');
  });
});

test('compliance runs are asynchronous and follow the configured outcome', async () => {
  await withSim({ seed: 11, findings: 40, runDelayMs: 400 }, async (sim) => {
    const f = sim.findings().find((x) => x.kind === 'COMPLIANCE');
    const testId = f.compliance.testId;
    const started = await (await api(sim, 'POST', `/api/v1/compliance-tests/${testId}/runs`, {})).json();
    assert.equal(started.status, 'RUNNING');
    const soon = await (await api(sim, 'GET', `/api/v1/compliance-tests/${testId}/runs/${started.runId}`)).json();
    assert.equal(soon.status, 'RUNNING');
    assert.equal(soon.finishedAt, null);
    await new Promise((r) => setTimeout(r, 450));
    const done = await (await api(sim, 'GET', `/api/v1/compliance-tests/${testId}/runs/${started.runId}`)).json();
    assert.equal(done.status, 'FAIL', 'default outcome FAIL');
    assert.ok(done.logs.split('\n').length >= 5 && /result=FAIL/.test(done.logs), 'realistic failure logs');
    assert.ok(Date.parse(done.finishedAt) - Date.parse(done.startedAt) >= 395);
    const afterFail = sim.finding(f.id);
    assert.equal(afterFail.compliance.result, 'FAIL');
    assert.equal(afterFail.compliance.logs, done.logs);
    assert.equal(afterFail.status, f.status, 'a run never changes the finding status');

    sim.setTestOutcome(testId, 'PASS');
    const r2 = await (await api(sim, 'POST', `/api/v1/compliance-tests/${testId}/runs`, {})).json();
    await sim.idle();
    const pass = await (await api(sim, 'GET', `/api/v1/compliance-tests/${testId}/runs/${r2.runId}`)).json();
    assert.equal(pass.status, 'PASS');
    assert.match(pass.logs, /PASS/);
    assert.equal(sim.finding(f.id).compliance.result, 'PASS');
    assert.ok(sim.finding(f.id).updatedAt > afterFail.updatedAt);

    sim.setTestOutcome(testId, 'FAIL', 'custom failure\nline 2');
    const r3 = sim.runComplianceTest(testId);
    await sim.idle();
    assert.equal(sim.runs().find((r) => r.runId === r3.runId).logs, 'custom failure\nline 2');
    assert.throws(() => sim.setTestOutcome(testId, 'MAYBE'), /PASS or FAIL/);
  });
});

test('push: no URL / no secret are recorded as skipped with a visible reason', async () => {
  await withSim({ seed: 2, findings: 5 }, async (sim) => {
    const id = sim.findings().find((f) => f.status !== 'RESOLVED').id;
    sim.resolve(id);
    assert.equal(sim.deliveries.at(-1).status, 'skipped');
    assert.match(sim.deliveries.at(-1).reason, /Re-register Webhook with CATAAM/);
    const rx = await startReceiver([{ status: 202, body: { accepted: 1 } }]);
    try {
      sim.registerWebhook(rx.url);
      sim.reopen(id);
      assert.equal(sim.deliveries.at(-1).status, 'skipped');
      assert.match(sim.deliveries.at(-1).reason, /Shared Secret not set/);
      assert.equal(sim.deliveries.at(-1).type, 'finding.reopened');
      await sim.idle();
      assert.equal(rx.hits.length, 0, 'nothing pushed without a secret');
      sim.setSharedSecret('s3cret');
      sim.resolve(id);
      await sim.idle();
      assert.equal(rx.hits.length, 1);
      assert.equal(sim.deliveries.at(-1).status, 'delivered');
      const page = await (await fetch(`${sim.url}/console/settings/integrations/jira`)).text();
      assert.match(page, /Shared Secret not set/);
      assert.match(page, /No Forge Webtrigger URL registered/);
    } finally {
      await rx.close();
    }
  });
});

test('push: retries non-2xx and network errors with exponential backoff, honours Retry-After, gives up', async () => {
  const rx = await startReceiver([{ status: 503 }, { status: 500 }, 'drop', { status: 202, body: { accepted: 1 } }]);
  try {
    await withSim({ seed: 2, findings: 5, sharedSecret: 'k', push: { baseDelayMs: 40, maxAttempts: 6 } }, async (sim) => {
      sim.registerWebhook(rx.url);
      const created = sim.createFinding();
      await sim.idle();
      assert.equal(rx.hits.length, 4);
      assert.ok(rx.hits.every((h) => h.body.id === rx.hits[0].body.id && h.headers['x-cataam-event-id'] === h.body.id), 'same event id on every attempt');
      const gaps = rx.hits.slice(1).map((h, i) => h.at - rx.hits[i].at);
      assert.ok(gaps[0] >= 35 && gaps[1] >= 75 && gaps[2] >= 155, `exponential backoff, gaps ${gaps}`);
      const log = sim.deliveries.filter((d) => d.eventId === rx.hits[0].body.id);
      assert.deepEqual(log.map((d) => [d.attempt, d.status, d.httpStatus]), [
        [1, 'retrying', 503], [2, 'retrying', 500], [3, 'retrying', null], [4, 'delivered', 202],
      ]);
      assert.match(log[2].reason, /network error/);
      assert.deepEqual(rx.hits[0].body.findingIds, [created.id]);
      assert.equal(rx.hits[0].body.type, 'finding.created');
    });
  } finally {
    await rx.close();
  }

  const limited = await startReceiver([{ status: 429, headers: { 'retry-after': '1' } }, { status: 202 }]);
  try {
    await withSim({ findings: 2, sharedSecret: 'k', push: { baseDelayMs: 10, maxDelayMs: 2000 } }, async (sim) => {
      sim.registerWebhook(limited.url);
      sim.createFinding();
      await sim.idle({ timeoutMs: 5000 });
      assert.equal(limited.hits.length, 2);
      assert.ok(limited.hits[1].at - limited.hits[0].at >= 950, 'Retry-After honoured');
    });
  } finally {
    await limited.close();
  }

  const broken = await startReceiver([{ status: 500 }]);
  try {
    await withSim({ findings: 2, sharedSecret: 'k', push: { baseDelayMs: 5, maxAttempts: 3 } }, async (sim) => {
      sim.registerWebhook(broken.url);
      sim.createFinding();
      await sim.idle();
      assert.equal(broken.hits.length, 3, 'bounded attempts');
      const last = sim.deliveries.at(-1);
      assert.equal(last.status, 'failed');
      assert.match(last.reason, /gave up after 3 attempts/);
    });
  } finally {
    await broken.close();
  }

  await withSim({ findings: 2, sharedSecret: 'k', push: { baseDelayMs: 5, maxAttempts: 2, timeoutMs: 200 } }, async (sim) => {
    const hang = createServer(() => { /* never answers */ });
    await new Promise((r) => hang.listen(0, '127.0.0.1', r));
    try {
      sim.registerWebhook(`http://127.0.0.1:${hang.address().port}/x`);
      sim.createFinding();
      await sim.idle();
      assert.match(sim.deliveries.at(-2).reason, /timeout after 200 ms/);
      assert.equal(sim.deliveries.at(-1).status, 'failed');
    } finally {
      hang.closeAllConnections();
      await new Promise((r) => hang.close(r));
    }
  });
});

test('faults: seeded and deterministic; 429/5xx/drop/timeout behave as documented; off by default', async () => {
  const faults = { seed: 77, error5xxRate: 0.2, rate429Rate: 0.2, dropRate: 0.1, timeoutRate: 0.1, hangMs: 50, latencyMs: [0, 3] };
  const run = async (f) => withSim({ seed: 1, findings: 10, faults: f }, async (sim) => {
    const outcomes = [];
    for (let i = 0; i < 40; i++) {
      try {
        const res = await api(sim, 'GET', '/api/v1/org');
        outcomes.push(res.status === 429 ? `429:${res.headers.get('retry-after')}` : String(res.status));
        await res.arrayBuffer();
      } catch (err) {
        outcomes.push(`error:${err.cause?.code ?? err.message}`);
      }
    }
    return { outcomes, log: sim.requestLog.map((e) => e.fault) };
  });
  const a = await run(faults);
  const b = await run(faults);
  const c = await run({ ...faults, seed: 78 });
  assert.deepEqual(a.outcomes, b.outcomes, 'same seed → same faults');
  assert.deepEqual(a.log, b.log);
  assert.notDeepEqual(a.log, c.log, 'another seed → other faults');
  assert.ok(a.outcomes.includes('429:1'));
  assert.ok(a.outcomes.some((o) => /^50[023]$/.test(o)));
  assert.ok(a.outcomes.some((o) => o.startsWith('error:')), 'drops/timeouts surface as network errors');
  assert.ok(a.log.includes('drop') && a.log.includes('timeout'));
  assert.ok(a.outcomes.includes('200'));
  const clean = await run(null);
  assert.ok(clean.outcomes.every((o) => o === '200'), 'no faults by default');

  // A dropped PATCH is applied although the client never sees the answer.
  await withSim({ seed: 1, findings: 4, faults: { seed: 1, dropRate: 1 } }, async (sim) => {
    const f = sim.findings().find((x) => x.status !== 'RESOLVED');
    await assert.rejects(api(sim, 'PATCH', `/api/v1/findings/${f.id}`, { status: 'RESOLVED' }));
    assert.equal(sim.finding(f.id).status, 'RESOLVED');
  });
});

test('faults: duplicate and reordered push deliveries', async () => {
  const rx = await startReceiver([{ status: 202 }]);
  try {
    await withSim({ findings: 6, sharedSecret: 'k', faults: { seed: 3, duplicatePushRate: 1 } }, async (sim) => {
      sim.registerWebhook(rx.url);
      sim.createFinding();
      await sim.idle();
      assert.equal(rx.hits.length, 2);
      assert.equal(rx.hits[0].body.id, rx.hits[1].body.id, 'the same event delivered twice');
      assert.ok(sim.deliveries.some((d) => d.fault === 'duplicate'));
    });
    rx.hits.length = 0;
    await withSim({ findings: 6, sharedSecret: 'k', faults: { seed: 4, reorderPushRate: 0.5, reorderDelayMs: 60 } }, async (sim) => {
      sim.registerWebhook(rx.url);
      const sent = [];
      for (let i = 0; i < 12; i++) sent.push(sim.createFinding().id);
      await sim.idle();
      const got = rx.hits.map((h) => h.body.findingIds[0]);
      assert.deepEqual([...got].sort(), [...sent].sort(), 'every event arrives');
      assert.notDeepEqual(got, sent, 'some events overtaken');
    });
  } finally {
    await rx.close();
  }
});

test('persistence: state survives a restart from dataDir; the snapshot is written atomically', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cataam-persist-'));
  try {
    let raw; let resolved; let lastUpdated; let findingsBefore;
    await withSim({ dataDir: dir, seed: 9, findings: 30 }, async (sim) => {
      raw = sim.createApiKey('Jira Production');
      resolved = sim.findings().find((f) => f.status === 'OPEN').id;
      lastUpdated = sim.resolve(resolved).updatedAt; // skipped (no URL): recorded in the delivery log
      sim.setSharedSecret('persisted-secret');
      sim.registerWebhook('http://127.0.0.1:9/x/hook');
      const comp = sim.findings().find((f) => f.kind === 'COMPLIANCE');
      if (comp) sim.setTestOutcome(comp.compliance.testId, 'PASS');
      findingsBefore = sim.findings();
    });
    assert.deepEqual(readdirSync(dir), ['cataam-sim.json'], 'no temp files left behind');
    await withSim({ dataDir: dir, seed: 1234, findings: 3 }, async (sim) => {
      assert.deepEqual(sim.findings(), findingsBefore, 'findings restored, seed ignored');
      assert.equal(sim.finding(resolved).status, 'RESOLVED');
      assert.equal((await api(sim, 'GET', '/api/v1/org', undefined, raw)).status, 200, 'key survives');
      assert.deepEqual({ ...sim.webhook(), registeredAt: null }, { url: 'http://127.0.0.1:9/x/hook', registeredAt: null, sharedSecretSet: true });
      assert.ok(sim.deliveries.length > 0, 'delivery log restored');
      const next = sim.reopen(resolved);
      assert.ok(next.updatedAt > lastUpdated, 'monotonic across restarts');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('console: pages render with stable ids; findings actions work over HTTP', async () => {
  const rx = await startReceiver([{ status: 202 }]);
  try {
    await withSim({ seed: 21, findings: 70, sharedSecret: 'k' }, async (sim) => {
      sim.registerWebhook(rx.url);
      const home = await fetch(sim.url + '/', { redirect: 'manual' });
      assert.equal(home.status, 303);
      assert.equal(home.headers.get('location'), '/console/findings');
      const list = await (await fetch(`${sim.url}/console/findings`)).text();
      assert.match(list, /<table id="findings"/);
      assert.match(list, /Page 1 of 2/);
      assert.match(list, /id="next-page"/);
      const open = sim.findings().find((f) => f.status === 'OPEN' && f.kind === 'IASM');
      const page2 = await (await fetch(`${sim.url}/console/findings?status=OPEN&kind=IASM`)).text();
      assert.ok(!page2.includes('data-status="RESOLVED"'));

      let res = await form(sim, `/console/findings/${open.id}/resolve`, {});
      assert.equal(res.status, 303);
      assert.equal(sim.finding(open.id).status, 'RESOLVED');
      const after = await (await fetch(sim.url + res.headers.get('location'))).text();
      assert.match(after, /Finding resolved\./);
      assert.match(after, new RegExp(`id="reopen-${open.id}"`));
      res = await form(sim, `/console/findings/${open.id}/reopen`, {});
      assert.equal(sim.finding(open.id).status, 'OPEN');
      res = await form(sim, `/console/findings/${open.id}/false-positive`, {});
      assert.equal(sim.finding(open.id).status, 'FALSE_POSITIVE');
      await sim.idle();
      assert.deepEqual(rx.hits.map((h) => h.body.type), ['finding.resolved', 'finding.reopened', 'finding.updated']);

      const detail = await (await fetch(`${sim.url}/console/findings/${open.id}`)).text();
      assert.match(detail, /id="finding-id"/);
      assert.ok(detail.includes(open.title.replace(/&/g, '&amp;')));
      assert.equal((await fetch(`${sim.url}/console/findings/fnd_nope`)).status, 404);

      const comp = sim.findings().find((f) => f.kind === 'COMPLIANCE');
      const testId = comp.compliance.testId;
      res = await form(sim, `/console/compliance-tests/${testId}/outcome`, { outcome: 'PASS', back: comp.id });
      assert.equal(res.status, 303);
      res = await form(sim, `/console/compliance-tests/${testId}/run`, { back: comp.id });
      assert.equal(res.status, 303);
      await sim.idle();
      assert.equal(sim.finding(comp.id).compliance.result, 'PASS');
      const compPage = await (await fetch(sim.url + res.headers.get('location'))).text();
      assert.match(compPage, /id="test-fail-/);
      assert.match(compPage, /<table id="runs"/);
      res = await form(sim, `/console/compliance-tests/${testId}/outcome`, { outcome: 'FAIL' });
      sim.runComplianceTest(testId);
      await sim.idle();
      assert.equal(sim.finding(comp.id).compliance.result, 'FAIL');

      const count = sim.findings().length;
      res = await form(sim, '/console/findings/new', { kind: 'COMPLIANCE', severity: 'HIGH' });
      assert.equal(res.status, 303);
      assert.equal(sim.findings().length, count + 1);
      const fresh = sim.findings().at(-1);
      assert.equal(fresh.kind, 'COMPLIANCE');
      assert.equal(fresh.severity, 'HIGH');
      assert.equal(fresh.status, 'OPEN');
      await sim.idle();
      assert.equal(rx.hits.at(-1).body.type, 'finding.created');
    });
  } finally {
    await rx.close();
  }
});

test('console: API Keys page generates (shown once), lists and revokes keys', async () => {
  await withSim({ findings: 2 }, async (sim) => {
    const empty = await (await fetch(`${sim.url}/console/settings/api-keys`)).text();
    assert.match(empty, /Org Settings → Integrations → API Keys/);
    assert.match(empty, /id="api-key-name"/);
    assert.match(empty, /id="generate-api-key"[^>]*>Generate New Key/);
    let res = await form(sim, '/console/settings/api-keys', { name: 'Jira Production' });
    assert.equal(res.status, 200);
    const html = await res.text();
    const raw = /<code id="new-api-key">(cataam_[A-Za-z0-9]+)<\/code>/.exec(html)?.[1];
    assert.ok(raw, 'the raw key is shown');
    assert.equal((await api(sim, 'GET', '/api/v1/org', undefined, raw)).status, 200);
    const listed = await (await fetch(`${sim.url}/console/settings/api-keys`)).text();
    assert.ok(!listed.includes(raw), 'never shown again');
    assert.match(listed, /data-key-name="Jira Production"/);
    assert.match(listed, /aria-label="Revoke key Jira Production"/);
    res = await form(sim, '/console/settings/api-keys', { name: 'Jira Production' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /already exists/);
    res = await form(sim, '/console/settings/api-keys', { name: '' });
    assert.equal(res.status, 400);
    const keyId = sim.apiKeys().find((k) => k.name === 'Jira Production').id;
    res = await form(sim, `/console/settings/api-keys/${keyId}/revoke`, {});
    assert.equal(res.status, 303);
    assert.equal((await api(sim, 'GET', '/api/v1/org', undefined, raw)).status, 401, 'revoked at once');
    const afterRevoke = await (await fetch(sim.url + res.headers.get('location'))).text();
    assert.match(afterRevoke, /API key revoked/);
    assert.ok(!afterRevoke.includes('data-key-name="Jira Production"'));
  });
});

test('console: Jira (Forge App) page shows the webtrigger URL, stores the secret without showing it', async () => {
  await withSim({ findings: 2 }, async (sim) => {
    let html = await (await fetch(`${sim.url}/console/settings/integrations/jira`)).text();
    assert.match(html, /Settings → Integrations → Jira \(Forge App\)/);
    assert.match(html, /<input type="text" id="forge-webtrigger-url" readonly value=""/);
    assert.match(html, /id="webtrigger-hint".*Re-register Webhook with CATAAM/s);
    assert.match(html, /id="shared-secret-status" data-set="false">not set</);
    const put = await api(sim, 'PUT', '/api/v1/integrations/jira-forge/webhook', { url: 'https://abc.hello.atlassian-dev.net/x1/trigger-id' });
    assert.equal(put.status, 200);
    html = await (await fetch(`${sim.url}/console/settings/integrations/jira`)).text();
    assert.match(html, /id="forge-webtrigger-url" readonly value="https:\/\/abc\.hello\.atlassian-dev\.net\/x1\/trigger-id"/);
    assert.ok(!html.includes('id="webtrigger-hint"'));

    const secret = 'Zm9yZ2Utc2VjcmV0LXZhbHVlLTEyMzQ1Njc4OTA';
    let res = await form(sim, '/console/settings/integrations/jira/shared-secret', { sharedSecret: secret, action: 'save' });
    assert.equal(res.status, 303);
    assert.equal(sim.webhook().sharedSecretSet, true);
    html = await (await fetch(sim.url + res.headers.get('location'))).text();
    assert.match(html, /Shared Secret saved/);
    assert.match(html, /id="shared-secret-status" data-set="true">set</);
    assert.ok(!html.includes(secret), 'the secret is never shown back');
    res = await form(sim, '/console/settings/integrations/jira/shared-secret', { sharedSecret: 'has space', action: 'save' });
    assert.equal(res.status, 400);
    res = await form(sim, '/console/settings/integrations/jira/shared-secret', { action: 'clear' });
    assert.equal(res.status, 303);
    assert.equal(sim.webhook().sharedSecretSet, false);
    assert.match(html, /<table id="delivery-log"/);
    assert.match(html, /id="manage-api-keys"/);
  });
});
