// The Default Project dropdown on a Jira site with many projects: every project is listed (the
// resolver pages through Jira's project search), a search box appears, and filtering by name or
// key keeps the choice usable from the keyboard.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, ADMIN, PROJECTS } from '../lib/stack.mjs';
import { ensureBuilt, launch, openAdmin, screenshot, until } from './helpers.mjs';

const letter = (n) => String.fromCharCode(65 + n);
/** 150 extra projects: keys PAA…PFT, names "Product Area 001"…, more than one Jira page (100). */
const MANY = Array.from({ length: 150 }, (_, i) => ({
  key: `P${letter(Math.floor(i / 26))}${letter(i % 26)}`,
  name: `Product Area ${String(i + 1).padStart(3, '0')}`,
}));

let stack;
let browser;

before(async () => {
  await ensureBuilt();
  stack = await startStack({
    autoSetup: false,
    findings: 2,
    seed: 9,
    schedulerSpeedup: 0,
    jira: { projects: [...PROJECTS, ...MANY] },
  });
  browser = await launch({ width: 1280, height: 900 });
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

test('every project is listed and the list is searchable', async () => {
  const page = await browser.page();
  const app = await openAdmin(page, stack, ADMIN.accountId);
  await app.locator('#content').waitFor();
  const total = PROJECTS.length + MANY.length;
  await until(async () => (await app.locator('#projectId option').count()) === total + 1, {
    what: `${total} projects in the dropdown`,
    timeoutMs: 20_000,
  });
  assert.equal(await app.locator('#projectId-status').innerText(), `${total} projects available.`);
  const labels = await app.locator('#projectId option').allInnerTexts();
  assert.ok(labels.includes('Product Area 150 (PFT)'), 'the last page is there too');
  assert.ok(labels.includes('Security (SEC)'));

  const search = app.locator('#project-filter');
  assert.equal(await search.isVisible(), true, 'a search box for a long list');
  await search.fill('area 01');
  await until(async () => (await app.locator('#projectId option').count()) === 11, { what: 'filtered list' });
  assert.equal(await app.locator('#projectId-status').innerText(), `10 of ${total} projects match.`);
  await screenshot(page, 'p1-project-search');

  // By key, then pick it from the keyboard: Tab from the search box to the dropdown.
  await search.fill('sec');
  await until(async () => (await app.locator('#projectId option').count()) === 2, { what: 'SEC only' });
  await search.press('Tab');
  assert.equal(await app.locator('body').evaluate(() => document.activeElement.id), 'projectId');
  await page.keyboard.press('ArrowDown');
  await until(async () => (await app.locator('#projectId').inputValue()) !== '', { what: 'a selection' });
  assert.equal(await app.locator('#projectId option:checked').innerText(), 'Security (SEC)');
  assert.equal(await app.locator('#projectId option:checked').getAttribute('data-key'), 'SEC');

  // Clearing the search keeps the choice.
  await search.fill('');
  await until(async () => (await app.locator('#projectId option').count()) === total + 1, { what: 'full list' });
  assert.equal(await app.locator('#projectId option:checked').innerText(), 'Security (SEC)');
});
