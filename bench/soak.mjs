#!/usr/bin/env node
// The chaos soak: seeded, reproducible, one command.
//   node bench/soak.mjs --ci     300 findings, 3 rounds; < 3 min; exits non-zero on any failure
//   node bench/soak.mjs --long   2,000 findings, more rounds (./task soak); records docs/performance.md
// Options: --seed S --findings N --rounds R --write (record docs in --ci too) --verbose
//
// Findings go through their whole lifecycle on both sides — created, resolved, reopened, marked
// false positive, compliance re-runs passing and failing, Jira transitions (In Progress, To Do,
// Done, Won't Do), due dates and assignees — while about a fifth of all operations are hit by
// injected faults: 5xx, 429 + Retry-After, timeouts and dropped answers from both APIs (the
// simulators' seeded faults), KVS errors and invocations killed right after a KVS write (the
// emulator's), invocations killed right after a write reached Jira or CATAAM and answers lost
// after the write (bench/lib/chaos.mjs proxies), and
// duplicated, reordered and dropped CATAAM pushes and Jira product events. The oracle
// (bench/lib/oracle.mjs) computes the expected final state from the operations alone. When the
// chaos stops, the soak runs poll cycles (retrying dead letters as an admin would) until the world
// matches the oracle, then prints duplicates, lost or wrong transitions, cycles to converge, dead
// letters left and a KVS data-policy scan as `figure` lines.
//
// Reproducibility: the generated findings, every fault plan and every choice of operation come from
// seeded generators (--seed). Which request meets which draw still depends on thread timing, so two
// runs with one seed apply the same kinds of faults at the same rates, not byte-identical
// histories; the checks are on the end state, which must not depend on that order.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startStack, ADMIN, DEVELOPER } from '../tests/lib/stack.mjs';
import { Figures, mdTable, writeSection } from './lib/report.mjs';
import { rng, startChaosProxy, startEventChaos } from './lib/chaos.mjs';
import { Oracle, issuesByFinding, scanForContent } from './lib/oracle.mjs';

