// Rate limiting and fault injection of the Jira simulator.
//
// Rate limits mimic Jira Cloud: a token bucket per (actor, endpoint) for bursts and a sliding window
// of at most N writes per issue (default 20 per 2 s). A refused request gets 429 with
// `Retry-After` (seconds), `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`
// (ISO 8601) and `RateLimit-Reason` (`jira-burst-based` | `jira-per-issue-on-write`).
// Faults are drawn from a seeded PRNG so a failing run can be replayed.

/** Default limits used when `rateLimits: true`. */
export const DEFAULT_RATE_LIMITS = {
  burst: { capacity: 100, refillPerSecond: 50 },
  endpoints: {},
  perIssueWrite: { limit: 20, windowMs: 2000 },
};

/** mulberry32: a small deterministic PRNG returning floats in [0, 1). */
export function seededRandom(seed) {
  let a = (Number(seed) >>> 0) || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Build a rate limiter from the `rateLimits` option (`true`, `false` or a partial config).
 * `check({ actor, endpoint, issueId, write, now })` returns null (allowed) or
 * `{ retryAfterMs, limit, remaining, resetAt, reason }`.
 */
export function createRateLimiter(option) {
  if (!option) return { enabled: false, check: () => null };
  const cfg = option === true ? DEFAULT_RATE_LIMITS : {
    burst: { ...DEFAULT_RATE_LIMITS.burst, ...option.burst },
    endpoints: { ...option.endpoints },
    perIssueWrite: option.perIssueWrite === false ? null : { ...DEFAULT_RATE_LIMITS.perIssueWrite, ...option.perIssueWrite },
  };
  const buckets = new Map();
  const issueWrites = new Map();
  return {
    enabled: true,
    config: cfg,
    check({ actor, endpoint, issueId, write, now }) {
      const bcfg = cfg.endpoints[endpoint] ?? cfg.burst;
      const bkey = `${actor}|${endpoint}`;
      let b = buckets.get(bkey);
      if (!b) { b = { tokens: bcfg.capacity, at: now }; buckets.set(bkey, b); }
      b.tokens = Math.min(bcfg.capacity, b.tokens + ((now - b.at) / 1000) * bcfg.refillPerSecond);
      b.at = now;
      if (b.tokens < 1) {
        const retryAfterMs = Math.ceil(((1 - b.tokens) / bcfg.refillPerSecond) * 1000);
        return { retryAfterMs, limit: bcfg.capacity, remaining: 0, resetAt: now + retryAfterMs, reason: 'jira-burst-based' };
      }
      if (write && issueId && cfg.perIssueWrite) {
        const { limit, windowMs } = cfg.perIssueWrite;
        const list = (issueWrites.get(issueId) ?? []).filter((t) => t > now - windowMs);
        issueWrites.set(issueId, list);
        if (list.length >= limit) {
          const retryAfterMs = list[0] + windowMs - now;
          return { retryAfterMs, limit, remaining: 0, resetAt: list[0] + windowMs, reason: 'jira-per-issue-on-write' };
        }
        list.push(now);
      }
      b.tokens -= 1;
      return null;
    },
    /** Headers reporting the remaining budget of an allowed request. */
    headers(actor, endpoint) {
      const bcfg = cfg.endpoints[endpoint] ?? cfg.burst;
      const b = buckets.get(`${actor}|${endpoint}`);
      return { 'X-RateLimit-Limit': String(bcfg.capacity), 'X-RateLimit-Remaining': String(Math.max(0, Math.floor(b?.tokens ?? bcfg.capacity))) };
    },
  };
}

/**
 * Build a fault injector from the `faults` option:
 * `{ seed, latencyMs | [min, max], error5xxRate, rate429Rate, burst429Length, timeoutRate,
 *    timeoutMs, dropRate }`. `next()` returns the fault plan of one request:
 * `{ latencyMs, kind: null | '5xx' | '429' | 'timeout' | 'drop' }`.
 */
export function createFaults(option) {
  const f = option ?? {};
  const rnd = seededRandom(f.seed ?? 1);
  let burstLeft = 0;
  const latency = () => {
    const l = f.latencyMs ?? 0;
    if (Array.isArray(l)) return Math.round(l[0] + rnd() * (l[1] - l[0]));
    return l;
  };
  return {
    active: Boolean(option) && Boolean(f.latencyMs || f.error5xxRate || f.rate429Rate || f.timeoutRate || f.dropRate),
    timeoutMs: f.timeoutMs ?? 30000,
    next() {
      const latencyMs = latency();
      if (burstLeft > 0) { burstLeft--; return { latencyMs, kind: '429' }; }
      const r = rnd();
      let acc = 0;
      for (const [rate, kind] of [[f.dropRate, 'drop'], [f.timeoutRate, 'timeout'], [f.error5xxRate, '5xx'], [f.rate429Rate, '429']]) {
        acc += rate ?? 0;
        if (r < acc) {
          if (kind === '429') burstLeft = Math.max(0, (f.burst429Length ?? 3) - 1);
          return { latencyMs, kind };
        }
      }
      return { latencyMs, kind: null };
    },
  };
}
