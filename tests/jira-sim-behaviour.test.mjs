// Behaviour of the Jira simulator: workflows (default and custom), bulk partial success, the JQL
// subset, eventual consistency of search with reconcileIssues, rate limits, product events (changelog
// and actor), faults, the HTML page and persistence. Clock-dependent parts use an injected clock.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startJiraSim } from '../dev/jira-sim/index.mjs';

const USERS = [
  { accountId: 'acc-alice', displayName: 'Alice Admin', emailAddress: 'alice@example.com', admin: true },
  { accountId: 'acc-bob', displayName: 'Bob Builder', emailAddress: 'bob@example.com' },
];
const adf = (text) => ({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] });
const bug = (summary, extra = {}, project = 'SEC') => ({ fields: { project: { key: project }, issuetype: { name: 'Bug' }, summary, ...extra } });

function clock(start = Date.parse('2026-12-01T10:00:00.000Z')) {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; }, set: (v) => { t = v; } };
}

async function withSim(opts, fn) {
  const sim = await startJiraSim({ users: USERS, projects: [{ key: 'SEC', name: 'Security' }, { key: 'OPS', name: 'Operations' }], ...opts });
  const call = async (method, p, body, who = 'app', headers = {}) => {
    const res = await fetch(sim.url + p, {
      method,
      headers: { authorization: who === 'app' ? 'Bearer app' : `Bearer user:${who}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };
  try { return await fn(sim, call); } finally { await sim.close(); }
}

/** A real HTTP server standing in for the emulator's product-event endpoint. */
async function startSink({ failFirst = 0, hold = false } = {}) {
  const received = [];
  let failures = failFirst;
  let release;
  const gate = hold ? new Promise((r) => { release = r; }) : Promise.resolve();
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    if (failures > 0) { failures--; res.writeHead(500); res.end(); return; }
    await gate; // a held sink answers only once the test releases it
    received.push(JSON.parse(raw));
    res.writeHead(202); res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/__platform/product-events`, received, release: () => release?.(), close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

const transitionTo = async (call, key, statusName, fields) => {
  const { body } = await call('GET', `/rest/api/3/issue/${key}/transitions`);
  const t = body.transitions.find((x) => x.to.name === statusName);
  assert.ok(t, `transition to ${statusName} is offered (offered: ${body.transitions.map((x) => x.to.name).join(', ')})`);
  return call('POST', `/rest/api/3/issue/${key}/transitions`, { transition: { id: t.id }, ...(fields ? { fields } : {}) });
};

describe('workflows', () => {
  test('default: any status to any other, Done sets a resolution, leaving Done clears it', () => withSim({}, async (sim, call) => {
    const { body: { key } } = await call('POST', '/rest/api/3/issue', bug('wf'));
    assert.equal(sim.issue(key).fields.status.name, 'To Do');
    const offered = (await call('GET', `/rest/api/3/issue/${key}/transitions`)).body.transitions.map((t) => t.to.name).sort();
    assert.deepEqual(offered, ['Done', 'In Progress'], 'no loop back to the current status');
    assert.equal((await transitionTo(call, key, 'Done')).status, 204, 'To Do → Done directly');
    let f = sim.issue(key).fields;
    assert.equal(f.status.statusCategory.key, 'done');
    assert.equal(f.resolution.name, 'Done');
    assert.ok(f.resolutiondate);
    assert.equal((await transitionTo(call, key, 'In Progress')).status, 204);
    f = sim.issue(key).fields;
    assert.equal(f.resolution, null);
    assert.equal(f.resolutiondate, null);
    assert.equal((await transitionTo(call, key, 'Done', { resolution: { name: "Won't Do" } })).status, 204);
    assert.equal(sim.issue(key).fields.resolution.name, "Won't Do");
    assert.equal((await transitionTo(call, key, 'To Do', { resolution: { name: 'Done' } })).status, 400, 'no resolution outside Done');
  }));

  test('custom: multi-hop path, forbidden edges refused, required resolution, reopen', () => withSim({ workflow: 'custom' }, async (sim, call) => {
    const { body: { key } } = await call('POST', '/rest/api/3/issue', bug('custom'));
    const first = (await call('GET', `/rest/api/3/issue/${key}/transitions`)).body.transitions;
    assert.deepEqual(first.map((t) => t.to.name), ['Triage']);
    assert.ok(!first.some((t) => t.to.statusCategory.key === 'done'), 'no direct new → done edge');
    assert.equal((await call('POST', `/rest/api/3/issue/${key}/transitions`, { transition: { id: '61' }, fields: { resolution: { name: 'Done' } } })).status, 400, 'Close is not valid from Open');
    // A client searching a path by status category: new → indeterminate → … → done.
    const seen = [];
    for (let hops = 0; hops < 6; hops++) {
      const cur = sim.issue(key).fields.status;
      seen.push(cur.name);
      if (cur.statusCategory.key === 'done') break;
      const ts = (await call('GET', `/rest/api/3/issue/${key}/transitions?expand=transitions.fields`)).body.transitions;
      const rank = { new: 0, indeterminate: 1, done: 2 };
      const best = ts.filter((t) => t.to.name !== 'Triage' || cur.name === 'Open').sort((a, b) => rank[b.to.statusCategory.key] - rank[a.to.statusCategory.key] || (a.to.name === 'In Review' ? -1 : 1))[0];
      const fields = best.fields?.resolution?.required ? { resolution: { name: 'Done' } } : undefined;
      assert.equal((await call('POST', `/rest/api/3/issue/${key}/transitions`, { transition: { id: best.id }, ...(fields ? { fields } : {}) })).status, 204);
    }
    assert.deepEqual(seen, ['Open', 'Triage', 'In Progress', 'In Review', 'Closed']);
    assert.equal(sim.issue(key).fields.resolution.name, 'Done');
    assert.equal((await transitionTo(call, key, 'Reopened')).status, 204);
    assert.equal(sim.issue(key).fields.resolution, null);
    assert.equal(sim.issue(key).fields.status.statusCategory.key, 'new');
    // The human helper walks the shortest path and fills the required screen.
    await sim.human('acc-bob').transition(key, 'Closed', { resolution: "Won't Do" });
    assert.equal(sim.issue(key).fields.status.name, 'Closed');
    assert.equal(sim.issue(key).fields.resolution.name, "Won't Do");
  }));

  test('per-project workflows', () => withSim({ projects: [{ key: 'SEC', name: 'Security', workflow: 'custom' }, { key: 'OPS', name: 'Operations' }] }, async (sim, call) => {
    const a = (await call('POST', '/rest/api/3/issue', bug('a'))).body.key;
    const b = (await call('POST', '/rest/api/3/issue', bug('b', {}, 'OPS'))).body.key;
    assert.equal(sim.issue(a).fields.status.name, 'Open');
    assert.equal(sim.issue(b).fields.status.name, 'To Do');
  }));
});

test('bulk create: partial success creates exactly the valid issues', () => withSim({}, async (sim, call) => {
  const res = await call('POST', '/rest/api/3/issue/bulk', { issueUpdates: [bug('ok 1'), bug('bad', { priority: { name: 'Nope' } }), bug('ok 2', {}, 'OPS'), { fields: { summary: 'no project' } }] });
  assert.equal(res.status, 201);
  assert.deepEqual(res.body.issues.map((i) => i.key), ['SEC-1', 'OPS-1']);
  assert.deepEqual(res.body.errors.map((e) => e.failedElementNumber), [1, 3]);
  assert.deepEqual(sim.issues().map((i) => i.fields.summary).sort(), ['ok 1', 'ok 2']);
}));

describe('JQL subset', () => {
  test('project, key/id in, updated (date and epoch), properties, AND/OR, ORDER BY', () => {
    const c = clock();
    return withSim({ now: c.now }, async (sim, call) => {
      const mk = async (summary, findingId, project = 'SEC') => {
        const r = await call('POST', '/rest/api/3/issue', { ...bug(summary, { labels: ['cataam'] }, project), ...(findingId ? { properties: [{ key: 'cataam.finding', value: { findingId } }] } : {}) });
        c.advance(60_000);
        return r.body;
      };
      const i1 = await mk('one', 'fnd_1'); // 10:00
      const i2 = await mk('two', 'fnd_2'); // 10:01
      const i3 = await mk('three', null, 'OPS'); // 10:02
      const i4 = await mk('four', 'fnd_4'); // 10:03
      await call('PUT', `/rest/api/3/issue/${i1.key}`, { fields: { summary: 'one edited' } }); // i1 updated 10:04
      const keys = async (jql, extra = {}) => {
        const r = await call('POST', '/rest/api/3/search/jql', { jql, fields: ['summary'], ...extra });
        assert.equal(r.status, 200, `${jql}: ${JSON.stringify(r.body)}`);
        return r.body.issues.map((i) => i.key);
      };
      assert.deepEqual(await keys('project = SEC ORDER BY key ASC'), ['SEC-1', 'SEC-2', 'SEC-3']);
      assert.deepEqual(await keys('project = "Operations"'), ['OPS-1']);
      assert.deepEqual(await keys(`key in (${i2.key}, ${i3.key}) ORDER BY key`), ['OPS-1', 'SEC-2']);
      assert.deepEqual(await keys(`id in (${i1.id}, ${i4.id}) ORDER BY key DESC`), ['SEC-3', 'SEC-1']);
      assert.deepEqual(await keys('project = SEC AND updated >= "2026-12-01 10:03" ORDER BY updated ASC'), [i4.key, i1.key]);
      assert.deepEqual(await keys('project = SEC AND updated >= "2026-12-01 10:03" ORDER BY updated DESC'), [i1.key, i4.key]);
      assert.deepEqual(await keys(`updated >= ${Date.parse('2026-12-01T10:01:00Z')} AND updated < "2026/12/01 10:03" ORDER BY key`), ['OPS-1', 'SEC-2']);
      assert.deepEqual(await keys('issue.property[cataam.finding].findingId = "fnd_2"'), [i2.key]);
      assert.deepEqual(await keys('project = SEC AND issue.property[cataam.finding].findingId is not EMPTY ORDER BY key'), ['SEC-1', 'SEC-2', 'SEC-3']);
      assert.deepEqual(await keys('issue.property[cataam.finding].findingId IS EMPTY AND labels = cataam'), ['OPS-1']);
      assert.deepEqual(await keys('(key = SEC-1 OR key = SEC-3) AND statusCategory = "To Do" ORDER BY key'), ['SEC-1', 'SEC-3']);
      assert.deepEqual(await keys('project = SEC AND summary ~ "edited"'), ['SEC-1']);
      assert.deepEqual(await keys('project in (SEC, OPS) AND NOT key = SEC-2 ORDER BY created DESC, key'), ['SEC-3', 'OPS-1', 'SEC-1']);
      assert.deepEqual(await keys('project = SEC ORDER BY key ASC', { maxResults: 0 }), []);
      const bad = await call('POST', '/rest/api/3/search/jql', { jql: 'key in (SEC-1, SEC-404)' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.errorMessages[0], /SEC-404/);
      assert.equal((await call('POST', '/rest/api/3/search/jql', { jql: 'project = SEC', unknownThing: 1 })).status, 400);
    });
  });

  test('absolute JQL dates are read in the users\' time zone; periods are not', () => {
    const c = clock(); // 2026-12-01 10:00 UTC = 02:00 in Los Angeles (PST, UTC−8)
    return withSim({ now: c.now, timeZone: 'America/Los_Angeles' }, async (sim, call) => {
      const r = await call('POST', '/rest/api/3/issue', bug('at ten UTC'));
      c.advance(5 * 60_000);
      const keys = async (jql) => {
        const res = await call('POST', '/rest/api/3/search/jql', { jql, fields: ['summary'] });
        assert.equal(res.status, 200, `${jql}: ${JSON.stringify(res.body)}`);
        return res.body.issues.map((i) => i.key);
      };
      // "10:00" is 10:00 in Los Angeles — eight hours after the issue was created.
      assert.deepEqual(await keys('project = SEC AND created >= "2026-12-01 10:00"'), []);
      assert.deepEqual(await keys('project = SEC AND created >= "2026-12-01 02:00"'), [r.body.key]);
      assert.deepEqual(await keys('project = SEC AND created >= "2026-12-01 02:01"'), []);
      assert.deepEqual(await keys('project = SEC AND created >= "-6m"'), [r.body.key]);
      assert.deepEqual(await keys('project = SEC AND created >= "-4m"'), []);
      // Summer time: 2026-07-01 10:00 in Los Angeles is 17:00 UTC (PDT, UTC−7).
      c.set(Date.parse('2026-07-01T17:00:00Z'));
      const summer = await call('POST', '/rest/api/3/issue', bug('in July'));
      assert.deepEqual(await keys('project = SEC AND created >= "2026-07-01 10:00"'), [summer.body.key]);
      assert.deepEqual(await keys('project = SEC AND created > "2026-07-01 10:00"'), []);
      const me = await call('GET', '/rest/api/3/myself');
      assert.equal(me.body.timeZone, 'America/Los_Angeles');
    });
  });

  test('nextPageToken walks every match once', () => withSim({}, async (sim, call) => {
    await call('POST', '/rest/api/3/issue/bulk', { issueUpdates: Array.from({ length: 23 }, (_, i) => bug(`n${i}`)) });
    const seen = [];
    let token;
    do {
      const r = await call('POST', '/rest/api/3/search/jql', { jql: 'project = SEC ORDER BY key', maxResults: 10, ...(token ? { nextPageToken: token } : {}) });
      seen.push(...r.body.issues.map((i) => i.id));
      token = r.body.nextPageToken;
      assert.equal(r.body.isLast, !token);
    } while (token);
    assert.equal(seen.length, 23);
    assert.equal(new Set(seen).size, 23);
  }));
});

test('eventual consistency: search lags by indexLagMs except for reconcileIssues', () => {
  const c = clock();
  return withSim({ now: c.now, indexLagMs: 1500 }, async (sim, call) => {
    const created = (await call('POST', '/rest/api/3/issue', { ...bug('fresh'), properties: [{ key: 'cataam.finding', value: { findingId: 'fnd_x' } }] })).body;
    const jql = 'issue.property[cataam.finding].findingId = "fnd_x"';
    const search = (extra = {}) => call('POST', '/rest/api/3/search/jql', { jql, fields: ['summary'], ...extra });
    assert.deepEqual((await search()).body.issues, [], 'not yet indexed');
    assert.equal((await call('GET', `/rest/api/3/issue/${created.key}`)).status, 200, 'GET issue reads its own write');
    assert.deepEqual((await search({ reconcileIssues: [Number(created.id)] })).body.issues.map((i) => i.key), [created.key]);
    c.advance(1500);
    assert.deepEqual((await search()).body.issues.map((i) => i.key), [created.key]);
    // A change is searchable late too: the stale value still matches meanwhile.
    await call('PUT', `/rest/api/3/issue/${created.key}/properties/cataam.finding`, { findingId: 'fnd_y' });
    await call('PUT', `/rest/api/3/issue/${created.key}`, { fields: { summary: 'renamed' } });
    c.advance(500);
    const stale = await search();
    assert.deepEqual(stale.body.issues.map((i) => i.fields.summary), ['fresh']);
    assert.deepEqual((await search({ reconcileIssues: [Number(created.id)] })).body.issues, []);
    c.advance(1000);
    assert.deepEqual((await search()).body.issues, []);
    const now = await call('POST', '/rest/api/3/search/jql', { jql: 'issue.property[cataam.finding].findingId = "fnd_y"', fields: ['summary'] });
    assert.deepEqual(now.body.issues.map((i) => i.fields.summary), ['renamed']);
  });
});

describe('rate limits', () => {
  test('≤ 20 writes per 2 s per issue, then 429 with Jira headers', () => {
    const c = clock();
    return withSim({ now: c.now, rateLimits: true }, async (sim, call) => {
      const { body: { key } } = await call('POST', '/rest/api/3/issue', bug('busy'));
      for (let i = 0; i < 20; i++) {
        const r = await call('PUT', `/rest/api/3/issue/${key}/properties/p${i}`, { i });
        assert.equal(r.status, 201, `write ${i}`);
        c.advance(10);
      }
      const refused = await call('PUT', `/rest/api/3/issue/${key}`, { fields: { summary: 'one too many' } });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('ratelimit-reason'), 'jira-per-issue-on-write');
      assert.equal(refused.headers.get('x-ratelimit-limit'), '20');
      assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      assert.ok(!Number.isNaN(Date.parse(refused.headers.get('x-ratelimit-reset'))));
      assert.deepEqual(refused.body, { errorMessages: ['Rate limit exceeded.'], errors: {} });
      assert.equal(sim.issue(key).fields.summary, 'busy', 'a refused write changes nothing');
      assert.equal((await call('GET', `/rest/api/3/issue/${key}`)).status, 200, 'reads are not per-issue limited');
      const other = (await call('POST', '/rest/api/3/issue', bug('other'))).body.key;
      assert.equal((await call('PUT', `/rest/api/3/issue/${other}`, { fields: { summary: 'fine' } })).status, 204, 'other issues are unaffected');
      c.advance(2000);
      assert.equal((await call('PUT', `/rest/api/3/issue/${key}`, { fields: { summary: 'later' } })).status, 204);
    });
  });

  test('per-endpoint token buckets refill over time', () => {
    const c = clock();
    return withSim({ now: c.now, rateLimits: { burst: { capacity: 3, refillPerSecond: 1 } } }, async (sim, call) => {
      const got = [];
      for (let i = 0; i < 4; i++) got.push((await call('GET', '/rest/api/3/myself')).status);
      assert.deepEqual(got, [200, 200, 200, 429]);
      assert.equal((await call('GET', '/rest/api/3/priority')).status, 200, 'another endpoint has its own bucket');
      c.advance(1000);
      const ok = await call('GET', '/rest/api/3/myself');
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('x-ratelimit-limit'), '3');
    });
  });
});

describe('product events', () => {
  test('created/updated/commented events carry actor, issue and Jira-like changelog', async () => {
    const sink = await startSink();
    try {
      await withSim({ eventSink: sink.url, assignedEvents: true }, async (sim, call) => {
        const { body: { key, id } } = await call('POST', '/rest/api/3/issue', bug('evented', { labels: ['a'], description: adf('v1') }));
        const human = sim.human('acc-alice');
        await human.transition(key, 'In Progress');
        await human.transition(key, 'Done', { resolution: "Won't Do" });
        await human.assign(key, 'acc-bob');
        await human.setDueDate(key, '2027-02-01');
        await human.comment(key, 'looks fixed');
        await call('PUT', `/rest/api/3/issue/${key}`, { fields: { labels: ['a', 'b'], description: adf('v2') } });
        // The page acts as a human through the REST API.
        await call('POST', `/rest/api/3/issue/${key}/transitions`, { transition: { id: '11' } }, 'acc-bob', { 'x-jira-sim-client': 'page' });
        await sim.flushEvents();
        const ev = [...sink.received];
        assert.equal(sink.received.filter((e) => e.eventType === 'avi:jira:assigned:issue').length, 1);
        assert.deepEqual(sink.received.find((e) => e.eventType === 'avi:jira:assigned:issue').associatedUsers, [{ accountId: 'acc-bob' }]);
        ev.splice(ev.findIndex((e) => e.eventType === 'avi:jira:assigned:issue'), 1);
        assert.deepEqual(ev.map((e) => e.eventType), ['avi:jira:created:issue', 'avi:jira:updated:issue', 'avi:jira:updated:issue', 'avi:jira:updated:issue', 'avi:jira:updated:issue', 'avi:jira:commented:issue', 'avi:jira:updated:issue', 'avi:jira:updated:issue']);
        assert.deepEqual(ev.map((e) => e.atlassianId), [sim.appAccountId, 'acc-alice', 'acc-alice', 'acc-alice', 'acc-alice', 'acc-alice', sim.appAccountId, 'acc-bob']);
        assert.deepEqual(Object.keys(ev[0].issue.fields).sort(), ['assignee', 'created', 'creator', 'issuetype', 'project', 'reporter', 'status', 'summary', 'updated'], 'only the fields Forge documents');
        assert.equal(ev[0].issue.key, key);
        assert.equal(ev[0].issue.id, id);
        assert.equal(ev[0].issue.fields.status.name, 'To Do');
        const item = (e, field) => e.changelog.items.find((i) => i.field === field);
        assert.deepEqual(item(ev[1], 'status'), { field: 'status', fieldtype: 'jira', fieldId: 'status', from: '10000', fromString: 'To Do', to: '3', toString: 'In Progress' });
        assert.deepEqual(ev[1].associatedStatuses, [{ id: '10000', name: 'To Do' }, { id: '3', name: 'In Progress' }]);
        assert.equal(item(ev[2], 'status').toString, 'Done');
        assert.deepEqual(item(ev[2], 'resolution'), { field: 'resolution', fieldtype: 'jira', fieldId: 'resolution', from: null, fromString: null, to: '10001', toString: "Won't Do" });
        assert.equal(ev[2].issue.fields.status.statusCategory.key, 'done');
        assert.deepEqual(item(ev[3], 'assignee'), { field: 'assignee', fieldtype: 'jira', fieldId: 'assignee', from: null, fromString: null, to: 'acc-bob', toString: 'Bob Builder' });
        assert.deepEqual(ev[3].issue.fields.assignee, { accountId: 'acc-bob' }, 'users travel as account ids only');
        assert.deepEqual(item(ev[4], 'duedate'), { field: 'duedate', fieldtype: 'jira', fieldId: 'duedate', from: null, fromString: null, to: '2027-02-01', toString: '2027-02-01 00:00:00.0' });
        assert.deepEqual(ev[5].comment.body, { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'looks fixed' }] }] });
        assert.deepEqual(item(ev[6], 'labels'), { field: 'labels', fieldtype: 'jira', fieldId: 'labels', from: null, fromString: 'a', to: null, toString: 'a b' });
        assert.deepEqual(item(ev[6], 'description'), { field: 'description', fieldtype: 'jira', fieldId: 'description', from: null, fromString: 'v1', to: null, toString: 'v2' });
        assert.equal(item(ev[7], 'resolution').to, null, 'leaving Done clears the resolution');
        assert.ok(ev.every((e) => e.changelog === undefined || /^\d+$/.test(e.changelog.id)));
        assert.equal(new Set(ev.filter((e) => e.changelog).map((e) => e.changelog.id)).size, 6, 'changelog ids are unique');
        // An edit that changes nothing emits nothing.
        await call('PUT', `/rest/api/3/issue/${key}`, { fields: { labels: ['b', 'a'] } });
        await sim.flushEvents();
        assert.equal(sink.received.length, 9);
        // The full history is on the issue too.
        const hist = (await call('GET', `/rest/api/3/issue/${key}?expand=changelog`)).body.changelog;
        assert.equal(hist.total, 6);
      });
    } finally { await sink.close(); }
  });

  test('delivery never blocks the API and retries a failing sink', async () => {
    const sink = await startSink({ failFirst: 2, hold: true });
    try {
      await withSim({ eventSink: sink.url }, async (sim, call) => {
        const r = await call('POST', '/rest/api/3/issue', bug('async'));
        assert.equal(r.status, 201, 'answered while the sink is still failing or holding');
        assert.equal(sink.received.length, 0);
        assert.equal(sim.eventStats.delivered, 0);
        sink.release();
        await sim.flushEvents();
        assert.equal(sink.received.length, 1, 'delivered after two failed attempts');
        assert.equal(sim.eventStats.delivered, 1);
      });
    } finally { await sink.close(); }
  });
});

