// End to end, CATAAM → Jira (product issue 4): the built app running in the Forge emulator against
// the Jira and CATAAM simulators. Seeded findings become exactly one Jira issue each with the
// documented fields; resolve / false positive / reopen in CATAAM move the issues; a custom
// multi-hop workflow works; a second sync writes nothing; crashes mid-run leave no duplicates;
// filters skip with reasons; storage holds no finding content; every Jira request the app sends
// conforms to Jira's official OpenAPI spec.
//
// Run: JIRA_OPENAPI_SPEC=/work/shared/jira/swagger-v3.v3.json node --test tests/e2e-cataam-to-jira.test.mjs
// (needs the build: node scripts/build.mjs --quiet)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../dev/emulator/index.mjs';
import { validateAdf, adfToText } from './lib/adf.mjs';
import { freePort } from './lib/stack.mjs';
import {
  APP_ACCOUNT_ID, APP_DIR, PRIORITY_OF, SEVERITIES, TIME_SCALE, startE2EStack, settle, syncAndSettle, issuesByFinding,
  duplicates, issueOf, categoryOf, appComments, appWrites, cataamWrites, slug, norm, adfLinks, contentLeaks,
  specViolations, saveSettingsWith, sleep, waitFor,
} from './lib/e2e-helpers.mjs';

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Asserts that `issue` carries the documented CATAAM-owned fields of finding `f`. */
function assertIssueFields(issue, f) {
  const where = `${issue.key} (${f.id}, ${f.kind} ${f.severity})`;
  const fields = issue.fields;
  assert.equal(fields.project.key, 'SEC', `${where}: project`);
  assert.equal(fields.issuetype.name, 'Bug', `${where}: issue type`);
  assert.ok(norm(fields.summary).includes(norm(f.title)), `${where}: summary ${JSON.stringify(fields.summary)} lacks the title`);
  assert.ok(fields.summary.length <= 255 && !/\n/.test(fields.summary), `${where}: summary is one line ≤ 255`);
  assert.equal(fields.priority.name, PRIORITY_OF[f.severity], `${where}: priority from severity`);

  const labels = fields.labels;
  for (const l of labels) assert.ok(!/\s/.test(l), `${where}: label ${JSON.stringify(l)} has whitespace`);
  assert.ok(labels.includes('cataam'), `${where}: labels ${labels} lack cataam`);
  const sev = f.severity.toLowerCase();
  assert.ok(labels.some((l) => l === `severity-${sev}` || l === sev), `${where}: labels ${labels} lack the severity ${sev}`);
  if (f.compliance) {
    assert.ok(labels.includes(`framework-${slug(f.compliance.framework)}`), `${where}: labels ${labels} lack framework-${slug(f.compliance.framework)}`);
    assert.ok(labels.includes(`control-${slug(f.compliance.controlId)}`), `${where}: labels ${labels} lack control-${slug(f.compliance.controlId)}`);
  } else {
    assert.ok(!labels.some((l) => l.startsWith('framework-') || l.startsWith('control-')), `${where}: iASM issue with compliance labels ${labels}`);
  }

  const doc = fields.description;
  const v = validateAdf(doc);
  assert.ok(v.valid, `${where}: description is not valid ADF: ${JSON.stringify(v.errors.slice(0, 3))}`);
  const text = norm(adfToText(doc));
  const has = (s, what) => assert.ok(text.includes(norm(s)), `${where}: description lacks ${what} ${JSON.stringify(String(s).slice(0, 80))}`);
  assert.ok(text.toLowerCase().includes(sev), `${where}: description lacks the severity`);
  has(f.description, 'the description');
  has(f.remediation, 'the remediation');
  for (const c of f.complianceControls) has(c, 'the compliance control');
  const links = adfLinks(doc);
  if (f.mitre) {
    has(f.mitre.techniqueId, 'the MITRE technique id');
    has(f.mitre.name, 'the MITRE technique name');
    const path = f.mitre.techniqueId.replace('.', '/');
    assert.ok(
      links.some((h) => /^https:\/\/attack\.mitre\.org\/techniques\//.test(h) && h.includes(path)),
      `${where}: no attack.mitre.org link for ${f.mitre.techniqueId} in ${links}`,
    );
  }
  if (f.asset?.hostname) has(f.asset.hostname, 'the asset host name');
  if (f.asset?.ip) has(f.asset.ip, 'the asset IP');
  if (f.asset?.cloudAccount) has(f.asset.cloudAccount, 'the cloud account');
  assert.ok(links.includes(f.url), `${where}: no link back to ${f.url} (links: ${links})`);
}

// Crash injection runs first and converges in the background while the other tests run: a
// create killed mid-flight leaves its per-finding create lock behind, and the app only takes a
// lock over once it is stale (engine INDEX_LAG_MARGIN_MS: 60 s of wall-clock time after the
// holder's deadline — the emulator's time scale shortens queue delays, not the app's clock), so
// convergence takes a minute or two by design. The last test of this file waits for it and checks the end state.
let crash = null;
const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('crash injection: containers killed mid-create (restarts, tiny deadlines, KVS faults)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cataam-e2e-crash-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  // CATAAM re-delivers failed pushes quickly, so retries land on the restarted platform.
  const stack = await startE2EStack(null, {
    findings: 60, seed: 9001, dataDir: dir, ports: { emulator: port },
    cataam: { push: { baseDelayMs: 50, maxDelayMs: 400, maxAttempts: 8, timeoutMs: 5000 } },
  });
  cleanups.push(() => stack.close());
  const { jira, cataam } = stack;
  await syncAndSettle(stack);
  const emulatorOptions = (extra) => ({
    appDir: APP_DIR, dataDir: join(dir, 'forge'), jiraUrl: jira.url, port,
    egressAliases: { 'service.cataam.com': cataam.url, 'app.cataam.com': cataam.url },
    schedulerSpeedup: 0, appAccountId: APP_ACCOUNT_ID, timeScale: TIME_SCALE, ...extra,
  });
  // From here on each round runs its own platform on the same storage and port.
  await stack.emulator.close();

  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let failed = 0;
  let writesDuringCrashes = 0;
  const created = [];
  for (let round = 0; round < 9; round++) {
    const extra = {};
    // tiny deadlines kill invocations in the middle of their work (the platform's own timeout)
    if (round % 3 === 1) extra.deadlines = { webtrigger: 150 + Math.floor(rand() * 600), consumer: 150 + Math.floor(rand() * 600) };
    if (round % 3 === 2) extra.faults = { kvsErrorRate: 0.1, seed: round + 1 };
    const emulator = await startEmulator(emulatorOptions(extra));
    const writesBefore = appWrites(jira).length;
    // New findings: CATAAM pushes each one to the web trigger at once (concurrent invocations).
    for (let i = 0; i < 6; i++) created.push(cataam.createFinding({ kind: i === 5 ? 'COMPLIANCE' : 'IASM', severity: 'HIGH' }));
    const target = writesBefore + 1 + Math.floor(rand() * 3);
    await waitFor(() => appWrites(jira).length >= target || emulator.invocations.length >= 6, 'the app to start writing', { timeoutMs: 20_000, everyMs: 1 }).catch(() => null);
    await sleep(Math.floor(rand() * 40));
    await emulator.close(); // terminates every container mid-invocation
    failed += emulator.invocations.filter((r) => !r.ok).length;
    writesDuringCrashes += appWrites(jira).length - writesBefore;
    assert.deepEqual(duplicates(jira), [], `round ${round}: no duplicate even before convergence`);
  }
  t.diagnostic(`crash rounds: ${failed} invocations killed or failed, ${writesDuringCrashes} Jira writes during the crash rounds`);
  assert.ok(writesDuringCrashes > 0, 'the crash rounds did real work');
  assert.ok(failed > 0, 'invocations were really killed');

  // Convergence, in the background: a healthy platform on the same storage; CATAAM's retries
  // arrive, then a poll every few seconds until one writes nothing, every OPEN finding is
  // ticketed and nothing is left queued.
  // Real queue delays here: the app waits out a fresh create lock with delayed queue events,
  // which a compressed time scale would turn into a busy loop against the real clock.
  const emulator = await startEmulator(emulatorOptions({ timeScale: 1 }));
  cleanups.push(() => emulator.close());
  const quietly = (p) => p.catch(() => null); // a busy platform is retried on the next round
  const converge = async () => {
    const until = Date.now() + 330_000; // the stale-lock (≤ 120 s) and guard (90 s) windows, plus margin
    let polls = 0;
    let drained = 0;
    for (;;) {
      await quietly(cataam.idle({ timeoutMs: 30_000 }));
      await jira.flushEvents();
      await quietly(emulator.idle({ timeoutMs: 30_000 }));
      const from = appWrites(jira).length;
      const rec = await emulator.runScheduled('cataam-poll');
      polls++;
      await quietly(emulator.idle({ timeoutMs: 30_000 }));
      const open = cataam.findings().filter((f) => f.status === 'OPEN');
      const map = issuesByFinding(jira);
      let done = rec.ok && appWrites(jira).length === from && open.every((f) => map.has(f.id));
      if (done && emulator.queueSnapshot().length > 0) {
        // What is left are delayed retries and re-checks from the crash rounds (back-off can
        // put them minutes out): deliver them now; converged means they find nothing to do.
        drained += emulator.deliverDelayedNow();
        await quietly(emulator.idle({ timeoutMs: 30_000 }));
        done = appWrites(jira).length === from && emulator.queueSnapshot().length === 0;
      }
      if (process.env.CRASH_DEBUG) {
        console.error(`[crash ${Math.round((Date.now() - until + 330_000) / 1000)}s] poll ok=${rec.ok} writes=${appWrites(jira).length - from} unticketed=${open.filter((f) => !map.has(f.id)).length} queued=${emulator.queueSnapshot().length} drained=${drained}`);
      }
      if (done || Date.now() > until) return { converged: done, polls, drained, open, created, jira };
      await sleep(3000);
    }
  };
  crash = converge();
  crash.catch(() => {});
});

