#!/usr/bin/env node
// One command builds everything deployable:
//   1. the Rust core for wasm32 (release, size-tuned profile),
//   2. wasm-bindgen (CLI pinned to the crate's version, in .tools/) → build/wasm (no-modules glue),
//   3. wasm-opt -Oz (npm binaryen),
//   4. the Forge function bundle build/app/index.js (esbuild, CommonJS, wasm + glue embedded),
//   5. the admin page build/admin (scripts/build-admin.mjs),
// then prints the wasm size (raw, gzip) and the shim's cold start on this Node.
// Assumes scripts/bootstrap.sh ran (./task does that).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
const quiet = process.argv.includes('--quiet');
const log = (...a) => { if (!quiet) console.log(...a); };

const wasmDir = join(root, 'build/wasm');
const appDir = join(root, 'build/app');

// 1. Rust → wasm32.
run('cargo', ['build', '--release', '--lib', '--target', 'wasm32-unknown-unknown', ...(quiet ? ['-q'] : [])]);
const rawWasm = join(root, 'target/wasm32-unknown-unknown/release/cataam_jira.wasm');

// 2. wasm-bindgen (no-modules: its state lives in a closure, so the shim can re-instantiate after a trap).
rmSync(wasmDir, { recursive: true, force: true });
mkdirSync(wasmDir, { recursive: true });
run(join(root, '.tools/bin/wasm-bindgen'), ['--target', 'no-modules', '--no-typescript', '--out-dir', wasmDir, rawWasm]);

// 3. wasm-opt from the npm binaryen package (Debian's binaryen 108 emits modules Node can't load).
const bg = join(wasmDir, 'cataam_jira_bg.wasm');
run(join(root, 'node_modules/.bin/wasm-opt'), ['-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int',
  '--enable-sign-ext', '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue', bg, '-o', bg]);
const wasm = readFileSync(bg);
const gz = gzipSync(wasm, { level: 9 });

// 4. The Forge package: one CommonJS file carrying the wasm.
rmSync(appDir, { recursive: true, force: true });
await esbuild.build({
  entryPoints: [join(root, 'forge/index.js')],
  outfile: join(appDir, 'index.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  loader: { '.wasm': 'binary' },
  legalComments: 'none',
  logLevel: quiet ? 'error' : 'warning',
});
// A probe bundle of just the wasm loader, for the cold-start figure (not deployed).
await esbuild.build({
  entryPoints: [join(root, 'forge/wasm.js')], outfile: join(root, 'build/probe/wasm.cjs'), bundle: true,
  platform: 'node', format: 'cjs', target: 'node22', loader: { '.wasm': 'binary' }, logLevel: 'error',
});
writeFileSync(join(appDir, 'package.json'), JSON.stringify({ type: 'commonjs', private: true }, null, 2) + '\n');

// 5. Admin page.
if (existsSync(join(root, 'scripts/build-admin.mjs'))) run(process.execPath, [join(root, 'scripts/build-admin.mjs')]);

// Figures.
const bundleBytes = statSync(join(appDir, 'index.js')).size;
const cold = JSON.parse(execFileSync(process.execPath, [join(root, 'scripts/cold-start.mjs')], { cwd: root }).toString());
console.log(`figure wasm_bytes ${wasm.length}`);
console.log(`figure wasm_gzip_bytes ${gz.length}`);
console.log(`figure app_bundle_bytes ${bundleBytes}`);
console.log(`figure cold_start_ms ${cold.coldStartMs.toFixed(1)}`);
log(`build: wasm ${(wasm.length / 1024).toFixed(1)} KiB raw, ${(gz.length / 1024).toFixed(1)} KiB gzip; ` +
  `bundle ${(bundleBytes / 1024).toFixed(0)} KiB; cold start ${cold.coldStartMs.toFixed(1)} ms on Node ${process.versions.node}`);