describe('faults', () => {
  test('seeded faults: 5xx, 429 bursts, dropped connections and timeouts, reproducible', async () => {
    const run = async (seed) => withSim({ faults: { seed, error5xxRate: 0.2, rate429Rate: 0.1, burst429Length: 2, dropRate: 0.1 } }, async (sim, call) => {
      const out = [];
      for (let i = 0; i < 40; i++) {
        try { out.push((await call('GET', '/rest/api/3/myself')).status); } catch { out.push('drop'); }
      }
      return out;
    });
    const a = await run(42);
    const b = await run(42);
    assert.deepEqual(a, b, 'same seed, same faults');
    assert.ok(a.includes(503) && a.includes('drop') && a.includes(200), a.join(','));
    const i429 = a.indexOf(429);
    assert.ok(i429 >= 0 && a[i429 + 1] === 429, '429s come in bursts');
    await withSim({ faults: { seed: 1, timeoutRate: 1, timeoutMs: 100 } }, async (sim, call) => {
      const t0 = performance.now();
      await assert.rejects(call('GET', '/rest/api/3/myself'));
      assert.ok(performance.now() - t0 >= 90, 'the connection hung before closing');
      assert.equal(sim.requestLog.at(-1).fault, 'timeout');
      const page = await call('GET', '/rest/api/3/myself', undefined, 'acc-alice', { 'x-jira-sim-client': 'page' });
      assert.equal(page.status, 200, 'the simulator page is never faulted');
    });
    await withSim({ faults: { seed: 3, latencyMs: 120 } }, async (sim, call) => {
      const t0 = performance.now();
      assert.equal((await call('GET', '/rest/api/3/myself')).status, 200);
      assert.ok(performance.now() - t0 >= 110, 'latency was added');
      sim.setFaults({ seed: 3, error5xxRate: 1 });
      assert.equal((await call('GET', '/rest/api/3/myself')).status, 503);
      sim.setFaults(null);
      assert.equal((await call('GET', '/rest/api/3/myself')).status, 200, 'faults can be switched off');
    });
  });
});

