// Reads a Forge app's manifest.yml into what the emulator needs: functions (handler file and
// export), modules by kind, resources, and the egress allowlist.

import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';

/** Interval of each `scheduledTrigger.interval`, in seconds. */
export const INTERVAL_SECONDS = { fiveMinute: 300, hour: 3600, day: 86400, week: 604800 };

/**
 * Loads `<appDir>/manifest.yml`.
 * @param {string} appDir
 * @returns {{ appId: string, functions: Map<string, {key:string, file:string, exportName:string, timeoutSeconds:number|null}>,
 *   modules: Record<string, any[]>, resources: Map<string, string>, egress: string[], raw: any }}
 */
export function loadManifest(appDir) {
  const file = join(appDir, 'manifest.yml');
  const raw = YAML.parse(readFileSync(file, 'utf8'));
  if (!raw || typeof raw !== 'object') throw new Error(`emulator: ${file} is empty`);
  const app = raw.app ?? {};
  const packagePath = app.package?.path;
  const codeDir = resolve(appDir, packagePath ?? 'src');
  const modules = raw.modules ?? {};
  const functions = new Map();
  for (const fn of modules.function ?? []) {
    const m = /^(.+)\.([A-Za-z_$][\w$]*)$/.exec(fn.handler ?? '');
    if (!fn.key || !m) throw new Error(`emulator: function ${JSON.stringify(fn)} needs key and handler 'file.export'`);
    let handlerFile = join(codeDir, m[1]);
    for (const ext of ['.js', '.cjs']) {
      if (existsSync(handlerFile + ext)) {
        handlerFile += ext;
        break;
      }
    }
    functions.set(fn.key, { key: fn.key, file: handlerFile, exportName: m[2], timeoutSeconds: fn.timeoutSeconds ?? null });
  }
  const byKind = {};
  for (const [kind, list] of Object.entries(modules)) {
    if (kind === 'function' || !Array.isArray(list)) continue;
    byKind[kind] = list;
  }
  const resources = new Map((raw.resources ?? []).map((r) => [r.key, resolve(appDir, r.path)]));
  const backend = raw.permissions?.external?.fetch?.backend ?? [];
  const egress = backend.map((e) => (typeof e === 'string' ? e : e?.address)).filter(Boolean);
  return { appId: app.id ?? 'ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000', functions, modules: byKind, resources, egress, raw };
}
