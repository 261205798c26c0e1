// Shared helpers of the admin page browser tests: Debian's Chromium through playwright-core, a
// fresh profile per browser, screenshots into test-results/screenshots/, and small waits on the
// local stack. Not a test file itself (no .test. in the name).
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAdmin } from '../../scripts/build-admin.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let built = null;

/**
 * Makes sure build/ holds what the emulator serves: the admin page is rebuilt from static/admin
 * (fast), the app bundle must already exist (`npm run build`, which `npm test` runs first).
 */
export function ensureBuilt() {
  if (!built) {
    built = (async () => {
      if (!existsSync(join(ROOT, 'build', 'app', 'index.js'))) {
        throw new Error('build/app/index.js is missing: run `npm run build` first');
      }
      await buildAdmin();
    })();
  }
  return built;
}

/** Launches Chromium with a fresh profile; `close()` also deletes the profile. */
export async function launch({ width = 1280, height = 900 } = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'cataam-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width, height },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(30_000);
  const errors = [];
  const watch = (page) => {
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  };
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
  return {
    context,
    errors,
    /** A new tab. */
    page: () => context.newPage(),
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot of the whole page (the Jira frame stretched to the app's full height). */
export async function screenshot(page, name, { frame = true } = {}) {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  const size = page.viewportSize();
  let height = size.height;
  if (frame && (await page.locator('#forge-app').count())) {
    const inner = await page
      .frameLocator('#forge-app')
      .locator('html')
      .evaluate((el) => el.scrollHeight);
    height = Math.max(size.height, Math.min(inner + 60, 6000));
  } else {
    height = await page.evaluate(() => document.documentElement.scrollHeight);
    height = Math.max(size.height, Math.min(height, 6000));
  }
  if (height !== size.height) await page.setViewportSize({ width: size.width, height });
  await page.screenshot({ path });
  if (height !== size.height) await page.setViewportSize(size);
  return path;
}

/** Opens the admin page as `accountId`; returns the frame locator of the Custom UI iframe. */
export async function openAdmin(page, stack, accountId) {
  await page.goto(stack.adminUrl(accountId));
  const app = page.frameLocator('#forge-app');
  await app.locator('#page-loading').waitFor({ state: 'hidden' });
  return app;
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function until(fn, { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
