// The whole first-time setup of an empty install, in a real browser, across both consoles, as the
// product page describes it: create an API key in the CATAAM console → paste it into the admin
// page → Test Connection → pick the project → Generate the shared secret (shown once) → paste it
// into the CATAAM console → Save (the web trigger URL appears in CATAAM) → Re-register. Then the
// health panel fills as findings sync, a finding resolved in the CATAAM console reaches Done in
// Jira through the push (the scheduler is off), a finding Jira keeps refusing becomes a dead
// letter and is retried, and revoking the key in CATAAM shows "API key rejected". Screenshots of every state go to test-results/screenshots/.
//
// The steps share one stack and one browser and run in order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, ADMIN } from '../lib/stack.mjs';
import { ensureBuilt, launch, openAdmin, screenshot, until } from './helpers.mjs';

let stack;
let browser;
let admin; // the Jira admin page tab
let app; // frame locator of the Custom UI iframe
let cataamTab; // the CATAAM console tab
const my = {}; // values carried from step to step

before(async () => {
  await ensureBuilt();
  // timeScale: queue delays (retry back-off) run 1000× faster, so a dead letter takes milliseconds.
  stack = await startStack({
    autoSetup: false,
    findings: 16,
    seed: 11,
    schedulerSpeedup: 0,
    emulator: { timeScale: 0.001 },
  });
  browser = await launch({ width: 1280, height: 900 });
  admin = await browser.page();
  cataamTab = await browser.page();
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

/** Runs the scheduled poll now and waits until every queued continuation has run. */
async function syncAndWait() {
  await stack.sync();
  await stack.emulator.idle();
}

async function refreshHealth() {
  const loaded = await app.locator('#health').getAttribute('data-loaded');
  await app.locator('#health-refresh').click();
  await until(
    async () => (await app.locator('#health').getAttribute('data-loaded')) !== loaded,
    { what: 'the health panel to reload' },
  );
}

test('empty install: the page shows defaults, nothing configured, no key, no secret', async () => {
  app = await openAdmin(admin, stack, ADMIN.accountId);
  await app.locator('#content').waitFor();
  assert.equal(await app.locator('#baseUrl').inputValue(), 'https://service.cataam.com');
  assert.equal(await app.locator('#apiKey').inputValue(), '');
  assert.equal(await app.locator('#apiKey-saved').isVisible(), false);
  assert.match(await app.locator('#secret-state').innerText(), /No secret yet/);
  assert.equal(await app.locator('#issueType').inputValue(), 'Bug');
  const webhookUrl = await app.locator('#webhookUrl').inputValue();
  assert.match(webhookUrl, /^https?:\/\/\S+$/, 'the web trigger URL is shown before the first save');
  my.webhookUrl = webhookUrl;
  await until(async () => (await app.locator('#projectId option').count()) > 1, { what: 'projects' });
  const labels = await app.locator('#projectId option').allInnerTexts();
  for (const p of ['Security (SEC)', 'Engineering (ENG)', 'Operations (OPS)']) {
    assert.ok(labels.includes(p), `${p} is listed (got ${labels.join(', ')})`);
  }
  await app.locator('#health-connection').filter({ hasText: 'Not configured' }).waitFor();
  await screenshot(admin, '01-empty-install');
});

test('CATAAM console: an org admin creates an API key for the integration', async () => {
  await cataamTab.goto(`${stack.cataam.url}/console/settings/api-keys`);
  await cataamTab.locator('#api-key-name').fill('Jira Production');
  await cataamTab.locator('#generate-api-key').click();
  my.apiKey = (await cataamTab.locator('#new-api-key').innerText()).trim();
  assert.match(my.apiKey, /^cataam_\S+$/);
  await screenshot(cataamTab, '02-cataam-new-api-key', { frame: false });
});

test('Test Connection: a wrong key is rejected with a clear message', async () => {
  await admin.bringToFront();
  await app.locator('#apiKey').fill('cataam_this-key-does-not-exist');
  await app.locator('#test-connection').click();
  const result = app.locator('#test-result .section-message.error');
  await result.waitFor();
  assert.match(await result.innerText(), /API key rejected/);
  assert.match(await app.locator('#apiKey-error').innerText(), /rejected/);
  await screenshot(admin, '03-test-connection-wrong-key');
});

test('Test Connection: the real key shows the green Connected ✓ badge with the org name', async () => {
  await app.locator('#apiKey').fill(my.apiKey);
  await app.locator('#test-connection').click();
  await app.locator('#connected-badge').waitFor();
  assert.equal(await app.locator('#connected-badge').innerText(), 'Connected ✓');
  assert.equal(await app.locator('#org-name').innerText(), 'Acme Security');
  assert.equal(await app.locator('#apiKey-error').isVisible(), false);
  await screenshot(admin, '04-test-connection-ok');
});

test('Default project: pick Security from the dropdown', async () => {
  await app.locator('#projectId').selectOption({ label: 'Security (SEC)' });
  const option = app.locator('#projectId option:checked');
  assert.equal(await option.getAttribute('data-key'), 'SEC');
});

test('Save before a secret exists is refused client-side with a field message', async () => {
  await app.locator('#save').click();
  await app.locator('#sharedSecret-error').waitFor();
  assert.match(await app.locator('#sharedSecret-error').innerText(), /Generate a shared secret/);
  assert.match(await app.locator('#save-result').innerText(), /Settings not saved/);
  assert.equal(stack.cataam.webhook().url, null, 'nothing was saved or registered');
});

test('Generate: the secret is shown once, with the copy-it-now warning, and copies', async () => {
  await admin.context().grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: new URL(stack.emulator.url).origin,
  });
  await app.locator('#generate-secret').click();
  await app.locator('#secret-reveal').waitFor();
  my.secret = await app.locator('#secretValue').inputValue();
  assert.ok(my.secret.length >= 32, 'a long random secret');
  assert.match(await app.locator('#secret-reveal').innerText(), /Copy it now, it will not be shown again/);
  assert.match(await app.locator('#secret-reveal').innerText(), /Settings → Integrations → Jira \(Forge App\) → Shared\s+Secret/);
  assert.match(await app.locator('#secret-state').innerText(), /A secret is set/);
  assert.equal(await app.locator('#sharedSecret-error').isVisible(), false);
  assert.equal(await app.locator('#save-result').innerText(), '', 'the stale "not saved" is gone');
  await app.locator('#copy-secret').click();
  await app.locator('#copy-secret-status').filter({ hasText: 'Copied' }).waitFor();
  const clip = await app.locator('body').evaluate(() => navigator.clipboard.readText());
  assert.equal(clip, my.secret);
  await screenshot(admin, '05-secret-generated');
});

