// Delivery of Forge product events from the Jira simulator to the platform (the emulator's
// `/__platform/product-events`). Fire-and-forget: an API answer never waits for delivery. Events
// are posted one at a time in the order they happened; a failed POST is retried a few times with
// backoff, then dropped (and counted), like Jira's own best-effort delivery.

/**
 * @param {{ sink?: string|null, retries?: number, backoffMs?: number }} o
 */
export function createEventDelivery(o) {
  let sink = o.sink ?? null;
  const retries = o.retries ?? 3;
  const backoffMs = o.backoffMs ?? 100;
  const emitted = [];
  const stats = { delivered: 0, failed: 0 };
  let chain = Promise.resolve();
  let closed = false;
  const controller = new AbortController();

  const post = async (ev) => {
    for (let attempt = 0; attempt <= retries && !closed; attempt++) {
      try {
        const res = await fetch(sink, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(ev),
          signal: AbortSignal.any([controller.signal, AbortSignal.timeout(5000)]),
        });
        await res.arrayBuffer().catch(() => {});
        if (res.ok) { stats.delivered++; return; }
      } catch {
        if (closed) return;
      }
      if (attempt < retries) await new Promise((r) => setTimeout(r, backoffMs * 2 ** attempt));
    }
    stats.failed++;
  };

  return {
    /** Every event emitted so far (delivered or not), oldest first. */
    emitted,
    stats,
    get sink() { return sink; },
    set sink(url) { sink = url; },
    /** Queue an event for delivery; returns immediately. */
    emit(ev) {
      emitted.push(ev);
      if (!sink || closed) return;
      chain = chain.then(() => post(ev));
    },
    /** Resolves when every queued event has been delivered or given up. */
    flush() { return chain; },
    /** Stop delivering; in-flight posts are aborted. */
    close() { closed = true; controller.abort(); return chain.catch(() => {}); },
  };
}
