#!/usr/bin/env node
// `npm start` / `./task start`: the local stack a newcomer runs to watch the product work.
//   Forge emulator (real @forge SDKs) + Jira Cloud simulator + CATAAM simulator + the built app,
//   a seeded demo org (~50 findings, a few compliance failures), scheduled sync sped up 60× (every
//   5 s instead of 5 min) plus real-time push.
// Options:
//   --fresh-install   do not configure the app: follow the printed steps yourself (first-time setup)
//   --reset           wipe the saved state (.data/stack) before starting
//   --findings N      demo org size (default 50; only used when the state is new)
//   --speedup N       scheduler speed-up (default 60; 1 = real 5-minute interval)
//   --workflow custom Jira custom multi-hop workflow instead of the default one
//   --port N          emulator port (default 8500; Jira 8501, CATAAM 8502)
//   --data-dir DIR    keep the state there instead of .data/stack
// State persists in .data/stack, so a restart continues where it stopped. Ctrl-C stops cleanly.
import { existsSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ADMIN, DEVELOPER, ROOT, startStack } from '../tests/lib/stack.mjs';

const { values: args } = parseArgs({
  options: {
    'fresh-install': { type: 'boolean', default: false },
    reset: { type: 'boolean', default: false },
    findings: { type: 'string', default: '50' },
    speedup: { type: 'string', default: '60' },
    workflow: { type: 'string', default: 'default' },
    port: { type: 'string', default: '8500' },
    'data-dir': { type: 'string', default: '' },
  },
});

const dataDir = args['data-dir'] || join(ROOT, '.data', 'stack');
if (args.reset) rmSync(dataDir, { recursive: true, force: true });
const isNew = !existsSync(dataDir);
mkdirSync(dataDir, { recursive: true });
const base = Number(args.port);

const stack = await startStack({
  dataDir, findings: Number(args.findings), seed: 42, autoSetup: false,
  schedulerSpeedup: Number(args.speedup), workflow: args.workflow,
  ports: { emulator: base, jira: base + 1, cataam: base + 2 },
  jira: { indexLagMs: 1500 },
  cataam: { runDelayMs: 3000 },
});

let setupNote;
const configured = (await stack.invoke('getSettings')).apiKeySet;
if (!configured && !args['fresh-install']) {
  const cfg = await stack.setup();
  setupNote = `configured automatically: project ${cfg.projectKey}, API key "Jira Production", shared secret set in both apps.`;
} else if (configured) {
  setupNote = 'already configured (state restored from .data/stack).';
} else {
  setupNote = 'NOT configured yet — do the first-time setup:';
}

const line = '─'.repeat(78);
console.log(`\n${line}\n CATAAM ⇄ Jira — local stack ${isNew ? '(new state)' : '(restored state)'}\n${line}`);
console.log(` Jira admin page (as ${ADMIN.displayName}, a Jira admin):  ${stack.adminUrl(ADMIN.accountId)}`);
console.log(` Jira admin page (as ${DEVELOPER.displayName}, not an admin): ${stack.adminUrl(DEVELOPER.accountId)}`);
console.log(` Jira issues (act as a human: transition, assign, due date): ${stack.jira.url}/`);
console.log(` CATAAM console (findings, API keys, Jira settings):        ${stack.cataam.url}/`);
console.log(` Poll: every ${300 / Number(args.speedup || 1)} s (speed-up ${args.speedup}×); pushes are real time.`);
console.log(`${line}\n Setup: ${setupNote}`);
if (!configured && args['fresh-install']) {
  console.log(`  1. CATAAM console → Org Settings → Integrations → API Keys → Generate New Key; copy it.
  2. Jira admin page → paste the key, Test Connection, pick the Default Project.
  3. Real-time Push → Generate the shared secret, copy it.
  4. CATAAM console → Settings → Integrations → Jira (Forge App) → paste it as Shared Secret.
  5. Jira admin page → Save Settings (registers the webhook URL with CATAAM).
  (Or restart with: ./task start --reset  — it performs these steps for you.)`);
}
console.log(` State: .data/stack (./task start --reset wipes it). Ctrl-C stops.\n${line}\n`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  console.log('\nstopping…');
  await stack.close();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
