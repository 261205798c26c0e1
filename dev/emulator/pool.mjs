// Warm pools of containers (worker threads), one pool per function, one invocation at a time
// per container. An invocation that outlives its deadline is terminated with its worker; the
// pool replaces the worker on the next demand.

import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const WORKER_FILE = fileURLToPath(new URL('./worker.mjs', import.meta.url));

/** Raised when an invocation runs past its deadline. */
export class TimeoutError extends Error {
  constructor(ms) {
    super(`Invocation timed out after ${ms} ms`);
    this.name = 'TimeoutError';
    this.code = 'FUNCTION_TIME_OUT';
  }
}

class Container {
  constructor(workerData, memoryMb) {
    this.worker = new Worker(WORKER_FILE, { workerData, resourceLimits: { maxOldGenerationSizeMb: memoryMb } });
    this.dead = false;
    this.pending = null;
    this.ready = new Promise((resolveReady, rejectReady) => {
      this.worker.once('message', (msg) => {
        if (msg.type === 'ready') resolveReady();
        else {
          const err = Object.assign(new Error(msg.error?.message ?? 'function failed to load'), msg.error);
          rejectReady(err);
        }
      });
      this.worker.once('error', rejectReady);
    });
    this.ready.catch(() => {});
    this.worker.on('message', (msg) => {
      if (msg.type === 'result' && this.pending) {
        const { resolve } = this.pending;
        this.pending = null;
        resolve(msg);
      }
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      this.dead = true;
      this.fail(Object.assign(new Error(`container exited (code ${code})`), { code: 'FUNCTION_PLATFORM_UNKNOWN_ERROR' }));
    });
  }

  fail(err) {
    this.dead = true;
    if (this.pending) {
      const { reject } = this.pending;
      this.pending = null;
      if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') err = Object.assign(new Error('Function ran out of memory'), { code: 'FUNCTION_OUT_OF_MEMORY' });
      reject(err);
    }
  }

  /** Runs one invocation; resolves with the worker's result message. */
  async run(invocation, args, timeoutMs, timing = {}) {
    await this.ready;
    // The clock starts when the container takes the invocation (a cold start is not billed).
    timing.runStart = Date.now();
    invocation = { ...invocation, deadline: timing.runStart + timeoutMs };
    let timer;
    const result = new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      timer = setTimeout(() => {
        const err = new TimeoutError(timeoutMs);
        this.fail(err);
        this.worker.terminate();
      }, timeoutMs);
    });
    this.worker.postMessage({ type: 'invoke', invocation, args });
    try {
      return await result;
    } finally {
      clearTimeout(timer);
    }
  }

  terminate() {
    this.dead = true;
    return this.worker.terminate();
  }
}

/** The containers of one function. */
export class FunctionPool {
  /**
   * @param {object} workerData what worker.mjs needs (handler file, platform URL, egress...)
   * @param {{ maxContainers?: number, memoryMb?: number }} [options]
   */
  constructor(workerData, { maxContainers = 8, memoryMb = 512 } = {}) {
    this.workerData = workerData;
    this.maxContainers = maxContainers;
    this.memoryMb = memoryMb;
    this.idle = [];
    this.busy = new Set();
    this.waiters = [];
    this.closed = false;
  }

  async acquire() {
    while (this.idle.length) {
      const c = this.idle.pop();
      if (!c.dead) return c;
    }
    if (this.busy.size < this.maxContainers) return new Container(this.workerData, this.memoryMb);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(c) {
    if (c.dead || this.closed) {
      if (!c.dead) c.terminate();
      const next = this.waiters.shift();
      if (next && !this.closed) next(new Container(this.workerData, this.memoryMb));
      return;
    }
    const next = this.waiters.shift();
    if (next) next(c);
    else this.idle.push(c);
  }

  /**
   * Runs `args` through the handler in a free container within `timeoutMs`; sets
   * `timing.runStart` when a (warm) container takes the invocation.
   */
  async run(invocation, args, timeoutMs, timing = {}) {
    if (this.closed) throw new Error('emulator closed');
    const c = await this.acquire();
    this.busy.add(c);
    try {
      return await c.run(invocation, args, timeoutMs, timing);
    } catch (e) {
      // Timed out, crashed or failed to load: the container is useless; the next call gets a
      // fresh one (which retries the load).
      if (!c.dead) c.terminate();
      c.dead = true;
      throw e;
    } finally {
      this.busy.delete(c);
      this.release(c);
    }
  }

  async close() {
    this.closed = true;
    const all = [...this.idle, ...this.busy];
    this.idle = [];
    await Promise.all(all.map((c) => c.terminate()));
  }
}
