// End to end, Jira → CATAAM (product issue 5): people change issues in the Jira simulator; the app
// (built, in the Forge emulator) carries status, due date and assignee to the CATAAM simulator in
// real time through the `avi:jira:*:issue` product events, re-runs compliance tests on Done, and
// converges however events arrive (duplicated, reordered, dropped — the poll repairs). A seeded
// interleaving of 200 changes on both sides ends consistent with a bounded number of writes.
//
// Run: JIRA_OPENAPI_SPEC=/work/shared/jira/swagger-v3.v3.json node --test tests/e2e-jira-to-cataam.test.mjs
// (needs the build: node scripts/build.mjs --quiet)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateAdf } from './lib/adf.mjs';
import {
  ADMIN, DEVELOPER, startE2EStack, settle, syncAndSettle, issueOf, issuesByFinding, duplicates, categoryOf,
  appComments, appWrites, cataamWrites, adfCodeText, norm, waitFor, specViolations,
} from './lib/e2e-helpers.mjs';
import { adfToText } from './lib/adf.mjs';

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const patches = (cataam, from, id) => cataam.requestLog.slice(from).filter((e) => e.method === 'PATCH' && (!id || e.path === `/api/v1/findings/${id}`));

/** Settles, then polls `check` (settling again in between) until it holds. */
async function eventually(stack, check, what, timeoutMs = 20_000) {
  await settle(stack);
  await waitFor(async () => {
    if (check()) return true;
    await settle(stack);
    return check();
  }, what, { timeoutMs });
}

