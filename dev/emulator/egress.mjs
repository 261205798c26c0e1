// The egress allowlist of the Forge runtime: which hosts the app's global `fetch` may reach.
//
// Entries come from `permissions.external.fetch.backend` (`https://host`, `host`, `*.domain`,
// `https://*.domain`, optionally with a port). A URL is allowed when its host matches an entry
// exactly, or is a subdomain of a `*.` entry; when the entry names a scheme/port these must match
// too. `egressAliases` then maps an allowed host to a local origin (dev-only DNS).

/**
 * Compiles allowlist entries into a predicate over URLs.
 * @param {string[]} entries
 * @returns {(url: URL) => boolean}
 */
export function compileAllowlist(entries) {
  const rules = entries.map((entry) => {
    const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(\*\.)?([^/:]+)(?::(\d+))?\/?$/i.exec(entry.trim());
    if (!m) throw new Error(`emulator: cannot read egress entry ${JSON.stringify(entry)}`);
    const [, scheme, wildcard, host, port] = m;
    return { scheme: scheme?.toLowerCase() ?? null, wildcard: Boolean(wildcard), host: host.toLowerCase(), port: port ?? null };
  });
  return (url) => {
    const host = url.hostname.toLowerCase();
    const scheme = url.protocol.slice(0, -1);
    return rules.some((r) => {
      const hostOk = r.wildcard ? host.endsWith(`.${r.host}`) : host === r.host;
      if (!hostOk) return false;
      if (r.scheme && r.scheme !== scheme) return false;
      if (r.port && r.port !== (url.port || (scheme === 'https' ? '443' : '80'))) return false;
      return true;
    });
  };
}

/**
 * Rewrites a URL whose host has an alias to the alias origin (keeping path and query).
 * @param {URL} url
 * @param {Record<string, string>} aliases host → base URL such as `http://127.0.0.1:4100`
 * @returns {URL} the URL to really fetch
 */
export function applyAlias(url, aliases) {
  const base = aliases?.[url.hostname.toLowerCase()] ?? aliases?.[url.host.toLowerCase()];
  if (!base) return url;
  const target = new URL(base);
  const prefix = target.pathname.replace(/\/$/, '');
  return new URL(`${target.origin}${prefix}${url.pathname}${url.search}`);
}
