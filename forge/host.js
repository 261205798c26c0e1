// The host object handed to the wasm core: every platform capability, built from the real Forge
// SDKs. Each method only translates; no sync decision is made here (see docs/internals.md).
import api, { asApp, asUser, assumeTrustedRoute, getAppContext, webTrigger } from '@forge/api';
import { kvs, WhereConditions } from '@forge/kvs';
import { Queue } from '@forge/events';
import { randomBytes } from 'node:crypto';

export const QUEUE_KEY = 'cataam-sync';
export const WEBTRIGGER_KEY = 'cataam-push';

const queue = new Queue({ key: QUEUE_KEY });
/** Largest page a KVS query may ask for (the platform rejects more with LIST_QUERY_LIMIT_EXCEEDED). */
const KVS_QUERY_MAX = 20;

/** Maps an SDK failure to the `{ code, message }` shape the core expects (no values, no secrets). */
function hostError(where, err) {
  const status = err?.responseDetails?.status;
  const code = err?.code && typeof err.code === 'string' ? err.code : 'HOST';
  const e = new Error(`${where} failed${status ? ` (HTTP ${status})` : ''}: ${code}`);
  e.code = status === 429 ? 'RATE_LIMITED' : where.startsWith('kvs') ? 'KVS' : code;
  return e;
}

/** `true` when a FAIL_IF_EXISTS write found the key already there. */
function isKeyExists(err) {
  const status = err?.responseDetails?.status;
  return status === 409 || /EXIST|CONDITION|PRECONDITION/i.test(String(err?.code ?? ''));
}

async function readBody(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function headersOf(res) {
  const out = [];
  res.headers.forEach((v, k) => out.push([k.toLowerCase(), v]));
  return out;
}

/**
 * Builds the host object for one invocation.
 * @param {{ principal?: string }} [opts] principal = accountId of the invoking user (resolver calls).
 */
export function createHost() {
  return {
    async kvsGet(key) {
      try {
        const v = await kvs.get(key);
        return v === undefined ? null : v;
      } catch (e) {
        throw hostError('kvs.get', e);
      }
    },
    async kvsSet(key, value, opts = {}) {
      const options = {};
      if (opts.ttlSeconds) options.ttl = { value: opts.ttlSeconds, unit: 'SECONDS' };
      if (opts.ifNotExists) options.keyPolicy = 'FAIL_IF_EXISTS';
      try {
        await kvs.set(key, value, Object.keys(options).length ? options : undefined);
        return true;
      } catch (e) {
        if (opts.ifNotExists && isKeyExists(e)) return false;
        throw hostError('kvs.set', e);
      }
    },
    async kvsDelete(key) {
      try {
        await kvs.delete(key);
      } catch (e) {
        throw hostError('kvs.delete', e);
      }
    },
    async kvsQuery(prefix, cursor, limit) {
      try {
        // Forge answers at most KVS_QUERY_MAX results per page; the caller follows nextCursor.
        const pageSize = Math.max(1, Math.min(limit, KVS_QUERY_MAX));
        let q = kvs.query().where('key', WhereConditions.beginsWith(prefix)).limit(pageSize);
        if (cursor) q = q.cursor(cursor);
        const page = await q.getMany();
        return {
          results: page.results.map((r) => ({ key: r.key, value: r.value })),
          nextCursor: page.nextCursor ?? null,
        };
      } catch (e) {
        throw hostError('kvs.query', e);
      }
    },
    async kvsTransact(ops) {
      try {
        let tx = kvs.transact();
        for (const op of ops) {
          tx = op.op === 'delete' ? tx.delete(op.key) : tx.set(op.key, op.value);
        }
        await tx.execute();
      } catch (e) {
        throw hostError('kvs.transact', e);
      }
    },
    async secretGet(name) {
      try {
        const v = await kvs.getSecret(name);
        return v === undefined ? null : v;
      } catch (e) {
        throw hostError('kvs.getSecret', e);
      }
    },
    async secretSet(name, value) {
      try {
        await kvs.setSecret(name, value);
      } catch (e) {
        throw hostError('kvs.setSecret', e);
      }
    },
    async secretDelete(name) {
      try {
        await kvs.deleteSecret(name);
      } catch (e) {
        throw hostError('kvs.deleteSecret', e);
      }
    },
    async jira(method, path, body, asUserFlag) {
      const requester = asUserFlag ? asUser() : asApp();
      const init = { method, headers: { Accept: 'application/json' } };
      if (body !== null && body !== undefined) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      let res;
      try {
        res = await requester.requestJira(assumeTrustedRoute(path), init);
      } catch (e) {
        const err = new Error(`Jira request failed: ${e?.name ?? 'Error'}`);
        err.code = 'NETWORK';
        throw err;
      }
      return { status: res.status, headers: headersOf(res), body: await readBody(res) };
    },
    async queuePush(events) {
      try {
        await queue.push(events.map((e) => ({ body: e.body, delayInSeconds: e.delayInSeconds ?? 0 })));
      } catch (e) {
        throw hostError('queue.push', e);
      }
    },
    async webTriggerUrl() {
      return webTrigger.getUrl(WEBTRIGGER_KEY);
    },
    async randomBytes(n) {
      return randomBytes(n).toString('hex');
    },
    now() {
      return Date.now();
    },
    remainingMs() {
      try {
        return getAppContext().invocationRemainingTimeInMillis();
      } catch {
        return 25_000;
      }
    },
    log(level, message, fields) {
      const line = JSON.stringify({ level, message, ...(fields ?? {}) });
      if (level === 'error' || level === 'warn') console.error(line);
      else console.log(line);
    },
  };
}

export { api };
