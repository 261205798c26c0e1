// The manifest passes Atlassian's own validators offline, and the check really fails on a broken
// manifest. Needs the build output (build/app, build/admin): `./task test` builds first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { lintApp, validateManifest } from './lib/forge-validators.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const manifestText = readFileSync(join(root, 'manifest.yml'), 'utf8');
const manifest = YAML.parse(manifestText);

test('manifest passes @forge/manifest FULL, PRODUCT_TRIGGER and DEPRECATED_EGRESS_PERMISSIONS', async () => {
  const problems = await validateManifest(join(root, 'manifest.yml'));
  assert.deepEqual(problems.filter((p) => p.level === 'error'), []);
});

test('app passes the @forge/lint client-side linters (all but PermissionLinter)', async () => {
  const { problems, linterNames } = await lintApp(['forge/index.js', 'forge/host.js', 'forge/wasm.js'], manifest);
  assert.ok(linterNames.length >= 10, `ran ${linterNames.join(', ')}`);
  assert.ok(!linterNames.includes('PermissionLinter'));
  assert.deepEqual(problems.filter((p) => p.level === 'error'), []);
});

test('manifest declares every module the product needs', () => {
  const m = manifest.modules;
  assert.equal(m.scheduledTrigger[0].interval, 'fiveMinute');
  assert.equal(m.webtrigger[0].response.type, 'dynamic');
  assert.equal(m.trigger[0].filter.ignoreSelf, true);
  assert.ok(m.trigger[0].events.includes('avi:jira:updated:issue'));
  assert.equal(m.consumer[0].queue, 'cataam-sync');
  assert.equal(m['jira:adminPage'][0].resolver.function, 'resolver');
  assert.equal(m['jira:entityProperty'][0].propertyKey, 'cataam.finding');
  assert.equal(manifest.app.runtime.name, 'nodejs22.x');
  // Least privilege: tests/scopes.test.mjs proves each is used; docs/security.md says why.
  assert.deepEqual(manifest.permissions.scopes.sort(), ['read:jira-work', 'storage:app', 'write:jira-work']);
  const egress = manifest.permissions.external.fetch.backend.map((e) => e.address);
  assert.deepEqual(egress, ['https://service.cataam.com', 'https://app.cataam.com', 'https://*.cataam.com']);
});

test('handlers in the manifest are exactly the bundle exports', () => {
  // Loaded in a separate process: the SDKs read platform globals, and this suite must stay clean.
  const out = execFileSync(process.execPath, ['-e', "console.log(JSON.stringify(Object.keys(require('./build/app/index.js'))))"], { cwd: root });
  const exported = JSON.parse(out.toString()).sort();
  const handlers = manifest.modules.function.map((f) => f.handler.replace(/^index\./, '')).sort();
  assert.deepEqual(exported, handlers);
});

function brokenCopy(mutate) {
  const dir = mkdtempSync(join(tmpdir(), 'manifest-neg-'));
  cpSync(join(root, 'build'), join(dir, 'build'), { recursive: true });
  const m = YAML.parse(manifestText);
  mutate(m);
  writeFileSync(join(dir, 'manifest.yml'), YAML.stringify(m));
  return join(dir, 'manifest.yml');
}

test('negative: the validators reject broken manifests', async (t) => {
  const cases = {
    'bad schedule interval': (m) => { m.modules.scheduledTrigger[0].interval = 'fiveMinutes'; },
    'handler pointing at a missing export file': (m) => { m.modules.function[0].handler = 'missing.poll'; },
    'trigger referencing an unknown function': (m) => { m.modules.trigger[0].function = 'nope'; },
    'unknown runtime': (m) => { m.app.runtime.name = 'nodejs12.x'; },
    'deprecated plain-string egress': (m) => { m.permissions.external.fetch.backend = ['https://service.cataam.com']; },
  };
  for (const [name, mutate] of Object.entries(cases)) {
    await t.test(name, async () => {
      const problems = await validateManifest(brokenCopy(mutate));
      assert.ok(problems.length > 0, `expected a problem for ${name}`);
    });
  }
});
