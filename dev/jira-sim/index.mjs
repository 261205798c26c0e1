// The Jira Cloud simulator: a real HTTP server on 127.0.0.1 answering the subset of Jira Cloud REST
// v3 the CATAAM app uses, with Jira's shapes and strictness (see README.md beside this file).
// `startJiraSim(options)` returns a handle with the base URL, test helpers that act as a "human"
// user, the request log and `close()`. The contract is in docs/internals.md ("Jira simulator").

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createState, JiraError } from './state.mjs';
import { createRateLimiter, createFaults } from './limits.mjs';
import { createEventDelivery } from './events.mjs';
import { findStatus, pathTo } from './workflows.mjs';
import { textToAdf, validateAdf } from './adf.mjs';
import { renderPage } from './page.mjs';

const MAX_BODY = 10 * 1024 * 1024;
const PERMISSIONS = {
  ADMINISTER: { id: '0', name: 'Administer Jira', type: 'GLOBAL', description: 'Create and administer projects, issue types, fields, workflows, and schemes for all projects.' },
  BROWSE_PROJECTS: { id: '10', name: 'Browse Projects', type: 'PROJECT', description: 'Ability to browse projects and the issues within them.' },
  CREATE_ISSUES: { id: '11', name: 'Create Issues', type: 'PROJECT', description: 'Ability to create issues.' },
  EDIT_ISSUES: { id: '12', name: 'Edit Issues', type: 'PROJECT', description: 'Ability to edit issues.' },
  TRANSITION_ISSUES: { id: '46', name: 'Transition Issues', type: 'PROJECT', description: 'Ability to transition issues.' },
  ASSIGN_ISSUES: { id: '13', name: 'Assign Issues', type: 'PROJECT', description: 'Ability to assign issues to other people.' },
  ADD_COMMENTS: { id: '15', name: 'Add Comments', type: 'PROJECT', description: 'Ability to comment on issues.' },
  RESOLVE_ISSUES: { id: '14', name: 'Resolve Issues', type: 'PROJECT', description: 'Ability to resolve and reopen issues.' },
};

/**
 * Start the simulator. Options (all optional): `port`, `dataDir`, `eventSink`, `appAccountId`,
 * `users`, `projects`, `workflow` ('default' | 'custom' | definition), `indexLagMs`, `timeZone`
 * (IANA; every user's, so absolute JQL dates are read in it; default Etc/UTC), `rateLimits`,
 * `faults`, `onExchange(method, path, reqBody, status, resBody)`, `now` (clock, ms), `assignedEvents`
 * (also emit `avi:jira:assigned:issue`, off by default).
 */