test('CATAAM → Jira with 500 seeded findings: create, fields, resolve, false positive, reopen, quiet re-sync, data policy, spec', async (t) => {
  const stack = await startE2EStack(t, { findings: 500, seed: 4242 });
  const { jira, cataam, emulator } = stack;
  const initial = cataam.findings().sort(byId);
  assert.equal(initial.length, 500);
  const open = initial.filter((f) => f.status === 'OPEN');
  assert.ok(open.length > 250 && open.some((f) => f.kind === 'COMPLIANCE'), 'the seed gives a realistic mix');

  await syncAndSettle(stack);
  // From here on the poll alone carries CATAAM's changes (pushes have their own suites:
  // e2e-push-security and the push/poll race below): one poll applies 50 changes in one
  // invocation, where 50 pushes would cost 50 invocations on a stack of this size.
  cataam.setSharedSecret(null);

  await t.test('each OPEN finding is exactly one issue; closed findings get none; no duplicates', () => {
    const map = issuesByFinding(jira);
    assert.deepEqual(duplicates(jira), []);
    const missing = open.filter((f) => !map.has(f.id)).map((f) => f.id);
    assert.deepEqual(missing, [], `${missing.length} OPEN findings have no issue`);
    const closed = initial.filter((f) => f.status === 'RESOLVED' || f.status === 'FALSE_POSITIVE');
    const ticketedClosed = closed.filter((f) => map.has(f.id)).map((f) => f.id);
    assert.deepEqual(ticketedClosed, [], 'findings already closed when first seen are not ticketed');
    const known = new Set(initial.map((f) => f.id));
    assert.deepEqual([...map.keys()].filter((id) => !known.has(id)), [], 'every managed issue names a real finding');
    for (const issue of jira.issues()) assert.equal(issue.fields.creator.accountId, APP_ACCOUNT_ID);
    for (const f of open) assert.equal(categoryOf(issueOf(map, f.id)), 'new', `${f.id}: a new issue starts in a new-category status`);
  });

  await t.test('fields: summary, priority from severity, labels, ADF description with every section', () => {
    const map = issuesByFinding(jira);
    for (const f of open) assertIssueFields(issueOf(map, f.id), f);
    const sevs = new Set(open.map((f) => f.severity));
    assert.deepEqual([...sevs].sort(), [...SEVERITIES].sort(), 'all five severities were checked');
  });

  const iasm = open.filter((f) => f.kind === 'IASM');
  const resolved = iasm.slice(0, 50);
  const falsePositive = iasm.slice(50, 60);
  const reopened = resolved.slice(0, 10);
  const untouched = open.filter((f) => !resolved.includes(f) && !falsePositive.includes(f));

  await t.test('50 resolved in CATAAM → Done', async () => {
    for (const f of resolved) cataam.resolve(f.id);
    await settle(stack);
    await syncAndSettle(stack);
    const map = issuesByFinding(jira);
    for (const f of resolved) {
      const issue = issueOf(map, f.id);
      assert.equal(categoryOf(issue), 'done', `${issue.key} (${f.id}) should be done`);
      assert.notEqual(issue.fields.resolution?.name, "Won't Do", `${issue.key}: resolved is not Won't Do`);
    }
    for (const f of untouched) assert.equal(categoryOf(issueOf(map, f.id)), 'new', `${f.id} was not touched`);
    assert.deepEqual(duplicates(jira), []);
  });

  await t.test('10 marked false positive → done with resolution Won\'t Do', async () => {
    for (const f of falsePositive) cataam.markFalsePositive(f.id);
    await settle(stack);
    await syncAndSettle(stack);
    const map = issuesByFinding(jira);
    for (const f of falsePositive) {
      const issue = issueOf(map, f.id);
      assert.equal(categoryOf(issue), 'done', `${issue.key}`);
      assert.equal(issue.fields.resolution?.name, "Won't Do", `${issue.key}: resolution`);
    }
  });

  await t.test('10 reopened in CATAAM → out of done, with a comment', async () => {
    const snap = issuesByFinding(jira);
    const before = new Map(reopened.map((f) => [f.id, appComments(issueOf(snap, f.id)).length]));
    for (const f of reopened) cataam.reopen(f.id);
    await settle(stack);
    await syncAndSettle(stack);
    const map = issuesByFinding(jira);
    for (const f of reopened) {
      const issue = issueOf(map, f.id);
      assert.notEqual(categoryOf(issue), 'done', `${issue.key} should be reopened`);
      assert.equal(issue.fields.resolution, null, `${issue.key}: resolution cleared`);
      const comments = appComments(issue);
      assert.ok(comments.length > before.get(f.id), `${issue.key}: the app explains the reopen in a comment`);
      assert.ok(validateAdf(comments.at(-1).body).valid, `${issue.key}: comment is valid ADF`);
    }
    for (const f of resolved.slice(10)) assert.equal(categoryOf(issueOf(map, f.id)), 'done');
    assert.deepEqual(duplicates(jira), []);
  });

  await t.test('a second sync performs zero Jira writes and zero CATAAM writes', async () => {
    await syncAndSettle(stack); // anything still converging settles here
    const jiraFrom = jira.requestLog.length;
    const cataamFrom = cataam.requestLog.length;
    const rec = await syncAndSettle(stack);
    assert.equal(rec.ok, true, `the poll succeeded: ${rec.error}`);
    const writes = appWrites(jira, jiraFrom).map((e) => `${e.method} ${e.path}`);
    assert.deepEqual(writes, [], 'Jira writes on a sync with nothing to do');
    const cw = cataamWrites(cataam, cataamFrom).map((e) => `${e.method} ${e.path}`);
    assert.deepEqual(cw, [], 'CATAAM writes on a sync with nothing to do');
    assert.ok(jira.requestLog.length > jiraFrom || cataam.requestLog.length > cataamFrom, 'the poll did read');
  });

  await t.test('KVS holds no finding content (every value scanned for every finding text field)', () => {
    const dump = emulator.kvsDump();
    assert.ok(dump.entries.length >= open.length, 'links are stored');
    const leaks = contentLeaks(dump, cataam.findings());
    assert.deepEqual(leaks.slice(0, 10), [], `${leaks.length} KVS values contain finding content`);
    assert.ok(dump.secrets.length >= 1, 'secrets live in secret storage');
  });

  await t.test('every Jira request the app sent validates against the official OpenAPI spec', () => {
    assert.ok(stack.exchanges.length > 20);
    const bad = specViolations(stack);
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} requests do not conform`);
  });

  await t.test('no invocation crashed', () => {
    const failed = emulator.invocations.filter((r) => !r.ok && !r.retryRequested).map((r) => `${r.functionKey}: ${r.error}`);
    assert.deepEqual(failed, []);
  });
});

test('custom multi-hop workflow (required resolution screen): resolve, false positive and reopen pass', async (t) => {
  const stack = await startE2EStack(t, { findings: 40, seed: 77, workflow: 'custom' });
  const { jira, cataam } = stack;
  await syncAndSettle(stack);
  const open = cataam.findings().filter((f) => f.status === 'OPEN' && f.kind === 'IASM').sort(byId);
  assert.ok(open.length >= 10);
  for (const f of open) assert.equal(issueOf(jira, f.id).fields.status.name, 'Open');

  const resolved = open.slice(0, 5);
  const falsePositive = open.slice(5, 7);
  for (const f of resolved) cataam.resolve(f.id);
  for (const f of falsePositive) cataam.markFalsePositive(f.id);
  await settle(stack);
  await syncAndSettle(stack);
  for (const f of resolved) {
    const issue = issueOf(jira, f.id);
    assert.equal(issue.fields.status.name, 'Closed', `${issue.key}: Open → … → Closed`);
    assert.ok(issue.fields.resolution, `${issue.key}: the required resolution was given`);
    assert.notEqual(issue.fields.resolution.name, "Won't Do");
  }
  for (const f of falsePositive) {
    const issue = issueOf(jira, f.id);
    assert.equal(issue.fields.status.name, 'Closed');
    assert.equal(issue.fields.resolution?.name, "Won't Do");
  }

  const reopened = resolved.slice(0, 3);
  for (const f of reopened) cataam.reopen(f.id);
  await settle(stack);
  await syncAndSettle(stack);
  for (const f of reopened) {
    const issue = issueOf(jira, f.id);
    assert.notEqual(categoryOf(issue), 'done', `${issue.key}: Closed → Reopened`);
    assert.ok(appComments(issue).length >= 1, `${issue.key}: reopen comment`);
  }
  for (const f of resolved.slice(3)) assert.equal(categoryOf(issueOf(jira, f.id)), 'done');

  const from = jira.requestLog.length;
  await syncAndSettle(stack);
  assert.deepEqual(appWrites(jira, from).map((e) => `${e.method} ${e.path}`), []);
  assert.deepEqual(duplicates(jira), []);
  const bad = specViolations(stack);
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} requests do not conform`);
});


