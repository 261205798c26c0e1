// The emulator's KVS as the real @forge/kvs sees it: KEY_NOT_FOUND, limits, TTL, conditional
// set, transactions, secrets (encrypted at rest), persistence across restart, dump CLI, faults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../dev/emulator/index.mjs';

const appDir = fileURLToPath(new URL('./fixtures/mini-app/', import.meta.url));
const dumpCli = fileURLToPath(new URL('../dev/emulator/dump.mjs', import.meta.url));

async function setup(t, extra = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'emu-kvs-'));
  const platform = await startEmulator({ appDir, dataDir, ...extra });
  t.after(async () => {
    await platform.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const run = (ops) => platform.invokeResolver('kvs', { ops }, { accountId: 'u-admin' });
  return { platform, dataDir, run };
}

test('get of a missing key is undefined (KEY_NOT_FOUND); set/get/delete round trip', async (t) => {
  const { run } = await setup(t);
  const r = await run([
    { op: 'get', key: 'missing' },
    { op: 'set', key: 'link:f:fnd_1', value: { issue: '10001', v: 3 } },
    { op: 'get', key: 'link:f:fnd_1' },
    { op: 'delete', key: 'link:f:fnd_1' },
    { op: 'get', key: 'link:f:fnd_1' },
    { op: 'delete', key: 'never-there' },
  ]);
  assert.deepEqual(r[0], { ok: true, value: null, undef: true });
  assert.equal(r[1].ok, true);
  assert.deepEqual(r[2].value, { issue: '10001', v: 3 });
  assert.equal(r[3].ok, true);
  assert.equal(r[4].undef, true);
  assert.equal(r[5].ok, true, 'deleting a missing key is not an error for the SDK');
});

test('key and value limits answer the platform error codes', async (t) => {
  const { run } = await setup(t);
  const r = await run([
    { op: 'set', key: 'k'.repeat(500), value: 1 },
    { op: 'set', key: 'k'.repeat(501), value: 1 },
    { op: 'set', key: 'bad/key', value: 1 },
    { op: 'set', key: 'big', value: 'x'.repeat(240 * 1024 - 2) },
    { op: 'set', key: 'big', value: 'x'.repeat(240 * 1024) },
    { op: 'get', key: '' },
  ]);
  assert.equal(r[0].ok, true, '500 chars is allowed');
  assert.equal(r[1].error.code, 'KEY_TOO_LONG');
  assert.equal(r[1].error.status, 400);
  assert.equal(r[2].error.code, 'INVALID_KEY');
  assert.equal(r[3].ok, true, 'exactly 240 KiB of JSON is allowed');
  assert.equal(r[4].error.code, 'MAX_SIZE');
  assert.equal(r[5].error.code, 'KEY_TOO_SHORT');
});

test('conditional set (FAIL_IF_EXISTS) fails with 409 while the key lives, TTL expires it', async (t) => {
  const { run, platform } = await setup(t);
  const lock = { keyPolicy: 'FAIL_IF_EXISTS', ttl: { value: 1, unit: 'SECONDS' } };
  const r1 = await run([
    { op: 'set', key: 'lock:poll', value: 'a', options: lock },
    { op: 'set', key: 'lock:poll', value: 'b', options: lock },
    { op: 'get', key: 'lock:poll' },
  ]);
  assert.equal(r1[0].ok, true);
  assert.equal(r1[1].ok, false);
  assert.equal(r1[1].error.code, 'KEY_CONFLICT');
  assert.equal(r1[1].error.status, 409);
  assert.equal(r1[2].value, 'a');
  const dumped = platform.kvsDump().entries.find((e) => e.key === 'lock:poll');
  assert.ok(Date.parse(dumped.expiresAt) > Date.now());
  await new Promise((r) => setTimeout(r, 1100));
  const r2 = await run([
    { op: 'get', key: 'lock:poll' },
    { op: 'set', key: 'lock:poll', value: 'c', options: lock },
    { op: 'set', key: 'ttl-bad', value: 1, options: { ttl: { value: -1, unit: 'SECONDS' } } },
  ]);
  assert.equal(r2[0].undef, true, 'expired keys read as missing');
  assert.equal(r2[1].ok, true, 'an expired lock can be taken again');
  assert.equal(r2[2].error.code, 'INVALID_TTL');
});

test('query pages by prefix with a cursor and enforces the page limit', async (t) => {
  const { run } = await setup(t);
  const sets = Array.from({ length: 25 }, (_, i) => ({ op: 'set', key: `dead:${String(i).padStart(2, '0')}`, value: i }));
  await run([...sets, { op: 'set', key: 'other', value: 0 }]);
  const [page1] = await run([{ op: 'query', prefix: 'dead:', limit: 20 }]);
  assert.equal(page1.value.results.length, 20);
  assert.equal(page1.value.results[0].key, 'dead:00');
  assert.ok(page1.value.nextCursor);
  const [page2, tooMany] = await run([
    { op: 'query', prefix: 'dead:', limit: 20, cursor: page1.value.nextCursor },
    { op: 'query', prefix: 'dead:', limit: 21 },
  ]);
  assert.deepEqual(page2.value.results.map((r) => r.value), [20, 21, 22, 23, 24]);
  assert.equal(page2.value.nextCursor, undefined);
  assert.equal(tooMany.error.code, 'LIST_QUERY_LIMIT_EXCEEDED');
});

test('transactions are all-or-nothing and capped at 25 operations', async (t) => {
  const { run, platform } = await setup(t);
  const ops = (n, base) => Array.from({ length: n }, (_, i) => ({ key: `${base}:${i}`, value: i }));
  const r = await run([
    { op: 'set', key: 'held', value: 1 },
    { op: 'transact', set: ops(24, 'tx'), delete: ['held'] },
    { op: 'transact', set: ops(26, 'big') },
    { op: 'transact', set: [{ key: 'n:1', value: 1 }, { key: 'tx:0', value: 'x', options: { keyPolicy: 'FAIL_IF_EXISTS' } }] },
    { op: 'transact', set: [{ key: 'dup', value: 1 }], delete: ['dup'] },
  ]);
  assert.equal(r[1].ok, true);
  assert.equal(r[2].error.code, 'TOO_MANY_OPERATIONS');
  assert.equal(r[3].error.code, 'KEY_CONFLICT');
  assert.equal(r[4].error.code, 'DUPLICATE_KEY');
  const keys = platform.kvsDump().entries.map((e) => e.key);
  assert.equal(keys.filter((k) => k.startsWith('tx:')).length, 24);
  assert.ok(!keys.includes('held'));
  assert.ok(!keys.includes('n:1'), 'a failed transaction leaves nothing behind');
  assert.ok(!keys.some((k) => k.startsWith('big:')));
});

test('secrets are separate, encrypted at rest, persisted, and dumped by name only', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'emu-kvs-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const secret = 'cataam_super-secret-value-123';
  let platform = await startEmulator({ appDir, dataDir });
  const run = (ops) => platform.invokeResolver('kvs', { ops }, {});
  const r = await run([
    { op: 'setSecret', key: 'cataam.apiKey', value: secret },
    { op: 'get', key: 'cataam.apiKey' },
    { op: 'getSecret', key: 'cataam.apiKey' },
    { op: 'set', key: 'cursor:cataam', value: '2026-01-01T00:00:00Z' },
    { op: 'setSecret', key: 'gone', value: 'x' },
    { op: 'deleteSecret', key: 'gone' },
    { op: 'getSecret', key: 'gone' },
  ]);
  assert.equal(r[1].undef, true, 'a secret is not visible through kvs.get');
  assert.equal(r[2].value, secret);
  assert.equal(r[6].undef, true);
  assert.deepEqual(platform.kvsDump().secrets, ['cataam.apiKey']);
  await platform.close();

  const state = readFileSync(join(dataDir, 'state.json'), 'utf8');
  assert.ok(!state.includes(secret), 'no clear-text secret in state.json');
  const dumped = execFileSync(process.execPath, [dumpCli, dataDir], { encoding: 'utf8' });
  assert.ok(!dumped.includes(secret));
  const parsed = JSON.parse(dumped);
  assert.deepEqual(parsed.secrets, ['cataam.apiKey']);
  assert.deepEqual(parsed.entries, [{ key: 'cursor:cataam', value: '2026-01-01T00:00:00Z', expiresAt: null }]);

  platform = await startEmulator({ appDir, dataDir });
  t.after(() => platform.close());
  const again = await run([{ op: 'getSecret', key: 'cataam.apiKey' }, { op: 'get', key: 'cursor:cataam' }]);
  assert.equal(again[0].value, secret, 'secrets survive a restart');
  assert.equal(again[1].value, '2026-01-01T00:00:00Z', 'entries survive a restart');
});

