// Helpers shared by the end-to-end suites (tests/e2e-*.test.mjs): starting the local stack with the
// hooks the tests need, waiting until every part is quiet, reading the Jira side by the
// `cataam.finding` issue property, counting the app's Jira writes, signing CATAAM pushes
// independently of the simulator, capturing console output, and scanning stored state for finding
// content. Nothing here decides an outcome: the suites assert.

import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, APP_ACCOUNT_ID, ADMIN, DEVELOPER, ROOT } from './stack.mjs';
import { findOperation, validateRequest } from './openapi.mjs';

export { APP_ACCOUNT_ID, ADMIN, DEVELOPER };

/** Issue property the app writes on every issue it manages (`jira:entityProperty` `cataam-finding`). */
export const FINDING_PROPERTY = 'cataam.finding';

/** Jira priority per CATAAM severity (product page: Critical → Highest … Info → Lowest). */
export const PRIORITY_OF = { CRITICAL: 'Highest', HIGH: 'High', MEDIUM: 'Medium', LOW: 'Low', INFO: 'Lowest' };

/** Severity order, most severe first. */
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];

/**
 * Jira search endpoints reached with POST that only read. Everything else the app sends with a
 * method other than GET/HEAD changes Jira.
 */
const READ_ONLY_POSTS = [/^\/rest\/api\/3\/search\/jql$/, /^\/rest\/api\/3\/search\/approximate-count$/, /^\/rest\/api\/3\/jql\/parse$/];

/** `true` when a Jira request log entry is a write. */
export function isJiraWrite(entry) {
  if (entry.method === 'GET' || entry.method === 'HEAD') return false;
  return !(entry.method === 'POST' && READ_ONLY_POSTS.some((re) => re.test(entry.path)));
}

/** The app's Jira writes in `jira.requestLog` from index `from` on. */
export function appWrites(jira, from = 0) {
  return jira.requestLog.slice(from).filter((e) => e.actor === APP_ACCOUNT_ID && isJiraWrite(e));
}

