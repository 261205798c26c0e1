#!/usr/bin/env node
// Prints the KVS state of an emulator data dir as JSON: `node dev/emulator/dump.mjs <dataDir>`.
// Secret values are never printed (names only); expired entries are left out.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readState } from './store.mjs';
import { dumpState } from './kvs.mjs';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: node dev/emulator/dump.mjs <dataDir>\n');
  process.exit(2);
}
if (!existsSync(join(dataDir, 'state.json'))) {
  process.stderr.write(`no emulator state in ${dataDir}\n`);
  process.exit(1);
}
const s = readState(dataDir);
const out = dumpState({ kvs: new Map(Object.entries(s.kvs)), secrets: new Map(Object.entries(s.secrets)) }, Date.now());
out.webTriggers = s.webTriggers;
out.queue = s.queue.map(({ eventId, queueName, dueAt, retryCount }) => ({ eventId, queueName, dueAt: new Date(dueAt).toISOString(), retryCount }));
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