const { values: args } = parseArgs({
  options: {
    ci: { type: 'boolean', default: false },
    long: { type: 'boolean', default: false },
    seed: { type: 'string', default: '20261204' },
    findings: { type: 'string' },
    rounds: { type: 'string' },
    write: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    trace: { type: 'string' },
    'no-faults': { type: 'boolean', default: false },
  },
});
const LONG = args.long && !args.ci;
const SEED = String(args.seed);
const N = Number(args.findings ?? (LONG ? 2000 : 300));
const ROUNDS = Number(args.rounds ?? (LONG ? 8 : 3));
const OPS_FRACTION = 0.45; // of the settled findings get a status operation per round
const FIELD_FRACTION = 0.12; // of the linked findings get a due date or assignee change per round
const CREATES_PER_ROUND = LONG ? 30 : 8;
const MAX_FINAL_CYCLES = 12;
const TIME_SCALE = 0.01; // queue delays and Retry-After waits in the queue run 100× faster
const DEADLINE_MS = 15_000; // every invocation kind: a killed invocation costs this much
const started = Date.now();
// Wall-time budget: the CI soak must finish in < 3 min on 2 cores whatever the app does; the
// fault phase stops early enough to leave FINAL_RESERVE_MS for the fault-free convergence.
// The convergence phase must outlast the app's documented recovery window for an interrupted
// create (a create lock goes stale INDEX_LAG_MARGIN_MS = 60 s of real time after its holder's
// deadline, here ≤ 15 s; a kill between the takeover guard and the lock adds the guard's 90 s TTL,
// src/engine.rs), so it is given that window plus margin; the queue's time scale does not shorten it.
const RECOVERY_WINDOW_MS = 150_000;
const BUDGET_MS = LONG ? 45 * 60_000 : 165_000 + RECOVERY_WINDOW_MS;
const FINAL_RESERVE_MS = LONG ? 8 * 60_000 : 45_000 + RECOVERY_WINDOW_MS;
const left = () => started + BUDGET_MS - Date.now();
const figures = new Figures();
const log = (...a) => console.log(`[soak +${((Date.now() - started) / 1000).toFixed(1)}s]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The fault plan (rates per request / per event). The measured rate is printed as soak_fault_rate.
const JIRA_FAULTS = { error5xxRate: 0.06, rate429Rate: 0.06, burst429Length: 1, timeoutRate: 0.02, timeoutMs: 1500, dropRate: 0.02 };
const CATAAM_FAULTS = {
  error5xxRate: 0.06, rate429Rate: 0.06, timeoutRate: 0.02, hangMs: 1500, dropRate: 0.03, retryAfterSeconds: 1,
  duplicatePushRate: 0.1, reorderPushRate: 0.1, reorderDelayMs: 300,
};
const WRITE_CHAOS = { killRate: 0.006, lostRate: 0.03 };
const PUSH_CHAOS = { dropRate: 0.1, duplicateRate: 0.05, reorderRate: 0.05, delayMs: 400 };
const EVENT_CHAOS = { dropRate: 0.1, duplicateRate: 0.05, reorderRate: 0.05, delayMs: 400 };
const KVS_ERROR_RATE = 0.005;
// Share of storage writes after which the invocation is killed (the write stored, no answer):
// the app dies between two of its KVS writes, e.g. after a transition's intent, before the link.
const KVS_KILL_RATE = 0.001;

if (args['no-faults']) {
  // Oracle self-check: the same lifecycle without any injected fault.
  for (const plan of [JIRA_FAULTS, CATAAM_FAULTS, WRITE_CHAOS, PUSH_CHAOS, EVENT_CHAOS]) {
    for (const k of Object.keys(plan)) if (k.endsWith('Rate')) plan[k] = 0;
  }
}
const KVS_RATE = args['no-faults'] ? 0 : KVS_ERROR_RATE;
const draw = rng(`soak:${SEED}`);
const pick = (list) => list[Math.floor(draw() * list.length)];
function shuffle(list) {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(draw() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// ------------------------------------------------------------------------------------ the stack

let jiraUpstream = null;
let cataamUpstream = null;
let emulatorUrl = null;
const jiraProxy = await startChaosProxy({ upstream: () => jiraUpstream, seed: `${SEED}:jira`, ...WRITE_CHAOS });
const cataamProxy = await startChaosProxy({ upstream: () => cataamUpstream, seed: `${SEED}:cataam`, ...WRITE_CHAOS });
const pushChaos = await startEventChaos({ target: (p) => emulatorUrl + p, seed: `${SEED}:push`, ...PUSH_CHAOS });
const eventChaos = await startEventChaos({ target: (p) => emulatorUrl + p, seed: `${SEED}:events`, ...EVENT_CHAOS });
// The proxies learn their upstreams once the stack is up (nothing calls them before).
const stack = await startStack({
  findings: N, seed: Number.parseInt(SEED, 10) || 42, autoSetup: false,
  jira: { rateLimits: false, indexLagMs: 300 },
  cataam: { runDelayMs: 50, push: { baseDelayMs: 100, maxDelayMs: 1000, timeoutMs: DEADLINE_MS + 2000 } },
  emulator: {
    jiraUrl: jiraProxy.url,
    egressAliases: { 'service.cataam.com': cataamProxy.url, 'app.cataam.com': cataamProxy.url },
    timeScale: TIME_SCALE,
    maxContainersPerFunction: 6,
    deadlines: { scheduledTrigger: DEADLINE_MS, consumer: DEADLINE_MS, webtrigger: DEADLINE_MS, trigger: DEADLINE_MS },
    faults: { kvsErrorRate: KVS_RATE, seed: Number.parseInt(SEED, 10) || 1 },
  },
});
jiraUpstream = stack.jira.url;
cataamUpstream = stack.cataam.url;
emulatorUrl = stack.emulator.url;


// ------------------------------------------------------------------------------------ helpers

let chaosFrom = { jira: 0, cataam: 0, deliveries: 0 };

/** A resolver call as the admin page would make it, retried while storage faults make it fail. */
async function adminCall(fn, payload = {}) {
  let last;
  for (let i = 0; i < 30; i++) {
    try {
      const r = await stack.invoke(fn, payload);
      if (r?.ok) return r;
      last = r;
      if (r?.error?.code !== 'KVS') break; // only storage faults are worth retrying here
    } catch (e) {
      last = e.message;
    }
    await sleep(100);
  }
  throw new Error(`${fn} failed: ${JSON.stringify(last)}`);
}

/** As an admin following the product page (stack.setup(), with retries for injected KVS errors). */
async function setup() {
  const apiKey = await stack.cataam.createApiKey('Jira Production');
  const projects = await adminCall('listProjects', { query: '', startAt: 0 });
  const p = projects.projects.find((x) => x.key === 'SEC');
  await adminCall('saveSettings', { baseUrl: 'https://service.cataam.com', apiKey, projectId: p.id, projectKey: p.key });
  const secret = await adminCall('generateSecret', {});
  await stack.cataam.setSharedSecret(secret.secret);
  return { apiKey, secret: secret.secret };
}

function setChaos(on) {
  stack.jira.setFaults(on ? { seed: Number.parseInt(SEED, 10) || 1, ...JIRA_FAULTS } : null);
  stack.cataam.setFaults(on ? { seed: Number.parseInt(SEED, 10) || 1, ...CATAAM_FAULTS } : null);
  for (const c of [jiraProxy, cataamProxy, pushChaos, eventChaos]) c.setEnabled(on);
  if (!on) stack.emulator.setKvsFaults({ kvsKillRate: 0 });
}

/** Waits until nothing moves: no event or push in flight, no invocation, no due queue message. */
async function quiesce(timeoutMs = 150_000) {
  const end = Date.now() + Math.max(1000, Math.min(timeoutMs, left() - 3000));
  const marks = () => `${stack.jira.requestLog.length}/${stack.cataam.requestLog.length}/${stack.emulator.invocations.length}/${stack.emulator.queueSnapshot().length}`;
  let calm = 0;
  let before = marks();
  while (calm < 2) {
    if (Date.now() > end) {
      log('  (the platform did not quiesce within the time budget)');
      return false;
    }
    const left = () => Math.max(1000, end - Date.now());
    await stack.jira.flushEvents();
    await eventChaos.idle();
    await pushChaos.idle();
    await stack.cataam.idle({ timeoutMs: left() }).catch(() => {});
    try {
      await stack.emulator.idle({ includeDelayed: true, timeoutMs: left() });
    } catch {
      /* checked below against `end` */
    }
    await sleep(50);
    const now = marks();
    calm = now === before ? calm + 1 : 0;
    before = now;
  }
  return true;
}

function world() {
  const findings = new Map(stack.cataam.findings().map((f) => [f.id, f]));
  const issues = issuesByFinding(stack.jira.issues());
  return { findings, issues };
}

function evaluate(oracle, w) {
  const problems = [];
  for (const fid of oracle.expect.keys()) {
    for (const p of oracle.problems(fid, w.findings.get(fid), w.issues.get(fid) ?? [])) problems.push({ fid, ...p });
  }
  return problems;
}

function deadLetters() {
  return stack.emulator.kvsDump().entries.filter((e) => e.key.startsWith('dead:')).map((e) => e.key.slice('dead:'.length));
}

/** Injected faults and operations on every channel the soak can count. */
function faultTally() {
  const jiraLog = stack.jira.requestLog.slice(chaosFrom.jira);
  const jiraFaults = jiraLog.filter((e) => e.fault || e.status === 503 || e.status === 429).length;
  const cataamLog = stack.cataam.requestLog.slice(chaosFrom.cataam);
  const cataamFaults = cataamLog.filter((e) => e.fault).length;
  const deliveries = stack.cataam.deliveries.slice(chaosFrom.deliveries).filter((d) => d.attempt >= 1);
  const pushFaults = deliveries.filter((d) => d.fault === 'duplicate' || d.fault === 'reordered').length;
  const t = {
    jira: { ops: jiraLog.length, faults: jiraFaults + jiraProxy.stats.kill + jiraProxy.stats.lost },
    cataam: { ops: cataamLog.length, faults: cataamFaults + cataamProxy.stats.kill + cataamProxy.stats.lost },
    pushes: { ops: pushChaos.stats.events, faults: pushChaos.stats.dropped + pushChaos.stats.duplicated + pushChaos.stats.reordered + pushFaults },
    productEvents: { ops: eventChaos.stats.events, faults: eventChaos.stats.dropped + eventChaos.stats.duplicated + eventChaos.stats.reordered },
  };
  t.total = {
    ops: Object.values(t).reduce((n, c) => n + c.ops, 0),
    faults: Object.values(t).reduce((n, c) => n + c.faults, 0),
  };
  t.kvsKills = stack.emulator.kvsFaults().kills;
  t.kills = jiraProxy.stats.kill + cataamProxy.stats.kill + t.kvsKills;
  t.lost = jiraProxy.stats.lost + cataamProxy.stats.lost;
  return t;
}

// ------------------------------------------------------------------------------------ operations

const CATAAM_OPS = {
  OPEN: ['resolve', 'falsePositive', 'acknowledge', 'complianceRun'],
  ACKNOWLEDGED: ['resolve', 'falsePositive', 'reopen', 'complianceRun'],
  RESOLVED: ['reopen', 'falsePositive'],
  FALSE_POSITIVE: ['reopen', 'resolve'],
};
const JIRA_OPS = { new: ['inProgress', 'done', 'wontDo'], indeterminate: ['toDo', 'done', 'wontDo'], done: ['toDo', 'inProgress'] };
const DUE_DATES = ['2027-01-15', '2027-02-28', '2027-03-31', null];
const ASSIGNEES = [DEVELOPER.accountId, ADMIN.accountId, null];

const opLog = [];
/** Records an applied operation with the oracle and, with its time, in the trace. */
function record(oracle, fid, key, op) {
  oracle.apply(fid, op);
  opLog.push({ at: Date.now(), fid, key, ...op });
}
function applyOp(oracle, fid, key, op, uniqueTests) {
  const human = stack.jira.human(DEVELOPER.accountId);
  const e = oracle.expect.get(fid);
  switch (op) {
    case 'resolve': stack.cataam.resolve(fid); break;
    case 'falsePositive': stack.cataam.markFalsePositive(fid); break;
    case 'reopen': stack.cataam.reopen(fid); break;
    case 'acknowledge': stack.cataam.acknowledge(fid); break;
    case 'complianceRun':
      if (!(e.kind === 'COMPLIANCE' && uniqueTests.has(e.testId))) return false;
      stack.cataam.runComplianceTest(e.testId);
      break;
    case 'inProgress': human.transition(key, 'In Progress'); break;
    case 'toDo': human.transition(key, 'To Do'); break;
    case 'done':
      if (e.kind === 'COMPLIANCE' && !uniqueTests.has(e.testId)) return false;
      human.transition(key, 'Done', { resolution: 'Done' });
      break;
    case 'wontDo': human.transition(key, 'Done', { resolution: "Won't Do" }); break;
    default: throw new Error(op);
  }
  record(oracle, fid, key, { kind: op });
  return true;
}

// ------------------------------------------------------------------------------------ the soak

async function soak() {
  log(`${LONG ? 'long' : 'CI'} soak: ${N} findings, ${ROUNDS} rounds, seed ${SEED}`);
  const secrets = await setup();
  // Route pushes and product events through the event chaos.
  const hook = stack.cataam.webhook().url;
  if (!hook) throw new Error('the app did not register its web trigger with CATAAM on save');
  stack.cataam.registerWebhook(pushChaos.url + new URL(hook).pathname);
  stack.jira.setEventSink(`${eventChaos.url}/__platform/product-events`);

  const initial = stack.cataam.findings();
  const testCount = new Map();
  for (const f of initial) if (f.compliance?.testId) testCount.set(f.compliance.testId, (testCount.get(f.compliance.testId) ?? 0) + 1);
  const uniqueTests = new Set([...testCount].filter(([, n]) => n === 1).map(([t]) => t));
  const outcomes = {};
  for (const t of [...testCount.keys()].sort()) {
    outcomes[t] = draw() < 0.5 ? 'PASS' : 'FAIL';
    stack.cataam.setTestOutcome(t, outcomes[t]);
  }
  const oracle = new Oracle(initial, outcomes);

  chaosFrom = { jira: stack.jira.requestLog.length, cataam: stack.cataam.requestLog.length, deliveries: stack.cataam.deliveries.length };
  setChaos(true);
  log('chaos on; initial backlog');
  for (let i = 0; i < 6 && Date.now() - started < BUDGET_MS * 0.35; i++) {
    const rec = await stack.emulator.runScheduled('cataam-poll');
    if (args.verbose) log(`  poll: ${rec.ok ? 'ok' : rec.error} in ${rec.durationMs} ms`);
    await quiesce();
    const w = world();
    const missing = [...oracle.expect.values()].filter((e) => e.ticketed && !w.issues.has(e.id)).length;
    log(`  backlog poll ${i + 1}: ${w.issues.size} findings ticketed, ${missing} to go`);
    if (!missing) break;
  }

  // Kills after KVS writes start with the rounds: a backlog run makes thousands of storage
  // writes, so at this rate nearly every one would die (it recovers, but the backlog phase would
  // be spent waiting out poll locks instead of syncing).
  if (!args['no-faults']) stack.emulator.setKvsFaults({ kvsKillRate: KVS_KILL_RATE });
  let roundsRun = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    if (left() < FINAL_RESERVE_MS) {
      log(`time budget: stopping the fault phase before round ${round}`);
      break;
    }
    roundsRun = round;
    const w = world();
    const settled = [];
    const linked = [];
    for (const [fid, e] of oracle.expect) {
      if (!e.ticketed) continue;
      const issues = w.issues.get(fid) ?? [];
      if (issues.length !== 1) continue;
      linked.push([fid, issues[0].key]);
      if (oracle.problems(fid, w.findings.get(fid), issues).length === 0) settled.push([fid, issues[0].key]);
    }
    let applied = 0;
    for (const [fid, key] of shuffle(settled).slice(0, Math.round(settled.length * OPS_FRACTION))) {
      const e = oracle.expect.get(fid);
      const jiraSide = draw() < 0.5;
      const op = jiraSide ? pick(JIRA_OPS[e.category]) : pick(CATAAM_OPS[e.status]);
      try {
        if (applyOp(oracle, fid, key, op, uniqueTests)) applied += 1;
      } catch (err) {
        throw new Error(`round ${round}: ${op} on ${fid} (${key}) failed: ${err.message}`);
      }
      if (applied % 25 === 0) await sleep(20); // let the platform breathe between bursts
    }
    let fieldOps = 0;
    const human = stack.jira.human(DEVELOPER.accountId);
    for (const [fid, key] of shuffle(linked).slice(0, Math.round(linked.length * FIELD_FRACTION))) {
      if (draw() < 0.5) {
        const date = pick(DUE_DATES);
        human.setDueDate(key, date);
        record(oracle, fid, key, { kind: 'dueDate', date });
      } else {
        const accountId = pick(ASSIGNEES);
        human.assign(key, accountId);
        record(oracle, fid, key, { kind: 'assign', accountId });
      }
      fieldOps += 1;
    }
    for (let i = 0; i < CREATES_PER_ROUND; i++) {
      const f = stack.cataam.createFinding();
      oracle.addFinding(f);
      oracle.count('create');
    }
    log(`round ${round}: ${applied} status operations on ${settled.length} settled findings, ${fieldOps} due date/assignee changes, ${CREATES_PER_ROUND} new findings`);
    await quiesce();
    await stack.emulator.runScheduled('cataam-poll');
    await quiesce();
    if (args.verbose) {
      const p = evaluate(oracle, world());
      log(`  after round ${round}: ${p.length} findings not (yet) converged`);
    }
  }

  // The weather clears: no more injected faults on the wires (KVS errors keep their rate).
  const tally = faultTally();
  setChaos(false);
  const deadAtEnd = deadLetters();
  log(`chaos off: ${deadAtEnd.length} dead letters; converging`);
  let cycles = 0;
  let problems = evaluate(oracle, world());
  let stuck = 0;
  const chaosEnded = Date.now();
  // Give up only when cycles stop making progress after the recovery window has passed.
  const stalled = () => stuck >= 4 && Date.now() - chaosEnded > RECOVERY_WINDOW_MS;
  while (problems.length && cycles < MAX_FINAL_CYCLES + 30 && !stalled() && left() > 8000) {
    if (stuck > 0) await sleep(5000); // let stale create locks age instead of spinning
    const before = problems.length;
    cycles += 1;
    for (const fid of deadLetters()) {
      if (left() < 8000) break;
      await adminCall('retryDeadLetter', { findingId: fid }).catch((e) => log(`  retryDeadLetter ${fid}: ${e.message}`));
    }
    await stack.emulator.runScheduled('cataam-poll');
    await quiesce();
    problems = evaluate(oracle, world());
    stuck = problems.length < before ? 0 : stuck + 1;
    log(`  cycle ${cycles}: ${problems.length} findings differ from the oracle`);
  }

  const count = (type) => problems.filter((p) => p.type === type).length;
  const w = world();
  const duplicates = [...w.issues.values()].reduce((n, l) => n + Math.max(0, l.length - 1), 0);
  const dump = stack.emulator.kvsDump();
  const leaks = scanForContent({
    entries: dump.entries, queue: stack.emulator.queueSnapshot(), findings: stack.cataam.findings(),
    secrets: [secrets.apiKey, secrets.secret],
  });
  const converged = problems.length === 0;

  figures.set('soak_findings', oracle.expect.size);
  figures.set('soak_ticketed', [...oracle.expect.values()].filter((e) => e.ticketed).length);
  figures.set('soak_operations', oracle.ops);
  figures.set('soak_rounds', roundsRun);
  figures.set('soak_fault_rate', tally.total.faults / Math.max(1, tally.total.ops));
  figures.set('soak_invocations_killed', tally.kills);
  figures.set('soak_invocations_killed_after_kvs_write', tally.kvsKills);
  figures.set('soak_kvs_error_rate', KVS_RATE);
  figures.set('soak_duplicates', duplicates);
  figures.set('soak_lost_transitions', count('status'));
  figures.set('soak_field_mismatches', count('field'));
  figures.set('soak_missing_issues', count('missing_issue'));
  figures.set('soak_unexpected_issues', count('unexpected_issue'));
  figures.set('soak_cycles_to_converge', converged ? cycles : -1);
  figures.set('soak_dead_letters', deadAtEnd.length);
  figures.set('soak_dead_letters_final', deadLetters().length);
  figures.set('soak_content_leaks', leaks.length);
  figures.set('soak_wall_s', (Date.now() - started) / 1000);

  console.log('\nfault tally (during chaos):');
  for (const [k, v] of Object.entries(tally)) if (v.ops !== undefined) console.log(`  ${k.padEnd(14)} ${String(v.faults).padStart(6)} faults / ${v.ops} operations`);
  console.log(`  invocations killed after a write: ${tally.kills} (${tally.kvsKills} of them after a storage write); answers lost after a write: ${tally.lost}`);
  console.log(`operations applied: ${JSON.stringify(oracle.opCounts)}`);
  for (const p of problems.slice(0, 25)) {
    const keys = dump.entries.filter((e) => e.key.includes(p.fid)).map((e) => e.key.replace(p.fid, '…'));
    console.log(`  problem ${p.fid}: ${p.type}: ${p.detail} (operations: ${oracle.expect.get(p.fid).history.join(' → ') || 'none'}; app keys: ${keys.join(', ') || 'none'})`);
  }
  const inv = stack.emulator.invocations;
  const byFn = {};
  for (const r of inv) {
    const k = `${r.functionKey}`;
    byFn[k] ??= { n: 0, failed: 0, timedOut: 0, maxMs: 0, totalMs: 0 };
    Object.assign(byFn[k], { n: byFn[k].n + 1, failed: byFn[k].failed + (r.ok ? 0 : 1), timedOut: byFn[k].timedOut + (r.timedOut ? 1 : 0), maxMs: Math.max(byFn[k].maxMs, r.durationMs), totalMs: byFn[k].totalMs + r.durationMs });
  }
  console.log(`invocations: ${JSON.stringify(byFn)}`);
  if (args.trace) {
    writeFileSync(args.trace, JSON.stringify({ started, opLog, invocations: inv, problems, jira: stack.jira.requestLog, cataam: stack.cataam.requestLog }, null, 1));
  }
  for (const l of leaks.slice(0, 10)) console.log(`  content leak: ${l.what} in ${l.where}`);

  const failures = [];
  if (duplicates) failures.push(`${duplicates} duplicate issues`);
  if (count('status')) failures.push(`${count('status')} lost or wrong transitions`);
  if (count('field')) failures.push(`${count('field')} due date/assignee mismatches`);
  if (count('missing_issue')) failures.push(`${count('missing_issue')} findings never ticketed`);
  if (count('unexpected_issue')) failures.push(`${count('unexpected_issue')} issues for findings that must not be ticketed`);
  if (!converged) failures.push(`not converged after ${cycles} cycles without faults`);
  if (leaks.length) failures.push(`${leaks.length} content leaks in storage`);

  if (LONG || args.write) {
    const body = [
      `## Chaos soak (${LONG ? 'long' : 'CI'})`,
      '',
      `Generated by \`node bench/soak.mjs ${LONG ? '--long' : '--ci'}\` on ${new Date().toISOString().slice(0, 10)}, seed ${SEED}: ` +
        `${oracle.expect.size} findings, ${oracle.ops} operations over ${roundsRun} rounds, ` +
        `${(100 * tally.total.faults / Math.max(1, tally.total.ops)).toFixed(1)} % of ${tally.total.ops} counted operations hit by injected faults ` +
        `(plus KVS errors at ${KVS_RATE * 100} % of storage calls). Result: ${failures.length ? `**FAILED** — ${failures.join('; ')}` : 'passed'}.`,
      '',
      mdTable(['channel', 'operations', 'faults injected'], Object.entries(tally).filter(([, v]) => v.ops !== undefined).map(([k, v]) => [k, v.ops, v.faults])),
      '',
      `Operations: ${Object.entries(oracle.opCounts).map(([k, v]) => `${k} ${v}`).join(', ')}. Invocations killed right after a write: ${tally.kills} (${tally.kvsKills} of them right after a KVS write); answers lost after a write: ${tally.lost}.`,
      '',
      '```',
      ...figures.lines(),
      '```',
    ].join('\n');
    writeSection(LONG ? 'soak' : 'soak-ci', body);
    log('wrote docs/performance.md');
  }
  if (failures.length) {
    console.log(`\nSOAK FAILED: ${failures.join('; ')}`);
    return 1;
  }
  console.log('\nsoak passed');
  return 0;
}

let exitCode = 0;
try {
  exitCode = await soak();
} catch (e) {
  console.error('soak failed:', e);
  exitCode = 2;
} finally {
  await stack.close().catch(() => {});
  await Promise.all([jiraProxy.close(), cataamProxy.close(), pushChaos.close(), eventChaos.close()]);
}
process.exit(exitCode);
