// The health panel during a first sync of a large CATAAM org: the progress bar shows while the
// backlog is worked through page by page (CATAAM pages of 200), then gives way to the final counts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, ADMIN } from '../lib/stack.mjs';
import { ensureBuilt, launch, openAdmin, screenshot, until } from './helpers.mjs';

const FINDINGS = 260;
let stack;
let browser;

before(async () => {
  await ensureBuilt();
  stack = await startStack({ autoSetup: true, findings: FINDINGS, seed: 5, schedulerSpeedup: 0 });
  browser = await launch({ width: 1280, height: 900 });
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

test('first sync: the progress bar shows while the backlog runs, then the counts', async () => {
  const page = await browser.page();
  const app = await openAdmin(page, stack, ADMIN.accountId);
  await app.locator('#content').waitFor();
  assert.equal(await app.locator('#backlog').isVisible(), false, 'no backlog before the first sync');

  // A little Jira latency keeps the first sync running long enough to watch it.
  stack.jira.setFaults({ seed: 2, latencyMs: 15 });
  let finished = false;
  const sync = stack.sync().finally(() => {
    finished = true;
  });
  let seen = false;
  while (!finished && !seen) {
    await app.locator('#health-refresh').click();
    await app.locator('#health-refresh:not([aria-busy])').waitFor();
    seen = await app.locator('#backlog').isVisible();
  }
  if (seen) {
    assert.match(await app.locator('#backlog-label').innerText(), /First sync/);
    await screenshot(page, 'b1-first-sync-progress');
  }
  await sync;
  stack.jira.setFaults(null);
  await stack.emulator.idle();
  assert.ok(seen, 'the progress bar was visible while the first sync ran');

  await app.locator('#health-refresh').click();
  await until(async () => !(await app.locator('#backlog').isVisible()), { what: 'the backlog to finish' });
  const created = Number(await app.locator('#count-created').innerText());
  const linked = stack.jira.issues().filter((i) => i.properties?.['cataam.finding']).length;
  assert.equal(created, linked, 'every created issue is counted');
  assert.ok(created > 200, `more than one CATAAM page was synced (${created})`);
  await screenshot(page, 'b2-first-sync-done');
});