test('CATAAM console: the secret is pasted into Settings → Integrations → Jira (Forge App)', async () => {
  await cataamTab.bringToFront();
  await cataamTab.goto(`${stack.cataam.url}/console/settings/integrations/jira`);
  assert.equal(await cataamTab.locator('#forge-webtrigger-url').inputValue(), '', 'no URL before Save');
  await cataamTab.locator('#shared-secret').fill(my.secret);
  await cataamTab.locator('#save-shared-secret').click();
  await cataamTab.locator('#shared-secret-status[data-set="true"]').waitFor();
});

test('Save Settings: saved, and the web trigger URL is registered in CATAAM', async () => {
  await admin.bringToFront();
  await app.locator('#save').click();
  const result = app.locator('#save-result .section-message');
  await result.waitFor();
  assert.match(await result.innerText(), /Settings saved/);
  assert.match(await result.innerText(), /registered with CATAAM/);
  assert.equal(await app.locator('#apiKey').inputValue(), '', 'the key field is cleared after saving');
  await app.locator('#apiKey-saved').waitFor();
  await screenshot(admin, '06-saved');

  await cataamTab.bringToFront();
  await cataamTab.reload();
  const registered = await cataamTab.locator('#forge-webtrigger-url').inputValue();
  assert.equal(registered, my.webhookUrl, 'CATAAM shows the URL the admin page shows');
  await screenshot(cataamTab, '07-cataam-webtrigger-registered', { frame: false });
});

test('After a reload: key and secret are only "set", never shown again', async () => {
  await admin.bringToFront();
  app = await openAdmin(admin, stack, ADMIN.accountId);
  await app.locator('#content').waitFor();
  assert.equal(await app.locator('#secret-reveal').isVisible(), false);
  assert.equal(await app.locator('#secretValue').inputValue(), '');
  assert.match(await app.locator('#secret-state').innerText(), /A secret is set/);
  assert.match(await app.locator('#apiKey-saved').innerText(), /A key is saved — leave blank to keep it/);
  assert.equal(await app.locator('#apiKey').inputValue(), '');
  const html = await app.locator('html').evaluate((el) => el.outerHTML);
  assert.ok(!html.includes(my.secret), 'the secret is nowhere in the page');
  assert.ok(!html.includes(my.apiKey), 'the API key is nowhere in the page');
  await until(async () => (await app.locator('#projectId').inputValue()) !== '', { what: 'saved project' });
  assert.equal(await app.locator('#projectId option:checked').innerText(), 'Security (SEC)');
  // Test Connection with the key field blank uses the saved key.
  await app.locator('#test-connection').click();
  await app.locator('#connected-badge').waitFor();
  await screenshot(admin, '08-reloaded');
});

test('Re-register Webhook with CATAAM pushes the URL again', async () => {
  const before = stack.cataam.webhook().registeredAt;
  await new Promise((r) => setTimeout(r, 20));
  await app.locator('#reregister').click();
  await app.locator('#reregister-result .section-message.success').waitFor();
  const wh = stack.cataam.webhook();
  assert.equal(wh.url, my.webhookUrl);
  assert.notEqual(wh.registeredAt, before, 'registered again');
});

