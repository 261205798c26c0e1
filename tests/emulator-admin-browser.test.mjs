// The admin page in a real browser (Chromium via playwright-core): the injected bridge carries
// @forge-style invoke calls to the resolver as the ?as= principal, and the Custom UI CSP blocks
// inline scripts as Forge's does. Skipped when /usr/bin/chromium is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startEmulator } from '../dev/emulator/index.mjs';

const appDir = fileURLToPath(new URL('./fixtures/mini-app/', import.meta.url));
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

test('admin page in Chromium: bridge invoke as the principal; inline scripts blocked by CSP', { skip: !existsSync(executablePath) && 'no chromium' }, async (t) => {
  const platform = await startEmulator({ appDir });
  t.after(() => platform.close());
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const cspViolations = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });

  await page.goto(`${platform.url}/admin/?as=u-browser`);
  const app = page.frameLocator('#forge-app');
  await app.locator('#out').filter({ hasText: 'hello u-browser' }).waitFor({ timeout: 10_000 });
  assert.ok(platform.invocations.some((r) => r.kind === 'resolver' && r.ok), 'the resolver ran');

  await page.goto(`${platform.url}/admin/app/u-browser/mini-admin/inline.html`);
  await page.waitForLoadState('load');
  assert.equal(await page.locator('#out').textContent(), 'inline blocked', 'an inline script does not run');
  assert.ok(cspViolations.length >= 1, 'the browser reported the CSP violation');
});