test('a push and the poll racing on new findings create one issue each', async (t) => {
  const stack = await startE2EStack(t, { findings: 10, seed: 2024 });
  const { jira, cataam } = stack;
  await syncAndSettle(stack);
  for (let round = 0; round < 3; round++) {
    // CATAAM pushes every new finding at once; the scheduled poll fires at the same moment.
    const created = Array.from({ length: 8 }, (_, i) => cataam.createFinding({ kind: i % 4 === 0 ? 'COMPLIANCE' : 'IASM', severity: 'HIGH' }));
    await Promise.all([stack.sync(), stack.sync()]);
    await settle(stack);
    const map = issuesByFinding(jira);
    assert.deepEqual(duplicates(jira), [], `round ${round}: no finding has two issues`);
    for (const f of created) assert.equal(map.get(f.id)?.length, 1, `round ${round}: ${f.id} has its issue`);
  }
});

test('filters: minimum severity and kinds → skipped with reasons, nothing created for them', async (t) => {
  const stack = await startE2EStack(t, { findings: 120, seed: 31337 });
  const { jira, cataam, emulator } = stack;
  const saved = await saveSettingsWith(stack, { minSeverity: 'HIGH', kinds: ['IASM'] });
  assert.equal(saved.ok, true, JSON.stringify(saved.error));
  await syncAndSettle(stack);

  const all = cataam.findings();
  const open = all.filter((f) => f.status === 'OPEN');
  const inFilters = (f) => f.kind === 'IASM' && (f.severity === 'CRITICAL' || f.severity === 'HIGH');
  const wanted = open.filter(inFilters);
  const belowThreshold = open.filter((f) => f.kind === 'IASM' && !inFilters(f));
  const filteredKind = open.filter((f) => f.kind === 'COMPLIANCE');
  assert.ok(wanted.length > 5 && belowThreshold.length > 5 && filteredKind.length > 2, 'the seed covers all three groups');

  const map = issuesByFinding(jira);
  assert.deepEqual(wanted.filter((f) => !map.has(f.id)).map((f) => f.id), [], 'findings within the filters are ticketed');
  const outside = all.filter((f) => !inFilters(f) && map.has(f.id)).map((f) => `${f.id} ${f.kind} ${f.severity} ${f.status}`);
  assert.deepEqual(outside, [], 'no finding outside the filters is ticketed, whatever its status');
  assert.deepEqual(duplicates(jira), []);

  const skips = new Map(emulator.kvsDump().entries.filter((e) => e.key.startsWith('skip:')).map((e) => [e.key.slice(5), e.value]));
  for (const f of belowThreshold) assert.equal(skips.get(f.id)?.reason, 'below_threshold', `${f.id} (${f.severity}) skip reason`);
  for (const f of filteredKind) assert.ok(['filtered_kind', 'below_threshold'].includes(skips.get(f.id)?.reason), `${f.id} (COMPLIANCE) skip reason`);
  assert.ok(filteredKind.some((f) => skips.get(f.id)?.reason === 'filtered_kind'), 'compliance findings of ticketed severities are skipped as filtered_kind');

  const health = await stack.invoke('getHealth', {});
  assert.equal(health.ok, true);
  const skipped = health.health.counts.skipped;
  assert.ok(skipped.below_threshold >= belowThreshold.length, `health reports below_threshold skips: ${JSON.stringify(skipped)}`);
  assert.ok(skipped.filtered_kind >= 1, `health reports filtered_kind skips: ${JSON.stringify(skipped)}`);
});

// The end state after the crash rounds: the app converged on its own (stale create locks taken
// over after their holders' deadlines plus the index lag window, orphans adopted), and what the
// crash rounds left queued finds nothing to do.
test('crash injection, after convergence: zero duplicates, every OPEN finding exactly one issue', async (t) => {
  assert.ok(crash, 'the crash rounds ran');
  const { converged, polls, drained, open, created, jira } = await crash;
  t.diagnostic(`converged after ${polls} polls; ${drained} delayed retries delivered early`);
  assert.ok(converged, `the app converged (every OPEN finding ticketed, a poll with no writes, nothing queued); ${polls} polls`);
  assert.deepEqual(duplicates(jira), [], 'no finding has two issues');
  const map = issuesByFinding(jira);
  assert.deepEqual(open.filter((f) => !map.has(f.id)).map((f) => f.id), [], 'every OPEN finding has its issue');
  assert.ok(created.every((f) => map.get(f.id)?.length === 1), 'every finding created during the crashes has exactly one issue');
  assert.equal(jira.issues().length, map.size, 'every issue in Jira is a managed one (no orphan without a property)');
  for (const f of created) assertIssueFields(issueOf(map, f.id), f);
});