test('Jira → CATAAM: a person working the issues in Jira', async (t) => {
  // A site west of UTC: Jira reads absolute JQL dates in the app user's time zone, so the poll
  // that repairs dropped events must not depend on it (it would see nothing for eight hours).
  const stack = await startE2EStack(t, { findings: 80, seed: 5150, jira: { timeZone: 'America/Los_Angeles' } });
  const { jira, cataam, emulator } = stack;
  await syncAndSettle(stack);
  const open = cataam.findings().filter((f) => f.status === 'OPEN' && f.kind === 'IASM').sort(byId);
  assert.ok(open.length >= 30, 'enough open iASM findings');
  const pool = [...open];
  const take = () => pool.shift();
  const bob = jira.human(DEVELOPER.accountId);
  const status = (f) => cataam.finding(f.id).status;

  await t.test('In Progress → ACKNOWLEDGED', async () => {
    const f = take();
    await bob.transition(issueOf(jira, f.id).key, 'In Progress');
    await eventually(stack, () => status(f) === 'ACKNOWLEDGED', `${f.id} ACKNOWLEDGED`);
  });

  await t.test('Done → RESOLVED', async () => {
    const f = take();
    await bob.transition(issueOf(jira, f.id).key, 'Done');
    await eventually(stack, () => status(f) === 'RESOLVED', `${f.id} RESOLVED`);
    assert.equal(categoryOf(issueOf(jira, f.id)), 'done', 'the issue stays done (no echo)');
  });

  await t.test("Won't Do → FALSE_POSITIVE", async () => {
    const f = take();
    await bob.transition(issueOf(jira, f.id).key, 'Done', { resolution: "Won't Do" });
    await eventually(stack, () => status(f) === 'FALSE_POSITIVE', `${f.id} FALSE_POSITIVE`);
    assert.equal(issueOf(jira, f.id).fields.resolution.name, "Won't Do");
  });

  await t.test('done → To Do → OPEN', async () => {
    const f = take();
    const key = issueOf(jira, f.id).key;
    await bob.transition(key, 'Done');
    await eventually(stack, () => status(f) === 'RESOLVED', `${f.id} RESOLVED`);
    await bob.transition(key, 'To Do');
    await eventually(stack, () => status(f) === 'OPEN', `${f.id} back to OPEN`);
    assert.equal(categoryOf(issueOf(jira, f.id)), 'new', 'the issue stays where the person put it');
  });

  await t.test('due date set, changed, cleared → dueDate', async () => {
    const f = take();
    const key = issueOf(jira, f.id).key;
    for (const d of ['2027-01-15', '2027-02-28', null]) {
      await bob.setDueDate(key, d);
      await eventually(stack, () => cataam.finding(f.id).dueDate === d, `${f.id} dueDate ${d}`);
      assert.equal(issueOf(jira, f.id).fields.duedate, d);
    }
  });

  await t.test('assignee set, changed, cleared → assignedTo { accountId, displayName, email }', async () => {
    const f = take();
    const key = issueOf(jira, f.id).key;
    const expect = (u) => (u ? { accountId: u.accountId, displayName: u.displayName, email: u.emailAddress } : null);
    for (const u of [DEVELOPER, ADMIN, null]) {
      await bob.assign(key, u ? u.accountId : null);
      await eventually(stack, () => JSON.stringify(cataam.finding(f.id).assignedTo) === JSON.stringify(expect(u)), `${f.id} assignedTo ${u?.displayName ?? null}`);
      assert.deepEqual(cataam.finding(f.id).assignedTo, expect(u));
    }
  });

  await t.test('compliance issue Done while the test still fails → reopened, logs comment (code block), finding OPEN', async () => {
    const f = cataam.createFinding({ kind: 'COMPLIANCE', severity: 'HIGH' });
    await settle(stack); // the creation push first: the push/poll race has its own test
    await syncAndSettle(stack);
    const key = issueOf(jira, f.id).key;
    const logs = [
      '[2026-12-04T10:00:00Z] INFO  cataam-runner 4.12.1 starting test',
      `[2026-12-04T10:00:02Z] FAIL  i-0abc123: still non-compliant (${f.compliance.controlId})`,
      '[2026-12-04T10:00:03Z] ERROR result=FAIL failing=1/3',
    ].join('\n');
    cataam.setTestOutcome(f.compliance.testId, 'FAIL', logs);
    const runsBefore = cataam.runs().filter((r) => r.testId === f.compliance.testId).length;
    await bob.transition(key, 'Done');
    await eventually(stack, () => {
      const issue = issueOf(jira, f.id);
      return categoryOf(issue) !== 'done' && appComments(issue).length > 0 && cataam.finding(f.id).status === 'OPEN';
    }, `${key} reopened after the failing re-run`);
    const runs = cataam.runs().filter((r) => r.testId === f.compliance.testId);
    assert.ok(runs.length > runsBefore, 'the app re-ran the compliance test');
    assert.equal(runs.at(-1).status, 'FAIL');
    const issue = issueOf(jira, f.id);
    const comment = appComments(issue).at(-1);
    assert.ok(validateAdf(comment.body).valid);
    assert.ok(norm(adfCodeText(comment.body)).includes(norm(logs)), `the comment carries the logs in a code block: ${JSON.stringify(comment.body).slice(0, 300)}`);
    assert.equal(cataam.finding(f.id).status, 'OPEN');
    // and it stays that way: nothing flips back on the next poll
    await syncAndSettle(stack);
    assert.notEqual(categoryOf(issueOf(jira, f.id)), 'done');
    assert.equal(cataam.finding(f.id).status, 'OPEN');
  });

  await t.test('compliance issue Done and the test passes → stays Done with a verification comment, finding RESOLVED', async () => {
    const f = cataam.createFinding({ kind: 'COMPLIANCE', severity: 'MEDIUM' });
    await settle(stack);
    await syncAndSettle(stack);
    const key = issueOf(jira, f.id).key;
    cataam.setTestOutcome(f.compliance.testId, 'PASS');
    await bob.transition(key, 'Done');
    await eventually(stack, () => {
      const issue = issueOf(jira, f.id);
      return appComments(issue).length > 0 && cataam.finding(f.id).status === 'RESOLVED' && cataam.runs().some((r) => r.testId === f.compliance.testId && r.status === 'PASS');
    }, `${key} verified`);
    await syncAndSettle(stack);
    const issue = issueOf(jira, f.id);
    assert.equal(categoryOf(issue), 'done', 'the issue stays Done');
    const text = adfToText(appComments(issue).at(-1).body);
    assert.match(text, /pass/i, 'the comment records the passing verification');
    assert.equal(cataam.finding(f.id).status, 'RESOLVED');
  });

  await t.test('events duplicated and out of order still converge, without extra writes', async () => {
    const a = take();
    const b = take();
    const keyA = issueOf(jira, a.id).key;
    const keyB = issueOf(jira, b.id).key;
    jira.setEventSink(null); // hold the events back and deliver them by hand
    const from = jira.events.length;
    await bob.transition(keyA, 'In Progress');
    await bob.transition(keyA, 'Done');
    await bob.setDueDate(keyB, '2027-03-03');
    await bob.assign(keyB, DEVELOPER.accountId);
    const held = jira.events.slice(from);
    assert.equal(held.length, 4);
    jira.setEventSink(`${emulator.url}/__platform/product-events`);
    // reversed order, every event twice
    for (const ev of [...held].reverse()) await emulator.deliverProductEvent(ev);
    for (const ev of held) await emulator.deliverProductEvent(ev);
    await settle(stack);
    assert.equal(status(a), 'RESOLVED', 'the newest Jira state wins whatever the event order');
    assert.equal(cataam.finding(b.id).dueDate, '2027-03-03');
    assert.equal(cataam.finding(b.id).assignedTo?.accountId, DEVELOPER.accountId);
    // replays of events already applied change nothing
    const cFrom = cataam.requestLog.length;
    const jFrom = jira.requestLog.length;
    for (const ev of held) await emulator.deliverProductEvent(ev);
    await settle(stack);
    assert.deepEqual(patches(cataam, cFrom).map((e) => e.path), [], 'no CATAAM write for a replayed event');
    assert.deepEqual(appWrites(jira, jFrom).map((e) => `${e.method} ${e.path}`), [], 'no Jira write for a replayed event');
  });

  await t.test('events dropped (none delivered): the poll repairs', async () => {
    const a = take();
    const b = take();
    const c = take();
    jira.setEventSink(null);
    const cFrom = cataam.requestLog.length;
    await bob.transition(issueOf(jira, a.id).key, 'In Progress');
    await bob.transition(issueOf(jira, b.id).key, 'Done', { resolution: "Won't Do" });
    await bob.setDueDate(issueOf(jira, c.id).key, '2027-04-04');
    await bob.assign(issueOf(jira, c.id).key, ADMIN.accountId);
    await settle(stack);
    assert.deepEqual(patches(cataam, cFrom), [], 'nothing reached CATAAM without events');
    jira.setEventSink(`${emulator.url}/__platform/product-events`);
    await syncAndSettle(stack);
    assert.equal(status(a), 'ACKNOWLEDGED');
    assert.equal(status(b), 'FALSE_POSITIVE');
    assert.equal(cataam.finding(c.id).dueDate, '2027-04-04');
    assert.deepEqual(cataam.finding(c.id).assignedTo, { accountId: ADMIN.accountId, displayName: ADMIN.displayName, email: ADMIN.emailAddress });
  });

  await t.test('events for unmanaged issues → no CATAAM call', async () => {
    await settle(stack);
    const from = cataam.requestLog.length;
    const jFrom = jira.requestLog.length;
    const created = await bob.create({ project: { key: 'SEC' }, issuetype: { name: 'Bug' }, summary: 'Printer on floor 3 is jammed', labels: ['cataam'] });
    await bob.transition(created.key, 'In Progress');
    await bob.setDueDate(created.key, '2027-05-05');
    await bob.assign(created.key, DEVELOPER.accountId);
    await bob.transition(created.key, 'Done');
    await settle(stack);
    assert.ok(emulator.invocations.some((r) => r.moduleKey === 'jira-issue-events' && r.startedAt >= Date.now() - 60_000), 'the trigger ran');
    assert.deepEqual(cataam.requestLog.slice(from).map((e) => `${e.method} ${e.path}`), [], 'no CATAAM request at all');
    assert.deepEqual(appWrites(jira, jFrom).map((e) => `${e.method} ${e.path}`), [], 'the app leaves the unrelated issue alone');
    assert.equal(jira.issue(created.key).properties['cataam.finding'], undefined);
  });

  await t.test('Jira requests conform to the official OpenAPI spec; no duplicates', () => {
    assert.deepEqual(duplicates(jira), []);
    const bad = specViolations(stack);
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} requests do not conform`);
  });
});

/** Small seeded PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  next.pick = (arr) => arr[Math.floor(next() * arr.length)];
  return next;
}

test('a seeded interleaving of 200 changes on both sides converges with a bounded number of writes', async (t) => {
  const stack = await startE2EStack(t, { findings: 60, seed: 2718 });
  const { jira, cataam } = stack;
  await syncAndSettle(stack);
  const findings = cataam.findings().filter((f) => f.status === 'OPEN' && f.kind === 'IASM').sort(byId).slice(0, 16);
  assert.equal(findings.length, 16);
  const keys = new Map(findings.map((f) => [f.id, issueOf(jira, f.id).key]));
  const people = [jira.human(DEVELOPER.accountId), jira.human(ADMIN.accountId)];
  const r = rng(20261204);
  const CHANGES = 200;
  const touchedDue = new Set();
  const touchedAssignee = new Set();
  const jiraFrom = jira.requestLog.length;
  const cataamFrom = cataam.requestLog.length;

  for (let i = 0; i < CHANGES; i++) {
    const f = r.pick(findings);
    const key = keys.get(f.id);
    if (r() < 0.45) {
      // CATAAM side (status only: due date and assignee are owned by Jira)
      const op = r.pick(['resolve', 'reopen', 'acknowledge', 'markFalsePositive']);
      cataam[op](f.id);
    } else {
      const who = r.pick(people);
      const op = r();
      if (op < 0.5) {
        const [to, resolution] = r.pick([['To Do'], ['In Progress'], ['Done'], ['Done', "Won't Do"]]);
        if (categoryOf(jira.issue(key)) === 'done' && to === 'Done') await who.transition(key, 'To Do');
        else await who.transition(key, to, resolution ? { resolution } : {});
      } else if (op < 0.75) {
        const d = r() < 0.2 ? null : `2027-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
        await who.setDueDate(key, d);
        touchedDue.add(f.id);
      } else {
        await who.assign(key, r.pick([DEVELOPER.accountId, ADMIN.accountId, null]));
        touchedAssignee.add(f.id);
      }
    }
    // Sometimes let the world catch up, sometimes pile changes up.
    if (r() < 0.15) await settle(stack, { rounds: 1 });
    else if (r() < 0.3) await new Promise((res) => setTimeout(res, Math.floor(r() * 20)));
  }
  await settle(stack);
  await syncAndSettle(stack);
  await syncAndSettle(stack);

  const writes = appWrites(jira, jiraFrom).length + cataamWrites(cataam, cataamFrom).length;
  console.log(`figure interleave_writes ${writes}`);
  console.log(`figure interleave_changes ${CHANGES}`);

  // Quiet: one more poll writes nothing anywhere (no oscillation).
  const jq = jira.requestLog.length;
  const cq = cataam.requestLog.length;
  await syncAndSettle(stack);
  assert.deepEqual(appWrites(jira, jq).map((e) => `${e.method} ${e.path}`), [], 'Jira writes after convergence');
  assert.deepEqual(cataamWrites(cataam, cq).map((e) => `${e.method} ${e.path}`), [], 'CATAAM writes after convergence');

  // Consistent: both sides agree on every finding.
  for (const f of findings) {
    const issue = jira.issue(keys.get(f.id));
    const fc = cataam.finding(f.id);
    const cat = categoryOf(issue);
    const where = `${issue.key} (${issue.fields.status.name}/${issue.fields.resolution?.name ?? '-'}) ↔ ${f.id} ${fc.status}`;
    if (cat === 'done') {
      assert.equal(fc.status, issue.fields.resolution?.name === "Won't Do" ? 'FALSE_POSITIVE' : 'RESOLVED', where);
    } else {
      assert.ok(['OPEN', 'ACKNOWLEDGED'].includes(fc.status), where);
    }
    if (touchedDue.has(f.id)) assert.equal(fc.dueDate, issue.fields.duedate, `${where}: due date`);
    if (touchedAssignee.has(f.id)) assert.equal(fc.assignedTo?.accountId ?? null, issue.fields.assignee?.accountId ?? null, `${where}: assignee`);
  }
  assert.deepEqual(duplicates(jira), []);
  assert.equal(issuesByFinding(jira).size, jira.issues().length);

  // Bounded: each change causes at most a few writes (a transition path, a comment, one PATCH…).
  assert.ok(writes <= 4 * CHANGES, `${writes} writes for ${CHANGES} changes`);
});
