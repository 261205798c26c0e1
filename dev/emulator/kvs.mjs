// The Forge KVS REST surface (`/api/v1/...`) that @forge/kvs talks to through `__forge_fetch__`.
//
// `handleKvs(store, path, body, now)` answers `{ status, body }` exactly as the SDK expects:
// 200 + JSON for reads, 204 for writes without a return value, and non-2xx with
// `{ code, message }` (the SDK maps `KEY_NOT_FOUND` to `undefined`). Limits follow the Forge
// storage documentation; where it is silent the stricter reading is taken (see README.md).

import { seal, unseal } from './store.mjs';

/** Longest key Forge accepts. */
export const MAX_KEY_LENGTH = 500;
/** Largest JSON value (bytes of its serialisation): 240 KiB. */
export const MAX_VALUE_BYTES = 240 * 1024;
/** Deepest object nesting Forge accepts. */
export const MAX_DEPTH = 32;
/** Most operations (set + delete + check) in one transaction. */
export const MAX_TRANSACTION_OPS = 25;
/** Most items in one batch request. */
export const MAX_BATCH_ITEMS = 25;
/** Largest page of a query (the docs: "up to a maximum of 20"). */
export const MAX_QUERY_LIMIT = 20;
/** Default page size of a query. */
export const DEFAULT_QUERY_LIMIT = 10;
/** Longest TTL accepted (one year). */
export const MAX_TTL_SECONDS = 365 * 24 * 3600;

const KEY_PATTERN = /^(?!\s+$)[a-zA-Z0-9:._\s\-#]+$/;
const TTL_UNITS = { SECONDS: 1, MINUTES: 60, HOURS: 3600, DAYS: 86400 };

class KvsError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const bad = (code, message) => new KvsError(400, code, message);
const notFound = () => new KvsError(404, 'KEY_NOT_FOUND', 'Provided key does not exist');
const conflict = (key) => new KvsError(409, 'KEY_CONFLICT', `Key already exists: ${key}`);

function checkKey(key) {
  if (typeof key !== 'string' || key.length === 0) throw bad('KEY_TOO_SHORT', 'The provided key needs to be more than one character');
  if (key.length > MAX_KEY_LENGTH) throw bad('KEY_TOO_LONG', `The provided key has exceeded the maximum ${MAX_KEY_LENGTH} characters`);
  if (!KEY_PATTERN.test(key)) throw bad('INVALID_KEY', 'The provided key does not match the regex: /^(?!\\s+$)[a-zA-Z0-9:._\\s-#]+$/');
}

function depth(value) {
  if (value === null || typeof value !== 'object') return 0;
  let max = 0;
  for (const v of Object.values(value)) max = Math.max(max, depth(v));
  return 1 + max;
}

function checkValue(value) {
  if (value === undefined) throw bad('BAD_REQUEST', 'Provided request body is invalid: value is missing');
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > MAX_VALUE_BYTES) throw bad('MAX_SIZE', `The provided value has exceeded the maximum size limit (${bytes} > ${MAX_VALUE_BYTES} bytes)`);
  if (depth(value) > MAX_DEPTH) throw bad('MAX_DEPTH', `The provided value has exceeded the maximum object depth (${MAX_DEPTH}) limit`);
}

/** Parses `options.ttl` into an absolute expiry (ms) or null. */
function expiryOf(options, now) {
  const ttl = options?.ttl;
  if (ttl === undefined || ttl === null) return null;
  const unit = TTL_UNITS[ttl.unit ?? 'SECONDS'];
  if (!unit || !Number.isInteger(ttl.value) || ttl.value <= 0) {
    throw bad('INVALID_TTL', 'ttl must be { value: positive integer, unit: SECONDS | MINUTES | HOURS | DAYS }');
  }
  const seconds = ttl.value * unit;
  if (seconds > MAX_TTL_SECONDS) throw bad('INVALID_TTL', `ttl exceeds the maximum of ${MAX_TTL_SECONDS} seconds`);
  return now + seconds * 1000;
}

function checkSetOptions(options) {
  if (options === undefined || options === null) return;
  const policy = options.keyPolicy;
  if (policy !== undefined && policy !== 'OVERRIDE' && policy !== 'FAIL_IF_EXISTS') throw bad('BAD_REQUEST', `Unknown keyPolicy ${policy}`);
  if ('returnValue' in options) {
    if (policy !== 'OVERRIDE') throw bad('BAD_REQUEST', 'returnValue requires keyPolicy OVERRIDE');
    if (options.returnValue !== 'PREVIOUS' && options.returnValue !== 'LATEST') throw bad('BAD_REQUEST', 'returnValue must be PREVIOUS or LATEST');
  }
}