export async function startJiraSim(options = {}) {
  const now = options.now ?? Date.now;
  // Compile the ADF schema now (once per process, ~0.5 s) rather than inside the first request.
  validateAdf(textToAdf('warm-up'));
  const delivery = createEventDelivery({ sink: options.eventSink ?? null });
  let baseUrl = '';
  const snapshotFile = options.dataDir ? path.join(options.dataDir, 'jira-sim.json') : null;
  let saveTimer = null;
  const saveNow = () => {
    if (!snapshotFile) return;
    clearTimeout(saveTimer);
    saveTimer = null;
    fs.mkdirSync(options.dataDir, { recursive: true });
    const tmp = `${snapshotFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(state.toJSON()));
    fs.renameSync(tmp, snapshotFile);
  };
  const state = createState({
    baseUrl: () => baseUrl,
    now,
    appAccountId: options.appAccountId,
    users: options.users,
    projects: options.projects,
    workflow: options.workflow,
    indexLagMs: options.indexLagMs ?? 0,
    timeZone: options.timeZone,
    assignedEvents: options.assignedEvents,
    onEvent: (ev) => delivery.emit(ev),
    onChange: () => {
      if (snapshotFile && !saveTimer) { saveTimer = setTimeout(saveNow, 25); saveTimer.unref(); }
    },
  });
  if (snapshotFile && fs.existsSync(snapshotFile)) state.load(JSON.parse(fs.readFileSync(snapshotFile, 'utf8')));

  let limiter = createRateLimiter(options.rateLimits);
  let faults = createFaults(options.faults);
  const requestLog = [];
  const exchangeErrors = [];
  const sockets = new Set();
  const hung = new Set();

  const routes = buildRoutes(state, () => baseUrl);

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json;charset=UTF-8' });
        res.end(JSON.stringify({ errorMessages: [`Internal server error: ${err.message}`], errors: {} }));
      }
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  async function readBody(req) {
    const chunks = [];
    let size = 0;
    for await (const c of req) {
      size += c.length;
      if (size > MAX_BODY) return { tooLarge: true };
      chunks.push(c);
    }
    return { raw: Buffer.concat(chunks).toString('utf8') };
  }

  function send(res, status, body, headers = {}) {
    const h = { 'x-arequestid': randomUUID(), ...headers };
    if (body === undefined || body === null) { res.writeHead(status, h); res.end(); return; }
    if (typeof body === 'string') {
      res.writeHead(status, { 'content-type': 'text/html;charset=UTF-8', ...h });
      res.end(body);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...h });
    res.end(JSON.stringify(body));
  }

  async function handle(req, res) {
    const started = performance.now();
    const url = new URL(req.url, baseUrl);
    const pathname = url.pathname;
    if (!pathname.startsWith('/rest/')) {
      if (req.method === 'GET' && (pathname === '/' || pathname.startsWith('/browse/'))) {
        send(res, 200, renderPage(state, { pathname, query: url.searchParams }));
        return;
      }
      send(res, 404, { errorMessages: [`No resource found at ${pathname}`], errors: {} });
      return;
    }
    const { raw, tooLarge } = await readBody(req);
    let actor = null;
    let status = 0;
    let resBody = null;
    let reqBody = null;
    const finish = (st, body, headers) => {
      status = st;
      resBody = body ?? null;
      send(res, st, body, headers);
      requestLog.push({ at: Date.now(), method: req.method, path: pathname, query: url.search, status: st, actor, ms: Math.round((performance.now() - started) * 100) / 100 });
      if (options.onExchange) {
        try { options.onExchange(req.method, pathname, reqBody, status, resBody); } catch (e) { exchangeErrors.push(e); }
      }
    };
    // --- authentication (Bearer app | Bearer user:<accountId>) ---
    const auth = String(req.headers.authorization ?? '');
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (m && m[1] === 'app') actor = state.appAccountId;
    else if (m && m[1].startsWith('user:') && state.users.has(m[1].slice(5))) actor = m[1].slice(5);
    if (!actor) {
      finish(401, { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {} }, { 'www-authenticate': 'OAuth realm="https%3A%2F%2Fjira.atlassian.net"' });
      return;
    }
    const fromPage = req.headers['x-jira-sim-client'] === 'page';
    // --- faults (never for the simulator's own page) ---
    if (faults.active && !fromPage) {
      const f = faults.next();
      if (f.latencyMs > 0) await new Promise((r) => setTimeout(r, f.latencyMs));
      if (f.kind === 'drop') {
        requestLog.push({ method: req.method, path: pathname, query: url.search, status: 0, actor, ms: Math.round(performance.now() - started), fault: 'drop' });
        req.socket.destroy();
        return;
      }
      if (f.kind === 'timeout') {
        requestLog.push({ method: req.method, path: pathname, query: url.search, status: 0, actor, ms: faults.timeoutMs, fault: 'timeout' });
        const t = setTimeout(() => { hung.delete(t); req.socket.destroy(); }, faults.timeoutMs);
        hung.add(t);
        return;
      }
      if (f.kind === '5xx') { finish(503, { errorMessages: ['Service Unavailable: the simulator injected a fault.'], errors: {} }); return; }
      if (f.kind === '429') {
        finish(429, { errorMessages: ['Rate limit exceeded.'], errors: {} }, {
          'retry-after': '1', 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': new Date(now() + 1000).toISOString(), 'ratelimit-reason': 'jira-burst-based',
        });
        return;
      }
    }
    // --- routing ---
    const match = matchRoute(routes, req.method, pathname);
    if (!match) { finish(404, { errorMessages: ['No route found for this request.'], errors: {} }); return; }
    if (match.methodNotAllowed) { finish(405, { errorMessages: [`Method ${req.method} is not allowed here.`], errors: {} }, { allow: match.allow }); return; }
    if (tooLarge) { finish(413, { errorMessages: ['Request entity too large.'], errors: {} }); return; }
    if (raw && !/application\/json/i.test(String(req.headers['content-type'] ?? ''))) {
      // Jira refuses a body that is not declared as JSON.
      finish(415, { errorMessages: ['Unsupported Media Type: send the body as application/json.'], errors: {} });
      return;
    }
    if (raw) {
      try { reqBody = JSON.parse(raw); } catch (e) {
        const err = { errorMessages: [`Unexpected character in the request body: ${e.message}`], errors: {} };
        finish(400, match.route.template.endsWith('/issue/bulk') ? { issues: [], errors: [{ status: 400, elementErrors: err }] } : err);
        return;
      }
    }
    // --- rate limits ---
    let rlHeaders = {};
    if (limiter.enabled && !fromPage) {
      const issueRef = match.params.issueIdOrKey;
      const issueId = issueRef ? state.lookupIssue(issueRef)?.id : null;
      const write = req.method !== 'GET';
      const refusal = limiter.check({ actor, endpoint: match.route.key, issueId, write, now: now() });
      if (refusal) {
        finish(429, { errorMessages: ['Rate limit exceeded.'], errors: {} }, {
          'retry-after': String(Math.max(1, Math.ceil(refusal.retryAfterMs / 1000))),
          'x-ratelimit-limit': String(refusal.limit),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': new Date(refusal.resetAt).toISOString(),
          'ratelimit-reason': refusal.reason,
        });
        return;
      }
      rlHeaders = limiter.headers(actor, match.route.key);
    }
    try {
      const out = await match.route.handler({ actor, params: match.params, query: url.searchParams, body: reqBody, raw });
      finish(out.status, out.body, { ...rlHeaders, ...out.headers });
    } catch (err) {
      if (err instanceof JiraError) finish(err.status, err.body(), rlHeaders);
      else throw err;
    }
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address();
  baseUrl = `http://127.0.0.1:${port}`;

  const human = (accountId) => {
    if (!state.users.has(accountId)) throw new Error(`unknown user ${accountId}`);
    const wrap = (fn) => async (...args) => {
      try { return fn(...args); } catch (e) {
        if (e instanceof JiraError) {
          const err = new Error(`Jira ${e.status}: ${[...e.errorMessages, ...Object.entries(e.errors).map(([k, v]) => `${k}: ${v}`)].join('; ')}`);
          err.status = e.status;
          err.body = e.body();
          throw err;
        }
        throw e;
      }
    };
    return {
      /** Move the issue to `statusName`, hop by hop along the shortest allowed path. */
      transition: wrap((key, statusName, { resolution } = {}) => {
        const rec = state.getIssue(key);
        const wf = state.workflowOf(rec);
        const target = findStatus(wf, statusName);
        if (!target) throw new Error(`no status ${statusName} in workflow ${wf.name}`);
        const hops = pathTo(wf, rec.statusId, target.id);
        if (!hops) throw new Error(`no path from ${rec.statusId} to ${target.name}`);
        for (const t of hops) {
          const body = { transition: { id: t.id } };
          const intoDone = wf.statuses.find((s) => s.id === t.to).category === 'done';
          if (intoDone && (t.screen || t.acceptsResolution)) {
            if (resolution) body.fields = { resolution: { name: resolution } };
            else if (t.screen?.resolutionRequired) body.fields = { resolution: { name: 'Done' } };
          }
          state.transitionIssue(accountId, rec.id, body);
        }
        return state.issueJson(state.getIssue(key));
      }),
      assign: wrap((key, assignee) => state.issueJson(state.editIssue(accountId, key, { fields: { assignee: assignee ? { accountId: assignee } : null } }))),
      setDueDate: wrap((key, date) => state.issueJson(state.editIssue(accountId, key, { fields: { duedate: date } }))),
      comment: wrap((key, text) => state.addComment(accountId, key, { body: typeof text === 'string' ? textToAdf(text) : text })),
      edit: wrap((key, fields) => state.issueJson(state.editIssue(accountId, key, { fields }))),
      create: wrap((fields, properties) => state.issueJson(state.createIssue(accountId, { fields, properties }))),
    };
  };

  return {
    url: baseUrl,
    port,
    appAccountId: state.appAccountId,
    requestLog,
    exchangeErrors,
    /** Every product event emitted (delivered or not). */
    events: delivery.emitted,
    eventStats: delivery.stats,
    /** Wait until every emitted event has been delivered (or given up). */
    flushEvents: () => delivery.flush(),
    /** Every issue as `GET /issue/{id}` renders it, with all properties. */
    issues: () => state.allIssues().map((r) => state.issueJson(r, { properties: '*all' })),
    issue: (key) => {
      const r = state.lookupIssue(key);
      return r ? state.issueJson(r, { properties: '*all' }) : null;
    },
    human,
    setFaults: (f) => { faults = createFaults(f); },
    setRateLimits: (r) => { limiter = createRateLimiter(r); },
    setIndexLagMs: (ms) => { state.indexLagMs = ms; },
    setEventSink: (url) => { delivery.sink = url; },
    /** Persist now (also done automatically shortly after every change and on close). */
    save: saveNow,
    async close() {
      for (const t of hung) clearTimeout(t);
      hung.clear();
      if (snapshotFile && saveTimer) saveNow();
      await delivery.close();
      await new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Routes

function compileTemplate(t) {
  const names = [];
  const re = t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, n) => { names.push(n); return '([^/]+)'; });
  return { re: new RegExp(`^${re}/?$`), names };
}

function matchRoute(routes, method, pathname) {
  const allow = [];
  for (const r of routes) {
    const m = r.re.exec(pathname);
    if (!m) continue;
    if (r.method !== method) { allow.push(r.method); continue; }
    const params = {};
    try {
      r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
    } catch {
      return null; // malformed %-escape: no such resource
    }
    return { route: r, params };
  }
  return allow.length ? { methodNotAllowed: true, allow: allow.join(', ') } : null;
}

const list = (q, name) => {
  const all = q.getAll(name).flatMap((v) => v.split(','));
  return all.map((s) => s.trim()).filter(Boolean);
};
const page = (q, { defaultMax = 50, cap = 100 } = {}) => {
  const startAt = Math.max(0, Number.parseInt(q.get('startAt') ?? '0', 10) || 0);
  let maxResults = Number.parseInt(q.get('maxResults') ?? String(defaultMax), 10);
  if (!Number.isFinite(maxResults) || maxResults < 0) maxResults = defaultMax;
  return { startAt, maxResults: Math.min(maxResults, cap) };
};

function pageBean(self, values, { startAt, maxResults }) {
  const slice = values.slice(startAt, startAt + maxResults);
  const isLast = startAt + maxResults >= values.length;
  const out = { self, maxResults, startAt, total: values.length, isLast, values: slice };
  if (!isLast) {
    const u = new URL(self);
    u.searchParams.set('startAt', String(startAt + maxResults));
    u.searchParams.set('maxResults', String(maxResults));
    out.nextPage = u.toString();
  }
  return out;
}

function buildRoutes(state, base) {
  const ok = (body, status = 200, headers) => ({ status, body, headers });
  const r = [];
  const add = (method, template, handler) => r.push({ method, template, key: `${method} ${template}`, handler, ...compileTemplate(template) });

  add('GET', '/rest/api/3/myself', ({ actor }) => ok(state.userJson(actor)));
  add('GET', '/rest/api/3/user', ({ query }) => {
    const id = query.get('accountId');
    // Jira documents no 400 here: a missing accountId finds no user.
    const u = id ? state.userJson(id) : null;
    if (!u) throw new JiraError(404, ['Specified user does not exist or you do not have required permissions']);
    return ok(u);
  });
  add('GET', '/rest/api/3/mypermissions', ({ actor, query }) => {
    const keys = list(query, 'permissions');
    if (!keys.length) throw new JiraError(400, ['The permissions query parameter is required.']);
    const unknown = keys.find((k) => !PERMISSIONS[k]);
    if (unknown) throw new JiraError(404, [`No permission with key '${unknown}' exists.`]);
    const admin = Boolean(state.users.get(actor)?.admin);
    const permissions = {};
    for (const k of keys) permissions[k] = { ...PERMISSIONS[k], key: k, havePermission: k === 'ADMINISTER' ? admin : true };
    return ok({ permissions });
  });

  add('GET', '/rest/api/3/project/search', ({ query }) => {
    const q = (query.get('query') ?? '').toLowerCase();
    const keys = list(query, 'keys').map((k) => k.toUpperCase());
    let projects = state.projects.filter((p) => (!q || p.key.toLowerCase().includes(q) || p.name.toLowerCase().includes(q)) && (!keys.length || keys.includes(p.key)));
    const orderBy = query.get('orderBy') ?? 'key';
    const desc = orderBy.startsWith('-');
    const field = orderBy.replace(/^[-+]/, '');
    if (!['key', 'name', 'id'].includes(field)) throw new JiraError(400, [`Invalid orderBy value '${orderBy}'.`]);
    projects = [...projects].sort((a, b) => (field === 'id' ? Number(a.id) - Number(b.id) : a[field].localeCompare(b[field])) * (desc ? -1 : 1));
    const self = new URL(`${base()}/rest/api/3/project/search`);
    for (const [k, v] of query) self.searchParams.set(k, v);
    return ok(pageBean(self.toString(), projects.map((p) => state.projectJson(p)), page(query)));
  });
  const project = (ref) => {
    const p = state.projects.find((x) => x.id === ref || x.key.toUpperCase() === String(ref).toUpperCase());
    if (!p) throw new JiraError(404, [`No project could be found with key '${ref}'.`]);
    return p;
  };
  add('GET', '/rest/api/3/project/{projectIdOrKey}', ({ params }) => ok(state.projectJson(project(params.projectIdOrKey))));
  add('GET', '/rest/api/3/project/{projectIdOrKey}/statuses', ({ params }) => {
    const p = project(params.projectIdOrKey);
    return ok(state.catalogues.issueTypes.map((t) => ({
      self: `${base()}/rest/api/3/issuetype/${t.id}`, id: t.id, name: t.name, subtask: false,
      statuses: p.workflow.statuses.map((s) => state.statusJson(s)),
    })));
  });

  add('POST', '/rest/api/3/issue', ({ actor, body }) => {
    const rec = state.createIssue(actor, body);
    return ok({ id: rec.id, key: rec.key, self: `${base()}/rest/api/3/issue/${rec.id}` }, 201);
  });
  add('POST', '/rest/api/3/issue/bulk', ({ actor, body }) => {
    let result;
    try { result = state.createIssues(actor, body); } catch (e) {
      // Jira answers a refused bulk request with the CreatedIssues shape, too.
      if (e instanceof JiraError) return ok({ issues: [], errors: [{ status: e.status, elementErrors: e.body() }] }, e.status);
      throw e;
    }
    const { created, failures } = result;
    const out = {
      issues: created.map((rec) => ({ id: rec.id, key: rec.key, self: `${base()}/rest/api/3/issue/${rec.id}` })),
      errors: failures.map(({ index, error }) => ({ status: error.status, elementErrors: error.body(), failedElementNumber: index })),
    };
    return ok(out, created.length ? 201 : 400);
  });
  add('GET', '/rest/api/3/issue/{issueIdOrKey}', ({ params, query }) => {
    const rec = state.getIssue(params.issueIdOrKey);
    const fields = query.has('fields') ? list(query, 'fields') : undefined;
    return ok(state.issueJson(rec, { fields, properties: query.has('properties') ? list(query, 'properties') : undefined, expand: query.get('expand') ?? '' }));
  });
  add('PUT', '/rest/api/3/issue/{issueIdOrKey}', ({ actor, params, query, body }) => {
    const rec = state.editIssue(actor, params.issueIdOrKey, body);
    if (query.get('returnIssue') === 'true') return ok(state.issueJson(rec, { expand: query.get('expand') ?? '' }));
    return ok(null, 204);
  });
  add('DELETE', '/rest/api/3/issue/{issueIdOrKey}', ({ actor, params }) => {
    state.deleteIssue(actor, params.issueIdOrKey);
    return ok(null, 204);
  });
  add('PUT', '/rest/api/3/issue/{issueIdOrKey}/assignee', ({ actor, params, body }) => {
    if (!body || typeof body !== 'object') throw new JiraError(400, ['Request body must be a JSON object.']);
    state.editIssue(actor, params.issueIdOrKey, { fields: { assignee: body.accountId ? { accountId: body.accountId } : null } });
    return ok(null, 204);
  });
  add('GET', '/rest/api/3/issue/{issueIdOrKey}/transitions', ({ params, query }) => {
    const rec = state.getIssue(params.issueIdOrKey);
    const expandFields = String(query.get('expand') ?? '').split(',').includes('transitions.fields');
    return ok(state.transitionsJson(rec, { expandFields, transitionId: query.get('transitionId') }));
  });
  add('POST', '/rest/api/3/issue/{issueIdOrKey}/transitions', ({ actor, params, body }) => {
    state.transitionIssue(actor, params.issueIdOrKey, body);
    return ok(null, 204);
  });
  add('GET', '/rest/api/3/issue/{issueIdOrKey}/comment', ({ params, query }) =>
    ok(state.listComments(params.issueIdOrKey, { startAt: query.get('startAt'), maxResults: query.get('maxResults') ?? 100, orderBy: query.get('orderBy') })));
  add('POST', '/rest/api/3/issue/{issueIdOrKey}/comment', ({ actor, params, body }) => ok(state.addComment(actor, params.issueIdOrKey, body), 201));
  add('GET', '/rest/api/3/issue/{issueIdOrKey}/changelog', ({ params, query }) => {
    const rec = state.getIssue(params.issueIdOrKey);
    return ok(pageBean(`${base()}/rest/api/3/issue/${rec.id}/changelog`, state.historiesJson(rec), page(query, { defaultMax: 100, cap: 100 })));
  });
  add('GET', '/rest/api/3/issue/{issueIdOrKey}/properties', ({ params }) => ok(state.propertyKeys(params.issueIdOrKey)));
  add('GET', '/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}', ({ params }) => ok(state.getProperty(params.issueIdOrKey, params.propertyKey)));
  add('PUT', '/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}', ({ actor, params, raw, body }) => {
    if (!raw) throw new JiraError(400, ['The property value must be valid, non-empty JSON.']);
    const created = state.setProperty(actor, params.issueIdOrKey, params.propertyKey, body);
    return ok(null, created ? 201 : 200);
  });
  add('DELETE', '/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}', ({ actor, params }) => {
    state.deleteProperty(actor, params.issueIdOrKey, params.propertyKey);
    return ok(null, 204);
  });

  add('POST', '/rest/api/3/search/jql', ({ actor, body }) => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new JiraError(400, ['Request body must be a JSON object.']);
    const allowed = ['jql', 'nextPageToken', 'maxResults', 'fields', 'expand', 'properties', 'fieldsByKeys', 'reconcileIssues', 'failFast'];
    const extra = Object.keys(body).find((k) => !allowed.includes(k));
    if (extra) throw new JiraError(400, [`Unrecognized field "${extra}".`]);
    for (const k of ['fields', 'properties', 'reconcileIssues']) {
      if (body[k] !== undefined && !Array.isArray(body[k])) throw new JiraError(400, [`${k} must be a list.`]);
    }
    if (body.reconcileIssues?.some((x) => !Number.isInteger(x))) throw new JiraError(400, ['reconcileIssues must be a list of issue ids (integers).']);
    return ok(state.search(actor, body));
  });
  add('GET', '/rest/api/3/search/jql', ({ actor, query }) => {
    const body = { jql: query.get('jql') ?? undefined };
    if (query.has('fields')) body.fields = list(query, 'fields');
    if (query.has('properties')) body.properties = list(query, 'properties');
    if (query.has('maxResults')) body.maxResults = Number(query.get('maxResults'));
    if (query.has('nextPageToken')) body.nextPageToken = query.get('nextPageToken');
    if (query.has('reconcileIssues')) body.reconcileIssues = list(query, 'reconcileIssues').map(Number);
    return ok(state.search(actor, body));
  });

  const resolutions = () => state.catalogues.resolutions.map((x) => ({ ...state.resolutionJson(x), default: Boolean(x.default) }));
  add('GET', '/rest/api/3/resolution/search', ({ query }) => ok(pageBean(`${base()}/rest/api/3/resolution/search`, resolutions(), page(query))));
  add('GET', '/rest/api/3/resolution', () => ok(state.catalogues.resolutions.map((x) => state.resolutionJson(x))));
  const priorities = () => state.catalogues.priorities.map((p) => ({ ...state.priorityJson(p), statusColor: p.statusColor, description: p.name, isDefault: Boolean(p.isDefault) }));
  add('GET', '/rest/api/3/priority/search', ({ query }) => ok(pageBean(`${base()}/rest/api/3/priority/search`, priorities(), page(query))));
  add('GET', '/rest/api/3/priority', () => ok(priorities()));
  add('GET', '/rest/api/3/issuetype', () => ok(state.catalogues.issueTypes.map((t) => state.issueTypeJson(t))));
  add('GET', '/rest/api/3/status', () => ok(state.statuses.map((s) => state.statusJson(s))));
  add('GET', '/rest/api/3/statuscategory', () => ok([
    { self: `${base()}/rest/api/3/statuscategory/1`, id: 1, key: 'undefined', colorName: 'medium-gray', name: 'No Category' },
    ...['new', 'indeterminate', 'done'].map((k) => state.categoryJson(k)),
  ]));
  add('GET', '/rest/api/3/statuses', ({ query }) => {
    const ids = list(query, 'id');
    if (!ids.length) throw new JiraError(400, ["The query parameter 'id' is required."]);
    const cat = { new: 'TODO', indeterminate: 'IN_PROGRESS', done: 'DONE' };
    return ok(state.statuses.filter((s) => ids.includes(s.id)).map((s) => ({
      id: s.id, name: s.name, statusCategory: cat[s.category], scope: { type: 'GLOBAL' }, description: s.description ?? '',
    })));
  });
  return r;
}
