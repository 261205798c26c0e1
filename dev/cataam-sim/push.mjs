// Push delivery (CATAAM → the registered Forge web trigger), per docs/cataam-api.yaml "Push":
// signed events (ids only), at-least-once with bounded exponential backoff, an append-only delivery
// log, and the seeded duplicate/reorder faults.

import { createHmac, randomBytes } from 'node:crypto';
import { ulid } from './generator.mjs';

/** `X-Cataam-Signature` value for `body` signed with `secret` at unix time `t` (seconds). */
export function signPush(secret, t, body) {
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/** A fresh event id `evt_<ULID>`. */
export function newEventId(nowMs = Date.now()) {
  const bytes = randomBytes(16);
  let i = 0;
  return `evt_${ulid(nowMs, () => bytes[i++ % 16] / 256)}`;
}

/**
 * Delivers events. `getTarget()` → `{ url, secret }` read at every attempt; `faults()` → the current
 * fault plan; `options`: `{ maxAttempts, baseDelayMs, maxDelayMs, timeoutMs }`; `onLog(entry)` is
 * called for every delivery-log entry.
 */
export class Pusher {
  constructor({ getTarget, faults, options, onLog }) {
    this.getTarget = getTarget;
    this.faults = faults;
    this.options = {
      maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 60_000, timeoutMs: 10_000, ...options,
    };
    this.onLog = onLog ?? (() => {});
    /** Delivery log, oldest first. */
    this.log = [];
    this.timers = new Set();
    this.inflight = new Set();
    this.closed = false;
    this.abort = new AbortController();
  }

  record(entry) {
    const e = { at: new Date().toISOString(), ...entry };
    this.log.push(e); // append-only: callers may remember indexes
    this.onLog(e);
    return e;
  }

  /** Emits a new event of `type` about `findingIds`; returns the event. */
  emit(type, findingIds) {
    const event = { id: newEventId(), type, createdAt: new Date().toISOString(), findingIds: [...findingIds] };
    const { url, secret } = this.getTarget();
    const base = { eventId: event.id, type, findingIds: event.findingIds, attempt: 0, httpStatus: null };
    if (!url) {
      this.record({ ...base, status: 'skipped', reason: 'No Forge Webtrigger URL registered — click "Re-register Webhook with CATAAM" in the Jira app settings.' });
      return event;
    }
    if (!secret) {
      this.record({ ...base, status: 'skipped', reason: 'Shared Secret not set — paste the secret generated in the Jira app into Settings → Integrations → Jira (Forge App).' });
      return event;
    }
    const plan = this.faults().push();
    const delay = plan.reorder ? this.faults().config.reorderDelayMs : 0;
    this.schedule(event, 1, delay, plan.reorder ? 'reordered' : null);
    if (plan.duplicate) this.schedule(event, 1, delay + 5, 'duplicate');
    return event;
  }

  schedule(event, attempt, delayMs, fault) {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const p = this.attempt(event, attempt, fault).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }, delayMs);
    this.timers.add(timer);
  }

  async attempt(event, attempt, fault) {
    const { url, secret } = this.getTarget();
    const base = { eventId: event.id, type: event.type, findingIds: event.findingIds, attempt, fault };
    if (!url || !secret) {
      this.record({ ...base, httpStatus: null, status: 'skipped', reason: !url ? 'Webhook URL removed before delivery.' : 'Shared Secret removed before delivery.' });
      return;
    }
    const body = JSON.stringify(event);
    const t = Math.floor(Date.now() / 1000);
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs)]);
    let httpStatus = null;
    let reason;
    let retryAfterMs = 0;
    const started = Date.now();
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'CATAAM-Webhooks/1.0',
          'x-cataam-event-id': event.id,
          'x-cataam-signature': signPush(secret, t, body),
        },
        body,
        signal,
        redirect: 'manual',
      });
      httpStatus = res.status;
      const text = (await res.text()).slice(0, 300);
      if (res.ok) {
        this.record({ ...base, httpStatus, status: 'delivered', reason: text ? `HTTP ${res.status}: ${text}` : `HTTP ${res.status}`, durationMs: Date.now() - started });
        return;
      }
      reason = `HTTP ${res.status}${text ? `: ${text}` : ''}`;
      const ra = Number(res.headers.get('retry-after'));
      if (Number.isFinite(ra) && ra > 0) retryAfterMs = ra * 1000;
    } catch (err) {
      if (this.closed) return;
      reason = err?.name === 'TimeoutError'
        ? `timeout after ${this.options.timeoutMs} ms`
        : `network error: ${err?.cause?.code ?? err?.cause?.message ?? err?.code ?? err?.message ?? String(err)}`;
    }
    if (attempt >= this.options.maxAttempts) {
      this.record({ ...base, httpStatus, status: 'failed', reason: `${reason} — gave up after ${attempt} attempts`, durationMs: Date.now() - started });
      return;
    }
    const backoff = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempt - 1));
    const delay = Math.min(this.options.maxDelayMs, Math.max(backoff, retryAfterMs));
    this.record({ ...base, httpStatus, status: 'retrying', reason, nextAttemptInMs: delay, durationMs: Date.now() - started });
    this.schedule(event, attempt + 1, delay, fault);
  }

  /** `true` while a delivery is scheduled or in flight. */
  busy() {
    return this.timers.size > 0 || this.inflight.size > 0;
  }

  /** Stops all scheduled deliveries and aborts the ones in flight. */
  async close() {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.abort.abort();
    await Promise.allSettled([...this.inflight]);
  }
}