test('batch set/get report per-key outcomes', async (t) => {
  const { run } = await setup(t);
  const [set, get] = await run([
    { op: 'batchSet', items: [{ key: 'a', value: 1 }, { key: 'b/bad', value: 2 }] },
    { op: 'batchGet', items: [{ key: 'a' }, { key: 'nope' }] },
  ]);
  assert.deepEqual(set.value.successfulKeys, [{ key: 'a' }]);
  assert.equal(set.value.failedKeys[0].error.code, 'INVALID_KEY');
  assert.equal(get.value.successfulKeys[0].value, 1);
  assert.equal(get.value.failedKeys[0].error.code, 'KEY_NOT_FOUND');
});

test('fault hook answers deterministic 500s the SDK surfaces as errors', async (t) => {
  const { run } = await setup(t, { dataDir: null, faults: { kvsErrorRate: 0.5, seed: 7 } });
  const r = await run(Array.from({ length: 20 }, (_, i) => ({ op: 'set', key: `f:${i}`, value: i })));
  const failed = r.filter((x) => !x.ok);
  assert.ok(failed.length > 2 && failed.length < 18, `some but not all fail (${failed.length})`);
  assert.ok(failed.every((x) => x.error.code === 'INTERNAL_SERVER_ERROR' && x.error.status === 500));
});

