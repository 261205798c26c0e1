// A Forge "container": a worker thread that loads one function's handler file and runs its
// invocations one at a time.
//
// Before the app code is required it installs what the Forge Node runtime provides:
// `globalThis.__forge_fetch__` (product/KVS/stargate calls, forwarded to the emulator's main
// thread over loopback HTTP), `globalThis.__forge_runtime__` (replaced per invocation) and a global
// `fetch` restricted to the manifest's egress allowlist.

import { parentPort, workerData } from 'node:worker_threads';
import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { compileAllowlist, applyAlias } from './egress.mjs';

const { handlerFile, exportName, platformUrl, token, egress, egressAliases, base } = workerData;
const realFetch = globalThis.fetch;
const isAllowed = compileAllowlist(egress);
let current = null; // the running invocation: { id, deadline, metrics }

/** Calls the emulator's platform endpoint exactly as the Forge proxy would answer. */
async function forgeFetch(target, path, init = {}) {
  const headers = new Headers(init.headers ?? {});
  headers.set('x-forge-target', JSON.stringify(target ?? {}));
  headers.set('x-forge-path', String(path));
  headers.set('x-forge-token', token);
  headers.set('x-forge-invocation', current?.id ?? '');
  const body = init.body;
  const opts = { method: 'POST', headers, body, redirect: 'manual' };
  headers.set('x-forge-method', (init.method ?? 'GET').toUpperCase());
  if (body && typeof body === 'object' && typeof body.getReader === 'function') opts.duplex = 'half';
  if (body === undefined || body === null) delete opts.body;
  return realFetch(`${platformUrl}/__forge/proxy`, opts);
}

class ExternalEndpointNotAllowedError extends Error {
  constructor(url) {
    super(`URL not included in the external fetch backend permissions: ${url}. Visit go.atlassian.com/forge-egress for more information.`);
    this.name = 'ExternalEndpointNotAllowedError';
    this.code = 'REQUEST_EGRESS_ALLOWLIST_ERR';
  }
}

/** The runtime's global fetch: allowlisted hosts only, dev aliases applied. */
async function egressFetch(input, init) {
  const isRequest = typeof Request !== 'undefined' && input instanceof Request;
  const href = isRequest ? input.url : input instanceof URL ? input.href : String(input);
  let url;
  try {
    url = new URL(href);
  } catch {
    throw new TypeError(`Invalid URL: ${href}`);
  }
  if (!isAllowed(url)) throw new ExternalEndpointNotAllowedError(href);
  const target = applyAlias(url, egressAliases);
  if (isRequest) return realFetch(new Request(target, input), init);
  return realFetch(target, init);
}

function counter(name) {
  return {
    incr() {
      if (current) current.metrics[name] = (current.metrics[name] ?? 0) + 1;
    },
    decr() {
      if (current) current.metrics[name] = (current.metrics[name] ?? 0) - 1;
    },
  };
}

function runtimeFor(inv) {
  return {
    ...base.runtime,
    appContext: { ...base.runtime.appContext, moduleKey: inv?.moduleKey ?? base.runtime.appContext.moduleKey, invocationId: inv?.id },
    aaid: inv?.principal?.accountId,
    principal: inv?.principal,
    proxy: { token, url: platformUrl },
    tracing: { traceId: inv?.id ?? '0', spanId: '1' },
    container: { appCodeDir: dirname(handlerFile) },
    metrics: {
      counter: (name) => counter(name),
      timing: (name) => ({ measure: () => ({ stop: () => counter(`${name}.timing`).incr() }) }),
      gauge: (name) => ({ set: () => counter(`${name}.gauge`).incr() }),
    },
    lambdaContext: {
      functionName: inv?.functionKey,
      awsRequestId: inv?.id,
      getRemainingTimeInMillis: () => Math.max(0, (inv?.deadline ?? Date.now()) - Date.now()),
    },
  };
}

globalThis.__forge_fetch__ = forgeFetch;
globalThis.__forge_runtime__ = runtimeFor(null);
globalThis.fetch = egressFetch;

/** Loads the handler file as CommonJS (Forge app packages are CommonJS, whatever package.json says). */
function loadApp() {
  const mod = new Module(handlerFile, null);
  mod.filename = handlerFile;
  mod.paths = Module._nodeModulePaths(dirname(handlerFile));
  mod.require = createRequire(handlerFile);
  mod._compile(readFileSync(handlerFile, 'utf8'), handlerFile);
  mod.loaded = true;
  return mod.exports;
}

function serializeError(e) {
  if (e instanceof Error) return { name: e.name, message: e.message, code: e.code, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

let handler;
try {
  // Warm the HTTP client up (undici initialises lazily) so the first invocation is not slowed.
  await realFetch(`${platformUrl}/__forge/ping`).then((r) => r.arrayBuffer());
  const exportsObj = loadApp();
  handler = exportsObj?.[exportName];
  if (typeof handler !== 'function') throw new Error(`${handlerFile} does not export a function '${exportName}'`);
  parentPort.postMessage({ type: 'ready' });
} catch (e) {
  parentPort.postMessage({ type: 'loadError', error: serializeError(e) });
}

parentPort.on('message', async (msg) => {
  if (msg.type !== 'invoke') return;
  const inv = msg.invocation;
  current = { id: inv.id, metrics: {} };
  globalThis.__forge_runtime__ = runtimeFor(inv);
  let peakHeap = getHeapStatistics().used_heap_size;
  let reply;
  try {
    const value = await handler(...msg.args);
    peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
    // Forge serialises results as JSON; so do we (undefined stays undefined).
    reply = { type: 'result', ok: true, value: value === undefined ? undefined : JSON.parse(JSON.stringify(value)) };
  } catch (e) {
    reply = { type: 'result', ok: false, error: serializeError(e) };
  }
  reply.metrics = current.metrics;
  reply.peakHeapMb = Math.round((peakHeap / 1048576) * 10) / 10;
  reply.rssMb = Math.round((process.memoryUsage.rss() / 1048576) * 10) / 10;
  current = null;
  globalThis.__forge_runtime__ = runtimeFor(null);
  parentPort.postMessage(reply);
});