const isLive = (rec, now) => rec !== undefined && (rec.expiresAt === null || rec.expiresAt === undefined || rec.expiresAt > now);
const iso = (ms) => (ms === null || ms === undefined ? undefined : new Date(ms).toISOString());

function result(key, value, rec) {
  const out = { key, value, createdAt: rec.createdAt, updatedAt: rec.updatedAt };
  if (rec.expiresAt) out.expireTime = iso(rec.expiresAt);
  return out;
}

/** Key-value operations over one map (plain values or sealed secrets). */
class Space {
  constructor(store, map, sealed) {
    this.store = store;
    this.map = map;
    this.sealed = sealed;
  }
  read(key, rec) {
    return this.sealed ? unseal(this.store.secretsKey, key, rec.sealed) : rec.value;
  }
  live(key, now) {
    const rec = this.map.get(key);
    if (rec === undefined) return undefined;
    if (!isLive(rec, now)) {
      this.map.delete(key);
      this.store.touch();
      return undefined;
    }
    return rec;
  }
  get(key, now) {
    checkKey(key);
    const rec = this.live(key, now);
    if (!rec) throw notFound();
    return result(key, this.read(key, rec), rec);
  }
  /** Validates a set; returns a commit function so transactions can validate everything first. */
  prepareSet(key, value, options, now) {
    checkKey(key);
    checkValue(value);
    checkSetOptions(options);
    const expiresAt = expiryOf(options, now);
    const prev = this.live(key, now);
    if (options?.keyPolicy === 'FAIL_IF_EXISTS' && prev) throw conflict(key);
    return () => {
      const rec = { createdAt: prev ? prev.createdAt : now, updatedAt: now, expiresAt };
      if (this.sealed) rec.sealed = seal(this.store.secretsKey, key, value);
      else rec.value = value;
      this.map.set(key, rec);
      this.store.touch();
      if (options?.returnValue === 'LATEST') return result(key, value, rec);
      if (options?.returnValue === 'PREVIOUS' && prev) return result(key, this.read(key, prev), prev);
      return undefined;
    };
  }
  set(key, value, options, now) {
    return this.prepareSet(key, value, options, now)();
  }
  prepareDelete(key, now) {
    checkKey(key);
    const rec = this.live(key, now);
    return () => {
      if (rec) {
        this.map.delete(key);
        this.store.touch();
      }
      return rec !== undefined;
    };
  }
  delete(key, now) {
    if (!this.prepareDelete(key, now)()) throw notFound();
  }
}

function checkWhere(where) {
  if (where === undefined || where === null) return '';
  if (!Array.isArray(where) || where.length !== 1) throw bad('QUERY_WHERE_INVALID', 'KVS queries should contain only a single "where" clause');
  const [clause] = where;
  if (clause.property !== 'key') throw bad('QUERY_WHERE_FIELD_INVALID', 'The specified field is not supported for filters');
  if (clause.condition !== 'BEGINS_WITH') throw bad('INVALID_FILTER_CONDITION', 'The specified condition is not supported for filters');
  if (!Array.isArray(clause.values) || clause.values.length !== 1) throw bad('INVALID_FILTER_VALUES', 'The specified number of values are not supported by the given condition');
  return String(clause.values[0]);
}

function encodeCursor(key) {
  return Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64url');
}

function decodeCursor(cursor) {
  try {
    const after = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')).after;
    if (typeof after !== 'string') throw new Error('no key');
    return after;
  } catch {
    throw bad('INVALID_CURSOR', 'The provided cursor is invalid');
  }
}

/** KVS paths that write. */
const WRITE_PATHS = new Set([
  '/api/v1/set', '/api/v1/delete', '/api/v1/secret/set', '/api/v1/secret/delete', '/api/v1/batch/set',
  '/api/v1/batch/delete', '/api/v1/transaction', '/api/v1/entity/set', '/api/v1/entity/delete',
]);

/** The KVS service of one installation. */
export class Kvs {
  /**
   * @param {import('./store.mjs').StateStore} store
   * @param {{ faults?: { kvsErrorRate?: number, kvsKillRate?: number, seed?: number }, now?: () => number }} [options]
   */
  constructor(store, { faults = null, now = Date.now } = {}) {
    this.store = store;
    this.now = now;
    this.plain = new Space(store, store.kvs, false);
    this.secret = new Space(store, store.secrets, true);
    this.errorRate = faults?.kvsErrorRate ?? 0;
    this.killRate = faults?.kvsKillRate ?? 0;
    this.rng = mulberry32(faults?.seed ?? 1);
    this.killRng = mulberry32((faults?.seed ?? 1) + 7919);
    /** Injected-fault counts. */
    this.stats = { errors: 0, kills: 0 };
  }

