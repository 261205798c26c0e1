// Seeded fault injection for the CATAAM simulator. Off by default. Every API request consumes
// exactly three draws from the request stream and every push event two draws from the push stream,
// whatever the configuration, so the same seed and the same request order give the same faults.

import { makeRng } from './generator.mjs';

/** Normalised fault settings (all rates 0 → no faults). */
export function normaliseFaults(f) {
  const faults = f ?? {};
  const rate = (name) => {
    const v = faults[name] ?? 0;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new TypeError(`faults.${name} must be a number in [0, 1]`);
    return v;
  };
  const out = {
    seed: faults.seed ?? 1,
    latencyMs: faults.latencyMs ?? 0,
    error5xxRate: rate('error5xxRate'),
    rate429Rate: rate('rate429Rate'),
    timeoutRate: rate('timeoutRate'),
    dropRate: rate('dropRate'),
    duplicatePushRate: rate('duplicatePushRate'),
    reorderPushRate: rate('reorderPushRate'),
    retryAfterSeconds: faults.retryAfterSeconds ?? 1,
    hangMs: faults.hangMs ?? 30_000,
    reorderDelayMs: faults.reorderDelayMs ?? 250,
  };
  const l = out.latencyMs;
  const okLatency = (typeof l === 'number' && l >= 0)
    || (Array.isArray(l) && l.length === 2 && l.every((x) => typeof x === 'number' && x >= 0) && l[0] <= l[1]);
  if (!okLatency) throw new TypeError('faults.latencyMs must be a number or [min, max]');
  if (out.error5xxRate + out.rate429Rate + out.timeoutRate + out.dropRate > 1) {
    throw new TypeError('faults: error5xxRate + rate429Rate + timeoutRate + dropRate must be ≤ 1');
  }
  return out;
}

/** The fault plan: `api()` decides one API request's fate, `push()` one push event's. */
export function makeFaults(f) {
  const cfg = normaliseFaults(f);
  const apiRng = makeRng(`faults-api:${cfg.seed}`);
  const pushRng = makeRng(`faults-push:${cfg.seed}`);
  return {
    config: cfg,
    /** → `{ latencyMs, kind: null | 'timeout' | 'drop' | '429' | '5xx', status }` */
    api() {
      const a = apiRng(), b = apiRng(), c = apiRng();
      const l = cfg.latencyMs;
      const latencyMs = Array.isArray(l) ? Math.round(l[0] + a * (l[1] - l[0])) : Math.round(a * l);
      let kind = null;
      let edge = cfg.timeoutRate;
      if (b < edge) kind = 'timeout';
      else if (b < (edge += cfg.dropRate)) kind = 'drop';
      else if (b < (edge += cfg.rate429Rate)) kind = '429';
      else if (b < (edge += cfg.error5xxRate)) kind = '5xx';
      const status = kind === '5xx' ? [500, 502, 503][Math.floor(c * 3)] : kind === '429' ? 429 : null;
      return { latencyMs, kind, status };
    },
    /** → `{ duplicate: bool, reorder: bool }` */
    push() {
      const a = pushRng(), b = pushRng();
      return { duplicate: a < cfg.duplicatePushRate, reorder: b < cfg.reorderPushRate };
    },
  };
}
