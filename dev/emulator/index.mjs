// Local Forge platform emulator: runs a Forge app's handlers with the unchanged @forge/* SDKs
// by providing what the Forge runtime provides (see README.md and docs/internals.md).
//
// One HTTP server on 127.0.0.1 serves web triggers (`/x/<id>`), product events
// (`POST /__platform/product-events`), the admin page (`/admin/?as=<accountId>`), the bridge
// (`POST /__bridge/<accountId>/invoke`) and the internal endpoint the containers' `__forge_fetch__`
// calls (`/__forge/proxy`: KVS, product REST, stargate GraphQL, queue publish).

import { createServer } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve, extname, sep } from 'node:path';
import { StateStore } from './store.mjs';
import { Kvs } from './kvs.mjs';
import { loadManifest, INTERVAL_SECONDS } from './manifest.mjs';
import { FunctionPool, TimeoutError } from './pool.mjs';
import { frameHtml, bridgeScript, injectBridge, customUiCsp, MIME } from './admin.mjs';

/** Default invocation deadlines per module kind, in ms. */
export const DEFAULT_DEADLINES = { resolver: 25_000, webtrigger: 55_000, scheduledTrigger: 55_000, consumer: 55_000, trigger: 25_000 };
/** Retries after the first attempt for queue events and product events (Forge: 4). */
export const MAX_RETRIES = 4;
/** Queue push limits (as @forge/events and the platform enforce them). */
export const QUEUE_LIMITS = { maxEvents: 50, maxPayloadKb: 200, maxDelaySeconds: 900, maxRetryAfterSeconds: 900 };
/** Largest web trigger request body accepted (Forge function payload limit). */
export const MAX_WEBTRIGGER_BODY = 5 * 1024 * 1024;
/** How many invocation records `platform.invocations` keeps. */
export const MAX_RECORDS = 10_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'accept-encoding']);

