// The CATAAM console of the simulator: plain server-rendered HTML pages with HTML forms
// (post → redirect → get) and a little JS (copy buttons). Pages: findings (+ detail),
// Org Settings → Integrations → API Keys, Settings → Integrations → Jira (Forge App).
// Element ids and labels are stable: browser tests drive them (see README.md).

const NOTICES = {
  resolved: 'Finding resolved.',
  reopened: 'Finding reopened.',
  'false-positive': 'Finding marked as false positive.',
  acknowledged: 'Finding acknowledged.',
  created: 'New finding created.',
  'outcome-pass': 'The compliance test will PASS on its next run.',
  'outcome-fail': 'The compliance test will FAIL on its next run.',
  'run-started': 'Compliance test run started.',
  'key-revoked': 'API key revoked. It stops working immediately.',
  'secret-saved': 'Shared Secret saved.',
  'secret-cleared': 'Shared Secret removed. Push deliveries are paused until a secret is set.',
};

const PAGE_SIZE = 50;

/** HTML-escapes any value. */
export function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

const CSS = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#172b4d;background:#f4f5f7}
header{background:#0b1f3a;color:#fff;padding:0 24px;display:flex;align-items:center;gap:28px;height:52px}
header .brand{font-weight:700;letter-spacing:.08em}header nav a{color:#c9d4e5;text-decoration:none;margin-right:18px}
header nav a[aria-current=page]{color:#fff;border-bottom:2px solid #4c9aff;padding-bottom:14px}
main{max-width:1200px;margin:24px auto;padding:0 24px}h1{font-size:22px;margin:4px 0 4px}.crumbs{color:#6b778c;margin:0 0 18px}
section.card{background:#fff;border:1px solid #dfe1e6;border-radius:6px;padding:18px 20px;margin-bottom:18px}
section.card h2{font-size:16px;margin:0 0 8px}.hint{color:#6b778c;margin:6px 0}.req{color:#de350b;font-size:12px;margin-left:6px}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:7px 8px;border-bottom:1px solid #ebecf0;vertical-align:top}
th{font-size:12px;text-transform:uppercase;color:#6b778c;letter-spacing:.04em}
.badge{display:inline-block;padding:1px 7px;border-radius:3px;font-size:11px;font-weight:700;letter-spacing:.03em}
.sev-CRITICAL{background:#ffebe6;color:#bf2600}.sev-HIGH{background:#fff0b3;color:#974f0c}.sev-MEDIUM{background:#deebff;color:#0747a6}
.sev-LOW{background:#e3fcef;color:#006644}.sev-INFO{background:#ebecf0;color:#42526e}
.st-OPEN{background:#ffebe6;color:#bf2600}.st-ACKNOWLEDGED{background:#deebff;color:#0747a6}.st-RESOLVED{background:#e3fcef;color:#006644}.st-FALSE_POSITIVE{background:#ebecf0;color:#42526e}
.res-PASS{background:#e3fcef;color:#006644}.res-FAIL{background:#ffebe6;color:#bf2600}
.out-delivered{color:#006644}.out-retrying{color:#974f0c}.out-failed,.out-skipped{color:#bf2600}
button,.btn{font:inherit;font-size:13px;padding:4px 10px;border-radius:3px;border:1px solid #c1c7d0;background:#fafbfc;color:#172b4d;cursor:pointer;text-decoration:none;display:inline-block}
button.primary{background:#0052cc;border-color:#0052cc;color:#fff}button.danger{color:#bf2600}
form.inline{display:inline;margin:0 4px 0 0}input[type=text],input[type=password],select,textarea{font:inherit;padding:5px 8px;border:1px solid #c1c7d0;border-radius:3px}
input[readonly]{background:#f4f5f7;width:100%}label{font-weight:600;display:block;margin:6px 0 4px}
.notice{background:#e3fcef;border:1px solid #79f2c0;padding:10px 14px;border-radius:4px;margin-bottom:16px}
.error{background:#ffebe6;border:1px solid #ff8f73;padding:10px 14px;border-radius:4px;margin-bottom:16px}
.newkey{background:#fffae6;border:1px solid #ffe380;padding:14px;border-radius:4px;margin-bottom:16px}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}pre{background:#f4f5f7;padding:10px;border-radius:4px;white-space:pre-wrap}
.muted{color:#6b778c}.row{display:flex;gap:8px;align-items:center;flex-wrap:wrap}.pager{margin-top:10px}
`;

const JS = `
document.addEventListener('click', (e) => {
  const b = e.target.closest('[data-copy]');
  if (!b) return;
  const el = document.getElementById(b.dataset.copy);
  const text = el.value ?? el.textContent;
  navigator.clipboard?.writeText(text).then(() => { b.textContent = 'Copied'; }, () => {});
});
`;

function page(title, active, body, { notice, error } = {}) {
  const nav = [
    ['findings', '/console/findings', 'Findings'],
    ['keys', '/console/settings/api-keys', 'API Keys'],
    ['jira', '/console/settings/integrations/jira', 'Jira (Forge App)'],
  ].map(([k, href, label]) => `<a href="${href}"${k === active ? ' aria-current="page"' : ''}>${label}</a>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · CATAAM</title><style>${CSS}</style></head><body>
<header><span class="brand">CATAAM</span><nav aria-label="Main">${nav}</nav></header>
<main>${notice ? `<div class="notice" role="status" id="notice">${esc(notice)}</div>` : ''}${error ? `<div class="error" role="alert" id="error">${esc(error)}</div>` : ''}${body}</main>
<script>${JS}</script></body></html>`;
}

function send(res, status, html, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(html);
}

function redirect(res, to) {
  res.writeHead(303, { location: to });
  res.end();
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { size += c.length; if (size < 65536) chunks.push(c); });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

const fmt = (iso) => (iso ? esc(iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC')) : '—');
const badge = (cls, text) => `<span class="badge ${cls}">${esc(text)}</span>`;

function actionButtons(f) {
  const id = esc(f.id);
  const b = [];
  const form = (action, label, btnId, cls = '') => `<form class="inline" method="post" action="/console/findings/${id}/${action}"><button type="submit" id="${btnId}" class="${cls}" aria-label="${esc(label)} ${id}">${esc(label)}</button></form>`;
  if (f.status === 'RESOLVED' || f.status === 'FALSE_POSITIVE') b.push(form('reopen', 'Reopen', `reopen-${id}`));
  else {
    b.push(form('resolve', 'Resolve', `resolve-${id}`, 'primary'));
    b.push(form('false-positive', 'Mark false positive', `false-positive-${id}`));
  }
  if (f.compliance) {
    const t = esc(f.compliance.testId);
    const tf = (outcome, label, btnId) => `<form class="inline" method="post" action="/console/compliance-tests/${t}/outcome"><input type="hidden" name="outcome" value="${outcome}"><input type="hidden" name="back" value="${id}"><button type="submit" id="${btnId}" aria-label="${esc(label)} ${t}">${esc(label)}</button></form>`;
    b.push(tf('PASS', 'Make test pass', `test-pass-${t}`));
    b.push(tf('FAIL', 'Make test fail', `test-fail-${t}`));
    b.push(`<form class="inline" method="post" action="/console/compliance-tests/${t}/run"><input type="hidden" name="back" value="${id}"><button type="submit" id="run-test-${t}" aria-label="Run test ${t}">Run test</button></form>`);
  }
  return b.join('');
}

function findingsPage(ctx, url, notice) {
  ctx.settleRuns();
  const status = url.searchParams.get('status') ?? '';
  const kind = url.searchParams.get('kind') ?? '';
  const pageNo = Math.max(1, parseInt(url.searchParams.get('page') ?? '1', 10) || 1);
  const all = ctx.findings()
    .filter((f) => (!status || f.status === status) && (!kind || f.kind === kind))
    .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
  const pages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
  const shown = all.slice((pageNo - 1) * PAGE_SIZE, pageNo * PAGE_SIZE);
  const outcomes = ctx.state.testOutcomes;
  const rows = shown.map((f) => {
    const where = f.compliance
      ? `${esc(f.compliance.framework)} ${esc(f.compliance.controlId)} ${badge(`res-${f.compliance.result}`, f.compliance.result)}<div class="muted">next run: ${esc(outcomes[f.compliance.testId]?.outcome ?? 'FAIL')}</div>`
      : f.asset ? `${esc(f.asset.hostname ?? f.asset.ip ?? '')}${f.asset.port ? `:${esc(f.asset.port)}` : ''}<div class="muted">${esc(f.asset.service ?? '')}</div>` : '—';
    return `<tr id="finding-${esc(f.id)}" data-finding-id="${esc(f.id)}" data-status="${esc(f.status)}" data-kind="${esc(f.kind)}">
<td>${badge(`sev-${f.severity}`, f.severity)}</td><td>${f.kind === 'IASM' ? 'iASM' : 'Compliance'}</td><td class="status">${badge(`st-${f.status}`, f.status)}</td>
<td><a href="/console/findings/${esc(f.id)}">${esc(f.title)}</a><div class="muted"><code>${esc(f.id)}</code></div></td><td>${where}</td><td class="muted">${fmt(f.updatedAt)}</td><td>${actionButtons(f)}</td></tr>`;
  }).join('\n');
  const opt = (v, cur, label) => `<option value="${v}"${v === cur ? ' selected' : ''}>${label}</option>`;
  const qs = (p) => `?${new URLSearchParams({ ...(status && { status }), ...(kind && { kind }), page: String(p) })}`;
  const body = `<h1>Findings</h1><p class="crumbs">${all.length} finding(s) · iASM and compliance failures</p>
<section class="card"><form method="get" class="row" aria-label="Filter findings">
<label for="filter-status" style="margin:0">Status</label><select id="filter-status" name="status">${opt('', status, 'All')}${['OPEN', 'ACKNOWLEDGED', 'RESOLVED', 'FALSE_POSITIVE'].map((s) => opt(s, status, s)).join('')}</select>
<label for="filter-kind" style="margin:0">Kind</label><select id="filter-kind" name="kind">${opt('', kind, 'All')}${opt('IASM', kind, 'iASM')}${opt('COMPLIANCE', kind, 'Compliance')}</select>
<button type="submit" id="apply-filter">Filter</button></form></section>
<section class="card"><h2>Simulate a new finding</h2><form method="post" action="/console/findings/new" class="row">
<label for="new-finding-kind" style="margin:0">Kind</label><select id="new-finding-kind" name="kind">${opt('IASM', 'IASM', 'iASM')}${opt('COMPLIANCE', '', 'Compliance failure')}</select>
<label for="new-finding-severity" style="margin:0">Severity</label><select id="new-finding-severity" name="severity">${opt('', '', 'Random')}${['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'].map((s) => opt(s, '', s)).join('')}</select>
<button type="submit" class="primary" id="generate-finding">Create finding</button></form></section>
<table id="findings" aria-label="Findings"><thead><tr><th>Severity</th><th>Kind</th><th>Status</th><th>Title</th><th>Asset / control</th><th>Updated</th><th>Actions</th></tr></thead>
<tbody>${rows || '<tr><td colspan="7" class="muted">No findings.</td></tr>'}</tbody></table>
<div class="pager row">${pageNo > 1 ? `<a class="btn" id="prev-page" href="${qs(pageNo - 1)}">← Previous</a>` : ''}<span class="muted">Page ${pageNo} of ${pages}</span>${pageNo < pages ? `<a class="btn" id="next-page" href="${qs(pageNo + 1)}">Next →</a>` : ''}</div>`;
  return page('Findings', 'findings', body, { notice });
}

function findingPage(ctx, f, notice) {
  ctx.settleRuns();
  const p = ctx.publicFinding(f);
  const dl = (label, value) => `<tr><th scope="row">${esc(label)}</th><td>${value}</td></tr>`;
  const runs = f.compliance ? ctx.runs().filter((r) => r.testId === f.compliance.testId).reverse() : [];
  const body = `<h1>${esc(p.title)}</h1><p class="crumbs"><a href="/console/findings">Findings</a> › <code id="finding-id">${esc(p.id)}</code></p>
<section class="card"><div class="row">${badge(`sev-${p.severity}`, p.severity)} <span id="finding-status">${badge(`st-${p.status}`, p.status)}</span> ${actionButtons(f)}</div></section>
<section class="card"><h2>Description</h2><p>${esc(p.description)}</p><h2>Remediation</h2><p>${esc(p.remediation)}</p></section>
<section class="card"><h2>Details</h2><table>
${dl('Kind', p.kind)}${dl('Compliance controls', esc(p.complianceControls.join(', ') || '—'))}
${dl('MITRE ATT&CK', p.mitre ? `${esc(p.mitre.techniqueId)} — ${esc(p.mitre.name)}` : '—')}
${dl('Asset', p.asset ? esc([p.asset.hostname, p.asset.ip && `${p.asset.ip}${p.asset.port ? `:${p.asset.port}` : ''}`, p.asset.service, p.asset.cloudAccount].filter(Boolean).join(' · ')) : '—')}
${dl('Due date', esc(p.dueDate ?? '—'))}${dl('Assigned to', p.assignedTo ? esc(`${p.assignedTo.displayName ?? p.assignedTo.accountId}${p.assignedTo.email ? ` <${p.assignedTo.email}>` : ''}`) : '—')}
${dl('Created', fmt(p.createdAt))}${dl('Updated', fmt(p.updatedAt))}</table></section>
${p.compliance ? `<section class="card"><h2>Compliance test</h2><p>${esc(p.compliance.testName)} · ${esc(p.compliance.framework)} ${esc(p.compliance.controlId)} · latest result ${badge(`res-${p.compliance.result}`, p.compliance.result)} · <code>${esc(p.compliance.testId)}</code></p>
<pre id="compliance-logs">${esc(p.compliance.logs ?? '')}</pre>
<h2>Runs</h2><table id="runs"><thead><tr><th>Run</th><th>Status</th><th>Started</th><th>Finished</th></tr></thead><tbody>${runs.map((r) => `<tr><td><code>${esc(r.runId)}</code></td><td>${esc(r.status)}</td><td>${fmt(r.startedAt)}</td><td>${fmt(r.finishedAt)}</td></tr>`).join('') || '<tr><td colspan="4" class="muted">No runs yet.</td></tr>'}</tbody></table></section>` : ''}`;
  return page(p.title, 'findings', body, { notice });
}

function keysPage(ctx, { notice, error, newKey, newKeyName } = {}) {
  const rows = ctx.state.apiKeys.map((k) => `<tr data-key-name="${esc(k.name)}" id="key-${esc(k.id)}"><td>${esc(k.name)}</td><td>${fmt(k.createdAt)}</td><td class="muted">${fmt(k.lastUsedAt)}</td>
<td><form class="inline" method="post" action="/console/settings/api-keys/${esc(k.id)}/revoke"><button type="submit" class="danger" id="revoke-key-${esc(k.id)}" aria-label="Revoke key ${esc(k.name)}" title="Revoke"><svg aria-hidden="true" width="12" height="12" viewBox="0 0 16 16" style="vertical-align:-1px"><path fill="currentColor" d="M6 1h4l1 1h3v2H2V2h3zM3 5h10l-1 10H4z"/></svg> Revoke</button></form></td></tr>`).join('\n');
  const body = `<h1>API Keys</h1><p class="crumbs">Org Settings → Integrations → API Keys</p>
${newKey ? `<div class="newkey" id="new-api-key-panel" role="status"><strong>New key “${esc(newKeyName)}”.</strong> Copy it now — it is shown only this once and cannot be recovered (CATAAM stores only a SHA-256 hash).
<div class="row" style="margin-top:8px"><code id="new-api-key">${esc(newKey)}</code><button type="button" data-copy="new-api-key" id="copy-new-api-key">Copy</button></div></div>` : ''}
<section class="card"><h2>Generate New Key</h2><p class="hint">Give the key a descriptive name (e.g. Jira Production) so it is easy to identify and rotate independently of other integrations.</p>
<form method="post" action="/console/settings/api-keys" class="row"><label for="api-key-name" style="margin:0">Key name</label>
<input type="text" id="api-key-name" name="name" required maxlength="80" placeholder="Jira Production" autocomplete="off">
<button type="submit" class="primary" id="generate-api-key">Generate New Key</button></form></section>
<section class="card"><h2>Keys</h2><p class="hint">To rotate a key: generate a new key, update the Jira app settings, then revoke the old key. Revoking takes effect immediately.</p>
<table id="api-keys" aria-label="API keys"><thead><tr><th>Name</th><th>Created</th><th>Last used</th><th></th></tr></thead>
<tbody>${rows || '<tr><td colspan="4" class="muted" id="no-api-keys">No API keys yet.</td></tr>'}</tbody></table></section>`;
  return page('API Keys', 'keys', body, { notice, error });
}

function jiraPage(ctx, { notice, error } = {}) {
  const wh = ctx.webhookStatus();
  const log = ctx.deliveries().slice(-100).reverse();
  const rows = log.map((d) => `<tr data-event-id="${esc(d.eventId)}" data-outcome="${esc(d.status)}"><td class="muted">${fmt(d.at)}</td><td><code>${esc(d.eventId)}</code></td><td>${esc(d.type)}</td>
<td><code>${esc((d.findingIds ?? []).join(', '))}</code></td><td>${esc(d.attempt)}</td><td class="out-${esc(d.status)}">${esc(d.status)}${d.fault ? ` <span class="muted">(${esc(d.fault)})</span>` : ''}</td><td>${esc(d.httpStatus ?? '—')}</td><td>${esc(d.reason ?? '')}</td></tr>`).join('\n');
  const body = `<h1>Jira (Forge App)</h1><p class="crumbs">Settings → Integrations → Jira (Forge App)</p>
<section class="card"><h2><label for="forge-webtrigger-url" style="display:inline;margin:0">Forge Webtrigger URL</label></h2>
<div class="row" style="flex-wrap:nowrap"><input type="text" id="forge-webtrigger-url" readonly value="${esc(wh.url ?? '')}" placeholder="Not registered yet"><button type="button" data-copy="forge-webtrigger-url" id="copy-webtrigger-url">Copy</button></div>
<p class="hint">Auto-populated when you click Save Settings in the Jira app. CATAAM stores this URL and calls it whenever a finding is created or resolved, enabling real-time push instead of waiting for the 5-minute scheduled sync.</p>
${wh.url ? `<p class="hint" id="webtrigger-registered-at">Registered ${fmt(wh.registeredAt)}</p>` : '<p class="hint" id="webtrigger-hint"><strong>The field is empty:</strong> click <em>Re-register Webhook with CATAAM</em> in the Jira app settings to push the URL again.</p>'}</section>
<section class="card"><h2>Shared Secret<span class="req">Required</span></h2>
<p class="hint">Paste the secret you generated in the Jira app here. Both sides must hold the same value — CATAAM uses it to verify that incoming webhook calls are genuinely from the Forge app.</p>
<p>Status: <strong id="shared-secret-status" data-set="${wh.sharedSecretSet}">${wh.sharedSecretSet ? 'set' : 'not set'}</strong></p>
<form method="post" action="/console/settings/integrations/jira/shared-secret" class="row"><label for="shared-secret" style="margin:0">Shared Secret</label>
<input type="password" id="shared-secret" name="sharedSecret" style="min-width:340px" autocomplete="off" maxlength="512" placeholder="${wh.sharedSecretSet ? '•••••••• (stored — paste to replace)' : 'Paste the secret from the Jira app'}">
<button type="submit" class="primary" id="save-shared-secret" name="action" value="save">Save</button>
${wh.sharedSecretSet ? '<button type="submit" class="danger" id="clear-shared-secret" name="action" value="clear">Remove secret</button>' : ''}</form></section>
<section class="card"><h2>API Keys</h2><p class="hint">Create a dedicated API key for the Jira integration here. Give it a descriptive name (e.g. Jira Production) so it is easy to identify and rotate independently of other integrations.</p>
<a class="btn" id="manage-api-keys" href="/console/settings/api-keys">Manage API keys (${ctx.state.apiKeys.length})</a></section>
<section class="card"><h2>Delivery log</h2><p class="hint">Latest push deliveries to the Forge Webtrigger URL, newest first. Nothing is delivered while the URL is empty or the Shared Secret is not set.</p>
<table id="delivery-log" aria-label="Delivery log"><thead><tr><th>Time</th><th>Event</th><th>Type</th><th>Findings</th><th>Attempt</th><th>Outcome</th><th>HTTP</th><th>Reason</th></tr></thead>
<tbody>${rows || '<tr><td colspan="8" class="muted">No deliveries yet.</td></tr>'}</tbody></table></section>`;
  return page('Jira (Forge App)', 'jira', body, { notice, error });
}

/** Serves every non-API path (console pages and forms). */
export async function handleConsole(req, res, url, ctx) {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const notice = NOTICES[url.searchParams.get('notice')] ?? null;
  const m = (re) => re.exec(path);
  let r;
  if (req.method === 'GET' || req.method === 'HEAD') {
    if (path === '/' || path === '/console') return redirect(res, '/console/findings');
    if (path === '/console/findings') return send(res, 200, findingsPage(ctx, url, notice));
    if ((r = m(/^\/(?:console\/)?findings\/([^/]+)$/))) {
      const f = ctx.finding(decodeURIComponent(r[1]));
      if (!f) return send(res, 404, page('Not found', 'findings', '<h1>Finding not found</h1><p><a href="/console/findings">Back to findings</a></p>'));
      return send(res, 200, findingPage(ctx, f, notice));
    }
    if (path === '/console/settings/api-keys') return send(res, 200, keysPage(ctx, { notice }));
    if (path === '/console/settings/integrations/jira') return send(res, 200, jiraPage(ctx, { notice }));
    if (path === '/favicon.ico') { res.writeHead(204); return res.end(); }
    return send(res, 404, page('Not found', null, '<h1>Page not found</h1><p><a href="/console/findings">Findings</a></p>'));
  }
  if (req.method !== 'POST') return send(res, 405, page('Method not allowed', null, '<h1>Method not allowed</h1>'), { allow: 'GET, POST' });
  const form = await readForm(req);
  const back = (id, n) => redirect(res, id ? `/console/findings/${encodeURIComponent(id)}?notice=${n}` : `/console/findings?notice=${n}`);
  if ((r = m(/^\/console\/findings\/([^/]+)\/(resolve|reopen|false-positive|acknowledge)$/))) {
    const id = decodeURIComponent(r[1]);
    if (!ctx.finding(id)) return send(res, 404, page('Not found', 'findings', '<h1>Finding not found</h1>'));
    const status = { resolve: 'RESOLVED', reopen: 'OPEN', 'false-positive': 'FALSE_POSITIVE', acknowledge: 'ACKNOWLEDGED' }[r[2]];
    ctx.change(id, { status });
    const n = { resolve: 'resolved', reopen: 'reopened', 'false-positive': 'false-positive', acknowledge: 'acknowledged' }[r[2]];
    const referer = req.headers.referer ?? '';
    return referer.includes(`/findings/${id}`) ? back(id, n) : redirect(res, `/console/findings?notice=${n}#finding-${encodeURIComponent(id)}`);
  }
  if (path === '/console/findings/new') {
    const kind = ['IASM', 'COMPLIANCE'].includes(form.get('kind')) ? form.get('kind') : undefined;
    const severity = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'].includes(form.get('severity')) ? form.get('severity') : undefined;
    const f = ctx.createFinding({ ...(kind && { kind }), ...(severity && { severity }) });
    return back(f.id, 'created');
  }
  if ((r = m(/^\/console\/compliance-tests\/([^/]+)\/(outcome|run)$/))) {
    const testId = decodeURIComponent(r[1]);
    const backId = form.get('back');
    const owner = ctx.findings().find((f) => f.compliance?.testId === testId);
    if (!owner) return send(res, 404, page('Not found', 'findings', '<h1>Compliance test not found</h1>'));
    if (r[2] === 'outcome') {
      const outcome = form.get('outcome') === 'PASS' ? 'PASS' : 'FAIL';
      ctx.setTestOutcome(testId, outcome, form.get('logs') || null);
      return back(backId, outcome === 'PASS' ? 'outcome-pass' : 'outcome-fail');
    }
    ctx.startRun(testId);
    return back(backId, 'run-started');
  }
  if (path === '/console/settings/api-keys') {
    const name = (form.get('name') ?? '').trim();
    try {
      const raw = ctx.createApiKey(name);
      return send(res, 200, keysPage(ctx, { newKey: raw, newKeyName: name }));
    } catch (err) {
      return send(res, 400, keysPage(ctx, { error: err.message }));
    }
  }
  if ((r = m(/^\/console\/settings\/api-keys\/([^/]+)\/revoke$/))) {
    ctx.revokeKeyById(decodeURIComponent(r[1]));
    return redirect(res, '/console/settings/api-keys?notice=key-revoked');
  }
  if (path === '/console/settings/integrations/jira/shared-secret') {
    if (form.get('action') === 'clear') {
      ctx.setSharedSecret(null);
      return redirect(res, '/console/settings/integrations/jira?notice=secret-cleared');
    }
    const secret = (form.get('sharedSecret') ?? '').trim();
    if (!secret || secret.length > 512 || /\s/.test(secret)) {
      return send(res, 400, jiraPage(ctx, { error: 'Paste the Shared Secret generated in the Jira app (no spaces, at most 512 characters).' }));
    }
    ctx.setSharedSecret(secret);
    return redirect(res, '/console/settings/integrations/jira?notice=secret-saved');
  }
  return send(res, 404, page('Not found', null, '<h1>Page not found</h1>'));
}