test('HTML page lists issues with controls for the selected human', () => withSim({ workflow: 'custom' }, async (sim, call) => {
  const { body: { key } } = await call('POST', '/rest/api/3/issue', bug('Visible <b>issue</b>', { labels: ['cataam'], duedate: '2026-12-24' }));
  await sim.human('acc-alice').comment(key, 'hello from Alice');
  const html = await (await fetch(`${sim.url}/?project=SEC&as=acc-bob`)).text();
  assert.match(html, new RegExp(`data-testid="issue-row-${key}"`));
  assert.match(html, /Visible &lt;b&gt;issue&lt;\/b&gt;/, 'content is escaped');
  assert.match(html, /data-as="acc-bob"/);
  assert.match(html, new RegExp(`data-testid="transition-${key}-Triage"`));
  assert.doesNotMatch(html, new RegExp(`data-testid="transition-${key}-Closed"`), 'only allowed transitions are offered');
  assert.match(html, /2026-12-24/);
  assert.match(html, /Bearer user:/);
  const browse = await (await fetch(`${sim.url}/browse/${key}?as=acc-alice`)).text();
  assert.match(browse, /hello from Alice/);
  assert.match(browse, /data-testid="comments"/);
  assert.equal((await fetch(`${sim.url}/nothing-here`)).status, 404);
}));

