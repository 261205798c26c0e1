// CATAAM simulator: a real HTTP server on 127.0.0.1 implementing docs/cataam-api.yaml (API-key
// auth, findings with keyset paging, asynchronous compliance runs, webhook registration), signed
// push deliveries with retries, seeded fault injection, JSON persistence, and the HTML console
// (findings, API keys, Jira (Forge App) integration settings). See README.md beside this file.

import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateFindings, generateFinding, makeRng, ulid, failureLogs, passLogs, testOf,
} from './generator.mjs';
import { makeFaults, normaliseFaults } from './faults.mjs';
import { Pusher } from './push.mjs';
import { handleConsole } from './console.mjs';

const STATUSES = ['OPEN', 'ACKNOWLEDGED', 'RESOLVED', 'FALSE_POSITIVE'];
const CLOSED = new Set(['RESOLVED', 'FALSE_POSITIVE']);
const MAX_BODY = 1024 * 1024;
// Generated data is anchored here (or at "now" if the clock is earlier), so it is identical for a
// seed and never lies in the future.
const DEFAULT_EPOCH = Date.parse('2026-11-01T00:00:00.000Z');
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** SHA-256 hex of a raw API key (the only form in which keys are stored). */
export function hashApiKey(raw) {
  return createHash('sha256').update(raw, 'utf8').digest('hex');
}

/** A new raw API key: `cataam_` + 40 base62 characters from the CSPRNG. */
export function newRawApiKey() {
  let s = '';
  while (s.length < 40) {
    for (const b of randomBytes(48)) {
      if (b < 248 && s.length < 40) s += KEY_ALPHABET[b % 62];
    }
  }
  return `cataam_${s}`;
}

function randomId(prefix) {
  const bytes = randomBytes(16);
  let i = 0;
  return `${prefix}${ulid(Date.now(), () => bytes[i++ % 16] / 256)}`;
}

class ApiError extends Error {
  constructor(status, code, message, headers = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

function isRealDate(s) {
  if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

function encodeCursor(ms, id) {
  return Buffer.from(JSON.stringify({ v: 1, u: ms, i: id })).toString('base64url');
}

function decodeCursor(s) {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (c && c.v === 1 && Number.isSafeInteger(c.u) && typeof c.i === 'string' && c.i.length < 64) return c;
  } catch { /* fall through */ }
  return null;
}

/** Validates a PATCH body; returns the normalised patch or throws `ApiError` 400. */
export function validatePatch(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'INVALID_BODY', 'The body must be a JSON object.');
  }
  const keys = Object.keys(body);
  const unknown = keys.filter((k) => !['status', 'dueDate', 'assignedTo'].includes(k));
  if (unknown.length) throw new ApiError(400, 'INVALID_BODY', `Unknown field(s): ${unknown.join(', ')}.`);
  if (!keys.length) throw new ApiError(400, 'INVALID_BODY', 'Give at least one of status, dueDate, assignedTo.');
  const out = {};
  if ('status' in body) {
    if (!STATUSES.includes(body.status)) throw new ApiError(400, 'INVALID_STATUS', `status must be one of ${STATUSES.join(', ')}.`);
    out.status = body.status;
  }
  if ('dueDate' in body) {
    if (body.dueDate !== null && !isRealDate(body.dueDate)) throw new ApiError(400, 'INVALID_DUE_DATE', 'dueDate must be a calendar date YYYY-MM-DD or null.');
    out.dueDate = body.dueDate;
  }
  if ('assignedTo' in body) {
    const a = body.assignedTo;
    if (a === null) out.assignedTo = null;
    else {
      const bad = (m) => new ApiError(400, 'INVALID_ASSIGNED_TO', m);
      if (typeof a !== 'object' || Array.isArray(a)) throw bad('assignedTo must be an object or null.');
      const extra = Object.keys(a).filter((k) => !['accountId', 'displayName', 'email'].includes(k));
      if (extra.length) throw bad(`Unknown assignedTo field(s): ${extra.join(', ')}.`);
      if (typeof a.accountId !== 'string' || !a.accountId || a.accountId.length > 128) throw bad('assignedTo.accountId must be a non-empty string (≤ 128 characters).');
      for (const k of ['displayName', 'email']) {
        if (a[k] !== undefined && a[k] !== null && (typeof a[k] !== 'string' || a[k].length > 255)) throw bad(`assignedTo.${k} must be a string (≤ 255 characters) or null.`);
      }
      out.assignedTo = { accountId: a.accountId, displayName: a.displayName ?? null, email: a.email ?? null };
    }
  }
  return out;
}

