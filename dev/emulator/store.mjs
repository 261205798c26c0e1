// Persistent state of one emulated installation: KVS entries, secrets (encrypted at rest),
// custom-entity records, web trigger ids and pending queue events.
//
// Everything lives in memory and is mirrored to `<dataDir>/state.json`; writes are coalesced
// (at most every `flushDelayMs`) and atomic (write a temp file, fsync, rename). Secrets are
// sealed with AES-256-GCM under a random key kept in `<dataDir>/secrets.key` (mode 0600), so
// state.json never holds a secret value in clear. `dataDir: null` keeps everything in memory.

import { randomBytes, createCipheriv, createDecipheriv } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, renameSync, existsSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';

const STATE_FILE = 'state.json';
const KEY_FILE = 'secrets.key';

/** Reads the secrets key of a data dir, creating it when `create` is true. */
export function loadSecretsKey(dataDir, create) {
  if (!dataDir) return randomBytes(32);
  const file = join(dataDir, KEY_FILE);
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`emulator: ${file} does not hold a 256-bit key`);
    return key;
  }
  if (!create) return null;
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600 });
  return key;
}

/** Encrypts a JSON value with AES-256-GCM; the key name is bound as associated data. */
export function seal(key, name, value) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
}

/** Decrypts what `seal` produced; throws when the data or the key was tampered with. */
export function unseal(key, name, sealed) {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(Buffer.from(name, 'utf8'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  const pt = Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]);
  return JSON.parse(pt.toString('utf8'));
}

/** Reads `<dataDir>/state.json` (or returns an empty state). */
export function readState(dataDir) {
  const empty = { version: 1, kvs: {}, secrets: {}, entities: {}, webTriggers: {}, queue: [] };
  if (!dataDir) return empty;
  const file = join(dataDir, STATE_FILE);
  if (!existsSync(file)) return empty;
  return { ...empty, ...JSON.parse(readFileSync(file, 'utf8')) };
}

/** The state of one installation, persisted to a data dir. */
export class StateStore {
  /**
   * @param {string|null} dataDir folder for state.json and secrets.key (created), null = memory only
   * @param {{ flushDelayMs?: number }} [options]
   */
  constructor(dataDir, { flushDelayMs = 20 } = {}) {
    this.dataDir = dataDir;
    this.flushDelayMs = flushDelayMs;
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    this.secretsKey = loadSecretsKey(dataDir, true);
    const s = readState(dataDir);
    /** @type {Map<string, {value:any, createdAt:number, updatedAt:number, expiresAt:number|null}>} */
    this.kvs = new Map(Object.entries(s.kvs));
    /** @type {Map<string, {sealed:object, createdAt:number, updatedAt:number, expiresAt:number|null}>} */
    this.secrets = new Map(Object.entries(s.secrets));
    /** @type {Map<string, object>} entity records keyed by `${entityName}\u0000${key}` */
    this.entities = new Map(Object.entries(s.entities));
    /** @type {Record<string, string[]>} web trigger module key → ids (first is the current URL) */
    this.webTriggers = s.webTriggers;
    /** @type {object[]} pending queue events */
    this.queue = s.queue;
    this.timer = null;
    this.dirty = false;
    this.closed = false;
  }

  /** Marks the state changed; a flush follows within `flushDelayMs`. */
  touch() {
    if (!this.dataDir || this.closed) return;
    this.dirty = true;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.flushDelayMs);
      this.timer.unref?.();
    }
  }

  /** Flushes and stops writing: a later emulator on the same data dir owns the files from now on. */
  close() {
    this.flush();
    this.closed = true;
  }

  /** Writes the state now (atomically) if anything changed. */
  flush() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.dataDir || !this.dirty || this.closed) return;
    this.dirty = false;
    const data = JSON.stringify({
      version: 1,
      kvs: Object.fromEntries(this.kvs),
      secrets: Object.fromEntries(this.secrets),
      entities: Object.fromEntries(this.entities),
      webTriggers: this.webTriggers,
      queue: this.queue,
    });
    const file = join(this.dataDir, STATE_FILE);
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  }
}
