// Scheduled triggers, web triggers, product events and deadlines through the emulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../dev/emulator/index.mjs';

const appDir = fileURLToPath(new URL('./fixtures/mini-app/', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function setup(t, extra = {}) {
  const platform = await startEmulator({ appDir, dataDir: null, timeScale: 0.01, ...extra });
  t.after(() => platform.close());
  const value = (key) => platform.kvsDump().entries.find((e) => e.key === key)?.value;
  const kvs = (ops) => platform.invokeResolver('kvs', { ops }, {});
  return { platform, value, kvs };
}

test('runScheduled fires the trigger on demand with the scheduled payload', async (t) => {
  const { platform, value } = await setup(t);
  const rec = await platform.runScheduled('tick');
  assert.equal(rec.ok, true);
  assert.equal(rec.kind, 'scheduledTrigger');
  assert.equal(rec.moduleKey, 'tick');
  assert.equal(value('tick:count'), 1);
  assert.equal(value('tick:last'), 'tick', 'event.context.moduleKey');
  await assert.rejects(platform.runScheduled('nope'), /no scheduledTrigger/);
});

test('schedulerSpeedup fires at interval / speedup and never overlaps runs of one trigger', async (t) => {
  // fiveMinute = 300 s; speedup 3000 → every 100 ms. Each run sleeps 250 ms, so ticks must be skipped.
  const { platform, value, kvs } = await setup(t, { schedulerSpeedup: 3000 });
  await kvs([{ op: 'set', key: 'tick:sleepMs', value: 250 }]);
  const started = Date.now();
  while ((value('tick:count') ?? 0) < 3 && Date.now() - started < 10_000) await sleep(20);
  const runs = value('tick:count');
  const stats = platform.schedulerStats().tick;
  assert.ok(runs >= 3, `ran ${runs} times`);
  assert.equal(value('tick:overlap'), undefined, 'no run found the previous one still holding its lock');
  assert.ok(stats.skippedTicks >= 2, `skipped ${stats.skippedTicks} ticks while a run was going`);
  // On-demand runs queue behind the running one instead of overlapping it.
  await Promise.all([platform.runScheduled('tick'), platform.runScheduled('tick')]);
  assert.equal(value('tick:overlap'), undefined, 'the lock was never found taken');
});

test('web trigger: stable URL, Forge request shape in, dynamic response out over real HTTP', async (t) => {
  const { platform } = await setup(t);
  const url = await platform.webTriggerUrl('hook');
  assert.equal(await platform.webTriggerUrl('hook'), url, 'stable per installation');
  assert.equal(await platform.invokeResolver('webTriggerUrl', {}, {}), url, 'webTrigger.getUrl from the SDK gives the same URL');
  assert.match(url, new RegExp(`^${platform.url}/x/[A-Za-z0-9_-]+$`));
  const res = await fetch(`${url}?a=1&a=2&b=x`, { method: 'POST', headers: { 'X-Sig': 't=1,v1=ab', 'Content-Type': 'application/json' }, body: '{"raw": true}' });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('x-echo'), 'yes');
  const echoed = await res.json();
  assert.equal(echoed.method, 'POST');
  assert.deepEqual(echoed.query, { a: ['1', '2'], b: ['x'] });
  assert.deepEqual(echoed.sig, ['t=1,v1=ab']);
  assert.equal(echoed.body, '{"raw": true}', 'the body arrives as the raw string');

  const bad = await fetch(url, { method: 'POST', body: 'bad' });
  assert.equal(bad.status, 500, 'a non-conforming return is a 500');
  const threw = await fetch(url, { method: 'POST', body: 'throw' });
  assert.equal(threw.status, 500);
  assert.equal((await fetch(`${platform.url}/x/unknown`)).status, 404);
  const recs = platform.invocations.filter((i) => i.kind === 'webtrigger');
  assert.deepEqual(recs.map((r) => r.ok), [true, false, false]);
  assert.match(recs[1].error, /invalid web trigger response/);
});

test('product events reach subscribed triggers; ignoreSelf drops the app\'s own events', async (t) => {
  const { platform, value } = await setup(t);
  const base = { eventType: 'avi:jira:updated:issue', issue: { id: '10001', key: 'SEC-1' }, changelog: { items: [] } };
  const recs = await platform.deliverProductEvent({ ...base, atlassianId: 'human-1' });
  assert.equal(recs.length, 1);
  assert.equal(recs[0].moduleKey, 'issue-events');
  const self = await platform.deliverProductEvent({ ...base, atlassianId: platform.appAccountId });
  assert.deepEqual(self, [], 'dropped by filter.ignoreSelf');
  const other = await platform.deliverProductEvent({ ...base, eventType: 'avi:jira:deleted:issue', atlassianId: 'human-1' });
  assert.deepEqual(other, [], 'no trigger subscribes to deleted');
  // Over HTTP, as the Jira simulator delivers them.
  const res = await fetch(`${platform.url}/__platform/product-events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...base, eventType: 'avi:jira:created:issue', atlassianId: 'human-2' }) });
  assert.equal(res.status, 202);
  await platform.idle();
  assert.equal(value('event:10001'), 2);
});

test('a product trigger returning InvocationError is retried with retryContext', async (t) => {
  const { platform, value } = await setup(t);
  await platform.deliverProductEvent({ eventType: 'avi:jira:updated:issue', issue: { id: '20002' }, atlassianId: 'human-1', retryMe: true });
  await platform.idle({ includeDelayed: true });
  assert.equal(value('event:20002'), 2, 'first attempt + one retry (which succeeds)');
  const recs = platform.invocations.filter((i) => i.kind === 'trigger');
  assert.deepEqual(recs.map((r) => [r.ok, r.retryCount]), [[false, 0], [true, 1]]);
});

test('deadlines: remaining time is reported, and an overrunning invocation is killed and replaced', async (t) => {
  const { platform } = await setup(t, { deadlines: { resolver: 400 } });
  const { ms } = await platform.invokeResolver('remaining', {}, {});
  assert.ok(ms > 0 && ms <= 400, `remaining ${ms} ms`);
  await assert.rejects(platform.invokeResolver('sleep', { ms: 60_000 }, {}), /timed out/);
  await assert.rejects(platform.invokeResolver('spin', { ms: 60_000 }, {}), /timed out/, 'even a CPU-bound handler is stopped');
  const timedOut = platform.invocations.filter((i) => i.timedOut);
  assert.equal(timedOut.length, 2);
  assert.ok(timedOut.every((i) => !i.ok && i.durationMs >= 400 && i.durationMs < 20_000), 'ran for its deadline, then was cut short');
  assert.equal(await platform.invokeResolver('sleep', { ms: 1 }, {}), 'woke', 'a fresh container serves the next call');
});

test('default deadlines per kind, and a function timeoutSeconds for consumers', async (t) => {
  const { platform } = await setup(t);
  const { ms } = await platform.invokeResolver('remaining', {}, {});
  assert.ok(ms > 24_000 && ms <= 25_000, `resolver deadline 25 s (${ms})`);
  await platform.invokeResolver('push', { events: [{ body: { id: 'deadline' } }] }, {});
  await platform.idle();
  const [seen] = platform.kvsDump().entries.find((e) => e.key === 'consumed:deadline').value;
  assert.ok(seen.remaining > 110_000 && seen.remaining <= 120_000, `consumer timeoutSeconds 120 (${seen.remaining})`);
});

test('web trigger ids persist across restarts (same port → same URL)', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dataDir = mkdtempSync(join(tmpdir(), 'emu-wt-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startEmulator({ appDir, dataDir });
  const url1 = await first.webTriggerUrl('hook');
  const port = new URL(first.url).port;
  await first.close();
  const second = await startEmulator({ appDir, dataDir, port: Number(port) });
  try {
    assert.equal(await second.webTriggerUrl('hook'), url1);
    assert.equal((await fetch(url1, { method: 'POST', body: '{}' })).status, 201, 'the old URL still reaches the function');
  } finally {
    await second.close();
  }
});