test('Health: the panel fills as findings sync', async () => {
  await syncAndWait();
  await refreshHealth();
  await app.locator('#health-connection[data-state="ok"]').waitFor();
  const created = Number(await app.locator('#count-created').innerText());
  const linked = stack.jira.issues().filter((i) => i.properties?.['cataam.finding']).length;
  assert.ok(created > 0, 'issues were created');
  assert.equal(created, linked, 'the count matches the issues in Jira');
  assert.notEqual(await app.locator('#health-last-poll').innerText(), 'never');
  assert.ok((await app.locator('#activity-rows li').count()) > 0, 'recent activity listed');
  const text = await app.locator('#activity-rows').innerText();
  assert.match(text, /fnd_/);
  for (const f of stack.cataam.findings()) {
    assert.ok(!text.includes(f.title), 'activity shows ids and actions only, no finding content');
  }
  await screenshot(admin, '09-health-after-first-sync');
});

test('Resolving a finding in the CATAAM console moves its Jira issue to Done through the push', async () => {
  const issue = stack.jira
    .issues()
    .find((i) => i.properties?.['cataam.finding'] && i.fields.status.statusCategory.key !== 'done');
  assert.ok(issue, 'an open linked issue exists');
  const findingId = issue.properties['cataam.finding'].findingId;
  const pollsBefore = stack.emulator.invocations.filter((r) => r.functionKey === 'poll').length;

  await cataamTab.bringToFront();
  await cataamTab.goto(`${stack.cataam.url}/console/findings/${encodeURIComponent(findingId)}`);
  await cataamTab.locator(`#resolve-${findingId}`).click();
  await cataamTab.locator('#notice').filter({ hasText: 'Finding resolved.' }).waitFor();

  await until(
    async () => {
      await stack.cataam.idle();
      await stack.emulator.idle();
      const now = stack.jira.issues().find((i) => i.key === issue.key);
      return now.fields.status.statusCategory.key === 'done';
    },
    { what: `${issue.key} to reach Done`, timeoutMs: 15_000 },
  );
  const pollsAfter = stack.emulator.invocations.filter((r) => r.functionKey === 'poll').length;
  assert.equal(pollsAfter, pollsBefore, 'no poll ran: the push did it');
  assert.ok(
    stack.cataam.deliveries.some((d) => d.status === 'delivered' && (d.findingIds ?? []).includes(findingId)),
    'CATAAM delivered a signed push for the finding',
  );
  await screenshot(cataamTab, '10-cataam-finding-resolved', { frame: false });

  await admin.bringToFront();
  await refreshHealth();
  assert.notEqual(await app.locator('#health-last-push').innerText(), 'never');
  assert.ok(Number(await app.locator('#count-transitioned').innerText()) >= 1);
  await screenshot(admin, '11-health-after-push');
});

test('Dead letters: a finding Jira keeps refusing is listed, and Retry syncs it', async () => {
  // Jira answers 429 to everything while the poll runs: the new finding is retried through the
  // queue (delays scaled down by the emulator's timeScale) until it becomes a dead letter.
  const finding = stack.cataam.createFinding({ kind: 'IASM', severity: 'HIGH' });
  stack.jira.setFaults({ seed: 1, rate429Rate: 1 });
  try {
    await syncAndWait();
  } finally {
    stack.jira.setFaults(null);
  }
  await refreshHealth();
  const row = app.locator(`#dead-rows li[data-finding="${finding.id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /JIRA_RATE_LIMITED · \d+ attempts/);
  assert.equal(await app.locator('#dead-empty').isVisible(), false);
  await screenshot(admin, '12-dead-letter');

  await row.getByRole('button', { name: `Retry ${finding.id}` }).click();
  await until(
    async () => {
      await stack.emulator.idle();
      return stack.jira.issues().some((i) => i.properties?.['cataam.finding']?.findingId === finding.id);
    },
    { what: 'the retried finding to get its Jira issue' },
  );
  await refreshHealth();
  assert.equal(await row.count(), 0, 'no longer a dead letter');
  assert.match(await app.locator('#activity-rows').innerText(), new RegExp(finding.id));
});

test('Revoking the key in CATAAM shows "API key rejected" in the health panel', async () => {
  await cataamTab.bringToFront();
  await cataamTab.goto(`${stack.cataam.url}/console/settings/api-keys`);
  await cataamTab.getByRole('button', { name: 'Revoke key Jira Production' }).click();
  await cataamTab.locator('#notice').filter({ hasText: 'API key revoked' }).waitFor();

  await admin.bringToFront();
  await syncAndWait();
  await refreshHealth();
  await app.locator('#health-connection[data-state="key_rejected"]').waitFor();
  assert.equal(await app.locator('#connected-badge').count(), 0, 'the stale Connected badge is gone');
  assert.match(await app.locator('#health-connection').innerText(), /^api key rejected$/i);
  assert.match(await app.locator('#health-connection-text').innerText(), /Org Settings → Integrations → API Keys/);
  await screenshot(admin, '13-key-rejected');
});

test('no uncaught errors in any page', () => {
  assert.deepEqual(browser.errors, []);
});
