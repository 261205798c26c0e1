// Conformance of the Jira simulator with Jira's official OpenAPI spec: every endpoint is driven on
// its happy and error paths, and every request body sent and every response produced (captured with
// the simulator's `onExchange` hook) is validated against the spec's schemas.
// Run: JIRA_OPENAPI_SPEC=/work/shared/jira/swagger-v3.v3.json node --test tests/jira-sim-*.test.mjs

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startJiraSim } from '../dev/jira-sim/index.mjs';
import { SPEC_MISSING, loadSpec, validateRequest, validateResponse, validateSchema } from './lib/openapi.mjs';

const USERS = [
  { accountId: 'acc-alice', displayName: 'Alice Admin', emailAddress: 'alice@example.com', admin: true },
  { accountId: 'acc-bob', displayName: 'Bob Builder', emailAddress: 'bob@example.com', emailVisible: false },
];
const PROJECTS = [{ key: 'SEC', name: 'Security' }, { key: 'OPS', name: 'Operations' }, { key: 'WEB', name: 'Web Platform' }];
const adf = (text) => ({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] });

test('the OpenAPI spec location is configured', () => {
  assert.ok(process.env.JIRA_OPENAPI_SPEC, SPEC_MISSING);
  loadSpec();
});

/** Start a simulator whose every exchange is checked against the spec. */
async function startChecked(opts = {}) {
  const exchanges = [];
  const sim = await startJiraSim({
    users: USERS, projects: PROJECTS, ...opts,
    onExchange: (method, path, reqBody, status, resBody) => exchanges.push({ method, path, reqBody, status, resBody }),
  });
  const call = async (method, path, body, who = 'app', extraHeaders = {}) => {
    const before = exchanges.length;
    const res = await fetch(sim.url + path, {
      method,
      headers: { ...(who ? { authorization: who === 'app' ? 'Bearer app' : `Bearer user:${who}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extraHeaders },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : null;
    assert.equal(exchanges.length, before + 1, 'onExchange saw the request');
    const ex = exchanges.at(-1);
    assert.equal(ex.status, res.status);
    assert.deepEqual(ex.resBody, parsed);
    if (res.status !== 404 || !path.includes('/nope')) {
      const req = validateRequest(method, path, body === undefined ? null : body);
      assert.ok(req.valid, `request ${method} ${path} violates the spec: ${req.errors.join('; ')}`);
      const v = validateResponse(method, path, res.status, parsed);
      assert.ok(v.valid, `response ${res.status} of ${method} ${path} violates the spec: ${v.errors.join('; ')}\n${text.slice(0, 500)}`);
    }
    if (res.status >= 400 && parsed) {
      const bulkShape = path.endsWith('/issue/bulk') && res.status === 400; // Jira answers CreatedIssues there
      const shape = bulkShape ? validateSchema('CreatedIssues', parsed) : validateSchema('ErrorCollection', parsed);
      assert.ok(shape.valid, `error body of ${method} ${path}: ${shape.errors.join('; ')}`);
      if (!bulkShape) assert.ok(parsed.errorMessages.length || Object.keys(parsed.errors).length, 'an error says what is wrong');
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return { sim, call, exchanges };
}

const bug = (summary, extra = {}) => ({ fields: { project: { key: 'SEC' }, issuetype: { name: 'Bug' }, summary, ...extra } });

describe('Jira simulator conforms to the Jira REST v3 spec', () => {
  let sim; let call; let exchanges;
  before(async () => { loadSpec(); ({ sim, call, exchanges } = await startChecked()); });
  after(async () => { await sim?.close(); });

  test('authentication: missing or unknown credentials are 401', async () => {
    assert.equal((await call('GET', '/rest/api/3/myself', undefined, null)).status, 401);
    assert.equal((await call('GET', '/rest/api/3/myself', undefined, 'acc-nobody')).status, 401);
    // Every operation that documents a 401 answers it (with the spec's shape) when unauthenticated.
    const ops = [
      ['GET', '/rest/api/3/user?accountId=acc-bob'], ['GET', '/rest/api/3/mypermissions?permissions=ADMINISTER'],
      ['GET', '/rest/api/3/project/search'], ['GET', '/rest/api/3/project/SEC'], ['GET', '/rest/api/3/project/SEC/statuses'],
      ['POST', '/rest/api/3/issue', bug('x')], ['POST', '/rest/api/3/issue/bulk', { issueUpdates: [bug('x')] }],
      ['GET', '/rest/api/3/issue/SEC-1'], ['PUT', '/rest/api/3/issue/SEC-1', { fields: { summary: 'x' } }], ['DELETE', '/rest/api/3/issue/SEC-1'],
      ['GET', '/rest/api/3/issue/SEC-1/transitions'], ['POST', '/rest/api/3/issue/SEC-1/transitions', { transition: { id: '11' } }],
      ['GET', '/rest/api/3/issue/SEC-1/comment'], ['POST', '/rest/api/3/issue/SEC-1/comment', { body: adf('x') }],
      ['GET', '/rest/api/3/issue/SEC-1/properties/k'], ['PUT', '/rest/api/3/issue/SEC-1/properties/k', { v: 1 }], ['DELETE', '/rest/api/3/issue/SEC-1/properties/k'],
      ['POST', '/rest/api/3/search/jql', { jql: 'project = SEC' }], ['GET', '/rest/api/3/search/jql?jql=project%3DSEC'],
      ['GET', '/rest/api/3/resolution/search'], ['GET', '/rest/api/3/resolution'], ['GET', '/rest/api/3/priority/search'], ['GET', '/rest/api/3/priority'],
      ['GET', '/rest/api/3/status'], ['GET', '/rest/api/3/statuses?id=3'], ['GET', '/rest/api/3/statuscategory'],
    ];
    for (const [method, p, body] of ops) assert.equal((await call(method, p, body, null)).status, 401, `${method} ${p}`);
  });

  test('myself, user, mypermissions', async () => {
    const me = await call('GET', '/rest/api/3/myself');
    assert.equal(me.status, 200);
    assert.equal(me.body.accountType, 'app');
    const alice = await call('GET', '/rest/api/3/myself', undefined, 'acc-alice');
    assert.equal(alice.body.emailAddress, 'alice@example.com');
    const bob = await call('GET', '/rest/api/3/user?accountId=acc-bob');
    assert.equal(bob.status, 200);
    assert.equal(bob.body.displayName, 'Bob Builder');
    assert.equal(bob.body.emailAddress, undefined, 'hidden e-mail is not shown');
    assert.equal((await call('GET', '/rest/api/3/user?accountId=acc-ghost')).status, 404);
    assert.equal((await call('GET', '/rest/api/3/user')).status, 404);
    const pa = await call('GET', '/rest/api/3/mypermissions?permissions=ADMINISTER', undefined, 'acc-alice');
    assert.equal(pa.body.permissions.ADMINISTER.havePermission, true);
    const pb = await call('GET', '/rest/api/3/mypermissions?permissions=ADMINISTER,BROWSE_PROJECTS', undefined, 'acc-bob');
    assert.equal(pb.body.permissions.ADMINISTER.havePermission, false);
    assert.equal(pb.body.permissions.BROWSE_PROJECTS.havePermission, true);
    assert.equal((await call('GET', '/rest/api/3/mypermissions')).status, 400);
    assert.equal((await call('GET', '/rest/api/3/mypermissions?permissions=FLY')).status, 404);
  });

  test('project search: paging, query filter, isLast and total', async () => {
    const p1 = await call('GET', '/rest/api/3/project/search?maxResults=2');
    assert.equal(p1.status, 200);
    assert.deepEqual(p1.body.values.map((p) => p.key), ['OPS', 'SEC']);
    assert.equal(p1.body.total, 3);
    assert.equal(p1.body.isLast, false);
    assert.ok(p1.body.nextPage.includes('startAt=2'));
    const p2 = await call('GET', '/rest/api/3/project/search?maxResults=2&startAt=2');
    assert.deepEqual(p2.body.values.map((p) => p.key), ['WEB']);
    assert.equal(p2.body.isLast, true);
    const q = await call('GET', '/rest/api/3/project/search?query=secur');
    assert.deepEqual(q.body.values.map((p) => p.key), ['SEC']);
    const capped = await call('GET', '/rest/api/3/project/search?maxResults=500');
    assert.equal(capped.body.maxResults, 100);
    assert.equal((await call('GET', '/rest/api/3/project/search?orderBy=colour')).status, 400);
    assert.equal((await call('GET', '/rest/api/3/project/SEC')).body.key, 'SEC');
    assert.equal((await call('GET', '/rest/api/3/project/NOPE')).status, 404);
    const st = await call('GET', '/rest/api/3/project/SEC/statuses');
    assert.ok(st.body[0].statuses.some((s) => s.statusCategory.key === 'done'));
  });

  test('create issue: 201 with id/key/self, properties set at creation', async () => {
    const body = {
      ...bug('Exposed admin panel', { description: adf('Found on host a.example.com'), priority: { name: 'High' }, labels: ['cataam', 'severity-high'], duedate: '2026-12-31', assignee: { accountId: 'acc-alice' } }),
      properties: [{ key: 'cataam.finding', value: { findingId: 'fnd_1' } }],
    };
    const res = await call('POST', '/rest/api/3/issue', body);
    assert.equal(res.status, 201);
    assert.match(res.body.key, /^SEC-\d+$/);
    assert.ok(res.body.self.endsWith(`/rest/api/3/issue/${res.body.id}`));
    const got = await call('GET', `/rest/api/3/issue/${res.body.key}?properties=cataam.finding`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.properties, { 'cataam.finding': { findingId: 'fnd_1' } });
    const f = got.body.fields;
    assert.equal(f.summary, 'Exposed admin panel');
    assert.equal(f.priority.name, 'High');
    assert.deepEqual(f.labels, ['cataam', 'severity-high']);
    assert.equal(f.duedate, '2026-12-31');
    assert.equal(f.assignee.accountId, 'acc-alice');
    assert.equal(f.assignee.emailAddress, 'alice@example.com');
    assert.equal(f.status.statusCategory.key, 'new');
    assert.equal(f.resolution, null);
    assert.deepEqual(f.description, adf('Found on host a.example.com'));
    assert.match(f.updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    const byId = await call('GET', `/rest/api/3/issue/${res.body.id}?fields=summary,status`);
    assert.deepEqual(Object.keys(byId.body.fields).sort(), ['status', 'summary']);
    const excl = await call('GET', `/rest/api/3/issue/${res.body.id}?fields=*all,-comment`);
    assert.equal(excl.body.fields.comment, undefined);
    const exp = await call('GET', `/rest/api/3/issue/${res.body.id}?expand=transitions,changelog`);
    assert.ok(exp.body.transitions.length > 0);
    assert.equal(exp.body.changelog.total, 0);
  });

  test('create issue: Jira validation errors', async () => {
    const cases = [
      [{ fields: { issuetype: { name: 'Bug' }, summary: 'x' } }, 'project'],
      [{ fields: { project: { key: 'NOPE' }, issuetype: { name: 'Bug' }, summary: 'x' } }, 'project'],
      [{ fields: { project: { key: 'SEC' }, issuetype: { name: 'Dragon' }, summary: 'x' } }, 'issuetype'],
      [{ fields: { project: { key: 'SEC' }, issuetype: { name: 'Bug' } } }, 'summary'],
      [bug('x'.repeat(256)), 'summary'],
      [bug('line\nbreak'), 'summary'],
      [bug('x', { priority: { name: 'Urgent!!' } }), 'priority'],
      [bug('x', { priority: { id: '99' } }), 'priority'],
      [bug('x', { labels: ['has space'] }), 'labels'],
      [bug('x', { description: 'plain text is not ADF' }), 'description'],
      [bug('x', { description: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'bogus' }] }] } }), 'description'],
      [bug('x', { description: adf('y'.repeat(32768)) }), 'description'],
      [bug('x', { duedate: '31/12/2026' }), 'duedate'],
      [bug('x', { assignee: { accountId: 'acc-ghost' } }), 'assignee'],
      [bug('x', { status: { name: 'Done' } }), 'status'],
      [bug('x', { customfield_10099: 'x' }), 'customfield_10099'],
    ];
    for (const [body, field] of cases) {
      const res = await call('POST', '/rest/api/3/issue', body);
      assert.equal(res.status, 400, `${field}: ${JSON.stringify(res.body)}`);
      assert.ok(res.body.errors[field], `error names ${field}: ${JSON.stringify(res.body)}`);
    }
    assert.equal((await call('POST', '/rest/api/3/issue', bug('ok', { priority: { id: '1' } }))).status, 201, 'priority by id');
    const tooBig = await call('POST', '/rest/api/3/issue', { ...bug('x'), properties: [{ key: 'k', value: 'v'.repeat(40000) }] });
    assert.equal(tooBig.status, 400);
    const raw = await fetch(`${sim.url}/rest/api/3/issue`, { method: 'POST', headers: { authorization: 'Bearer app', 'content-type': 'application/json' }, body: '{nope' });
    assert.equal(raw.status, 400);
    assert.ok(validateSchema('ErrorCollection', await raw.json()).valid);
  });

  test('bulk create: partial success, per-item errors, ≤ 50', async () => {
    const res = await call('POST', '/rest/api/3/issue/bulk', { issueUpdates: [bug('one'), bug('two', { labels: ['bad label'] }), bug('three')] });
    assert.equal(res.status, 201);
    assert.equal(res.body.issues.length, 2);
    assert.equal(res.body.errors.length, 1);
    assert.equal(res.body.errors[0].failedElementNumber, 1);
    assert.equal(res.body.errors[0].status, 400);
    assert.ok(res.body.errors[0].elementErrors.errors.labels);
    const allBad = await call('POST', '/rest/api/3/issue/bulk', { issueUpdates: [bug('')] });
    assert.equal(allBad.status, 400);
    assert.equal(allBad.body.issues.length, 0);
    const many = await call('POST', '/rest/api/3/issue/bulk', { issueUpdates: Array.from({ length: 51 }, (_, i) => bug(`n${i}`)) });
    assert.equal(many.status, 400);
  });

  test('edit issue, assignee, delete; 404 for a missing issue', async () => {
    const { body: { key } } = await call('POST', '/rest/api/3/issue', bug('to edit'));
    assert.equal((await call('PUT', `/rest/api/3/issue/${key}`, { fields: { duedate: '2027-01-15', labels: ['a', 'b'] } })).status, 204);
    assert.equal((await call('PUT', `/rest/api/3/issue/${key}`, { update: { labels: [{ add: 'c' }, { remove: 'a' }] } })).status, 204);
    assert.deepEqual(sim.issue(key).fields.labels, ['b', 'c']);
    const ret = await call('PUT', `/rest/api/3/issue/${key}?returnIssue=true`, { fields: { summary: 'edited' } });
    assert.equal(ret.status, 200);
    assert.equal(ret.body.fields.summary, 'edited');
    assert.equal((await call('PUT', `/rest/api/3/issue/${key}`, { fields: { status: { name: 'Done' } } })).status, 400);
    assert.equal((await call('PUT', `/rest/api/3/issue/${key}`, { fields: { labels: ['x y'] } })).status, 400);
    assert.equal((await call('PUT', `/rest/api/3/issue/${key}/assignee`, { accountId: 'acc-bob' })).status, 204);
    assert.equal(sim.issue(key).fields.assignee.accountId, 'acc-bob');
    assert.equal((await call('PUT', `/rest/api/3/issue/${key}/assignee`, { accountId: 'acc-ghost' })).status, 400);
    assert.equal((await call('GET', '/rest/api/3/issue/SEC-9999')).status, 404);
    assert.equal((await call('PUT', '/rest/api/3/issue/SEC-9999', { fields: { summary: 'x' } })).status, 404);
    assert.equal((await call('DELETE', `/rest/api/3/issue/${key}`)).status, 204);
    assert.equal((await call('GET', `/rest/api/3/issue/${key}`)).status, 404);
  });

  test('transitions: list from the current status, perform, refuse invalid ones', async () => {
    const { body: { key } } = await call('POST', '/rest/api/3/issue', bug('flow'));
    const list = await call('GET', `/rest/api/3/issue/${key}/transitions?expand=transitions.fields`);
    assert.equal(list.status, 200);
    const names = list.body.transitions.map((t) => t.to.name);
    assert.deepEqual(names.sort(), ['Done', 'In Progress']);
    const done = list.body.transitions.find((t) => t.to.statusCategory.key === 'done');
    assert.equal((await call('POST', `/rest/api/3/issue/${key}/transitions`, { transition: { id: done.id }, fields: { resolution: { name: "Won't Do" } } })).status, 204);
    assert.equal(sim.issue(key).fields.resolution.name, "Won't Do");
    assert.equal((await call('POST', `/rest/api/3/issue/${key}/transitions`, { transition: { id: '999' } })).status, 400);
    assert.equal((await call('POST', `/rest/api/3/issue/${key}/transitions`, {})).status, 400);
    assert.equal((await call('POST', `/rest/api/3/issue/${key}/transitions`, { transition: { id: '11' }, fields: { resolution: { name: 'Done' } } })).status, 400);
    const history = await call('GET', `/rest/api/3/issue/${key}/changelog?maxResults=1`);
    assert.equal(history.status, 200);
    assert.equal(history.body.total, 1);
    assert.deepEqual(history.body.values[0].items.map((i) => i.field), ['status', 'resolution']);
    assert.equal(history.body.values[0].author.accountType, 'app');
    assert.equal((await call('GET', '/rest/api/3/issue/SEC-9999/changelog')).status, 404);
    const expanded = await call('GET', `/rest/api/3/issue/${key}?expand=changelog,transitions`);
    assert.equal(expanded.body.changelog.histories.length, 1);
    assert.equal((await call('GET', '/rest/api/3/issue/SEC-9999/transitions')).status, 404);
    assert.equal((await call('POST', '/rest/api/3/issue/SEC-9999/transitions', { transition: { id: '11' } })).status, 404);
  });

  test('comments: ADF validated, listed with paging', async () => {
    const { body: { key } } = await call('POST', '/rest/api/3/issue', bug('comment me'));
    const c = await call('POST', `/rest/api/3/issue/${key}/comment`, { body: adf('first') });
    assert.equal(c.status, 201);
    assert.equal(c.body.author.accountType, 'app');
    await call('POST', `/rest/api/3/issue/${key}/comment`, { body: adf('second') }, 'acc-alice');
    const page = await call('GET', `/rest/api/3/issue/${key}/comment?maxResults=1`);
    assert.equal(page.body.total, 2);
    assert.equal(page.body.comments.length, 1);
    assert.deepEqual(page.body.comments[0].body, adf('first'));
    assert.equal((await call('POST', `/rest/api/3/issue/${key}/comment`, { body: 'plain' })).status, 400);
    assert.equal((await call('POST', `/rest/api/3/issue/${key}/comment`, { body: { type: 'doc', version: 1, content: [{ type: 'nope' }] } })).status, 400);
    assert.equal((await call('POST', `/rest/api/3/issue/${key}/comment`, {})).status, 400);
    assert.equal((await call('GET', '/rest/api/3/issue/SEC-9999/comment')).status, 404);
    assert.equal((await call('POST', '/rest/api/3/issue/SEC-9999/comment', { body: adf('x') })).status, 404);
  });

  test('issue properties: put (201 then 200), get, list, delete, 404', async () => {
    const { body: { key } } = await call('POST', '/rest/api/3/issue', bug('props'));
    assert.equal((await call('PUT', `/rest/api/3/issue/${key}/properties/cataam.sync`, { v: 1 })).status, 201);
    assert.equal((await call('PUT', `/rest/api/3/issue/${key}/properties/cataam.sync`, { v: 2 })).status, 200);
    assert.deepEqual((await call('GET', `/rest/api/3/issue/${key}/properties/cataam.sync`)).body, { key: 'cataam.sync', value: { v: 2 } });
    assert.deepEqual((await call('GET', `/rest/api/3/issue/${key}/properties`)).body.keys.map((k) => k.key), ['cataam.sync']);
    assert.equal((await call('PUT', `/rest/api/3/issue/${key}/properties/big`, 'x'.repeat(40000))).status, 400);
    assert.equal((await call('DELETE', `/rest/api/3/issue/${key}/properties/cataam.sync`)).status, 204);
    assert.equal((await call('GET', `/rest/api/3/issue/${key}/properties/cataam.sync`)).status, 404);
    assert.equal((await call('DELETE', `/rest/api/3/issue/${key}/properties/cataam.sync`)).status, 404);
    assert.equal((await call('PUT', '/rest/api/3/issue/SEC-9999/properties/x', { v: 1 })).status, 404);
  });

  test('search/jql: fields, properties, paging, JQL errors', async () => {
    const created = [];
    for (let i = 0; i < 3; i++) created.push((await call('POST', '/rest/api/3/issue', { ...bug(`search ${i}`), properties: [{ key: 'cataam.finding', value: { findingId: `fnd_s${i}` } }] })).body);
    const ids = await call('POST', '/rest/api/3/search/jql', { jql: `key in (${created.map((c) => c.key).join(', ')}) ORDER BY key ASC` });
    assert.equal(ids.status, 200);
    assert.deepEqual(ids.body.issues, created.map((c) => ({ id: c.id })), 'fields default to the id only');
    const p1 = await call('POST', '/rest/api/3/search/jql', { jql: 'issue.property[cataam.finding].findingId is not EMPTY ORDER BY key ASC', fields: ['summary', 'status'], properties: ['cataam.finding'], maxResults: 2 });
    assert.equal(p1.body.issues.length, 2);
    assert.equal(p1.body.isLast, false);
    assert.ok(p1.body.nextPageToken);
    assert.deepEqual(p1.body.issues[0].properties, { 'cataam.finding': { findingId: 'fnd_1' } });
    assert.ok(p1.body.issues[0].fields.status.statusCategory);
    const p2 = await call('POST', '/rest/api/3/search/jql', { jql: 'issue.property[cataam.finding].findingId is not EMPTY ORDER BY key ASC', fields: ['summary'], maxResults: 2, nextPageToken: p1.body.nextPageToken });
    assert.equal(p2.status, 200);
    assert.equal(p2.body.isLast, true);
    const get = await call('GET', `/rest/api/3/search/jql?jql=${encodeURIComponent('project = SEC AND issue.property[cataam.finding].findingId = "fnd_s1"')}&fields=summary`);
    assert.deepEqual(get.body.issues.map((i) => i.key), [created[1].key]);
    for (const jql of ['ORDER BY key', 'project = NOPE', 'colour = red', 'key in (SEC-9999)', 'project = SEC AND', 'updated >= "yesterday-ish"', 'project = SEC ORDER BY colour']) {
      const bad = await call('POST', '/rest/api/3/search/jql', { jql });
      assert.equal(bad.status, 400, jql);
    }
    assert.equal((await call('POST', '/rest/api/3/search/jql', { jql: 'project = SEC', nextPageToken: 'garbage' })).status, 400);
    assert.equal((await call('POST', '/rest/api/3/search/jql', { jql: 'project = SEC', reconcileIssues: Array.from({ length: 51 }, (_, i) => i + 1) })).status, 400);
  });

  test('catalogues: resolutions, priorities, statuses, issue types', async () => {
    const res = await call('GET', '/rest/api/3/resolution/search');
    assert.deepEqual(res.body.values.map((r) => r.name), ['Done', "Won't Do", 'Duplicate', 'Cannot Reproduce']);
    assert.equal((await call('GET', '/rest/api/3/resolution')).body.length, 4);
    const pri = await call('GET', '/rest/api/3/priority/search');
    assert.deepEqual(pri.body.values.map((p) => [p.id, p.name]), [['1', 'Highest'], ['2', 'High'], ['3', 'Medium'], ['4', 'Low'], ['5', 'Lowest']]);
    assert.equal((await call('GET', '/rest/api/3/priority')).body.length, 5);
    const st = await call('GET', '/rest/api/3/status');
    assert.ok(st.body.every((s) => ['new', 'indeterminate', 'done'].includes(s.statusCategory.key)));
    const sts = await call('GET', '/rest/api/3/statuses?id=10000,10001');
    assert.deepEqual(sts.body.map((s) => s.statusCategory), ['TODO', 'DONE']);
    assert.equal((await call('GET', '/rest/api/3/statuses')).status, 400);
    assert.ok((await call('GET', '/rest/api/3/issuetype')).body.some((t) => t.name === 'Bug'));
    assert.deepEqual((await call('GET', '/rest/api/3/statuscategory')).body.map((c) => c.key), ['undefined', 'new', 'indeterminate', 'done']);
  });

  test('unknown routes answer 404 with Jira error shape', async () => {
    const res = await call('GET', '/rest/api/3/nope/thing');
    assert.equal(res.status, 404);
    assert.ok(validateSchema('ErrorCollection', res.body).valid);
  });

  test('every exchange seen by onExchange conforms', () => {
    assert.ok(exchanges.length > 80, `drove ${exchanges.length} requests`);
    const failures = [];
    for (const ex of exchanges) {
      if (ex.path.includes('/nope')) continue;
      if (ex.reqBody !== null) {
        const r = validateRequest(ex.method, ex.path, ex.reqBody);
        if (!r.valid) failures.push(`${ex.method} ${ex.path} request: ${r.errors.join('; ')}`);
      }
      const v = validateResponse(ex.method, ex.path, ex.status, ex.resBody);
      if (!v.valid) failures.push(`${ex.method} ${ex.path} ${ex.status}: ${v.errors.join('; ')}`);
    }
    assert.deepEqual(failures, []);
  });
});

describe('conformance of the custom workflow, rate limits and faults', () => {
  test('required resolution screen (custom workflow)', async () => {
    loadSpec();
    const { sim, call } = await startChecked({ workflow: 'custom' });
    try {
      const { body: { key } } = await call('POST', '/rest/api/3/issue', bug('custom'));
      await sim.human('acc-alice').transition(key, 'In Review');
      const list = await call('GET', `/rest/api/3/issue/${key}/transitions?expand=transitions.fields`);
      const close = list.body.transitions.find((t) => t.to.statusCategory.key === 'done');
      assert.equal(close.hasScreen, true);
      assert.equal(close.fields.resolution.required, true);
      assert.ok(close.fields.resolution.allowedValues.some((r) => r.name === "Won't Do"));
      const missing = await call('POST', `/rest/api/3/issue/${key}/transitions`, { transition: { id: close.id } });
      assert.equal(missing.status, 400);
      assert.ok(missing.body.errors.resolution);
      assert.equal((await call('POST', `/rest/api/3/issue/${key}/transitions`, { transition: { id: close.id }, fields: { resolution: { name: 'Nope' } } })).status, 400);
      assert.equal((await call('POST', `/rest/api/3/issue/${key}/transitions`, { transition: { id: close.id }, fields: { resolution: { id: '10000' } } })).status, 204);
    } finally { await sim.close(); }
  });

  test('429 answers carry Jira headers and an ErrorCollection', async () => {
    loadSpec();
    const frozen = Date.parse('2026-12-01T10:00:00Z'); // a still clock: no refill between the calls
    const { sim, call } = await startChecked({ now: () => frozen, rateLimits: { burst: { capacity: 2, refillPerSecond: 1 } } });
    try {
      const statuses = [];
      let last;
      for (let i = 0; i < 3; i++) { last = await call('GET', '/rest/api/3/myself'); statuses.push(last.status); }
      assert.deepEqual(statuses, [200, 200, 429]);
      assert.ok(Number(last.headers.get('retry-after')) >= 1);
      assert.equal(last.headers.get('ratelimit-reason'), 'jira-burst-based');
    } finally { await sim.close(); }
  });

  test('injected 5xx answers carry an ErrorCollection', async () => {
    loadSpec();
    const { sim, call } = await startChecked({ faults: { seed: 7, error5xxRate: 1 } });
    try {
      const res = await call('GET', '/rest/api/3/myself');
      assert.equal(res.status, 503);
    } finally { await sim.close(); }
  });
});
