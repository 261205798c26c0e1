#!/usr/bin/env node
// Measures the shim's cold start in a fresh process: load the wasm loader bundle (the same code and
// embedded bytes as the Forge bundle), compile and instantiate the wasm, and complete a first call
// into the core. Prints JSON.
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const t0 = performance.now();
const loader = createRequire(import.meta.url)(join(root, 'build/probe/wasm.cjs'));
const version = loader.core().version();
const coldStartMs = performance.now() - t0;
console.log(JSON.stringify({ coldStartMs, version }));