/** The requests the app made to the CATAAM simulator that change something (PATCH, POST, PUT). */
export function cataamWrites(cataam, from = 0) {
  return cataam.requestLog.slice(from).filter((e) => e.method !== 'GET' && e.method !== 'HEAD');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export { sleep };

/** The deployable app root the emulator runs (manifest.yml + build/): this repository unless
 * `E2E_APP_DIR` points at another copy (e.g. an unpacked package). */
export const APP_DIR = process.env.E2E_APP_DIR || ROOT;

/** Queue delays and retry-after waits run this much faster in the suites (30 s → 0.3 s). */
export const TIME_SCALE = 0.01;

/**
 * Starts the stack and records every Jira exchange (method, path, request body, status) so a
 * suite can validate the app's requests against the OpenAPI spec. Closed with the test.
 * @param {import('node:test').TestContext | null} t
 * @param {object} opts startStack options
 */
export async function startE2EStack(t, opts = {}) {
  const exchanges = [];
  const userOnExchange = opts.jira?.onExchange;
  let stack = null;
  stack = await startStack({
    ...opts,
    emulator: { appDir: APP_DIR, timeScale: TIME_SCALE, ...opts.emulator },
    jira: {
      ...opts.jira,
      onExchange(method, path, reqBody, status, resBody) {
        exchanges.push({ method, path, reqBody, status, resBody });
        userOnExchange?.(method, path, reqBody, status, resBody);
      },
    },
  });
  stack.exchanges = exchanges;
  if (t) t.after(() => stack.close());
  return stack;
}

/** A fresh temporary directory removed when the test ends. */
export function tempDir(t, prefix = 'cataam-e2e-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Waits until CATAAM has no push in flight, Jira has delivered every product event and the
 * emulator has no running invocation or due queue event — repeatedly, because each can wake the
 * others (a push makes Jira events, a Jira event makes CATAAM writes, which make pushes…).
 */
export async function settle(stack, { rounds = 3, timeoutMs = 60_000 } = {}) {
  const { cataam, jira, emulator } = stack;
  const until = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < rounds) {
    const before = jira.requestLog.length + cataam.requestLog.length + emulator.invocations.length + jira.events.length;
    await cataam.idle({ timeoutMs: Math.max(1000, until - Date.now()) });
    await jira.flushEvents();
    await emulator.idle({ includeDelayed: true, timeoutMs: Math.max(1000, until - Date.now()) });
    const after = jira.requestLog.length + cataam.requestLog.length + emulator.invocations.length + jira.events.length;
    quiet = after === before ? quiet + 1 : 0;
    if (Date.now() > until) throw new Error('settle(): the stack did not become quiet in time');
    if (quiet < rounds) await sleep(quiet ? 20 : 5);
  }
}

/** Runs the scheduled poll (queue drained) and then waits for everything it caused. */
export async function syncAndSettle(stack) {
  const rec = await stack.sync();
  await settle(stack);
  return rec;
}

/** Waits until `pred()` is truthy (polling), or fails with `what`. */
export async function waitFor(pred, what, { timeoutMs = 15_000, everyMs = 20 } = {}) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Finding id of an issue (from the `cataam.finding` property), or null for unmanaged issues. */
export function findingIdOf(issue) {
  const v = issue?.properties?.[FINDING_PROPERTY];
  if (v && typeof v === 'object' && typeof v.findingId === 'string') return v.findingId;
  return null;
}

/** Issues grouped by finding id (from the `cataam.finding` property): `Map<findingId, issue[]>`. */
export function issuesByFinding(jira) {
  const out = new Map();
  for (const issue of jira.issues()) {
    const id = findingIdOf(issue);
    if (!id) continue;
    if (!out.has(id)) out.set(id, []);
    out.get(id).push(issue);
  }
  return out;
}

/** Finding ids that have more than one issue. */
export function duplicates(jira) {
  return [...issuesByFinding(jira)].filter(([, list]) => list.length > 1).map(([id, list]) => ({ id, keys: list.map((i) => i.key) }));
}

/**
 * The single issue of a finding (fails loudly when there is none or more than one). `source` is
 * the Jira handle (renders every issue: fine for a few lookups) or a snapshot from
 * `issuesByFinding(jira)` (for loops over many findings).
 */
export function issueOf(source, findingId) {
  const map = source instanceof Map ? source : issuesByFinding(source);
  const list = map.get(findingId) ?? [];
  if (list.length !== 1) throw new Error(`finding ${findingId} has ${list.length} issues (${list.map((i) => i.key).join(', ')})`);
  return list[0];
}

/** Status category key of an issue: `new`, `indeterminate` or `done`. */
export const categoryOf = (issue) => issue.fields.status.statusCategory.key;

/** Comments the app wrote on an issue. */
export const appComments = (issue) => (issue.fields.comment?.comments ?? []).filter((c) => c.author?.accountId === APP_ACCOUNT_ID);

/** Label slug as the architecture shows it: `ISO 27001` → `iso27001`, `A.8.8` → `a-8-8`. */
export function slug(s) {
  return String(s).toLowerCase().replace(/\s+/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/** Whitespace-normalised text (for comparing rendered ADF with source text). */
export const norm = (s) => String(s ?? '').replace(/\s+/g, ' ').trim();

/** Every `link` mark href in an ADF document. */
export function adfLinks(doc) {
  const out = [];
  const walk = (n) => {
    if (!n || typeof n !== 'object') return;
    for (const m of n.marks ?? []) if (m?.type === 'link' && m.attrs?.href) out.push(m.attrs.href);
    if (n.type === 'inlineCard' && n.attrs?.url) out.push(n.attrs.url);
    for (const c of n.content ?? []) walk(c);
  };
  walk(doc);
  return out;
}

/** Every node of `type` in an ADF document. */
export function adfNodes(doc, type) {
  const out = [];
  const walk = (n) => {
    if (!n || typeof n !== 'object') return;
    if (n.type === type) out.push(n);
    for (const c of n.content ?? []) walk(c);
  };
  walk(doc);
  return out;
}

/** Text content of the code blocks of an ADF document. */
export const adfCodeText = (doc) => adfNodes(doc, 'codeBlock').map((n) => (n.content ?? []).map((c) => c.text ?? '').join('')).join('\n');

// ------------------------------------------------------------------------------------ push

/** `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, computed here (not with the simulator's code). */
export function signature(secret, t, body) {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** A fresh push event id. */
export const eventId = () => `evt_${randomBytes(12).toString('hex')}`;

/** A push event body for `findingIds`. */
export function pushEvent(findingIds, { id = eventId(), type = 'finding.updated' } = {}) {
  return { id, type, createdAt: new Date().toISOString(), findingIds };
}

/**
 * POSTs a push to the web trigger URL. `body` may be an object (serialised) or a string (sent as
 * is). Signs with `secret` at time `t` (seconds) unless `signatureHeader` is given; `omit` drops
 * headers by lower-case name; `headers` overrides.
 * @returns {Promise<{ status: number, json: any, text: string, headers: Headers }>}
 */
export async function sendPush(url, { body, secret, t = Math.floor(Date.now() / 1000), id, signatureHeader, contentType = 'application/json', headers = {}, omit = [], method = 'POST' } = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const evtId = id ?? (typeof body === 'object' && body ? body.id : undefined) ?? eventId();
  const h = {
    'content-type': contentType,
    'x-cataam-event-id': evtId,
    'x-cataam-signature': signatureHeader ?? (secret ? signature(secret, t, raw) : undefined),
    ...headers,
  };
  for (const k of omit) delete h[k];
  for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
  const res = await fetch(url, { method, headers: h, body: method === 'GET' ? undefined : raw });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

// ------------------------------------------------------------------------------------ capture

/**
 * Captures everything written to this process's stdout and stderr (the emulator's containers are
 * worker threads whose console output is piped into them) until `stop()`. Output is still passed
 * through when `passThrough` is set.
 */
export function captureOutput({ passThrough = false } = {}) {
  const chunks = [];
  const orig = { out: process.stdout.write, err: process.stderr.write };
  const wrap = (stream, original) => function write(chunk, encoding, cb) {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    if (passThrough) return original.call(stream, chunk, encoding, cb);
    if (typeof encoding === 'function') encoding();
    else if (typeof cb === 'function') cb();
    return true;
  };
  process.stdout.write = wrap(process.stdout, orig.out);
  process.stderr.write = wrap(process.stderr, orig.err);
  return {
    text: () => chunks.join(''),
    stop() {
      process.stdout.write = orig.out;
      process.stderr.write = orig.err;
      return chunks.join('');
    },
  };
}

/** Every file under `dir` (recursively) with its content as UTF-8 text. */
export function readTree(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: p, text: readFileSync(p, 'utf8') });
    }
  };
  walk(dir);
  return out;
}

// ------------------------------------------------------------------------------------ data policy

/**
 * The content strings of a finding that must never be stored by the app: title, description,
 * remediation, asset host name / IP / cloud account, compliance test name and logs, MITRE name,
 * control names, URL. Short generic strings (< 8 chars, e.g. a port) are left out to avoid
 * matching ids or enums by chance.
 */
export function contentStrings(f) {
  const s = [
    f.title, f.description, f.remediation, f.mitre?.name, f.url,
    f.asset?.hostname, f.asset?.ip, f.asset?.cloudAccount,
    f.compliance?.testName, f.compliance?.logs,
    ...(f.complianceControls ?? []),
  ];
  const out = [];
  for (const v of s) {
    if (typeof v !== 'string' || v.length < 7) continue;
    out.push(v);
    // logs and long texts: also look for any of their lines / sentences on their own
    if (v.length > 80) for (const part of v.split(/\n|(?<=\.) /)) if (part.trim().length >= 24) out.push(part.trim());
  }
  return out;
}

/**
 * Stored KVS entries that contain finding content: `[{ key, findingId, text }]`. Scans every
 * value (serialised) for every content string of every finding.
 */
export function contentLeaks(dump, findings) {
  const values = dump.entries.map((e) => ({ key: e.key, text: `${e.key}\n${JSON.stringify(e.value)}` }));
  const leaks = [];
  for (const f of findings) {
    for (const c of contentStrings(f)) {
      const needle = JSON.stringify(c).slice(1, -1); // as it would appear inside a JSON string
      for (const v of values) {
        if (v.text.includes(needle) || v.text.includes(c)) leaks.push({ key: v.key, findingId: f.id, text: c.slice(0, 60) });
      }
    }
  }
  return leaks;
}

/** Saves settings as the admin page would, keeping the current ones and overriding `patch`. */
export async function saveSettingsWith(stack, patch) {
  const cur = await stack.invoke('getSettings', {});
  if (!cur.ok) throw new Error(`getSettings failed: ${JSON.stringify(cur.error)}`);
  const s = cur.settings ?? cur;
  const payload = {
    baseUrl: s.baseUrl, apiKey: '', projectId: s.projectId, projectKey: s.projectKey, issueType: s.issueType,
    minSeverity: s.minSeverity, kinds: s.kinds, priorities: s.priorities, ...patch,
  };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return stack.invoke('saveSettings', payload);
}

// ------------------------------------------------------------------------------------ OpenAPI

/**
 * Every Jira request the app sent (all HTTP requests the simulator answered: the "human" helpers
 * act on the simulator's state directly) checked against the official OpenAPI spec: the operation
 * exists, every query parameter is one the operation documents, and the JSON body validates
 * against the operation's request schema. Returns `[{ method, path, query, problems }]`.
 */
export function specViolations(stack) {
  // The simulator appends to `requestLog` and then calls `onExchange` for every answered request
  // (requests lost to injected faults are only logged), so the two line up once faults are skipped.
  const logged = stack.jira.requestLog.filter((e) => !e.fault);
  const out = [];
  stack.exchanges.forEach((x, i) => {
    const log = logged[i];
    const problems = [];
    if (!log || log.method !== x.method || log.path !== x.path) problems.push('request log out of step with the exchange hook');
    const found = findOperation(x.method, x.path);
    if (!found) problems.push('not an operation of the Jira REST API');
    else {
      const documented = new Set((found.operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
      for (const name of new URLSearchParams(log?.query ?? '').keys()) {
        if (!documented.has(name)) problems.push(`query parameter '${name}' is not documented`);
      }
      const r = validateRequest(x.method, x.path, x.reqBody);
      if (!r.valid) problems.push(...r.errors);
    }
    if (problems.length) out.push({ method: x.method, path: x.path, query: log?.query ?? '', problems });
  });
  return out;
}

/**
 * Configures the app exactly as `stack.setup()` does (API key created in CATAAM, project chosen,
 * settings saved, secret generated and pasted into CATAAM) but hands back the raw API key and the
 * shared secret, which the security suite needs to sign pushes and to look for leaks.
 */
export async function setupWithSecrets(stack, { projectKey = 'SEC', apiKeyName = 'Jira Production' } = {}) {
  const apiKey = await stack.cataam.createApiKey(apiKeyName);
  const projects = await stack.invoke('listProjects', { query: '', startAt: 0 });
  if (!projects.ok) throw new Error(`listProjects failed: ${JSON.stringify(projects.error)}`);
  const p = projects.projects.find((x) => x.key === projectKey);
  const saved = await stack.invoke('saveSettings', { baseUrl: 'https://service.cataam.com', apiKey, projectId: p.id, projectKey: p.key });
  if (!saved.ok) throw new Error(`saveSettings failed: ${JSON.stringify(saved.error)}`);
  const generated = await stack.invoke('generateSecret', {});
  if (!generated.ok) throw new Error(`generateSecret failed: ${JSON.stringify(generated.error)}`);
  await stack.cataam.setSharedSecret(generated.secret);
  return { apiKey, apiKeyName, secret: generated.secret, projectId: p.id, saved, generated };
}
