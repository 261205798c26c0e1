// The Jira simulator's HTML page in a real browser (Chromium via playwright-core): a human picks who
// they act as, transitions through the required resolution screen, assigns, sets a due date and
// comments, and the app-facing side sees each change as a product event from that person.
// Skipped (with the reason) when no Chromium is installed at /usr/bin/chromium.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import { startJiraSim } from '../dev/jira-sim/index.mjs';

const CHROMIUM = '/usr/bin/chromium';

test('a human drives issues through the simulator page', { skip: fs.existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}` }, async () => {
  const sim = await startJiraSim({
    users: [{ accountId: 'acc-alice', displayName: 'Alice Admin', admin: true }, { accountId: 'acc-bob', displayName: 'Bob Builder' }],
    projects: [{ key: 'SEC', name: 'Security' }],
    workflow: 'custom',
    faults: { seed: 1, error5xxRate: 1 }, // the app-facing API is failing; the page must still work
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    await sim.human('acc-alice').create({ project: { key: 'SEC' }, issuetype: { name: 'Bug' }, summary: 'Patch the VPN' });
    await sim.human('acc-alice').transition('SEC-1', 'In Review');
    const page = await browser.newPage();
    await page.goto(`${sim.url}/?project=SEC`);
    await page.selectOption('[data-testid=acting-as]', 'acc-bob');
    await page.waitForURL(/as=acc-bob/);
    const close = page.locator('[data-testid="transition-SEC-1-Closed"]');
    await close.locator('select[name=resolution]').selectOption("Won't Do");
    await Promise.all([page.waitForEvent('load'), close.locator('button').click()]);
    assert.equal(await page.locator('[data-testid="status-SEC-1"]').textContent(), 'Closed');
    assert.equal(sim.issue('SEC-1').fields.resolution.name, "Won't Do");

    await page.locator('[data-testid="assign-SEC-1"] select').selectOption('acc-alice');
    await Promise.all([page.waitForEvent('load'), page.locator('[data-testid="assign-SEC-1"] button').click()]);
    assert.equal(await page.locator('[data-testid="assignee-SEC-1"]').textContent(), 'Alice Admin');

    await page.locator('[data-testid="duedate-SEC-1"] input').fill('2027-03-01');
    await Promise.all([page.waitForEvent('load'), page.locator('[data-testid="duedate-SEC-1"] button').click()]);
    assert.equal(sim.issue('SEC-1').fields.duedate, '2027-03-01');

    await page.goto(`${sim.url}/browse/SEC-1?as=acc-bob`);
    await page.locator('[data-testid="comment-SEC-1"] input').fill('Accepted risk, see ticket');
    await Promise.all([page.waitForEvent('load'), page.locator('[data-testid="comment-SEC-1"] button').click()]);
    assert.match(await page.locator('[data-testid=comments]').textContent(), /Accepted risk, see ticket/);

    const byBob = sim.events.filter((e) => e.atlassianId === 'acc-bob' && e.eventType !== 'avi:jira:assigned:issue').map((e) => [e.eventType, e.changelog?.items.map((i) => i.field).join(',') ?? '']);
    assert.deepEqual(byBob, [
      ['avi:jira:updated:issue', 'status,resolution'],
      ['avi:jira:updated:issue', 'assignee'],
      ['avi:jira:updated:issue', 'duedate'],
      ['avi:jira:commented:issue', ''],
    ]);
    assert.ok(sim.requestLog.filter((r) => r.actor === 'acc-bob').every((r) => r.status < 400), 'page requests were not faulted');
  } finally {
    await browser.close();
    await sim.close();
  }
});
