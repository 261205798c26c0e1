#!/usr/bin/env node
// The naive baseline: a plain integration script, as most integrations are written. It pages through
// CATAAM's findings and, for every finding that should be ticketed, creates one Jira issue per
// request (POST /rest/api/3/issue) and then writes its finding-id property (PUT …/properties/…),
// honouring 429 Retry-After and retrying 5xx so that it is at least correct. No bulk create, no
// batching. `runNaive()` is used by bench/run.mjs against the same simulators as the app.
//
// Standalone: node bench/naive.mjs --findings 500 [--latency 150] [--concurrency 4]
import { parseArgs } from 'node:util';
import { percentile } from './lib/report.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The findings the app tickets too (docs: OPEN/ACKNOWLEDGED, compliance only when failing). */
export function isTicketable(f) {
  if (f.status === 'RESOLVED' || f.status === 'FALSE_POSITIVE') return false;
  if (f.kind === 'COMPLIANCE' && f.compliance?.result === 'PASS') return false;
  return true;
}

function adfOf(f) {
  const p = (text) => ({ type: 'paragraph', content: [{ type: 'text', text }] });
  return {
    type: 'doc',
    version: 1,
    content: [p(`Severity: ${f.severity}`), p(f.description || f.title), p(`Remediation: ${f.remediation || '-'}`), p(f.url)],
  };
}

/**
 * Runs the naive client.
 * @param {{ jiraUrl: string, cataamUrl: string, apiKey: string, projectKey: string,
 *           concurrency?: number, limit?: number }} o
 * @returns {Promise<{ created: number, jiraRequests: number, cataamRequests: number, retries: number,
 *                     wallMs: number, createMsP50: number }>}
 */
export async function runNaive(o) {
  const stats = { jiraRequests: 0, cataamRequests: 0, retries: 0, created: 0 };
  const jira = async (method, path, body) => {
    for (let attempt = 0; ; attempt++) {
      stats.jiraRequests += 1;
      let res;
      try {
        res = await fetch(o.jiraUrl + path, {
          method,
          headers: { authorization: 'Bearer app', accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
      } catch (e) {
        if (attempt > 8) throw e;
        stats.retries += 1;
        await sleep(250 * 2 ** Math.min(attempt, 4));
        continue;
      }
      const text = await res.text();
      if (res.status === 429 || res.status >= 500) {
        if (attempt > 8) throw new Error(`Jira ${method} ${path}: ${res.status}`);
        stats.retries += 1;
        const ra = Number(res.headers.get('retry-after'));
        await sleep(Number.isFinite(ra) && ra > 0 ? ra * 1000 : 250 * 2 ** Math.min(attempt, 4));
        continue;
      }
      if (res.status >= 400) throw new Error(`Jira ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
      return text ? JSON.parse(text) : null;
    }
  };
  const t0 = performance.now();
  // 1. Read the findings (as the app does, 200 per page).
  const findings = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ limit: '200' });
    if (cursor) q.set('cursor', cursor);
    stats.cataamRequests += 1;
    const res = await fetch(`${o.cataamUrl}/api/v1/findings?${q}`, { headers: { authorization: `Bearer ${o.apiKey}` } });
    if (!res.ok) throw new Error(`CATAAM findings: ${res.status}`);
    const page = await res.json();
    findings.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  const todo = findings.filter(isTicketable).slice(0, o.limit ?? Infinity);
  // 2. Project and issue type.
  const project = await jira('GET', `/rest/api/3/project/${o.projectKey}`);
  const bug = (project.issueTypes ?? []).find((t) => t.name === 'Bug') ?? (await jira('GET', '/rest/api/3/issuetype')).find((t) => t.name === 'Bug');
  // 3. One issue per request, then its property.
  const createMs = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const f = todo[next++];
      const s = performance.now();
      const issue = await jira('POST', '/rest/api/3/issue', {
        fields: {
          project: { id: project.id }, issuetype: { id: bug.id }, summary: f.title.slice(0, 255),
          description: adfOf(f), labels: ['cataam'],
        },
      });
      await jira('PUT', `/rest/api/3/issue/${issue.key}/properties/cataam.finding`, { findingId: f.id });
      stats.created += 1;
      createMs.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 1) }, worker));
  return { ...stats, wallMs: performance.now() - t0, createMsP50: percentile(createMs, 50) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      findings: { type: 'string', default: '500' },
      latency: { type: 'string', default: '150' },
      concurrency: { type: 'string', default: '4' },
      seed: { type: 'string', default: '42' },
    },
  });
  const { startCataamSim } = await import('../dev/cataam-sim/index.mjs');
  const { startJiraSim } = await import('../dev/jira-sim/index.mjs');
  const { APP_ACCOUNT_ID, ADMIN, PROJECTS } = await import('../tests/lib/stack.mjs');
  const cataam = await startCataamSim({ seed: Number(values.seed), findings: Number(values.findings) });
  const jira = await startJiraSim({
    appAccountId: APP_ACCOUNT_ID, users: [ADMIN], projects: PROJECTS, rateLimits: true,
    faults: { seed: 7, latencyMs: Number(values.latency) },
  });
  try {
    const apiKey = await cataam.createApiKey('naive');
    const r = await runNaive({ jiraUrl: jira.url, cataamUrl: cataam.url, apiKey, projectKey: 'SEC', concurrency: Number(values.concurrency) });
    console.log(`figure naive_created ${r.created}`);
    console.log(`figure naive_jira_requests_per_created_finding ${(r.jiraRequests / r.created).toFixed(3)}`);
    console.log(`figure naive_backlog_wall_s ${(r.wallMs / 1000).toFixed(2)}`);
  } finally {
    await jira.close();
    await cataam.close();
  }
}
