// Seeded chaos on the wires between the parts of the local platform, for the soak.
//
// `startChaosProxy` puts a real HTTP proxy in front of an upstream (the Jira simulator's REST API
// as the emulator reaches it, or CATAAM's API as the app's egress reaches it) and, on seeded
// draws, lets a *write* reach the upstream and then
//  - `kill`:  never answers, so the invocation that sent it runs into its deadline and the
//             emulator terminates its container — the invocation dies between this write and the
//             next one (e.g. after a Jira create, before the KVS link is written);
//  - `lost`:  resets the connection, so the write happened but the app never learns it did.
// `startEventChaos` sits in front of an event sink (the web trigger for CATAAM pushes, the
// emulator's product-event endpoint for Jira events) and drops, duplicates or delays (reorders)
// deliveries. Every decision is counted in `stats` so the soak can report the real fault rate.
import { createServer } from 'node:http';

/** mulberry32 over a string seed: deterministic floats in [0, 1). */
export function rng(seed) {
  let h = 1779033703 ^ String(seed).length;
  for (const ch of String(seed)) {
    h = Math.imul(h ^ ch.charCodeAt(0), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

function readAll(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

function closer(server, sockets, timers) {
  return () => {
    for (const t of timers) clearTimeout(t);
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(() => r()));
  };
}

/**
 * A fault-injecting forward proxy.
 * @param {{ upstream: string | (() => string), seed: string|number, killRate?: number, lostRate?: number,
 *           isWrite?: (method: string, path: string) => boolean }} o
 */
export async function startChaosProxy(o) {
  const draw = rng(`chaos-proxy:${o.seed}`);
  const isWrite = o.isWrite ?? ((m) => m !== 'GET' && m !== 'HEAD');
  const stats = { requests: 0, writes: 0, kill: 0, lost: 0 };
  let enabled = false;
  const sockets = new Set();
  const timers = new Set();
  const server = createServer(async (req, res) => {
    const body = await readAll(req);
    stats.requests += 1;
    const write = isWrite(req.method, req.url);
    let fate = null;
    if (write) {
      stats.writes += 1;
      const r = draw();
      if (enabled && r < (o.killRate ?? 0)) fate = 'kill';
      else if (enabled && r < (o.killRate ?? 0) + (o.lostRate ?? 0)) fate = 'lost';
    }
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
    let upstream;
    try {
      const base = typeof o.upstream === 'function' ? o.upstream() : o.upstream;
      upstream = await fetch(base.replace(/\/$/, '') + req.url, {
        method: req.method, headers, body: body.length ? body : undefined, redirect: 'manual',
      });
    } catch {
      req.socket.destroy();
      return;
    }
    const data = Buffer.from(await upstream.arrayBuffer());
    if (fate === 'kill') {
      stats.kill += 1;
      return; // hold the connection until the invocation's container is terminated
    }
    if (fate === 'lost') {
      stats.lost += 1;
      req.socket.destroy();
      return;
    }
    const out = {};
    upstream.headers.forEach((v, k) => {
      if (!HOP.has(k) && k !== 'content-encoding') out[k] = v;
    });
    out['content-length'] = data.length;
    res.writeHead(upstream.status, out);
    res.end(data);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const url = await listen(server);
  return {
    url,
    stats,
    /** Faults are injected only while enabled (setup and the final check run clean). */
    setEnabled(v) {
      enabled = Boolean(v);
    },
    close: closer(server, sockets, timers),
  };
}

/**
 * Chaos in front of an event sink: each POST is dropped (answered 202 but never delivered),
 * duplicated, or delayed by `delayMs` (so later deliveries overtake it), on seeded draws.
 * `target()` gives the real sink URL for a request path (read at each delivery).
 * @param {{ target: (path: string) => string, seed: string|number, dropRate?: number,
 *           duplicateRate?: number, reorderRate?: number, delayMs?: number }} o
 */
export async function startEventChaos(o) {
  const draw = rng(`event-chaos:${o.seed}`);
  const stats = { events: 0, dropped: 0, duplicated: 0, reordered: 0, forwarded: 0, failed: 0 };
  let enabled = false;
  const sockets = new Set();
  const timers = new Set();
  const inflight = new Set();
  const forward = async (path, headers, body) => {
    try {
      const r = await fetch(o.target(path), { method: 'POST', headers, body });
      const data = Buffer.from(await r.arrayBuffer());
      stats.forwarded += 1;
      return { status: r.status, type: r.headers.get('content-type'), data };
    } catch {
      stats.failed += 1;
      return null;
    }
  };
  const track = (p) => {
    inflight.add(p);
    p.finally(() => inflight.delete(p));
    return p;
  };
  const server = createServer(async (req, res) => {
    const body = await readAll(req);
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
    stats.events += 1;
    const a = draw();
    const b = draw();
    const dropRate = enabled ? (o.dropRate ?? 0) : 0;
    const dupRate = enabled ? (o.duplicateRate ?? 0) : 0;
    const reorderRate = enabled ? (o.reorderRate ?? 0) : 0;
    if (a < dropRate) {
      stats.dropped += 1;
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"accepted":1}');
      return;
    }
    if (a < dropRate + reorderRate) {
      stats.reordered += 1;
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"accepted":1}');
      const t = setTimeout(() => {
        timers.delete(t);
        track(forward(req.url, headers, body));
      }, o.delayMs ?? 400);
      timers.add(t);
      return;
    }
    const r = await track(forward(req.url, headers, body));
    if (b < dupRate) {
      stats.duplicated += 1;
      track(forward(req.url, headers, body));
    }
    if (!r) {
      req.socket.destroy();
      return;
    }
    res.writeHead(r.status, r.type ? { 'content-type': r.type } : {});
    res.end(r.data);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const url = await listen(server);
  return {
    url,
    stats,
    setEnabled(v) {
      enabled = Boolean(v);
    },
    /** Resolves when no delayed or in-flight delivery is left. */
    async idle() {
      while (timers.size || inflight.size) await new Promise((r) => setTimeout(r, 10));
    },
    close: closer(server, sockets, timers),
  };
}
