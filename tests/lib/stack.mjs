// The whole local platform in one call: Forge emulator running the built app, Jira simulator and
// CATAAM simulator, wired together on loopback. Used by `npm start` (dev/stack.mjs), the end-to-end
// tests, the browser tests and the benchmarks.
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../dev/emulator/index.mjs';
import { startJiraSim } from '../../dev/jira-sim/index.mjs';
import { startCataamSim } from '../../dev/cataam-sim/index.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const APP_ACCOUNT_ID = '557058:cataam-forge-app';
export const ADMIN = { accountId: '557058:alice-admin', displayName: 'Alice Admin', emailAddress: 'alice@example.com', admin: true };
export const DEVELOPER = { accountId: '557058:bob-dev', displayName: 'Bob Developer', emailAddress: 'bob@example.com', admin: false };
export const PROJECTS = [
  { key: 'SEC', name: 'Security' },
  { key: 'ENG', name: 'Engineering' },
  { key: 'OPS', name: 'Operations' },
];

/** A free loopback port (reserved and released; the caller binds it right away). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts the stack. Options:
 *  dataDir           persist state there (null: in memory)
 *  findings, seed    CATAAM demo org size and generator seed
 *  autoSetup         configure the app as an admin would (API key, project, shared secret, save)
 *  project           project key for autoSetup (default SEC)
 *  schedulerSpeedup  0 = poll only on demand (tests), 60 = every 5 s (demo)
 *  workflow          Jira workflow: 'default' | 'custom'
 *  jira, cataam, emulator  extra options for each part (faults, latency, index lag, limits…)
 */
export async function startStack(opts = {}) {
  const {
    dataDir = null, findings = 50, seed = 42, autoSetup = true, project = 'SEC', schedulerSpeedup = 0,
    workflow = 'default', ports = {},
  } = opts;
  const emulatorPort = ports.emulator ?? (await freePort());
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const sub = (name) => (dataDir ? join(dataDir, name) : null);

  const cataam = await startCataamSim({
    port: ports.cataam ?? 0, dataDir: sub('cataam'), seed, findings, runDelayMs: 300, ...opts.cataam,
  });
  const jira = await startJiraSim({
    port: ports.jira ?? 0, dataDir: sub('jira'), eventSink: `${emulatorUrl}/__platform/product-events`,
    appAccountId: APP_ACCOUNT_ID, users: [ADMIN, DEVELOPER], projects: PROJECTS, workflow, indexLagMs: 0,
    rateLimits: false, ...opts.jira,
  });
  const emulator = await startEmulator({
    appDir: ROOT, dataDir: sub('forge'), jiraUrl: jira.url, port: emulatorPort,
    egressAliases: { 'service.cataam.com': cataam.url, 'app.cataam.com': cataam.url },
    schedulerSpeedup, appAccountId: APP_ACCOUNT_ID, ...opts.emulator,
  });

  const stack = {
    emulator, jira, cataam,
    adminUrl: (accountId = ADMIN.accountId) => `${emulator.url}/admin/?as=${encodeURIComponent(accountId)}`,
    /** Calls a resolver function as the admin page would. */
    invoke: (fn, payload = {}, accountId = ADMIN.accountId) => emulator.invokeResolver(fn, payload, { accountId }),
    /** Configures the app end to end, as an admin following the product page would. */
    async setup({ projectKey = project, apiKeyName = 'Jira Production' } = {}) {
      const apiKey = await cataam.createApiKey(apiKeyName);
      const projects = await stack.invoke('listProjects', { query: '', startAt: 0 });
      if (!projects.ok) throw new Error(`listProjects failed: ${JSON.stringify(projects.error)}`);
      const p = projects.projects.find((x) => x.key === projectKey);
      if (!p) throw new Error(`project ${projectKey} not found`);
      const saved = await stack.invoke('saveSettings', {
        baseUrl: 'https://service.cataam.com', apiKey, projectId: p.id, projectKey: p.key,
      });
      if (!saved.ok) throw new Error(`saveSettings failed: ${JSON.stringify(saved.error)}`);
      const secret = await stack.invoke('generateSecret', {});
      if (!secret.ok) throw new Error(`generateSecret failed: ${JSON.stringify(secret.error)}`);
      await cataam.setSharedSecret(secret.secret);
      return { apiKey, projectId: p.id, projectKey: p.key, webhook: saved.webhook };
    },
    /** Runs the scheduled poll now and waits for the queue to drain. */
    async sync() {
      const rec = await emulator.runScheduled('cataam-poll');
      await emulator.idle();
      return rec;
    },
    async close() {
      await emulator.close();
      await jira.close();
      await cataam.close();
    },
  };
  if (autoSetup) stack.config = await stack.setup();
  return stack;
}
