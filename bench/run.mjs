#!/usr/bin/env node
// The benchmarks, in one command (`./task bench`): prints a table and every figure as
// `figure <name> <value>`, and rewrites the generated part of docs/performance.md and
// docs/img/performance.svg.
//
//  1. Backlog: N findings (default 5,000) into an empty Jira with 150 ms injected latency and Jira's
//     rate limits on, through the real app in the Forge emulator. Then the naive baseline (one issue
//     per request, then its property) against fresh simulators configured the same way.
//  2. Real-time: push → Jira state visible, over P pushes (default 200) with 100 ms latency.
//  3. Core: wasm size raw/gzip, cold start, warm invocation through the emulator, planner cost for
//     a 50-finding page, HMAC verification per request.
//
// Options: --findings N --pushes P --naive-concurrency C --seed S --no-write --skip backlog,naive,push,core
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack, APP_ACCOUNT_ID, ADMIN, DEVELOPER, PROJECTS } from '../tests/lib/stack.mjs';
import { startCataamSim } from '../dev/cataam-sim/index.mjs';
import { startJiraSim } from '../dev/jira-sim/index.mjs';
import { DEFAULT_DEADLINES } from '../dev/emulator/index.mjs';
import { runNaive, isTicketable } from './naive.mjs';
import {
  Figures, ROOT, barChartSvg, formatValue, mdTable, parseFigureLines, percentile, printTable, writeSection, writeSvg,
} from './lib/report.mjs';

const { values: args } = parseArgs({
  options: {
    findings: { type: 'string', default: '5000' },
    pushes: { type: 'string', default: '200' },
    'naive-concurrency': { type: 'string', default: '4' },
    seed: { type: 'string', default: '42' },
    'no-write': { type: 'boolean', default: false },
    skip: { type: 'string', default: '' },
    'backlog-timeout-s': { type: 'string', default: '480' },
    note: { type: 'string', multiple: true, default: [] },
  },
});
const N = Number(args.findings);
const PUSHES = Number(args.pushes);
const SEED = Number(args.seed);
const NAIVE_CONCURRENCY = Number(args['naive-concurrency']);
const skip = new Set(args.skip.split(',').filter(Boolean));
const figures = new Figures();
const notes = [...args.note];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const BACKLOG_LATENCY_MS = 150;
const PUSH_LATENCY_MS = 100;
const FINDING_PROPERTY = 'cataam.finding';

/** Issues carrying the app's finding property, by finding id (→ list, to see duplicates). */
function issuesByFinding(jira) {
  const map = new Map();
  for (const i of jira.issues()) {
    const id = i.properties?.[FINDING_PROPERTY]?.findingId;
    if (!id) continue;
    if (!map.has(id)) map.set(id, []);
    map.get(id).push(i);
  }
  return map;
}

/** The deadline of an invocation record, as the emulator applies it. */
function deadlineOf(emulator, rec) {
  const fn = emulator.manifest.functions.get(rec.functionKey);
  if ((rec.kind === 'scheduledTrigger' || rec.kind === 'consumer') && fn?.timeoutSeconds) return Math.min(fn.timeoutSeconds, 900) * 1000;
  return DEFAULT_DEADLINES[rec.kind];
}