function readBody(req, limit = Infinity) {
  return new Promise((resolveBody, rejectBody) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        rejectBody(Object.assign(new Error('payload too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks)));
    req.on('error', rejectBody);
  });
}

function sendJson(res, status, body, headers = {}) {
  if (status === 204 || body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

/**
 * Starts the emulator.
 * @param {object} options see README.md ("Options")
 */
export async function startEmulator(options = {}) {
  const {
    appDir,
    dataDir = null,
    jiraUrl = null,
    egressAliases = {},
    schedulerSpeedup = 0,
    cloudId = '11111111-2222-3333-4444-555555555555',
    installationId = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    appAccountId = '557058:forge-app-cataam',
    environmentId = 'ffffffff-0000-1111-2222-333333333333',
    environmentType = 'DEVELOPMENT',
    appVersion = '1.0.0',
    port = 0,
    timeScale = 1,
    deadlines = {},
    maxContainersPerFunction = 4,
    memoryMb = 512,
    faults = null,
    log = () => {},
  } = options;
  if (!appDir) throw new Error('startEmulator: appDir is required');
  const manifest = loadManifest(appDir);
  const store = new StateStore(dataDir);
  const kvs = new Kvs(store, { faults });
  const token = randomBytes(16).toString('hex');
  const contextAri = `ari:cloud:jira::site/${cloudId}`;
  const appId = manifest.appId.replace(/^.*\//, '');
  const aliases = Object.fromEntries(Object.entries(egressAliases).map(([h, u]) => [h.toLowerCase(), u]));

  const invocations = [];
  const running = new Map(); // invocation id → { principal }
  const pools = new Map();
  const inFlightEvents = new Set();
  const retryTimers = new Set(); // product-event retries waiting for their delay
  let pending = 0; // deliveries accepted but not finished (covers the gap before an invocation starts)
  let closed = false;
  let queueTimer = null;
  const intervals = [];
  const jobs = new Map(); // jobId → { success, failed }
  const deadEvents = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      log('error', `emulator: ${req.method} ${req.url}: ${e.stack ?? e}`);
      if (!res.headersSent) sendJson(res, e.status ?? 500, { error: { message: e.message } });
      else res.destroy();
    });
  });
  await new Promise((r, j) => {
    server.once('error', j);
    server.listen(port, '127.0.0.1', r);
  });
  const url = `http://127.0.0.1:${server.address().port}`;

  // ---------------------------------------------------------------- invocations

  const baseRuntime = {
    appContext: { appId, appVersion, environmentId, environmentType, installationId, moduleKey: undefined, license: undefined, installation: undefined, permissions: manifest.raw.permissions ?? {} },
    contextAri,
    externalAuth: [],
    allowedEgress: manifest.egress,
  };

  function poolFor(functionKey) {
    let pool = pools.get(functionKey);
    if (pool) return pool;
    const fn = manifest.functions.get(functionKey);
    if (!fn) throw new Error(`manifest has no function '${functionKey}'`);
    pool = new FunctionPool(
      { handlerFile: fn.file, exportName: fn.exportName, platformUrl: url, token, egress: manifest.egress, egressAliases: aliases, base: { runtime: baseRuntime } },
      { maxContainers: maxContainersPerFunction, memoryMb },
    );
    pools.set(functionKey, pool);
    return pool;
  }

  function deadlineFor(kind, functionKey) {
    if (deadlines[kind] !== undefined) return deadlines[kind];
    const fn = manifest.functions.get(functionKey);
    if ((kind === 'scheduledTrigger' || kind === 'consumer') && fn?.timeoutSeconds) return Math.min(fn.timeoutSeconds, 900) * 1000;
    return DEFAULT_DEADLINES[kind];
  }

  /** The second handler argument (Forge's invocation context). */
  function invocationContext(principal) {
    return { installContext: contextAri, principal, license: undefined, installation: { id: installationId }, contextToken: `emulator-context-token.${installationId}` };
  }

  /**
   * Runs one function invocation and records it.
   * @returns {Promise<{ record: object, value: any }>}
   */
  async function invoke({ kind, moduleKey, functionKey, args, principal }) {
    const id = randomUUID();
    const timeoutMs = deadlineFor(kind, functionKey);
    const startedAt = Date.now();
    const record = { id, kind, functionKey, moduleKey, startedAt, durationMs: 0, waitMs: 0, ok: false, error: null, timedOut: false, peakRssMb: null, peakHeapMb: null };
    running.set(id, { principal });
    const timing = {};
    let value;
    try {
      const msg = await poolFor(functionKey).run({ id, functionKey, moduleKey, principal }, args, timeoutMs, timing);
      record.metrics = msg.metrics;
      record.peakHeapMb = msg.peakHeapMb;
      record.peakRssMb = msg.rssMb;
      if (msg.ok) {
        record.ok = true;
        value = msg.value;
      } else {
        record.error = msg.error?.message ?? 'error';
        record.errorName = msg.error?.name;
        if (msg.error?.stack) log('warn', `emulator: ${functionKey} (${moduleKey}) failed: ${msg.error.stack}`);
      }
    } catch (e) {
      record.error = e.message;
      record.errorCode = e.code;
      record.timedOut = e instanceof TimeoutError;
      log('warn', `emulator: ${functionKey} (${moduleKey}) failed: ${e.message}`);
    } finally {
      running.delete(id);
      const end = Date.now();
      const runStart = timing.runStart ?? end;
      record.waitMs = runStart - startedAt;
      record.durationMs = end - runStart;
      invocations.push(record);
      if (invocations.length > MAX_RECORDS) invocations.splice(0, invocations.length - MAX_RECORDS);
    }
    return { record, value };
  }

  const isRetryRequest = (v) => v !== null && typeof v === 'object' && v._retry === true;

  // ---------------------------------------------------------------- queue (@forge/events)

  function consumersOf(queueName) {
    return (manifest.modules.consumer ?? []).filter((c) => c.queue === queueName);
  }

  function publish(body) {
    const { queueName, jobId, payload } = body ?? {};
    if (typeof queueName !== 'string' || !/^[a-zA-Z0-9-_]+$/.test(queueName)) return { status: 400, body: { message: 'Invalid queue name' } };
    if (consumersOf(queueName).length === 0) return { status: 400, body: { message: `No consumer is defined for queue '${queueName}'` } };
    if (!Array.isArray(payload) || payload.length === 0) return { status: 400, body: { message: 'No events pushed' } };
    if (payload.length > QUEUE_LIMITS.maxEvents) return { status: 400, body: { message: `Maximum number of events allowed per push is ${QUEUE_LIMITS.maxEvents}` } };
    if (Buffer.byteLength(JSON.stringify(payload)) / 1024 > QUEUE_LIMITS.maxPayloadKb) {
      return { status: 413, body: { errorMessage: `Maximum payload size allowed is ${QUEUE_LIMITS.maxPayloadKb}KB` } };
    }
    for (const ev of payload) {
      const d = ev?.delayInSeconds ?? 0;
      if (ev?.body === null || typeof ev?.body !== 'object' || Array.isArray(ev.body)) return { status: 400, body: { message: 'Event body must be an object' } };
      if (typeof d !== 'number' || d < 0 || d > QUEUE_LIMITS.maxDelaySeconds) return { status: 400, body: { message: 'delayInSeconds must be between 0 and 900' } };
    }
    const now = Date.now();
    for (const ev of payload) {
      store.queue.push({
        eventId: randomUUID(),
        jobId,
        queueName,
        body: ev.body,
        dueAt: now + (ev.delayInSeconds ?? 0) * 1000 * timeScale,
        retryCount: 0,
        retryReason: null,
        retryData: undefined,
        firstAttemptAt: null,
      });
    }
    jobs.set(jobId, jobs.get(jobId) ?? { success: 0, failed: 0 });
    store.touch();
    pump();
    return { status: 201, body: {} };
  }

  function jobStats(body) {
    const job = jobs.get(body?.jobId);
    if (!job) return { status: 404, body: { message: 'Job does not exist' } };
    const inProgress = store.queue.filter((e) => e.jobId === body.jobId).length;
    return { status: 200, body: { success: job.success, inProgress, failed: job.failed } };
  }

  function cancelJob(body) {
    if (!jobs.has(body?.jobId)) return { status: 404, body: { message: 'Job does not exist' } };
    store.queue = store.queue.filter((e) => e.jobId !== body.jobId || inFlightEvents.has(e.eventId));
    store.touch();
    return { status: 204 };
  }

  /** Starts every due queue event and arms the timer for the next one. */
  function pump() {
    if (closed) return;
    const now = Date.now();
    let next = Infinity;
    for (const ev of store.queue) {
      if (inFlightEvents.has(ev.eventId)) continue;
      if (ev.dueAt <= now) deliverQueueEvent(ev);
      else next = Math.min(next, ev.dueAt);
    }
    if (queueTimer) clearTimeout(queueTimer);
    queueTimer = null;
    if (next !== Infinity) queueTimer = setTimeout(pump, Math.max(1, next - now));
  }

  async function deliverQueueEvent(ev) {
    inFlightEvents.add(ev.eventId);
    pending++;
    try {
      const consumer = consumersOf(ev.queueName)[0];
      const asyncEvent = { queueName: ev.queueName, jobId: ev.jobId, eventId: ev.eventId, body: ev.body, contextToken: `emulator-context-token.${installationId}` };
      if (ev.retryCount > 0) asyncEvent.retryContext = { retryCount: ev.retryCount, retryReason: ev.retryReason, retryData: ev.retryData };
      const { record, value } = await invoke({
        kind: 'consumer',
        moduleKey: consumer.key,
        functionKey: consumer.function,
        args: [asyncEvent, invocationContext(undefined)],
      });
      record.retryCount = ev.retryCount;
      if (closed) return; // interrupted by close(): the event stays pending in the persisted state
      let retry = null;
      if (record.timedOut) retry = { reason: 'FUNCTION_TIME_OUT', after: 2 ** ev.retryCount };
      else if (!record.ok) retry = { reason: 'FUNCTION_PLATFORM_UNKNOWN_ERROR', after: 2 ** ev.retryCount };
      else if (isRetryRequest(value)) {
        const o = value.retryOptions ?? {};
        retry = { reason: o.retryReason ?? 'FUNCTION_RETRY_REQUEST', after: Math.min(Math.max(o.retryAfter ?? 1, 1), QUEUE_LIMITS.maxRetryAfterSeconds), data: o.retryData };
        record.ok = false;
        record.retryRequested = true;
        record.error ??= `InvocationError (${retry.reason})`;
      }
      const job = jobs.get(ev.jobId) ?? { success: 0, failed: 0 };
      jobs.set(ev.jobId, job);
      if (!store.queue.includes(ev)) return; // cancelled meanwhile
      if (retry && ev.retryCount < MAX_RETRIES) {
        ev.retryCount += 1;
        ev.retryReason = retry.reason;
        ev.retryData = retry.data;
        ev.dueAt = Date.now() + retry.after * 1000 * timeScale;
      } else {
        store.queue.splice(store.queue.indexOf(ev), 1);
        if (retry) {
          job.failed += 1;
          deadEvents.push({ ...ev, lastError: record.error });
          log('warn', `emulator: queue event ${ev.eventId} dropped after ${ev.retryCount} retries`);
        } else job.success += 1;
      }
      store.touch();
    } finally {
      inFlightEvents.delete(ev.eventId);
      pending--;
      pump();
    }
  }

  // ---------------------------------------------------------------- product events

  function deliverProductEvent(event) {
    if (!event || typeof event.eventType !== 'string') throw new Error('a product event needs an eventType');
    const triggers = (manifest.modules.trigger ?? []).filter((t) => (t.events ?? []).includes(event.eventType));
    const runs = [];
    for (const t of triggers) {
      if (t.filter?.ignoreSelf && event.atlassianId === appAccountId) continue;
      runs.push(attemptProductEvent(t, event, 0));
    }
    return Promise.all(runs);
  }

  async function attemptProductEvent(trigger, event, retryCount, retryReason, retryData) {
    pending++;
    try {
      const payload = { ...event, context: event.context ?? { cloudId, moduleKey: trigger.key } };
      if (retryCount > 0) payload.retryContext = { retryCount, retryReason, retryData };
      const { record, value } = await invoke({ kind: 'trigger', moduleKey: trigger.key, functionKey: trigger.function, args: [payload, invocationContext(undefined)] });
      record.retryCount = retryCount;
      if (isRetryRequest(value)) {
        const o = value.retryOptions ?? {};
        record.ok = false;
        record.retryRequested = true;
        record.error ??= `InvocationError (${o.retryReason ?? 'FUNCTION_RETRY_REQUEST'})`;
        if (retryCount < MAX_RETRIES && !closed) {
          const after = Math.min(Math.max(o.retryAfter ?? 1, 1), QUEUE_LIMITS.maxRetryAfterSeconds);
          const timer = setTimeout(() => {
            retryTimers.delete(timer);
            attemptProductEvent(trigger, event, retryCount + 1, o.retryReason ?? 'FUNCTION_RETRY_REQUEST', o.retryData).catch(() => {});
          }, after * 1000 * timeScale);
          timer.dueAt = Date.now() + after * 1000 * timeScale;
          retryTimers.add(timer);
        }
      }
      return record;
    } finally {
      pending--;
    }
  }

  // ---------------------------------------------------------------- scheduled triggers

  const schedules = new Map();
  for (const m of manifest.modules.scheduledTrigger ?? []) {
    const state = { module: m, chain: Promise.resolve(), active: 0, skippedTicks: 0 };
    schedules.set(m.key, state);
    const seconds = INTERVAL_SECONDS[m.interval];
    if (!seconds) throw new Error(`emulator: scheduledTrigger ${m.key} has unknown interval ${m.interval}`);
    if (schedulerSpeedup > 0) {
      const t = setInterval(() => {
        if (state.active > 0) state.skippedTicks += 1;
        else runScheduled(m.key).catch(() => {});
      }, (seconds * 1000) / schedulerSpeedup);
      t.unref?.();
      intervals.push(t);
    }
  }

  function runScheduled(key) {
    const state = schedules.get(key);
    if (!state) return Promise.reject(new Error(`manifest has no scheduledTrigger '${key}'`));
    state.active += 1;
    const run = state.chain.then(async () => {
      try {
        const { record } = await invoke({
          kind: 'scheduledTrigger',
          moduleKey: key,
          functionKey: state.module.function,
          args: [{ context: { cloudId, moduleKey: key }, contextToken: `emulator-context-token.${installationId}` }, invocationContext(undefined)],
        });
        return record;
      } finally {
        state.active -= 1;
      }
    });
    state.chain = run.catch(() => {});
    return run;
  }

  // ---------------------------------------------------------------- web triggers

  function webTriggerModule(key) {
    return (manifest.modules.webtrigger ?? []).find((m) => m.key === key);
  }

  function webTriggerIds(key, forceCreate) {
    if (!webTriggerModule(key)) throw new Error(`manifest has no webtrigger '${key}'`);
    const ids = (store.webTriggers[key] ??= []);
    if (ids.length === 0 || forceCreate) {
      ids.unshift(randomBytes(18).toString('base64url'));
      store.touch();
    }
    return ids;
  }

  const webTriggerUrl = async (key) => `${url}/x/${webTriggerIds(key, false)[0]}`;

  function graphql(body) {
    const q = String(body?.query ?? '');
    const vars = body?.variables ?? {};
    try {
      if (q.includes('createWebTriggerUrl')) {
        const id = webTriggerIds(vars.input?.triggerKey, Boolean(vars.forceCreate))[0];
        return { data: { createWebTriggerUrl: { url: `${url}/x/${id}` } } };
      }
      if (q.includes('deleteWebTriggerUrl')) {
        for (const ids of Object.values(store.webTriggers)) {
          const i = ids.indexOf(vars.id);
          if (i >= 0) {
            ids.splice(i, 1);
            store.touch();
            return { data: { deleteWebTriggerUrl: { success: true, message: null } } };
          }
        }
        return { data: { deleteWebTriggerUrl: { success: false, message: 'Web trigger URL not found' } } };
      }
      if (q.includes('webTriggerUrlsByAppContext')) {
        const list = Object.entries(store.webTriggers).flatMap(([triggerKey, ids]) => ids.map((id) => ({ triggerKey, url: `${url}/x/${id}` })));
        return { data: { webTriggerUrlsByAppContext: list } };
      }
      return { errors: [{ message: 'The Forge emulator does not implement this GraphQL operation' }] };
    } catch (e) {
      return { errors: [{ message: e.message }] };
    }
  }

  async function serveWebTrigger(req, res, id, reqUrl) {
    const key = Object.keys(store.webTriggers).find((k) => store.webTriggers[k].includes(id));
    const module = key && webTriggerModule(key);
    if (!module) return sendJson(res, 404, { message: 'Web trigger not found' });
    let raw;
    try {
      raw = await readBody(req, MAX_WEBTRIGGER_BODY);
    } catch (e) {
      return sendJson(res, e.status ?? 400, { message: e.message });
    }
    const queryParameters = {};
    for (const [k, v] of reqUrl.searchParams) (queryParameters[k] ??= []).push(v);
    const headers = {};
    for (const [k, v] of Object.entries(req.headersDistinct)) headers[k.toLowerCase()] = v;
    const request = { method: req.method, path: reqUrl.pathname, headers, queryParameters, body: raw.toString('utf8'), context: { cloudId, moduleKey: key } };
    pending++;
    let out;
    try {
      out = await invoke({ kind: 'webtrigger', moduleKey: key, functionKey: module.function, args: [request, invocationContext(undefined)] });
    } finally {
      pending--;
    }
    const { record, value } = out;
    const problem = !record.ok ? record.error : checkWebTriggerResponse(value);
    if (problem) {
      if (record.ok) {
        record.ok = false;
        record.error = `invalid web trigger response: ${problem}`;
      }
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Internal Server Error');
      return;
    }
    const outHeaders = {};
    for (const [k, v] of Object.entries(value.headers ?? {})) outHeaders[k] = v;
    res.writeHead(value.statusCode, outHeaders);
    res.end(value.body ?? '');
  }

  function checkWebTriggerResponse(v) {
    if (v === null || typeof v !== 'object') return 'the function must return { statusCode, headers, body }';
    if (!Number.isInteger(v.statusCode) || v.statusCode < 100 || v.statusCode > 599) return 'statusCode must be an integer HTTP status';
    if (v.headers !== undefined) {
      if (v.headers === null || typeof v.headers !== 'object') return 'headers must be an object';
      for (const [k, vals] of Object.entries(v.headers)) {
        if (!Array.isArray(vals) || !vals.every((x) => typeof x === 'string')) return `header ${k} must be an array of strings`;
      }
    }
    if (v.body !== undefined && v.body !== null && typeof v.body !== 'string') return 'body must be a string';
    return null;
  }

  // ---------------------------------------------------------------- resolver / admin page

  function adminModule(moduleKey) {
    const list = manifest.modules['jira:adminPage'] ?? [];
    return moduleKey ? list.find((m) => m.key === moduleKey) : list[0];
  }

  function frontendContext(accountId, module) {
    return {
      accountId,
      cloudId,
      siteUrl: jiraUrl ?? url,
      localId: `${module.key}-${installationId}`,
      moduleKey: module.key,
      environmentId,
      environmentType,
      appVersion,
      locale: 'en-US',
      timezone: 'UTC',
      theme: { colorMode: 'light' },
      surfaceColor: '#FFFFFF',
      license: undefined,
      extension: { type: 'jira:adminPage' },
    };
  }

  async function callResolver({ moduleKey, accountId, functionKey, payload }) {
    const module = adminModule(moduleKey);
    if (!module?.resolver?.function) throw new Error(`no jira:adminPage module with a resolver${moduleKey ? ` named '${moduleKey}'` : ''}`);
    const principal = accountId ? { accountId } : undefined;
    const ctx = frontendContext(accountId, module);
    const { record, value } = await invoke({
      kind: 'resolver',
      moduleKey: module.key,
      functionKey: module.resolver.function,
      args: [{ call: { functionKey, payload }, context: ctx }, invocationContext(principal)],
      principal,
    });
    if (!record.ok) throw Object.assign(new Error(record.error ?? 'resolver failed'), { record });
    return value;
  }

  async function serveAdmin(req, res, reqUrl) {
    const p = reqUrl.pathname;
    if (p === '/admin' || p === '/admin/') {
      const as = reqUrl.searchParams.get('as');
      const module = adminModule(reqUrl.searchParams.get('module'));
      if (!module) return sendJson(res, 404, { message: 'The app has no jira:adminPage module' });
      if (!as) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        return res.end('Open /admin/?as=<accountId>: the page runs as that Jira user.');
      }
      const html = frameHtml({ title: module.title ?? module.key, appTitle: module.title ?? module.key, accountId: as, moduleKey: module.key });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(html);
    }
    const m = /^\/admin\/app\/([^/]+)\/([^/]+)\/(.*)$/.exec(p);
    if (!m) return sendJson(res, 404, { message: 'not found' });
    const accountId = decodeURIComponent(m[1]);
    const module = adminModule(decodeURIComponent(m[2]));
    const dir = module && manifest.resources.get(module.resource);
    if (!dir) return sendJson(res, 404, { message: 'resource not found' });
    const rel = decodeURIComponent(m[3] || 'index.html');
    const file = resolve(dir, rel);
    if (file !== dir && !file.startsWith(dir + sep)) return sendJson(res, 403, { message: 'forbidden' });
    let data;
    try {
      const st = await stat(file);
      data = await readFile(st.isDirectory() ? resolve(file, 'index.html') : file);
    } catch {
      return sendJson(res, 404, { message: 'not found' });
    }
    const ext = extname(file) || '.html';
    const nonce = randomBytes(12).toString('base64');
    if (ext === '.html') {
      const script = bridgeScript({ accountId, moduleKey: module.key, context: frontendContext(accountId, module), nonce });
      data = Buffer.from(injectBridge(data.toString('utf8'), script));
    }
    res.writeHead(200, {
      'content-type': MIME[ext] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'content-security-policy': customUiCsp(manifest.raw.permissions, nonce),
      'x-content-type-options': 'nosniff',
    });
    res.end(data);
  }

  // ---------------------------------------------------------------- __forge_fetch__ proxy

  async function productFetch(req, res, target, path, method, inv) {
    const headers = { 'forge-proxy-error': 'PROXY_ERR' };
    if (target.remote !== 'jira') return sendJson(res, 400, { message: `remote '${target.remote}' is not emulated` }, { 'forge-proxy-error': 'INVALID_REMOTE_ERR' });
    if (!jiraUrl) return sendJson(res, 503, { message: 'no jiraUrl configured' }, headers);
    let authorization;
    if (target.provider === 'user') {
      const accountId = target.accountId ?? inv?.principal?.accountId;
      if (!accountId) return sendJson(res, 401, { message: 'asUser() needs a user principal' }, { 'forge-proxy-error': 'NEEDS_AUTHENTICATION_ERR' });
      authorization = `Bearer user:${accountId}`;
    } else {
      authorization = 'Bearer app';
    }
    const fwd = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (HOP_HEADERS.has(k) || k.startsWith('x-forge-') || k === 'authorization') continue;
      fwd[k] = v;
    }
    fwd.authorization = authorization;
    const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req);
    let upstream;
    try {
      upstream = await fetch(jiraUrl.replace(/\/$/, '') + path, { method, headers: fwd, body, redirect: 'manual' });
    } catch (e) {
      return sendJson(res, 502, { message: `product request failed: ${e.message}` }, headers);
    }
    const out = {};
    upstream.headers.forEach((v, k) => {
      if (!HOP_HEADERS.has(k) && k !== 'content-encoding') out[k] = v;
    });
    const data = Buffer.from(await upstream.arrayBuffer());
    out['content-length'] = data.length;
    res.writeHead(upstream.status, upstream.statusText, out);
    res.end(data);
  }

  async function proxy(req, res) {
    if (req.headers['x-forge-token'] !== token) return sendJson(res, 403, { message: 'forbidden' });
    const target = JSON.parse(req.headers['x-forge-target'] ?? '{}');
    const path = String(req.headers['x-forge-path'] ?? '');
    const method = String(req.headers['x-forge-method'] ?? 'GET');
    const inv = running.get(req.headers['x-forge-invocation']);
    const json = async () => {
      const raw = await readBody(req);
      return raw.length ? JSON.parse(raw.toString('utf8')) : {};
    };
    if (target.type === 'kvs') {
      const r = kvs.handle(path, await json());
      // Killed between two writes: this one is stored, its answer never comes, and the
      // invocation runs into its deadline (its container is terminated).
      if (kvs.killAfter(path, r.status)) return;
      return sendJson(res, r.status, r.body, { 'x-trace-id': randomUUID() });
    }
    if (target.type === 'fpp' && target.remote === 'stargate') {
      const p = decodeURIComponent(path.split('?')[0]);
      if (p === '/graphql') return sendJson(res, 200, graphql(await json()));
      const send = (r) => sendJson(res, r.status, r.body);
      if (p.startsWith('/webhook/queue/publish/')) return send(publish(await json()));
      if (p.startsWith('/webhook/queue/stats/')) return send(jobStats(await json()));
      if (p.startsWith('/webhook/queue/cancel/')) return send(cancelJob(await json()));
      return sendJson(res, 404, { message: `stargate path ${p} is not emulated` });
    }
    if (target.type === 'fpp') return productFetch(req, res, target, path, method, inv);
    return sendJson(res, 400, { message: `target ${JSON.stringify(target)} is not emulated` }, { 'forge-proxy-error': 'INVALID_REMOTE_ERR' });
  }

  // ---------------------------------------------------------------- routing

  async function handle(req, res) {
    const reqUrl = new URL(req.url, url);
    const p = reqUrl.pathname;
    if (p === '/__forge/proxy' && req.method === 'POST') return proxy(req, res);
    if (p === '/__forge/ping') return sendJson(res, 204);
    const wt = /^\/x1?\/([^/]+)(?:\/.*)?$/.exec(p);
    if (wt) return serveWebTrigger(req, res, wt[1], reqUrl);
    if (p === '/__platform/product-events' && req.method === 'POST') {
      let event;
      try {
        event = JSON.parse((await readBody(req, MAX_WEBTRIGGER_BODY)).toString('utf8'));
      } catch {
        return sendJson(res, 400, { message: 'body must be a JSON product event' });
      }
      if (typeof event?.eventType !== 'string') return sendJson(res, 400, { message: 'eventType is required' });
      deliverProductEvent(event).catch((e) => log('error', `emulator: product event: ${e.message}`));
      return sendJson(res, 202, { accepted: true });
    }
    const br = /^\/__bridge\/([^/]+)\/invoke$/.exec(p);
    if (br && req.method === 'POST') {
      let body;
      try {
        body = JSON.parse((await readBody(req, MAX_WEBTRIGGER_BODY)).toString('utf8') || '{}');
      } catch {
        return sendJson(res, 400, { error: { message: 'body must be JSON' } });
      }
      if (typeof body.functionKey !== 'string') return sendJson(res, 400, { error: { message: 'functionKey must be a string' } });
      try {
        const result = await callResolver({ moduleKey: reqUrl.searchParams.get('module'), accountId: decodeURIComponent(br[1]), functionKey: body.functionKey, payload: body.payload });
        return sendJson(res, 200, result === undefined ? {} : { result });
      } catch (e) {
        return sendJson(res, 500, { error: { message: e.message } });
      }
    }
    if (p === '/admin' || p.startsWith('/admin/')) return serveAdmin(req, res, reqUrl);
    if (p === '/__platform/invocations' && req.method === 'GET') return sendJson(res, 200, invocations);
    if (p === '/__platform/kvs' && req.method === 'GET') return sendJson(res, 200, kvs.dump());
    return sendJson(res, 404, { message: 'not found' });
  }

  // ---------------------------------------------------------------- handle

  const platform = {
    url,
    manifest,
    invocations,
    deadEvents,
    appAccountId,
    cloudId,
    installationId,
    runScheduled,
    deliverProductEvent,
    webTriggerUrl,
    /** Calls a resolver function as the admin page's `invoke` would; resolves with its result. */
    invokeResolver: (functionKey, payload, { accountId, moduleKey } = {}) => callResolver({ moduleKey, accountId, functionKey, payload }),
    kvsDump: () => kvs.dump(),
    /** Injected KVS faults so far: `{ errors, kills }`. */
    kvsFaults: () => ({ ...kvs.stats }),
    /** Changes the KVS fault rates (`{ kvsErrorRate, kvsKillRate }`; omitted ones are kept). */
    setKvsFaults({ kvsErrorRate = kvs.errorRate, kvsKillRate = kvs.killRate } = {}) {
      kvs.errorRate = kvsErrorRate;
      kvs.killRate = kvsKillRate;
    },
    /** Pending queue events (copies), for inspection. */
    queueSnapshot: () => store.queue.map((e) => ({ ...e })),
    /**
     * Makes every delayed queue event due now and delivers it (a test control, like
     * `runScheduled`: skips the wait for back-off retries). Returns how many were advanced.
     */
    deliverDelayedNow() {
      const now = Date.now();
      let n = 0;
      for (const ev of store.queue) {
        if (inFlightEvents.has(ev.eventId) || ev.dueAt <= now) continue;
        ev.dueAt = now;
        n++;
      }
      store.touch();
      pump();
      return n;
    },
    /** Skipped scheduler ticks per trigger (a run was still going). */
    schedulerStats: () => Object.fromEntries([...schedules].map(([k, s]) => [k, { skippedTicks: s.skippedTicks, running: s.active > 0 }])),
    /**
     * Resolves when no invocation runs and no queue event is due. With `includeDelayed`, also
     * waits for delayed queue events and pending product-event retries.
     */
    async idle({ includeDelayed = false, timeoutMs = 30_000 } = {}) {
      const until = Date.now() + timeoutMs;
      let quiet = 0;
      while (quiet < 2) {
        const now = Date.now();
        const busy =
          pending > 0 ||
          running.size > 0 ||
          [...schedules.values()].some((s) => s.active > 0) ||
          store.queue.some((e) => inFlightEvents.has(e.eventId) || e.dueAt <= now || includeDelayed) ||
          (includeDelayed && retryTimers.size > 0);
        quiet = busy ? 0 : quiet + 1;
        if (now > until) throw new Error('emulator: idle() timed out');
        await sleep(busy ? 5 : 1);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of intervals) clearInterval(t);
      for (const t of retryTimers) clearTimeout(t);
      if (queueTimer) clearTimeout(queueTimer);
      await Promise.all([...pools.values()].map((p) => p.close()));
      server.closeAllConnections?.();
      await new Promise((r) => server.close(() => r()));
      store.close();
    },
  };

  pump(); // events persisted by an earlier run
  return platform;
}
