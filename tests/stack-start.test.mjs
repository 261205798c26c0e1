// README command one, as a newcomer runs it: `node dev/stack.mjs` (what `./task start` execs after
// building) brings the whole stack up, prints its URLs, and the real app turns seeded CATAAM
// findings into Jira issues — observed only over HTTP, from outside the process. Ctrl-C stops it
// cleanly and a restart continues from the saved state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lib/stack.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startStackProcess(dataDir, port) {
  const child = spawn(process.execPath, ['dev/stack.mjs', '--data-dir', dataDir, '--port', String(port), '--findings', '20'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  let gone = false;
  const exited = new Promise((r) => child.on('exit', (code, signal) => { gone = true; r({ code, signal }); }));
  const ready = (async () => {
    for (let i = 0; i < 600 && !gone && !out.includes('Ctrl-C stops'); i++) await sleep(100);
    if (!out.includes('Ctrl-C stops')) throw new Error(`stack did not come up:\n${out.slice(-2000)}`);
  })();
  return { child, ready, exited, output: () => out };
}

async function managedIssues(jiraUrl) {
  const res = await fetch(`${jiraUrl}/rest/api/3/search/jql`, {
    method: 'POST',
    headers: { Authorization: 'Bearer user:557058:alice-admin', 'Content-Type': 'application/json' },
    body: JSON.stringify({ jql: 'project = SEC ORDER BY key ASC', fields: ['summary'], properties: ['cataam.finding'], maxResults: 100 }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).issues;
}

test('README command one: the stack starts, the app syncs seeded findings into Jira, Ctrl-C stops it, a restart resumes', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cataam-stack-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  // Three consecutive fixed ports, as dev/stack.mjs uses: below Linux's ephemeral range
  // (32768+), where port-0 servers and outgoing connections of the suites running alongside live.
  const port = 20000 + 3 * Math.floor(Math.random() * 4000);
  const jiraUrl = `http://127.0.0.1:${port + 1}`;
  const cataamUrl = `http://127.0.0.1:${port + 2}`;

  const first = startStackProcess(dataDir, port);
  t.after(() => first.child.kill('SIGKILL'));
  await first.ready;
  const printed = first.output();
  assert.match(printed, new RegExp(`http://127\\.0\\.0\\.1:${port}/admin/\\?as=`));
  assert.ok(printed.includes(jiraUrl) && printed.includes(cataamUrl), 'prints the Jira and CATAAM URLs');
  assert.match(printed, /configured automatically/);

  // The scheduled poll (sped up to every 5 s) creates the issues; wait for them over HTTP.
  let issues = [];
  for (let i = 0; i < 120 && issues.length === 0; i++) {
    await sleep(500);
    issues = await managedIssues(jiraUrl);
  }
  assert.ok(issues.length > 0, 'seeded findings became Jira issues');
  const console = await (await fetch(`${cataamUrl}/`)).text();
  for (const issue of issues) {
    const fid = issue.properties?.['cataam.finding']?.findingId;
    assert.ok(fid, `${issue.key} carries its finding id`);
    assert.ok(console.includes(fid), `${issue.key}'s finding ${fid} is a seeded CATAAM finding`);
  }
  const admin = await fetch(`http://127.0.0.1:${port}/admin/?as=557058%3Aalice-admin`);
  assert.equal(admin.status, 200, 'the admin page is served');

  first.child.kill('SIGINT');
  const { code } = await first.exited;
  assert.equal(code, 0, 'Ctrl-C stops cleanly');

  const second = startStackProcess(dataDir, port);
  t.after(() => second.child.kill('SIGKILL'));
  await second.ready;
  assert.match(second.output(), /already configured \(state restored/);
  const again = await managedIssues(jiraUrl);
  assert.ok(again.length >= issues.length, 'issues survive the restart');
  second.child.kill('SIGINT');
  assert.equal((await second.exited).code, 0);
});
