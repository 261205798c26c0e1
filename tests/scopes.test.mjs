// Least privilege, proven: every Jira endpoint the app calls in a full run (setup through the admin
// resolver, sync, resolve/reopen, Jira → CATAAM changes, a compliance re-run) is mapped to the
// classic OAuth scope the official OpenAPI spec requires for it, and the manifest asks for exactly
// those scopes plus storage:app — nothing missing, nothing unused (docs/security.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { ADMIN, settle, startE2EStack, syncAndSettle, issuesByFinding } from './lib/e2e-helpers.mjs';
import { findOperation } from './lib/openapi.mjs';
import { ROOT } from './lib/stack.mjs';

/** The classic scope(s) an operation needs: the first (classic) set of x-atlassian-oauth2-scopes. */
function classicScopes(op) {
  const sets = op['x-atlassian-oauth2-scopes'];
  if (sets?.length) return sets[0].scopes;
  const oauth = (op.security ?? []).find((s) => s.OAuth2);
  return oauth ? oauth.OAuth2 : [];
}

test('the manifest requests exactly the scopes the app uses (plus storage:app)', async (t) => {
  const stack = await startE2EStack(t, { findings: 40, seed: 7 });
  await syncAndSettle(stack);
  for (const fn of ['getSettings', 'getHealth', 'testConnection', 'reregisterWebhook', 'syncNow']) {
    await stack.invoke(fn, {});
  }
  // Drive both directions on a few issues so every code path that talks to Jira runs.
  const byFinding = issuesByFinding(stack.jira);
  const findings = stack.cataam.findings();
  const compliance = findings.find((f) => f.kind === 'COMPLIANCE' && byFinding.has(f.id));
  const iasm = findings.filter((f) => f.kind === 'IASM' && byFinding.has(f.id)).slice(0, 3);
  assert.ok(compliance && iasm.length === 3, 'seed gives linked iASM and compliance findings');
  const human = stack.jira.human(ADMIN.accountId);
  const [a, b, c] = iasm.map((f) => byFinding.get(f.id)[0].key);
  await human.transition(a, 'In Progress');
  await human.assign(a, ADMIN.accountId);
  await human.setDueDate(a, '2027-01-31');
  await human.transition(byFinding.get(compliance.id)[0].key, 'Done');
  await stack.cataam.resolve(iasm[1].id);
  await settle(stack);
  await stack.cataam.reopen(iasm[1].id);
  await human.transition(c, 'Done', { resolution: "Won't Do" });
  await settle(stack);
  await syncAndSettle(stack);
  assert.ok(b);

  const used = new Map();
  for (const e of stack.jira.requestLog) {
    const found = findOperation(e.method, e.path);
    assert.ok(found, `the app called ${e.method} ${e.path}, which the official spec does not have`);
    for (const s of classicScopes(found.operation)) {
      if (!used.has(s)) used.set(s, new Set());
      used.get(s).add(`${e.method} ${found.template}`);
    }
  }
  const manifest = YAML.parse(readFileSync(join(ROOT, 'manifest.yml'), 'utf8'));
  const requested = new Set(manifest.permissions.scopes);
  const needed = new Set([...used.keys(), 'storage:app']);
  for (const s of needed) assert.ok(requested.has(s), `scope ${s} is needed by ${[...(used.get(s) ?? [])].join(', ')}`);
  for (const s of requested) assert.ok(needed.has(s), `scope ${s} is requested but no call the app makes needs it`);
  console.log(`scopes used: ${[...used].map(([s, ops]) => `${s} (${[...ops].join(', ')})`).join('; ')}`);
});
