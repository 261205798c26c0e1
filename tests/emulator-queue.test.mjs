// Queue (@forge/events) through the emulator: push limits as the SDK reports them, delivery to
// the consumer, delays (with timeScale; deliverDelayedNow), retries on InvocationError and on throw, the retry cap,
// and pending events surviving a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, MAX_RETRIES } from '../dev/emulator/index.mjs';

const appDir = fileURLToPath(new URL('./fixtures/mini-app/', import.meta.url));

async function setup(t, extra = {}) {
  const platform = await startEmulator({ appDir, dataDir: null, timeScale: 0.01, ...extra });
  t.after(() => platform.close());
  const push = (events) => platform.invokeResolver('push', { events }, {});
  const consumed = (id) => platform.kvsDump().entries.find((e) => e.key === `consumed:${id}`)?.value ?? [];
  return { platform, push, consumed };
}

test('pushed events reach the consumer with the SDK payload shape', async (t) => {
  const { platform, push, consumed } = await setup(t);
  const r = await push([{ body: { id: 'a' } }, { body: { id: 'b' } }]);
  assert.equal(r.ok, true);
  assert.match(r.value.jobId, /^[0-9a-f-]{36}$/);
  await platform.idle();
  assert.equal(consumed('a').length, 1);
  assert.equal(consumed('b').length, 1);
  const recs = platform.invocations.filter((i) => i.kind === 'consumer');
  assert.equal(recs.length, 2);
  assert.ok(recs.every((i) => i.ok && i.moduleKey === 'work-consumer'));
});

test('push limits: > 50 events, > 200 KB and bad delays are rejected', async (t) => {
  const { push } = await setup(t);
  const many = await push(Array.from({ length: 51 }, (_, i) => ({ body: { id: `m${i}` } })));
  assert.equal(many.ok, false);
  assert.match(many.error.message, /50/);
  const big = await push([{ body: { id: 'big', pad: 'x'.repeat(205 * 1024) } }]);
  assert.equal(big.ok, false);
  assert.match(big.error.message, /200/);
  const late = await push([{ body: { id: 'late' }, delayInSeconds: 901 }]);
  assert.equal(late.ok, false);
});

test('delayInSeconds is honoured (scaled by timeScale)', async (t) => {
  const { platform, push, consumed } = await setup(t, { timeScale: 0.01 });
  const started = Date.now();
  await push([{ body: { id: 'slow' }, delayInSeconds: 30 }]); // 30 s × 0.01 = 300 ms
  await platform.idle();
  assert.equal(consumed('slow').length, 0, 'not due yet, so idle() does not wait for it');
  await platform.idle({ includeDelayed: true });
  const [first] = consumed('slow');
  assert.ok(first.at - started >= 290, `delivered after ${first.at - started} ms`);
});

test('deliverDelayedNow() delivers delayed events at once (a test control)', async (t) => {
  const { platform, push, consumed } = await setup(t, { timeScale: 1 });
  await push([{ body: { id: 'later' }, delayInSeconds: 600 }, { body: { id: 'now' } }]);
  await platform.idle();
  assert.equal(consumed('now').length, 1);
  assert.equal(consumed('later').length, 0, 'ten minutes out');
  assert.equal(platform.deliverDelayedNow(), 1);
  await platform.idle();
  assert.equal(consumed('later').length, 1);
  assert.equal(platform.queueSnapshot().length, 0);
  assert.equal(platform.deliverDelayedNow(), 0, 'nothing left to advance');
});

test('InvocationError retries after retryAfter with retryContext, until it succeeds', async (t) => {
  const { platform, push, consumed } = await setup(t);
  await push([{ body: { id: 'r2', mode: 'retry-twice' } }]);
  await platform.idle({ includeDelayed: true });
  const seen = consumed('r2');
  assert.deepEqual(seen.map((s) => s.retry), [0, 1, 2]);
  assert.equal(seen[1].reason, 'FUNCTION_RETRY_REQUEST');
  assert.ok(seen[1].at - seen[0].at >= 9, 'retryAfter 1 s × timeScale 0.01');
  assert.equal(platform.queueSnapshot().length, 0);
});

test('a consumer that keeps failing is retried at most MAX_RETRIES times, throw or InvocationError', async (t) => {
  const { platform, push, consumed } = await setup(t, { timeScale: 0.001 });
  await push([{ body: { id: 'boom', mode: 'throw' } }, { body: { id: 'again', mode: 'retry', retryAfter: 5 } }]);
  await platform.idle({ includeDelayed: true });
  assert.equal(consumed('boom').length, 1 + MAX_RETRIES);
  assert.equal(consumed('boom')[1].reason, 'FUNCTION_PLATFORM_UNKNOWN_ERROR');
  assert.equal(consumed('again').length, 1 + MAX_RETRIES);
  assert.equal(consumed('again')[1].reason, 'FUNCTION_UPSTREAM_RATE_LIMITED');
  assert.equal(platform.deadEvents.length, 2);
  const failed = platform.invocations.filter((i) => i.kind === 'consumer' && !i.ok);
  assert.equal(failed.length, 2 * (1 + MAX_RETRIES));
});

test('pending queue events survive a restart and are delivered after it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'emu-queue-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startEmulator({ appDir, dataDir, timeScale: 0.01 });
  await first.invokeResolver('push', { events: [{ body: { id: 'persist' }, delayInSeconds: 20 }] }, {});
  assert.equal(first.queueSnapshot().length, 1);
  await first.close();
  const second = await startEmulator({ appDir, dataDir, timeScale: 0.01 });
  try {
    await second.idle({ includeDelayed: true });
    assert.equal(second.kvsDump().entries.find((e) => e.key === 'consumed:persist')?.value.length, 1);
  } finally {
    await second.close();
  }
});

test('an event interrupted by close() stays pending and is redelivered after a restart', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'emu-queue-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startEmulator({ appDir, dataDir, timeScale: 0.01 });
  await first.invokeResolver('push', { events: [{ body: { id: 'cut', mode: 'sleep', ms: 60_000 } }] }, {});
  const deadline = Date.now() + 10_000;
  while (!first.kvsDump().entries.some((e) => e.key === 'consumed:cut') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await first.close(); // kills the running consumer
  assert.equal(first.deadEvents.length, 0);
  const second = await startEmulator({ appDir, dataDir, timeScale: 0.01, deadlines: { consumer: 1000 } });
  try {
    assert.equal(second.queueSnapshot().length, 1, 'still pending after the restart');
    await second.idle({ includeDelayed: true });
    const seen = second.kvsDump().entries.find((e) => e.key === 'consumed:cut').value;
    assert.ok(seen.length >= 2, 'delivered again after the restart');
    assert.equal(seen[1].retry, 0, 'an interrupted attempt is not counted as a retry');
  } finally {
    await second.close();
  }
});