test('a body not declared as JSON is refused with 415', () => withSim({}, async (sim) => {
  const res = await fetch(`${sim.url}/rest/api/3/issue`, { method: 'POST', headers: { authorization: 'Bearer app', 'content-type': 'text/plain' }, body: JSON.stringify(bug('x')) });
  assert.equal(res.status, 415);
  assert.ok((await res.json()).errorMessages[0].includes('application/json'));
  assert.equal(sim.issues().length, 0);
}));

test('requestLog records method, path, status, actor and duration', () => withSim({}, async (sim, call) => {
  await call('GET', '/rest/api/3/myself');
  await call('GET', '/rest/api/3/issue/SEC-1', undefined, 'acc-bob');
  assert.deepEqual(sim.requestLog.map(({ method, path: p, status, actor }) => [method, p, status, actor]), [
    ['GET', '/rest/api/3/myself', 200, sim.appAccountId],
    ['GET', '/rest/api/3/issue/SEC-1', 404, 'acc-bob'],
  ]);
  assert.ok(sim.requestLog.every((e) => typeof e.ms === 'number' && e.ms >= 0));
}));

test('persistence: a restarted simulator keeps issues, properties, comments and key counters', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jira-sim-'));
  try {
    await withSim({ dataDir }, async (sim, call) => {
      await call('POST', '/rest/api/3/issue', { ...bug('kept'), properties: [{ key: 'cataam.finding', value: { findingId: 'fnd_keep' } }] });
      await call('POST', '/rest/api/3/issue', bug('kept too'));
      await sim.human('acc-alice').transition('SEC-2', 'Done');
      await sim.human('acc-alice').comment('SEC-1', 'remember me');
    });
    const file = path.join(dataDir, 'jira-sim.json');
    assert.ok(fs.existsSync(file));
    assert.deepEqual(fs.readdirSync(dataDir), ['jira-sim.json'], 'no temporary files left');
    await withSim({ dataDir, indexLagMs: 60_000 }, async (sim, call) => {
      assert.deepEqual(sim.issues().map((i) => i.key).sort(), ['SEC-1', 'SEC-2']);
      assert.equal(sim.issue('SEC-2').fields.status.name, 'Done');
      assert.equal(sim.issue('SEC-1').fields.comment.total, 1);
      const found = await call('POST', '/rest/api/3/search/jql', { jql: 'issue.property[cataam.finding].findingId = "fnd_keep"' });
      assert.deepEqual(found.body.issues.map((i) => i.id), [sim.issue('SEC-1').id], 'restored issues are indexed');
      const next = await call('POST', '/rest/api/3/issue', bug('new'));
      assert.equal(next.body.key, 'SEC-3');
    });
    // Projects listed in another order (other ids) still own their issues.
    await withSim({ dataDir, projects: [{ key: 'NEW', name: 'New' }, { key: 'SEC', name: 'Security' }] }, async (sim, call) => {
      assert.deepEqual(sim.issues().map((i) => [i.key, i.fields.project.key]).sort(), [['SEC-1', 'SEC'], ['SEC-2', 'SEC'], ['SEC-3', 'SEC']]);
      assert.equal((await call('POST', '/rest/api/3/search/jql', { jql: 'project = SEC' })).body.issues.length, 3);
    });
  } finally { fs.rmSync(dataDir, { recursive: true, force: true }); }
});