test('kill fault: a write is stored, its answer never comes, the invocation dies before its next write', async (t) => {
  const { platform, run } = await setup(t, { dataDir: null, faults: { kvsKillRate: 1, seed: 3 }, deadlines: { resolver: 400 } });
  await assert.rejects(
    run([{ op: 'get', key: 'first' }, { op: 'set', key: 'first', value: 1 }, { op: 'set', key: 'second', value: 2 }]),
    /timed out/,
  );
  const keys = platform.kvsDump().entries.map((e) => e.key);
  assert.ok(keys.includes('first'), 'the write that was answered with silence is stored');
  assert.ok(!keys.includes('second'), 'the invocation never got to its next write');
  assert.deepEqual(platform.kvsFaults(), { errors: 0, kills: 1 }, 'reads are never killed; one write, one kill');
  const rec = platform.invocations.at(-1);
  assert.ok(rec.timedOut && !rec.ok, 'the platform ended it at its deadline');
});

test('OVERRIDE with returnValue answers the previous or the latest item', async (t) => {
  const { run } = await setup(t);
  const r = await run([
    { op: 'set', key: 'v', value: 1 },
    { op: 'set', key: 'v', value: 2, options: { keyPolicy: 'OVERRIDE', returnValue: 'PREVIOUS' } },
    { op: 'set', key: 'v', value: 3, options: { keyPolicy: 'OVERRIDE', returnValue: 'LATEST' } },
    { op: 'set', key: 'fresh', value: 1, options: { keyPolicy: 'OVERRIDE', returnValue: 'PREVIOUS' } },
  ]);
  assert.deepEqual([r[1].value.key, r[1].value.value], ['v', 1]);
  assert.deepEqual([r[2].value.key, r[2].value.value], ['v', 3]);
  assert.equal(r[3].undef, true, 'no previous item');
});
