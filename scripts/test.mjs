#!/usr/bin/env node
// Runs every test, in order of cost, and exits non-zero if any step failed:
//   Rust (fmt, clippy, native tests) → build (wasm, Forge package, admin page) → manifest validators
//   and all Node suites (emulator, simulators, the app end to end) → browser tests → CI soak.
// `--only rust|node|browser|soak` runs one group; extra args after `--` go to node --test.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
const defaultSpec = join(root, '..', 'shared', 'jira', 'swagger-v3.v3.json');
const env = { ...process.env };
if (!env.JIRA_OPENAPI_SPEC && existsSync(defaultSpec)) env.JIRA_OPENAPI_SPEC = defaultSpec;

// A suite whose servers outlive its tests must not hang CI: exit once its tests are done, and
// bound every test (the longest end-to-end test takes a few minutes).
const NODE_TEST_GUARDS = ['--test-force-exit', '--test-timeout=600000'];
const results = [];
function step(name, cmd, args, opts = {}) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...opts });
  const ok = r.status === 0;
  results.push({ name, ok, s: ((Date.now() - t0) / 1000).toFixed(1) });
  return ok;
}
const tests = (dir, filter = () => true) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir)).filter((f) => f.endsWith('.test.mjs') && filter(f)).map((f) => join(dir, f))
    : [];

if (!only || only === 'rust') {
  step('rustfmt', 'cargo', ['fmt', '--check']);
  step('clippy', 'cargo', ['clippy', '--all-targets', '-q', '--', '-D', 'warnings']);
  step('clippy (wasm32)', 'cargo', ['clippy', '--lib', '--target', 'wasm32-unknown-unknown', '-q', '--', '-D', 'warnings']);
  step('cargo test', 'cargo', ['test', '-q']);
}
let built = true;
if (!only || only !== 'rust') built = step('build', process.execPath, [join(root, 'scripts/build.mjs'), '--quiet']);
if (built && (!only || only === 'node')) {
  step('node tests', process.execPath, ['--test', '--test-concurrency=2', ...NODE_TEST_GUARDS, ...tests('tests')]);
}
if (built && (!only || only === 'browser')) {
  const browser = tests('tests/browser');
  if (browser.length) step('browser tests', process.execPath, ['--test', '--test-concurrency=1', ...NODE_TEST_GUARDS, ...browser]);
}
if (built && (!only || only === 'soak') && existsSync(join(root, 'bench/soak.mjs'))) {
  step('chaos soak (CI size)', process.execPath, [join(root, 'bench/soak.mjs'), '--ci']);
}

console.log('\n=== summary');
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.s} s)`);
const failed = results.filter((r) => !r.ok).length;
console.log(`steps: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
