// The admin page's refusals and error states, in a real browser against the local stack:
// a disallowed host (refused in the page and again by the resolver), an unreachable CATAAM host,
// a Jira user who is not an administrator, field-level validation on Save, keyboard use and focus
// rings, the layout at 800 px, and a webhook registration that fails on Save.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, ADMIN, DEVELOPER } from '../lib/stack.mjs';
import { ensureBuilt, launch, openAdmin, screenshot, until } from './helpers.mjs';

let stack;
let browser;
let page;

before(async () => {
  await ensureBuilt();
  stack = await startStack({ autoSetup: false, findings: 4, seed: 3, schedulerSpeedup: 0 });
  browser = await launch({ width: 1280, height: 900 });
  page = await browser.page();
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

test('a Jira user who is not an administrator gets the refusal banner and no form', async () => {
  const app = await openAdmin(page, stack, DEVELOPER.accountId);
  const banner = app.locator('#page-message .section-message.error');
  await banner.waitFor();
  assert.match(await banner.innerText(), /You need to be a Jira administrator/);
  assert.equal(await app.locator('#content').isVisible(), false);
  assert.equal(await app.locator('#settings-form input').first().isVisible(), false);
  await screenshot(page, 'n1-non-admin-refused');
  // The resolver refuses every function for this user, not only the page.
  for (const fn of ['getSettings', 'saveSettings', 'generateSecret', 'getHealth', 'syncNow']) {
    const answer = await stack.invoke(fn, {}, DEVELOPER.accountId);
    assert.equal(answer.ok, false, fn);
    assert.equal(answer.error.code, 'FORBIDDEN', fn);
  }
});

test('a disallowed host is refused in the page, and by the resolver too', async () => {
  const app = await openAdmin(page, stack, ADMIN.accountId);
  await app.locator('#content').waitFor();
  await app.locator('#baseUrl').fill('https://evil.example.com');
  await app.locator('#apiKey').fill('cataam_anything');
  await app.locator('#test-connection').click();
  const error = app.locator('#baseUrl-error');
  await error.waitFor();
  assert.match(await error.innerText(), /service\.cataam\.com, app\.cataam\.com or another \*\.cataam\.com host/);
  assert.equal(await app.locator('#baseUrl').getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'n2-host-not-allowed');
  const answer = await stack.invoke('testConnection', { baseUrl: 'https://evil.example.com', apiKey: 'cataam_anything' });
  assert.equal(answer.ok, false);
  assert.equal(answer.error.code, 'HOST_NOT_ALLOWED');
});

test('an allowed but unreachable CATAAM host gives a specific error', async () => {
  const app = page.frameLocator('#forge-app');
  await app.locator('#baseUrl').fill('https://nowhere.cataam.com');
  await app.locator('#apiKey').fill('cataam_anything');
  await app.locator('#test-connection').click();
  const result = app.locator('#test-result .section-message.error');
  await result.waitFor({ timeout: 30_000 });
  assert.match(await result.innerText(), /CATAAM unreachable|Could not reach CATAAM/);
  await screenshot(page, 'n3-unreachable');
});

test('Save validates every field in the page first, with field-level messages', async () => {
  const app = await openAdmin(page, stack, ADMIN.accountId);
  await app.locator('#content').waitFor();
  await app.locator('#baseUrl').fill('http://service.cataam.com');
  await app.locator('#apiKey').fill('not-a-cataam-key');
  await app.locator('#issueType').fill('   ');
  await app.locator('input[name="kinds"][value="IASM"]').uncheck();
  await app.locator('input[name="kinds"][value="COMPLIANCE"]').uncheck();
  await app.locator('#priority-high').fill('');
  await app.locator('#save').click();
  await app.locator('#save-result .section-message.error').waitFor();
  const expect = {
    'baseUrl-error': /https:\/\//,
    'apiKey-error': /start with cataam_/,
    'projectId-error': /Choose the Jira project/,
    'issueType-error': /issue type/,
    'kinds-error': /at least one kind/,
    'priorities.high-error': /priority name/,
    'sharedSecret-error': /Generate a shared secret/,
  };
  for (const [id, re] of Object.entries(expect)) {
    const node = app.locator(`[id="${id}"]`);
    assert.equal(await node.isVisible(), true, `${id} shown`);
    assert.match(await node.innerText(), re, id);
  }
  assert.match(await app.locator('#save-result').innerText(), /Fix the 7 highlighted fields/);
  const focused = await app.locator('body').evaluate(() => document.activeElement?.id);
  assert.equal(focused, 'baseUrl', 'focus moves to the first invalid field');
  const text = await app.locator('html').evaluate((el) => el.innerText);
  assert.ok(!text.includes('not-a-cataam-key'), 'messages never echo the key');
  const settings = await stack.invoke('getSettings');
  assert.equal(settings.ok, true);
  assert.equal(settings.apiKeySet, false, 'nothing reached the resolver');
  await screenshot(page, 'n4-field-errors');
});

test('keyboard: every control is reachable with Tab and shows a focus ring', async () => {
  const app = await openAdmin(page, stack, ADMIN.accountId);
  await app.locator('#content').waitFor();
  await app.locator('#baseUrl').focus();
  const seen = [];
  for (let i = 0; i < 40; i++) {
    const info = await app.locator('body').evaluate(() => {
      const el = document.activeElement;
      const cs = getComputedStyle(el);
      return {
        id: el.id || el.getAttribute('name') || el.tagName,
        ring: cs.outlineStyle !== 'none' || cs.boxShadow !== 'none',
      };
    });
    seen.push(info);
    await page.keyboard.press('Tab');
  }
  const ids = seen.map((s) => s.id);
  for (const id of ['baseUrl', 'apiKey', 'test-connection', 'projectId', 'copy-webhook', 'generate-secret', 'reregister', 'minSeverity', 'issueType', 'priority-info', 'save', 'health-refresh', 'sync-now']) {
    assert.ok(ids.includes(id), `${id} is reachable with Tab (order: ${ids.join(' ')})`);
  }
  for (const s of seen.filter((x) => x.id !== 'BODY')) {
    assert.ok(s.ring, `${s.id} shows a focus indicator`);
  }
  // Enter in a text field submits the form (and runs the client-side checks).
  await app.locator('#issueType').focus();
  await page.keyboard.press('Enter');
  await app.locator('#save-result .section-message.error').waitFor();
});

test('at 800 px the page is one column without horizontal scrolling', async () => {
  await page.setViewportSize({ width: 800, height: 900 });
  const app = await openAdmin(page, stack, ADMIN.accountId);
  await app.locator('#content').waitFor();
  const { scroll, client, columns } = await app.locator('body').evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
    columns: getComputedStyle(document.getElementById('content')).gridTemplateColumns.split(' ').length,
  }));
  assert.ok(scroll <= client, `no horizontal overflow (${scroll} > ${client})`);
  assert.equal(columns, 1);
  await screenshot(page, 'n5-800px');
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('a webhook registration failure on Save is shown, and Re-register fixes it', async () => {
  const apiKey = await stack.cataam.createApiKey('Jira Negative');
  const app = await openAdmin(page, stack, ADMIN.accountId);
  await app.locator('#content').waitFor();
  await app.locator('#apiKey').fill(apiKey);
  await until(async () => (await app.locator('#projectId option').count()) > 1, { what: 'projects' });
  await app.locator('#projectId').selectOption({ label: 'Engineering (ENG)' });
  await app.locator('#generate-secret').click();
  await app.locator('#secret-reveal').waitFor();

  // CATAAM answers 5xx to every API call while the page saves.
  stack.cataam.setFaults({ seed: 4, error5xxRate: 1 });
  try {
    await app.locator('#save').click();
    const warning = app.locator('#save-result .section-message.warning');
    await warning.waitFor();
    const text = await warning.innerText();
    assert.match(text, /Settings saved, but the webhook URL was not registered with CATAAM/);
    assert.match(text, /HTTP 5\d\d|unreachable|could not be reached|down/i, 'the cause is shown');
    assert.match(text, /Re-register Webhook with CATAAM/);
    await screenshot(page, 'n6-webhook-registration-failed');
  } finally {
    stack.cataam.setFaults(null);
  }
  assert.equal(stack.cataam.webhook().url, null, 'CATAAM has no URL yet');
  const saved = await stack.invoke('getSettings');
  assert.equal(saved.settings.projectKey, 'ENG', 'the settings themselves were saved');

  await app.locator('#reregister').click();
  await app.locator('#reregister-result .section-message.success').waitFor();
  assert.equal(stack.cataam.webhook().url, await app.locator('#webhookUrl').inputValue());
});

test('no uncaught errors in any page', () => {
  assert.deepEqual(browser.errors, []);
});
