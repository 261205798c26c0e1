// The admin page as Jira would frame it: a minimal Jira-like shell with the app's Custom UI
// resource in an iframe, and the `window.__bridge` that @forge/bridge talks to.

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/** The Jira-like page around the Custom UI iframe. */
export function frameHtml({ title, accountId, moduleKey, appTitle }) {
  const src = `/admin/app/${encodeURIComponent(accountId)}/${encodeURIComponent(moduleKey)}/index.html`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(appTitle)} - Jira administration</title>
<style>
  body { margin: 0; font: 14px/1.4 -apple-system, "Segoe UI", Roboto, sans-serif; color: #172b4d; }
  header { height: 48px; background: #0052cc; color: #fff; display: flex; align-items: center; padding: 0 16px; gap: 16px; }
  header b { font-size: 16px; } header span { opacity: .8; }
  main { display: flex; height: calc(100vh - 48px); }
  nav { width: 220px; background: #f4f5f7; padding: 16px; box-sizing: border-box; }
  nav a { display: block; padding: 6px 8px; border-radius: 3px; color: #42526e; text-decoration: none; }
  nav a.active { background: #e9f2ff; color: #0c66e4; }
  iframe { flex: 1; border: 0; height: 100%; }
</style></head>
<body>
<header><b>Jira</b><span>Settings &rsaquo; Apps</span><span style="margin-left:auto" data-testid="principal">${esc(accountId)}</span></header>
<main>
  <nav><div style="font-weight:600;margin-bottom:8px">Apps</div><a class="active" href="">${esc(title)}</a></nav>
  <iframe id="forge-app" data-testid="forge-app" title="${esc(title)}" src="${esc(src)}"></iframe>
</main>
</body></html>`;
}

/** The `<script>` injected at the top of the Custom UI page's HTML. */
export function bridgeScript({ accountId, moduleKey, context, nonce }) {
  const cfg = JSON.stringify({ accountId, moduleKey, context }).replace(/</g, '\\u003c');
  return `<script${nonce ? ` nonce="${nonce}"` : ''}>
(function () {
  var cfg = ${cfg};
  var flags = 0;
  function showFlag(o) {
    var id = 'forge-flag-' + (++flags);
    var d = document.createElement('div');
    d.id = id; d.setAttribute('role', 'alert'); d.setAttribute('data-testid', 'forge-flag');
    d.style.cssText = 'position:fixed;right:16px;bottom:' + (16 + 64 * (flags - 1)) + 'px;background:#fff;border:1px solid #ccc;box-shadow:0 2px 6px rgba(0,0,0,.2);padding:8px 12px;z-index:9999';
    d.textContent = (o && o.title ? o.title : '') + (o && o.description ? ' - ' + o.description : '');
    document.body.appendChild(d);
    return { id: id };
  }
  window.__bridge = {
    callBridge: function (name, args) {
      switch (name) {
        case 'invoke':
          return fetch('/__bridge/' + encodeURIComponent(cfg.accountId) + '/invoke?module=' + encodeURIComponent(cfg.moduleKey), {
            method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ functionKey: args.functionKey, payload: args.payload })
          }).then(function (r) {
            return r.json().then(function (j) {
              if (!r.ok) throw new Error((j && j.error && j.error.message) || ('invoke failed with HTTP ' + r.status));
              return j.result;
            });
          });
        case 'getContext':
          return Promise.resolve(JSON.parse(JSON.stringify(cfg.context)));
        case 'enableTheming': case 'emitReadyEvent': case 'closeFlag':
          return Promise.resolve();
        case 'showFlag':
          return Promise.resolve(showFlag(args));
        case 'changeWindowTitle':
          document.title = String(args && args.title || args || ''); return Promise.resolve();
        default:
          return Promise.reject(new Error('The Forge emulator bridge does not implement ' + name));
      }
    }
  };
})();
</script>`;
}

/**
 * The Content-Security-Policy Forge serves Custom UI with: same-origin scripts only (no inline
 * scripts, no eval, no wasm), no inline styles, unless `permissions.content` relaxes them.
 * The emulator's own bridge script is admitted by nonce.
 */
export function customUiCsp(permissions, nonce) {
  const scripts = permissions?.content?.scripts ?? [];
  const styles = permissions?.content?.styles ?? [];
  const scriptSrc = ["'self'"];
  if (scripts.includes('unsafe-inline')) scriptSrc.push("'unsafe-inline'");
  else scriptSrc.push(`'nonce-${nonce}'`);
  if (scripts.includes('unsafe-hashes')) scriptSrc.push("'unsafe-hashes'");
  const styleSrc = ["'self'"];
  if (styles.includes('unsafe-inline')) styleSrc.push("'unsafe-inline'");
  return [
    "default-src 'self'",
    `script-src ${scriptSrc.join(' ')}`,
    `style-src ${styleSrc.join(' ')}`,
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}

/** Inserts the bridge script before any other script of an HTML document. */
export function injectBridge(html, script) {
  const head = /<head[^>]*>/i.exec(html);
  if (head) return html.slice(0, head.index + head[0].length) + script + html.slice(head.index + head[0].length);
  return script + html;
}

/** Content types of the files a Custom UI build ships. */
export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
