// Loads the Rust core once per process ("container") and re-initialises it after a wasm trap.
// The build embeds both the wasm bytes and the wasm-bindgen glue (target no-modules) in the bundle,
// so the deployable package needs no file reads (see scripts/build.mjs).
import glueSource from '../build/wasm/cataam_jira.js' with { type: 'text' };
import wasmBytes from '../build/wasm/cataam_jira_bg.wasm';

let instance = null;
let compiled = null;

/** Evaluates a fresh copy of the glue (its state lives in a closure) around the compiled module. */
function instantiate() {
  // eslint-disable-next-line no-new-func
  const bindgen = new Function(`${glueSource}\nreturn wasm_bindgen;`)();
  compiled ??= new WebAssembly.Module(wasmBytes);
  bindgen.initSync({ module: compiled });
  return bindgen;
}

/** The core's exports, initialised on first use. */
export function core() {
  instance ??= instantiate();
  return instance;
}

/**
 * Runs `fn(core)`. A `WebAssembly.RuntimeError` (trap: panic=abort, unreachable, OOM) poisons the
 * instance, so it is dropped and the next call gets a fresh one; the error is rethrown with a
 * stable code.
 */
export async function withCore(fn) {
  try {
    return await fn(core());
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      instance = null;
      const err = new Error('The sync core trapped and was reset; the work will be retried.');
      err.code = 'WASM_TRAP';
      throw err;
    }
    throw e;
  }
}