function invocationFigures(emulator, since) {
  const recs = emulator.invocations.filter((r) => r.startedAt >= since);
  let worst = null;
  for (const r of recs) {
    const fraction = r.durationMs / deadlineOf(emulator, r);
    if (!worst || fraction > worst.fraction) worst = { ...r, fraction, limitMs: deadlineOf(emulator, r) };
  }
  return {
    count: recs.length,
    failed: recs.filter((r) => !r.ok).length,
    timedOut: recs.filter((r) => r.timedOut).length,
    worst,
    peakRssMb: Math.max(0, ...recs.map((r) => r.peakRssMb ?? 0)),
    peakHeapMb: Math.max(0, ...recs.map((r) => r.peakHeapMb ?? 0)),
    byKind: recs.reduce((m, r) => ((m[r.functionKey] = (m[r.functionKey] ?? 0) + 1), m), {}),
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Backlog

async function benchBacklog() {
  console.log(`\n# backlog: ${N} findings, Jira latency ${BACKLOG_LATENCY_MS} ms, rate limits on`);
  const stack = await startStack({
    findings: N, seed: SEED, autoSetup: false,
    jira: { rateLimits: true, faults: { seed: SEED, latencyMs: BACKLOG_LATENCY_MS } },
  });
  try {
    const expected = stack.cataam.findings().filter(isTicketable).length;
    // Configure the app first (as the admin does once); the clock starts with the first poll.
    await stack.setup();
    const jiraFrom = stack.jira.requestLog.length;
    const cataamFrom = stack.cataam.requestLog.length;
    const t0 = Date.now();
    let cycles = 0;
    const deadline = t0 + Number(args['backlog-timeout-s']) * 1000;
    let linked = 0;
    let lastProgress = -1;
    for (;;) {
      await stack.emulator.runScheduled('cataam-poll');
      cycles += 1;
      // Wait for the queue (continuations, delayed retries) to drain.
      for (;;) {
        await stack.emulator.idle({ includeDelayed: true, timeoutMs: Math.max(1000, deadline - Date.now()) });
        linked = issuesByFinding(stack.jira).size;
        if (linked !== lastProgress) {
          lastProgress = linked;
          process.stdout.write(`  poll ${cycles}: ${linked}/${expected} issues after ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
        }
        break;
      }
      if (linked >= expected || Date.now() > deadline || cycles >= 50) break;
    }
    const wallMs = Date.now() - t0;
    const byFinding = issuesByFinding(stack.jira);
    const issues = [...byFinding.values()].reduce((n, l) => n + l.length, 0);
    const duplicates = issues - byFinding.size;
    const jiraRequests = stack.jira.requestLog.length - jiraFrom;
    const jira429 = stack.jira.requestLog.slice(jiraFrom).filter((e) => e.status === 429).length;
    const inv = invocationFigures(stack.emulator, t0);
    // Where the Jira requests went: one line per endpoint (ids folded) and status.
    const breakdown = new Map();
    for (const e of stack.jira.requestLog.slice(jiraFrom)) {
      const k = `${e.method} ${e.path.replace(/\/(\d+|[A-Z][A-Z0-9]*-\d+)(?=\/|$)/g, '/{id}')} ${e.status}`;
      breakdown.set(k, (breakdown.get(k) ?? 0) + 1);
    }
    for (const [k, n] of [...breakdown].sort((a, b) => b[1] - a[1])) console.log(`  jira ${String(n).padStart(5)}  ${k}`);
    if (byFinding.size < expected) notes.push(`backlog: only ${byFinding.size} of ${expected} findings were ticketed before the timeout`);
    if (duplicates) notes.push(`backlog: ${duplicates} duplicate issues`);
    const out = {
      findings: N, expected, created: byFinding.size, duplicates, wallMs, cycles, jiraRequests, jira429,
      cataamRequests: stack.cataam.requestLog.length - cataamFrom, inv,
    };
    figures.set('backlog_findings', N);
    figures.set('backlog_created', byFinding.size);
    figures.set('backlog_duplicates', duplicates);
    figures.set('jira_requests_per_created_finding', jiraRequests / Math.max(1, byFinding.size));
    figures.set('backlog_wall_s', wallMs / 1000);
    figures.set('backlog_poll_cycles', cycles);
    figures.set('backlog_invocations', inv.count);
    figures.set('max_invocation_fraction_of_limit', inv.worst ? inv.worst.fraction : 0);
    figures.set('peak_rss_mb', inv.peakRssMb);
    figures.set('peak_heap_mb', inv.peakHeapMb);
    return out;
  } finally {
    await stack.close();
  }
}

async function benchNaive() {
  console.log(`\n# naive baseline: same ${N} findings, same simulators and settings, ${NAIVE_CONCURRENCY} requests in flight`);
  const cataam = await startCataamSim({ seed: SEED, findings: N, runDelayMs: 300 });
  const jira = await startJiraSim({
    appAccountId: APP_ACCOUNT_ID, users: [ADMIN, DEVELOPER], projects: PROJECTS, workflow: 'default', indexLagMs: 0,
    rateLimits: true, faults: { seed: SEED, latencyMs: BACKLOG_LATENCY_MS },
  });
  try {
    const apiKey = await cataam.createApiKey('Naive baseline');
    const r = await runNaive({ jiraUrl: jira.url, cataamUrl: cataam.url, apiKey, projectKey: 'SEC', concurrency: NAIVE_CONCURRENCY });
    figures.set('naive_backlog_wall_s', r.wallMs / 1000);
    figures.set('naive_jira_requests_per_created_finding', r.jiraRequests / Math.max(1, r.created));
    return r;
  } finally {
    await jira.close();
    await cataam.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Real-time push

async function benchPush() {
  const n = Math.max(PUSHES, 50);
  console.log(`\n# real-time: ${PUSHES} pushes, ${PUSH_LATENCY_MS} ms latency on Jira and CATAAM`);
  const stack = await startStack({
    findings: n, seed: SEED + 1,
    jira: { faults: { seed: SEED + 1, latencyMs: PUSH_LATENCY_MS } },
    cataam: { faults: { seed: SEED + 1, latencyMs: [PUSH_LATENCY_MS, PUSH_LATENCY_MS] } },
  });
  try {
    // Ticket everything first (the pushes then move existing issues).
    for (let i = 0; i < 10; i++) {
      await stack.sync();
      await stack.emulator.idle({ includeDelayed: true, timeoutMs: 120_000 });
      if (issuesByFinding(stack.jira).size >= stack.cataam.findings().filter(isTicketable).length) break;
    }
    const linked = [...issuesByFinding(stack.jira).entries()].map(([fid, list]) => ({ fid, key: list[0].key }));
    if (!linked.length) throw new Error('real-time: the app ticketed nothing, so there is nothing to push');
    const samples = [];
    const calls = [];
    const misses = [];
    for (let i = 0; i < PUSHES; i++) {
      const { fid, key } = linked[i % linked.length];
      const f = stack.cataam.finding(fid);
      const closing = !(f.status === 'RESOLVED' || f.status === 'FALSE_POSITIVE');
      const want = closing ? 'done' : 'new';
      const from = stack.jira.requestLog.length;
      const t0 = performance.now();
      if (closing) stack.cataam.resolve(fid);
      else stack.cataam.reopen(fid);
      let seen = false;
      const until = t0 + 15_000;
      while (performance.now() < until) {
        if (stack.jira.issue(key)?.fields?.status?.statusCategory?.key === want) {
          seen = true;
          break;
        }
        await sleep(2);
      }
      const ms = performance.now() - t0;
      await stack.emulator.idle({ includeDelayed: false, timeoutMs: 30_000 });
      await stack.cataam.idle({ timeoutMs: 30_000 }).catch(() => {});
      calls.push(stack.jira.requestLog.slice(from).filter((e) => e.actor === APP_ACCOUNT_ID).length);
      if (seen) samples.push(ms);
      else misses.push(fid);
    }
    if (misses.length) notes.push(`real-time: ${misses.length} of ${PUSHES} pushes not visible in Jira within 15 s`);
    figures.set('push_samples', samples.length);
    figures.set('push_p50_ms', percentile(samples, 50));
    figures.set('push_p95_ms', percentile(samples, 95));
    figures.set('jira_calls_per_push', calls.reduce((a, b) => a + b, 0) / Math.max(1, calls.length));
    return { samples, misses: misses.length };
  } finally {
    await stack.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Core

function runFigures(cmd, argv, label) {
  const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    notes.push(`${label}: \`${cmd} ${argv.join(' ')}\` failed (${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' / ')}`);
    return {};
  }
  return parseFigureLines(r.stdout);
}

async function benchCore() {
  console.log('\n# core');
  const wasmFile = join(ROOT, 'build/wasm/cataam_jira_bg.wasm');
  if (existsSync(wasmFile)) {
    const wasm = readFileSync(wasmFile);
    figures.set('wasm_bytes', wasm.length);
    figures.set('wasm_gzip_bytes', gzipSync(wasm, { level: 9 }).length);
  } else notes.push('core: build/wasm/cataam_jira_bg.wasm missing (run node scripts/build.mjs)');
  if (existsSync(join(ROOT, 'build/app/index.js'))) {
    figures.set('app_bundle_bytes', readFileSync(join(ROOT, 'build/app/index.js')).length);
  }
  // Cold start: the build's own probe (fresh process: load bundle, compile, instantiate, first call).
  const colds = [];
  for (let i = 0; i < 7; i++) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/cold-start.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (r.status === 0) colds.push(JSON.parse(r.stdout).coldStartMs);
    else if (i === 0) notes.push(`core: scripts/cold-start.mjs failed: ${(r.stderr || '').trim().split('\n').slice(-2).join(' / ')}`);
  }
  if (colds.length) figures.set('cold_start_ms', percentile(colds, 50));
  const cargo = (example) => runFigures('cargo', ['run', '-q', '--release', '--example', example], example);
  const plan = existsSync(join(ROOT, 'examples/plan_bench.rs')) ? cargo('plan_bench') : {};
  if (plan.plan_page_us !== undefined) figures.set('plan_page_us', plan.plan_page_us);
  const hmac = existsSync(join(ROOT, 'examples/hmac_bench.rs')) ? cargo('hmac_bench') : {};
  if (hmac.hmac_verify_us !== undefined) figures.set('hmac_verify_us', hmac.hmac_verify_us);
  else notes.push('core: hmac_verify_us not measured (examples/hmac_bench.rs missing or failed)');
  // Warm invocation: a cheap resolver call through the emulator, many times.
  const stack = await startStack({ findings: 10, seed: SEED });
  try {
    const e2e = [];
    const inside = [];
    for (let i = 0; i < 220; i++) {
      const t0 = performance.now();
      const r = await stack.invoke('getSettings', {});
      const ms = performance.now() - t0;
      if (!r?.ok) throw new Error(`getSettings failed: ${JSON.stringify(r)}`);
      if (i >= 20) {
        e2e.push(ms);
        inside.push(stack.emulator.invocations.at(-1).durationMs);
      }
    }
    figures.set('warm_invocation_ms', percentile(e2e, 50));
    figures.set('warm_invocation_in_container_ms', percentile(inside, 50));
  } finally {
    await stack.close();
  }
}

// ---------------------------------------------------------------------------------------------

const started = Date.now();
const { loadavg, cpus } = await import('node:os');
const loadAtStart = loadavg()[0];
let backlog = null;
let naive = null;
let push = null;
const stages = [
  ['core', async () => benchCore()],
  ['backlog', async () => { backlog = await benchBacklog(); }],
  ['naive', async () => { naive = await benchNaive(); }],
  ['push', async () => { push = await benchPush(); }],
];
let failed = false;
for (const [name, fn] of stages) {
  if (skip.has(name)) continue;
  try {
    await fn();
  } catch (e) {
    failed = true;
    notes.push(`${name}: failed: ${e.message}`);
    console.error(`bench ${name} failed:`, e);
  }
}
if (backlog && naive) {
  figures.set('backlog_speedup_vs_naive', naive.wallMs / backlog.wallMs);
  figures.set('jira_requests_ratio_naive_to_app', figures.get('naive_jira_requests_per_created_finding') / figures.get('jira_requests_per_created_finding'));
}
figures.set('bench_wall_s', (Date.now() - started) / 1000);
const loadAtEnd = loadavg()[0];
if (Math.max(loadAtStart, loadAtEnd) > cpus().length) {
  notes.push(`the machine was shared: 1-minute load average ${loadAtStart.toFixed(1)} at the start and ${loadAtEnd.toFixed(1)} ` +
    `at the end on ${cpus().length} CPUs, so wall times are pessimistic`);
}

const f = (n, unit = '') => (figures.get(n) === undefined ? '—' : `${formatValue(figures.get(n))}${unit}`);
const rows = [
  ['Backlog', 'findings / ticketed', `${f('backlog_findings')} / ${f('backlog_created')}`],
  ['Backlog', 'Jira requests per created finding (app / naive)', `${f('jira_requests_per_created_finding')} / ${f('naive_jira_requests_per_created_finding')}`],
  ['Backlog', 'wall time (app / naive)', `${f('backlog_wall_s', ' s')} / ${f('naive_backlog_wall_s', ' s')}`],
  ['Backlog', 'speed-up vs naive', f('backlog_speedup_vs_naive', '×')],
  ['Backlog', 'invocations used (poll cycles)', `${f('backlog_invocations')} (${f('backlog_poll_cycles')})`],
  ['Backlog', 'longest invocation / its Forge limit', f('max_invocation_fraction_of_limit')],
  ['Backlog', 'peak RSS / peak function heap', `${f('peak_rss_mb', ' MB')} / ${f('peak_heap_mb', ' MB')}`],
  ['Real-time', 'push → Jira visible p50 / p95', `${f('push_p50_ms', ' ms')} / ${f('push_p95_ms', ' ms')}`],
  ['Real-time', 'Jira calls per push', f('jira_calls_per_push')],
  ['Core', 'wasm raw / gzip', `${f('wasm_bytes', ' B')} / ${f('wasm_gzip_bytes', ' B')}`],
  ['Core', 'cold start (load + compile + first call)', f('cold_start_ms', ' ms')],
  ['Core', 'warm invocation (getSettings via emulator)', f('warm_invocation_ms', ' ms')],
  ['Core', 'planner, one 50-finding page', f('plan_page_us', ' µs')],
  ['Core', 'HMAC verification per request', f('hmac_verify_us', ' µs')],
];
printTable('CATAAM Jira integration — benchmarks', ['area', 'measure', 'value'], rows);
if (backlog?.inv?.worst) {
  const w = backlog.inv.worst;
  console.log(`\nlongest invocation: ${w.functionKey} (${w.kind}) ${w.durationMs} ms of ${w.limitMs} ms`);
}
for (const n of notes) console.log(`note: ${n}`);

if (!args['no-write']) {
  const w = backlog?.inv?.worst;
  const body = [
    '## Benchmarks',
    '',
    `Generated by \`node bench/run.mjs\` on ${new Date().toISOString().slice(0, 10)} — Node ${process.versions.node}, ` +
      `${cpus().length} CPUs. Backlog: ${N} generated findings (seed ${SEED}), Jira ` +
      `simulator with ${BACKLOG_LATENCY_MS} ms latency per request and its rate limits on (token bucket per ` +
      `endpoint, 20 writes per 2 s per issue). The naive baseline is \`bench/naive.mjs\`: one \`POST /issue\` then one ` +
      `\`PUT …/properties/cataam.finding\` per finding, ${NAIVE_CONCURRENCY} requests in flight (more parallel than a ` +
      'plain loop, so the ratio is conservative), honouring Retry-After. Real-time: each sample changes one finding ' +
      `in CATAAM and times until the linked issue shows the new status category, ${PUSH_LATENCY_MS} ms latency on both ` +
      'simulators, one push at a time.',
    '',
    '![Benchmarks](img/performance.svg)',
    '',
    mdTable(['area', 'measure', 'value'], rows),
    '',
    w ? `Longest invocation: \`${w.functionKey}\` (${w.kind}), ${w.durationMs} ms of its ${w.limitMs} ms limit. ` +
      'Peak RSS is the emulator process as a whole (all containers and both simulators share it); peak heap is the ' +
      'largest V8 heap of one function container.' : '',
    '',
    notes.length ? `Notes from this run:\n\n${notes.map((n) => `- ${n}`).join('\n')}\n` : '',
    '```',
    ...figures.lines(),
    '```',
  ].join('\n');
  writeSection('bench', body);
  const panels = [];
  if (figures.get('backlog_wall_s') !== undefined && figures.get('naive_backlog_wall_s') !== undefined) {
    panels.push({ title: `Backlog of ${N} findings: wall time`, unit: 's', bars: [
      { label: 'CATAAM app (bulk, queue)', value: figures.get('backlog_wall_s'), accent: true },
      { label: 'naive client', value: figures.get('naive_backlog_wall_s') },
    ] });
    panels.push({ title: 'Jira requests per created finding', unit: '', bars: [
      { label: 'CATAAM app', value: figures.get('jira_requests_per_created_finding'), accent: true },
      { label: 'naive client', value: figures.get('naive_jira_requests_per_created_finding') },
    ] });
  }
  if (figures.get('push_p50_ms') !== undefined) {
    panels.push({ title: 'Push → Jira state visible', unit: 'ms', bars: [
      { label: 'p50', value: figures.get('push_p50_ms'), accent: true },
      { label: 'p95', value: figures.get('push_p95_ms'), accent: true },
    ] });
  }
  if (panels.length) {
    writeSvg(barChartSvg({
      title: 'CATAAM Jira integration — benchmarks',
      subtitle: `node bench/run.mjs · ${BACKLOG_LATENCY_MS} ms Jira latency, rate limits on · Node ${process.versions.node}`,
      panels,
    }));
  }
  console.log('\nwrote docs/performance.md (bench section) and docs/img/performance.svg');
}
process.exit(failed ? 1 : 0);