function sameJson(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Starts the simulator. Options (all optional): `port` (0), `dataDir` (null = memory only),
 * `seed` (1), `findings` (25), `runDelayMs` (0), `faults` (off), `apiKeys` ([{ name, raw }]),
 * `sharedSecret`, `orgName`, `appUrl` ('https://app.cataam.com' | 'self'), `epoch` (generator
 * anchor), `push` ({ maxAttempts, baseDelayMs, maxDelayMs, timeoutMs }).
 */
export async function startCataamSim(options = {}) {
  const opts = {
    port: 0, host: '127.0.0.1', dataDir: null, seed: 1, findings: 25, runDelayMs: 0, faults: null,
    apiKeys: [], sharedSecret: null, orgName: 'Acme Security', appUrl: 'https://app.cataam.com',
    epoch: Math.min(DEFAULT_EPOCH, Date.now()), push: {}, ...options,
  };
  const epochMs = typeof opts.epoch === 'string' ? Date.parse(opts.epoch) : opts.epoch;
  const file = opts.dataDir ? join(opts.dataDir, 'cataam-sim.json') : null;

  // ---- state -------------------------------------------------------------------------------
  let state;
  if (file && existsSync(file)) {
    state = JSON.parse(readFileSync(file, 'utf8'));
  } else {
    const seeded = generateFindings(opts.seed, opts.findings, epochMs);
    const orgRng = makeRng(`org:${opts.seed}`);
    state = {
      version: 1,
      org: { id: `org_${ulid(epochMs - 400 * 86_400_000, orgRng)}`, name: opts.orgName },
      findings: seeded,
      apiKeys: [],
      webhook: { url: null, registeredAt: null },
      sharedSecret: null,
      testOutcomes: {},
      runs: [],
      deliveries: [],
      lastStamp: Math.max(0, ...seeded.map((f) => Date.parse(f.updatedAt))),
      counter: 0,
    };
  }
  const findings = new Map(state.findings.map((f) => [f.id, f]));
  const runs = new Map(state.runs.map((r) => [r.runId, r]));
  const runTimers = new Map();
  let creationRng = makeRng(`created:${opts.seed}:${state.counter ?? 0}`);

  const now = () => Date.now();
  const stamp = () => {
    state.lastStamp = Math.max(now(), state.lastStamp + 1);
    return state.lastStamp;
  };

  // ---- persistence ---------------------------------------------------------------------------
  let saveTimer = null;
  const snapshot = () => ({
    ...state,
    findings: [...findings.values()],
    runs: [...runs.values()],
    deliveries: pusher.log.slice(-200),
  });
  const flush = () => {
    if (saveTimer) { clearTimeout(saveTimer); saveTimer = null; }
    if (!file) return;
    mkdirSync(opts.dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(snapshot()));
    renameSync(tmp, file);
  };
  const save = () => {
    if (!file || saveTimer) return;
    saveTimer = setTimeout(flush, 250);
  };

  // ---- faults and push ---------------------------------------------------------------------
  let faults = makeFaults(opts.faults);
  const keyByHash = new Map();
  const rebuildKeys = () => {
    keyByHash.clear();
    for (const k of state.apiKeys) keyByHash.set(k.hash, k);
  };
  const pusher = new Pusher({
    getTarget: () => ({ url: state.webhook.url, secret: state.sharedSecret }),
    faults: () => faults,
    options: opts.push,
    onLog: () => save(),
  });
  pusher.log.push(...(state.deliveries ?? []));

  for (const k of opts.apiKeys ?? []) {
    if (!k.raw?.startsWith('cataam_')) throw new TypeError('apiKeys[].raw must start with cataam_');
    const hash = hashApiKey(k.raw);
    if (!state.apiKeys.some((x) => x.hash === hash)) {
      state.apiKeys.push({ id: randomId('key_'), name: k.name, hash, createdAt: new Date().toISOString(), lastUsedAt: null });
    }
  }
  rebuildKeys();
  if (opts.sharedSecret) state.sharedSecret = opts.sharedSecret;

  // ---- findings ----------------------------------------------------------------------------
  let baseUrl = '';
  const appUrl = () => (opts.appUrl === 'self' ? baseUrl : String(opts.appUrl).replace(/\/+$/, ''));
  const publicFinding = (f) => {
    const { id, kind, status, severity, title, description, remediation, complianceControls, mitre, asset,
      compliance, dueDate, assignedTo, createdAt, updatedAt } = f;
    return structuredClone({
      id, kind, status, severity, title, description, remediation, complianceControls, mitre, asset,
      compliance, dueDate, assignedTo, url: `${appUrl()}/findings/${id}`, createdAt, updatedAt,
    });
  };
  const getFinding = (id) => {
    const f = findings.get(id);
    if (!f) throw new ApiError(404, 'NOT_FOUND', `No finding ${String(id).slice(0, 64)}.`);
    return f;
  };

  /** Applies `patch` (already validated) to finding `id`; pushes the matching event. */
  const change = (id, patch, compliancePatch = null) => {
    const f = getFinding(id);
    const before = f.status;
    let changed = false;
    for (const [k, v] of Object.entries(patch)) {
      if (!sameJson(f[k], v)) { f[k] = structuredClone(v); changed = true; }
    }
    if (compliancePatch && f.compliance) {
      f.compliance = { ...f.compliance, ...compliancePatch };
      changed = true;
    }
    if (!changed) return f;
    f.updatedAt = new Date(stamp()).toISOString();
    let type = 'finding.updated';
    if (f.status !== before) {
      if (f.status === 'RESOLVED') type = 'finding.resolved';
      else if (CLOSED.has(before) && !CLOSED.has(f.status)) type = 'finding.reopened';
    }
    save();
    pusher.emit(type, [f.id]);
    return f;
  };

  const createFinding = (o = {}) => {
    state.counter = (state.counter ?? 0) + 1;
    const ms = stamp();
    const f = generateFinding(creationRng, ms, ms, { status: 'OPEN', ...o });
    findings.set(f.id, f);
    save();
    pusher.emit('finding.created', [f.id]);
    return f;
  };

  const findingByTest = (testId) => {
    for (const f of findings.values()) if (f.compliance?.testId === testId) return f;
    return null;
  };

  // ---- compliance runs ----------------------------------------------------------------------
  const finishRun = (run) => {
    if (run.status !== 'RUNNING') return;
    clearTimeout(runTimers.get(run.runId));
    runTimers.delete(run.runId);
    const f = findingByTest(run.testId);
    const cfg = state.testOutcomes[run.testId] ?? { outcome: 'FAIL', logs: null };
    const t = now();
    let logs = cfg.logs;
    if (!logs && f) {
      const test = testOf(f);
      const start = Date.parse(run.startedAt);
      logs = cfg.outcome === 'FAIL' ? failureLogs(test, makeRng(`run:${run.runId}`), start) : passLogs(test, start);
    }
    run.status = cfg.outcome;
    run.logs = logs ?? (cfg.outcome === 'FAIL' ? 'result=FAIL' : 'result=PASS');
    run.finishedAt = new Date(t).toISOString();
    if (f) change(f.id, {}, { result: cfg.outcome, logs: run.logs });
    save();
  };
  const settleRuns = () => {
    const t = now();
    for (const run of runs.values()) if (run.status === 'RUNNING' && run.dueAt <= t) finishRun(run);
  };
  const armRun = (run) => {
    const timer = setTimeout(() => finishRun(run), Math.max(0, run.dueAt - now()));
    runTimers.set(run.runId, timer);
  };
  const startRun = (testId) => {
    if (!findingByTest(testId)) throw new ApiError(404, 'NOT_FOUND', `No compliance test ${String(testId).slice(0, 64)}.`);
    const t = now();
    const run = { runId: randomId('run_'), testId, status: 'RUNNING', logs: null, startedAt: new Date(t).toISOString(), finishedAt: null, dueAt: t + opts.runDelayMs };
    runs.set(run.runId, run);
    armRun(run);
    save();
    return run;
  };
  const publicRun = ({ runId, testId, status, logs, startedAt, finishedAt }) => ({ runId, testId, status, logs, startedAt, finishedAt });
  for (const run of runs.values()) if (run.status === 'RUNNING') armRun(run);

  const setTestOutcome = (testId, outcome, logs = null) => {
    if (!findingByTest(testId)) throw new Error(`no compliance test ${testId}`);
    if (outcome !== 'PASS' && outcome !== 'FAIL') throw new TypeError('outcome must be PASS or FAIL');
    state.testOutcomes[testId] = { outcome, logs: logs || null };
    save();
  };

  // ---- API keys, webhook -----------------------------------------------------------------------
  const createApiKey = (name) => {
    const n = String(name ?? '').trim();
    if (!n || n.length > 80) throw new Error('Give the key a descriptive name (1–80 characters).');
    if (state.apiKeys.some((k) => k.name === n)) throw new Error(`A key named "${n}" already exists.`);
    const raw = newRawApiKey();
    state.apiKeys.push({ id: randomId('key_'), name: n, hash: hashApiKey(raw), createdAt: new Date().toISOString(), lastUsedAt: null });
    rebuildKeys();
    flush();
    return raw;
  };
  const revokeKey = (pred) => {
    const before = state.apiKeys.length;
    state.apiKeys = state.apiKeys.filter((k) => !pred(k));
    rebuildKeys();
    flush();
    return state.apiKeys.length < before;
  };
  const setSharedSecret = (s) => {
    state.sharedSecret = s ? String(s) : null;
    flush();
  };
  const registerWebhook = (url) => {
    state.webhook = { url, registeredAt: new Date(now()).toISOString() };
    flush();
    return { ...state.webhook };
  };
  const webhookStatus = () => ({ url: state.webhook.url, registeredAt: state.webhook.registeredAt, sharedSecretSet: !!state.sharedSecret });

  // ---- HTTP --------------------------------------------------------------------------------
  const requestLog = [];
  // Append-only (never trimmed): callers remember `requestLog.length` and slice from it.
  const logRequest = (e) => requestLog.push(e);
  const hanging = new Set();

  const readBody = (req) => new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new ApiError(413, 'BODY_TOO_LARGE', 'Request bodies are limited to 1 MiB.')); req.resume(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
  const parseJson = (text, { optional = false } = {}) => {
    if (!text.trim()) {
      if (optional) return {};
      throw new ApiError(400, 'INVALID_BODY', 'A JSON body is required.');
    }
    try { return JSON.parse(text); } catch { throw new ApiError(400, 'INVALID_BODY', 'The body is not valid JSON.'); }
  };
  const sendJson = (res, status, body, headers = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const authenticate = (req) => {
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    const key = m && m[1].startsWith('cataam_') ? keyByHash.get(hashApiKey(m[1])) : null;
    if (!key) throw new ApiError(401, 'KEY_REJECTED', 'Missing, unknown or revoked API key.', { 'www-authenticate': 'Bearer realm="cataam"' });
    key.lastUsedAt = new Date().toISOString();
    return key;
  };

  const listFindings = (q) => {
    let since = null;
    const raw = q.get('updatedSince');
    if (raw !== null) {
      const s = raw.replace(/ (\d{2}:\d{2})$/, '+$1'); // a '+' offset that arrived unencoded
      if (!RFC3339.test(s) || Number.isNaN(Date.parse(s))) throw new ApiError(400, 'INVALID_UPDATED_SINCE', 'updatedSince must be an RFC 3339 date-time.');
      since = Date.parse(s);
    }
    let limit = 100;
    if (q.get('limit') !== null) {
      const l = q.get('limit');
      if (!/^\d+$/.test(l) || +l < 1 || +l > 200) throw new ApiError(400, 'INVALID_LIMIT', 'limit must be an integer from 1 to 200.');
      limit = +l;
    }
    let after = null;
    if (q.get('cursor') !== null) {
      after = decodeCursor(q.get('cursor'));
      if (!after) throw new ApiError(400, 'INVALID_CURSOR', 'cursor is not a cursor this server issued.');
    }
    const rows = [];
    for (const f of findings.values()) {
      const u = Date.parse(f.updatedAt);
      if (since !== null && u < since) continue;
      if (after && (u < after.u || (u === after.u && f.id <= after.i))) continue;
      rows.push([u, f.id, f]);
    }
    rows.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => publicFinding(r[2])),
      nextCursor: rows.length > limit ? encodeCursor(last[0], last[1]) : null,
    };
  };

  const api = async (req, res, path, q) => {
    authenticate(req);
    settleRuns();
    const method = req.method;
    const allow = (...methods) => {
      if (!methods.includes(method)) throw new ApiError(405, 'METHOD_NOT_ALLOWED', `Use ${methods.join(' or ')}.`, { allow: methods.join(', ') });
    };
    let m;
    if (path === '/api/v1/org') {
      allow('GET');
      return sendJson(res, 200, { ...state.org });
    }
    if (path === '/api/v1/findings') {
      allow('GET');
      return sendJson(res, 200, listFindings(q));
    }
    if ((m = /^\/api\/v1\/findings\/([^/]+)$/.exec(path))) {
      allow('GET', 'PATCH');
      const id = decodeURIComponent(m[1]);
      if (method === 'GET') return sendJson(res, 200, publicFinding(getFinding(id)));
      getFinding(id);
      const patch = validatePatch(parseJson(await readBody(req)));
      return sendJson(res, 200, publicFinding(change(id, patch)));
    }
    if ((m = /^\/api\/v1\/compliance-tests\/([^/]+)\/runs$/.exec(path))) {
      allow('POST');
      const body = parseJson(await readBody(req), { optional: true });
      if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length) {
        throw new ApiError(400, 'INVALID_BODY', 'The body must be an empty JSON object.');
      }
      return sendJson(res, 202, publicRun(startRun(decodeURIComponent(m[1]))));
    }
    if ((m = /^\/api\/v1\/compliance-tests\/([^/]+)\/runs\/([^/]+)$/.exec(path))) {
      allow('GET');
      const run = runs.get(decodeURIComponent(m[2]));
      if (!run || run.testId !== decodeURIComponent(m[1])) throw new ApiError(404, 'NOT_FOUND', 'No such run.');
      return sendJson(res, 200, publicRun(run));
    }
    if (path === '/api/v1/integrations/jira-forge/webhook') {
      allow('GET', 'PUT');
      if (method === 'GET') return sendJson(res, 200, webhookStatus());
      const body = parseJson(await readBody(req));
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'INVALID_BODY', 'The body must be a JSON object.');
      const extra = Object.keys(body).filter((k) => k !== 'url');
      if (extra.length) throw new ApiError(400, 'INVALID_BODY', `Unknown field(s): ${extra.join(', ')}.`);
      let u;
      try { u = new URL(body.url); } catch { u = null; }
      if (typeof body.url !== 'string' || body.url.length > 2048 || !u || !['http:', 'https:'].includes(u.protocol)) {
        throw new ApiError(400, 'INVALID_URL', 'url must be an absolute http(s) URL.');
      }
      return sendJson(res, 200, registerWebhook(body.url));
    }
    throw new ApiError(404, 'NOT_FOUND', 'No such endpoint.');
  };

  const consoleCtx = {
    get state() { return state; },
    findings: () => [...findings.values()],
    finding: (id) => findings.get(id) ?? null,
    publicFinding,
    change,
    createFinding,
    startRun,
    setTestOutcome,
    runs: () => [...runs.values()],
    createApiKey,
    revokeKeyById: (id) => revokeKey((k) => k.id === id),
    setSharedSecret,
    webhookStatus,
    deliveries: () => pusher.log,
    settleRuns,
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const path = url.pathname;
    const entry = { at: new Date().toISOString(), method: req.method, path, query: url.search.slice(1), status: null, fault: null };
    res.on('finish', () => { entry.status = res.statusCode; });
    if (!path.startsWith('/api/')) {
      try {
        await handleConsole(req, res, url, consoleCtx);
      } catch (err) {
        if (!res.headersSent) { res.writeHead(500, { 'content-type': 'text/plain' }); res.end(`Internal error: ${err.message}`); }
      }
      return;
    }
    logRequest(entry);
    const plan = faults.api();
    if (plan.latencyMs) await new Promise((r) => setTimeout(r, plan.latencyMs));
    if (plan.kind) entry.fault = plan.kind;
    if (plan.kind === 'timeout') {
      const t = setTimeout(() => { hanging.delete(t); req.socket.destroy(); }, faults.config.hangMs);
      hanging.add(t);
      return;
    }
    if (plan.kind === '429') {
      const ra = faults.config.retryAfterSeconds;
      return sendJson(res, 429, { error: { code: 'RATE_LIMITED', message: `Too many requests; retry after ${ra} s.` } }, { 'retry-after': String(ra) });
    }
    if (plan.kind === '5xx') {
      return sendJson(res, plan.status, { error: { code: plan.status === 500 ? 'INTERNAL' : 'UNAVAILABLE', message: 'Temporary server error; retry with backoff.' } });
    }
    if (plan.kind === 'drop') {
      // The request is processed, but the answer is lost: the client sees a reset connection.
      const sink = { headersSent: false, on() {}, writeHead() { return this; }, setHeader() {}, end() {} };
      try { await api(req, sink, path, url.searchParams); } catch { /* answer is dropped anyway */ }
      req.socket.destroy();
      return;
    }
    try {
      await api(req, res, path, url.searchParams);
    } catch (err) {
      if (err instanceof ApiError) return sendJson(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
      return sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error.' } });
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  baseUrl = `http://${opts.host}:${server.address().port}`;
  flush();

  return {
    url: baseUrl,
    findings: () => [...findings.values()].map(publicFinding),
    finding: (id) => (findings.has(id) ? publicFinding(findings.get(id)) : null),
    resolve: (id) => publicFinding(change(id, { status: 'RESOLVED' })),
    reopen: (id) => publicFinding(change(id, { status: 'OPEN' })),
    acknowledge: (id) => publicFinding(change(id, { status: 'ACKNOWLEDGED' })),
    markFalsePositive: (id) => publicFinding(change(id, { status: 'FALSE_POSITIVE' })),
    update: (id, patch) => publicFinding(change(id, validatePatch(patch))),
    createFinding: (o) => publicFinding(createFinding(o)),
    setTestOutcome,
    runComplianceTest: (testId) => publicRun(startRun(testId)),
    runs: () => { settleRuns(); return [...runs.values()].map(publicRun); },
    createApiKey,
    revokeApiKey: (name) => revokeKey((k) => k.name === name),
    apiKeys: () => state.apiKeys.map(({ id, name, createdAt, lastUsedAt }) => ({ id, name, createdAt, lastUsedAt })),
    setSharedSecret,
    registerWebhook,
    webhook: webhookStatus,
    get deliveries() { return pusher.log; },
    requestLog,
    setFaults: (f) => { normaliseFaults(f); faults = makeFaults(f); },
    /** Resolves once no push delivery is scheduled or in flight and no run is pending. */
    async idle({ timeoutMs = 10_000 } = {}) {
      const end = Date.now() + timeoutMs;
      while (pusher.busy() || [...runs.values()].some((r) => r.status === 'RUNNING')) {
        if (Date.now() > end) throw new Error('cataam-sim: not idle within timeout');
        settleRuns();
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    flush,
    async close() {
      for (const t of hanging) clearTimeout(t);
      hanging.clear();
      for (const t of runTimers.values()) clearTimeout(t);
      runTimers.clear();
      await pusher.close();
      flush();
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r()));
    },
  };
}

// `node dev/cataam-sim/index.mjs [port]`: run the simulator on its own (prints a fresh API key).
if (process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  const sim = await startCataamSim({ port: Number(process.argv[2] ?? 4100), findings: 40, runDelayMs: 2000, appUrl: 'self' });
  const key = sim.createApiKey(`Standalone ${new Date().toISOString().slice(0, 19)}`);
  console.log(`CATAAM simulator: ${sim.url}/console/findings\nAPI key (shown once): ${key}`);
  const stop = async () => { await sim.close(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