  /**
   * Whether the invocation that just made this storage write should die right after it (the
   * `kvsKillRate` fault): the write is applied, the answer never comes.
   */
  killAfter(path, status) {
    if (!(this.killRate > 0) || status >= 300 || !WRITE_PATHS.has(path)) return false;
    if (this.killRng() >= this.killRate) return false;
    this.stats.kills += 1;
    return true;
  }

  /**
   * Answers one request of the KVS REST API.
   * @param {string} path e.g. `/api/v1/get`
   * @param {any} body parsed JSON request body
   * @returns {{ status: number, body?: any }}
   */
  handle(path, body) {
    if (this.errorRate > 0 && this.rng() < this.errorRate) {
      this.stats.errors += 1;
      return { status: 500, body: { code: 'INTERNAL_SERVER_ERROR', message: 'An internal server error has occurred (injected fault)' } };
    }
    try {
      return this.dispatch(path, body ?? {}, this.now());
    } catch (e) {
      if (e instanceof KvsError) return { status: e.status, body: { code: e.code, message: e.message } };
      return { status: 400, body: { code: 'BAD_REQUEST', message: `Provided request body is invalid: ${e.message}` } };
    }
  }

  dispatch(path, body, now) {
    switch (path) {
      case '/api/v1/get':
        return ok(this.plain.get(body.key, now));
      case '/api/v1/set':
        return okOrEmpty(this.plain.set(body.key, body.value, body.options, now));
      case '/api/v1/delete':
        this.plain.delete(body.key, now);
        return { status: 204 };
      case '/api/v1/secret/get':
        return ok(this.secret.get(body.key, now));
      case '/api/v1/secret/set':
        return okOrEmpty(this.secret.set(body.key, body.value, body.options, now));
      case '/api/v1/secret/delete':
        this.secret.delete(body.key, now);
        return { status: 204 };
      case '/api/v1/query':
        return ok(this.query(body, now));
      case '/api/v1/batch/set':
        return ok(this.batch(body, (item) => this.plain.set(item.key, item.value, item.options, now)));
      case '/api/v1/batch/get':
        return ok(this.batchGet(body, now));
      case '/api/v1/batch/delete':
        return ok(this.batch(body, (item) => this.plain.prepareDelete(item.key, now)()));
      case '/api/v1/transaction':
        this.transact(body, now);
        return { status: 204 };
      case '/api/v1/entity/get':
        return ok(this.entitySpace(body.entityName).get(body.key, now));
      case '/api/v1/entity/set':
        return okOrEmpty(this.entitySpace(body.entityName).set(body.key, body.value, body.options, now));
      case '/api/v1/entity/delete':
        this.entitySpace(body.entityName).delete(body.key, now);
        return { status: 204 };
      default:
        return { status: 501, body: { code: 'NOT_IMPLEMENTED', message: `The Forge emulator does not implement ${path}` } };
    }
  }

