// The admin page build obeys the Custom UI rules: one bundled script and one stylesheet by
// relative URL, no inline script/style/handlers, no wasm; the bundle carries @forge/bridge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAdmin, checkHtml } from '../../scripts/build-admin.mjs';

test('build: index.html + styles.css + assets/main.js, relative URLs, bridge bundled, no wasm', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cataam-admin-build-'));
  try {
    const outDir = join(dir, 'admin');
    const { files } = await buildAdmin({ outDir });
    assert.deepEqual(files, ['index.html', 'styles.css', 'assets/main.js']);
    assert.deepEqual((await readdir(outDir)).sort(), ['assets', 'index.html', 'styles.css']);
    const html = await readFile(join(outDir, 'index.html'), 'utf8');
    assert.match(html, /<script src="\.\/assets\/main\.js" defer><\/script>/);
    assert.match(html, /<link rel="stylesheet" href="\.\/styles\.css" \/>/);
    const js = await readFile(join(outDir, 'assets', 'main.js'), 'utf8');
    assert.match(js, /callBridge/, '@forge/bridge is in the bundle');
    assert.ok(!/WebAssembly\.(instantiate|compile)/.test(js), 'no wasm in the page');
    assert.ok(!/\bimport\(/.test(js), 'one self-contained script (the bridge import is inlined)');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('build: pages breaking the Custom UI CSP are refused', () => {
  const ok = '<html><head><script src="./assets/main.js" defer></script></head><body></body></html>';
  assert.doesNotThrow(() => checkHtml(ok));
  for (const [html, why] of [
    ['<script>alert(1)</script>', /inline <script>/],
    ['<style>p{}</style>', /inline <style>/],
    ['<p style="color:red">x</p>', /style=""/],
    ['<button onclick="go()">x</button>', /event handler/],
    ['<script src="/abs/main.js"></script>', /non-relative URL/],
    ['<link rel="stylesheet" href="https://cdn.example.com/x.css">', /non-relative URL/],
  ]) {
    assert.throws(() => checkHtml(html), why, html);
  }
});