  query(body, now) {
    const prefix = checkWhere(body.where);
    const limit = body.limit ?? DEFAULT_QUERY_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) {
      throw bad('LIST_QUERY_LIMIT_EXCEEDED', `Query limit must be between 1 and ${MAX_QUERY_LIMIT}`);
    }
    const after = body.after ? decodeCursor(body.after) : null;
    const keys = [...this.store.kvs.keys()].filter((k) => k.startsWith(prefix) && (after === null || k > after)).sort();
    const data = [];
    let last = null;
    for (const key of keys) {
      const rec = this.plain.live(key, now);
      if (!rec) continue;
      if (data.length === limit) {
        return { data, cursor: encodeCursor(last) };
      }
      const item = { key, value: rec.value };
      if (rec.expiresAt) item.expireTime = iso(rec.expiresAt);
      data.push(item);
      last = key;
    }
    return { data, cursor: undefined };
  }

  batch(items, op) {
    if (!Array.isArray(items)) throw bad('BAD_REQUEST', 'Provided request body is invalid: expected an array');
    if (items.length > MAX_BATCH_ITEMS) throw bad('BATCH_TOO_LARGE', `A batch may hold at most ${MAX_BATCH_ITEMS} items`);
    const successfulKeys = [];
    const failedKeys = [];
    for (const item of items) {
      try {
        op(item);
        successfulKeys.push({ key: item.key });
      } catch (e) {
        if (!(e instanceof KvsError)) throw e;
        failedKeys.push({ key: item.key, error: { code: e.code, message: e.message } });
      }
    }
    return { successfulKeys, failedKeys };
  }

  batchGet(items, now) {
    if (!Array.isArray(items)) throw bad('BAD_REQUEST', 'Provided request body is invalid: expected an array');
    if (items.length > MAX_BATCH_ITEMS) throw bad('BATCH_TOO_LARGE', `A batch may hold at most ${MAX_BATCH_ITEMS} items`);
    const successfulKeys = [];
    const failedKeys = [];
    for (const item of items) {
      try {
        successfulKeys.push(this.plain.get(item.key, now));
      } catch (e) {
        if (!(e instanceof KvsError)) throw e;
        failedKeys.push({ key: item.key, error: { code: e.code, message: e.message } });
      }
    }
    return { successfulKeys, failedKeys };
  }

  transact(body, now) {
    const sets = body.set ?? [];
    const deletes = body.delete ?? [];
    const checks = body.check ?? [];
    const total = sets.length + deletes.length + checks.length;
    if (total === 0) throw bad('BAD_REQUEST', 'A transaction needs at least one operation');
    if (total > MAX_TRANSACTION_OPS) {
      throw bad('TOO_MANY_OPERATIONS', `Each transaction can contain a maximum of ${MAX_TRANSACTION_OPS} operations (got ${total})`);
    }
    if (Buffer.byteLength(JSON.stringify(body)) > 4 * 1024 * 1024) throw bad('MAX_SIZE', 'Each transaction is limited to a payload size of 4MB');
    const seen = new Set();
    for (const op of [...sets, ...deletes, ...checks]) {
      const id = `${op.entityName ?? ''}\u0000${op.key}`;
      if (seen.has(id)) throw bad('DUPLICATE_KEY', `Each key can only be used once in a transaction: ${op.key}`);
      seen.add(id);
    }
    if (checks.length || [...sets, ...deletes].some((op) => op.entityName || op.conditions)) {
      throw new KvsError(501, 'NOT_IMPLEMENTED', 'The Forge emulator does not implement entity conditions in transactions');
    }
    // Validate everything first, then commit: all operations or none.
    const commits = [...sets.map((op) => this.plain.prepareSet(op.key, op.value, op.options, now)), ...deletes.map((op) => this.plain.prepareDelete(op.key, now))];
    for (const commit of commits) commit();
  }

  entitySpace(entityName) {
    if (typeof entityName !== 'string' || !/^(?![.-])(?!.*\.{2})[a-z0-9:\-.]{3,60}(?<!\.)$/.test(entityName)) {
      throw bad('INVALID_ENTITY_TYPE', 'The provided entity name is invalid');
    }
    const map = new Map();
    const prefix = `${entityName}\u0000`;
    for (const [k, v] of this.store.entities) if (k.startsWith(prefix)) map.set(k.slice(prefix.length), v);
    const space = new Space(this.store, map, false);
    const entities = this.store.entities;
    // Write through to the store map after every change.
    const sync = () => {
      for (const k of [...entities.keys()]) if (k.startsWith(prefix) && !map.has(k.slice(prefix.length))) entities.delete(k);
      for (const [k, v] of map) entities.set(prefix + k, v);
    };
    const wrap = (fn) => (...args) => {
      try {
        return fn(...args);
      } finally {
        sync();
      }
    };
    return { get: wrap(space.get.bind(space)), set: wrap(space.set.bind(space)), delete: wrap(space.delete.bind(space)) };
  }

  /** Live entries and secret names, for inspection (`platform.kvsDump()`, dump.mjs). */
  dump() {
    return dumpState(this.store, this.now());
  }
}

/** `{ entries: [{ key, value, expiresAt }], secrets: [names] }` of a store, expired items left out. */
export function dumpState(store, now) {
  const live = (rec) => isLive(rec, now);
  const entries = [...store.kvs.entries()]
    .filter(([, rec]) => live(rec))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, rec]) => ({ key, value: rec.value, expiresAt: rec.expiresAt ? iso(rec.expiresAt) : null }));
  const secrets = [...store.secrets.entries()].filter(([, rec]) => live(rec)).map(([name]) => name).sort();
  return { entries, secrets };
}

const ok = (body) => ({ status: 200, body });
const okOrEmpty = (body) => (body === undefined ? { status: 204 } : { status: 200, body });

/** Small deterministic PRNG for fault injection. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
