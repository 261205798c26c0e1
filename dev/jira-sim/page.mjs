// The Jira simulator's HTML page: `/` lists a project's issues (status, resolution, assignee, due
// date, labels, priority) with controls to transition, assign, set a due date and comment, acting as
// a selectable human user; `/browse/<KEY>` shows one issue with its description and comments. The
// controls call the simulator's own REST API with `Authorization: Bearer user:<accountId>`, so every
// click produces the same product events a person would in Jira.

import { adfToText } from './adf.mjs';
import { transitionsFrom, transitionScreen, statusById } from './workflows.mjs';

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

const STYLE = `
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#172b4d}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #dfe1e6;padding:.4rem;text-align:left;vertical-align:top;font-size:.9rem}
.lozenge{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:.75rem;font-weight:700;text-transform:uppercase}
.cat-new{background:#dfe1e6}.cat-indeterminate{background:#deebff;color:#0747a6}.cat-done{background:#e3fcef;color:#006644}
.label{background:#f4f5f7;border-radius:3px;padding:0 .3rem;margin-right:.2rem;font-size:.8rem}
form{display:inline-flex;gap:.25rem;margin:.1rem 0}button{cursor:pointer}#error{color:#bf2600;white-space:pre-wrap}
nav a{margin-right:.8rem}.comment{border-left:3px solid #dfe1e6;padding-left:.6rem;margin:.6rem 0}`;

const SCRIPT = `
const AS = document.body.dataset.as;
async function call(method, path, body) {
  const res = await fetch(path, { method, headers: { 'Authorization': 'Bearer user:' + AS, 'Content-Type': 'application/json', 'X-Jira-Sim-Client': 'page' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) { document.getElementById('error').textContent = res.status + ' ' + await res.text(); return; }
  location.reload();
}
const doc = (text) => ({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: text ? [{ type: 'text', text }] : [] }] });
document.addEventListener('submit', (e) => {
  const f = e.target; e.preventDefault();
  const key = f.dataset.key;
  const base = '/rest/api/3/issue/' + encodeURIComponent(key);
  if (f.dataset.action === 'transition') {
    const body = { transition: { id: f.dataset.transition } };
    if (f.resolution && f.resolution.value) body.fields = { resolution: { name: f.resolution.value } };
    call('POST', base + '/transitions', body);
  } else if (f.dataset.action === 'assign') {
    call('PUT', base + '/assignee', { accountId: f.assignee.value || null });
  } else if (f.dataset.action === 'duedate') {
    call('PUT', base, { fields: { duedate: f.duedate.value || null } });
  } else if (f.dataset.action === 'comment') {
    if (f.comment.value.trim()) call('POST', base + '/comment', { body: doc(f.comment.value) });
  }
});
document.getElementById('as').addEventListener('change', (e) => { const u = new URL(location.href); u.searchParams.set('as', e.target.value); location.href = u.toString(); });
`;

function controls(state, rec) {
  const wf = state.workflowOf(rec);
  const humans = [...state.users.values()].filter((u) => u.accountType !== 'app');
  const k = esc(rec.key);
  const res = state.catalogues.resolutions;
  const transitions = transitionsFrom(wf, rec.statusId).map((t) => {
    const to = statusById(wf, t.to);
    const screen = transitionScreen(t);
    const pick = screen.hasScreen || t.acceptsResolution
      ? `<select name="resolution" aria-label="Resolution">${screen.resolutionRequired ? '' : '<option value="">(default)</option>'}${res.map((r) => `<option>${esc(r.name)}</option>`).join('')}</select>`
      : '';
    return `<form data-action="transition" data-key="${k}" data-transition="${esc(t.id)}" data-testid="transition-${k}-${esc(to.name)}">${pick}<button type="submit">${esc(t.name)} → ${esc(to.name)}</button></form>`;
  }).join(' ');
  const assign = `<form data-action="assign" data-key="${k}" data-testid="assign-${k}"><select name="assignee" aria-label="Assignee"><option value="">Unassigned</option>${humans.map((u) => `<option value="${esc(u.accountId)}"${u.accountId === rec.assignee ? ' selected' : ''}>${esc(u.displayName)}</option>`).join('')}</select><button type="submit">Assign</button></form>`;
  const due = `<form data-action="duedate" data-key="${k}" data-testid="duedate-${k}"><input type="date" name="duedate" value="${esc(rec.duedate ?? '')}" aria-label="Due date"><button type="submit">Set due date</button></form>`;
  const comment = `<form data-action="comment" data-key="${k}" data-testid="comment-${k}"><input name="comment" placeholder="Add a comment" aria-label="Comment"><button type="submit">Comment</button></form>`;
  return { transitions, assign, due, comment };
}

function shell(state, title, as, body) {
  const humans = [...state.users.values()].filter((u) => u.accountType !== 'app');
  const projectLinks = state.projects.map((p) => `<a href="/?project=${esc(p.key)}&as=${esc(as)}">${esc(p.key)} — ${esc(p.name)}</a>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} — Jira simulator</title><style>${STYLE}</style></head>
<body data-as="${esc(as)}"><nav>${projectLinks}
<label>Acting as <select id="as" data-testid="acting-as">${humans.map((u) => `<option value="${esc(u.accountId)}"${u.accountId === as ? ' selected' : ''}>${esc(u.displayName)}</option>`).join('')}</select></label></nav>
<h1>${esc(title)}</h1><div id="error" role="alert"></div>${body}<script>${SCRIPT}</script></body></html>`;
}

/** Render `/` or `/browse/<KEY>`. */
export function renderPage(state, { pathname, query }) {
  const humans = [...state.users.values()].filter((u) => u.accountType !== 'app');
  const as = query.get('as') && state.users.has(query.get('as')) ? query.get('as') : humans[0]?.accountId ?? '';
  const name = (id) => (id ? state.users.get(id)?.displayName ?? id : 'Unassigned');
  const statusCell = (rec) => {
    const s = statusById(state.workflowOf(rec), rec.statusId);
    const r = state.catalogues.resolutions.find((x) => x.id === rec.resolutionId);
    return `<span class="lozenge cat-${s.category}" data-testid="status-${esc(rec.key)}">${esc(s.name)}</span>${r ? ` <small data-testid="resolution-${esc(rec.key)}">${esc(r.name)}</small>` : ''}`;
  };
  const priority = (rec) => state.catalogues.priorities.find((p) => p.id === rec.priorityId)?.name ?? '';
  const labels = (rec) => rec.labels.map((l) => `<span class="label">${esc(l)}</span>`).join('');

  if (pathname.startsWith('/browse/')) {
    const key = decodeURIComponent(pathname.slice('/browse/'.length));
    const rec = state.lookupIssue(key);
    if (!rec) return shell(state, `Issue ${key} does not exist`, as, '<p>Issue does not exist.</p>');
    const c = controls(state, rec);
    const comments = rec.comments.map((cm) => `<div class="comment"><b>${esc(name(cm.author))}</b> <small>${esc(new Date(cm.created).toISOString())}</small><p>${esc(adfToText(cm.body)).replace(/\n/g, '<br>')}</p></div>`).join('');
    const body = `<p><a href="/?project=${esc(state.projectOf(rec).key)}&as=${esc(as)}">← ${esc(state.projectOf(rec).name)}</a></p>
<table><tbody>
<tr><th>Status</th><td>${statusCell(rec)}</td></tr>
<tr><th>Assignee</th><td data-testid="assignee-${esc(rec.key)}">${esc(name(rec.assignee))}</td></tr>
<tr><th>Due date</th><td data-testid="duedate-value-${esc(rec.key)}">${esc(rec.duedate ?? '—')}</td></tr>
<tr><th>Priority</th><td>${esc(priority(rec))}</td></tr>
<tr><th>Labels</th><td>${labels(rec)}</td></tr>
<tr><th>Properties</th><td><code>${esc(JSON.stringify(rec.properties))}</code></td></tr>
<tr><th>Actions</th><td>${c.transitions}<br>${c.assign}<br>${c.due}<br>${c.comment}</td></tr>
</tbody></table>
<h2>Description</h2><p data-testid="description">${esc(rec.description ? adfToText(rec.description) : '').replace(/\n/g, '<br>')}</p>
<h2>Comments</h2><div data-testid="comments">${comments || '<p>No comments yet.</p>'}</div>`;
    return shell(state, `${rec.key}: ${rec.summary}`, as, body);
  }

  const project = state.projects.find((p) => p.key === String(query.get('project') ?? '').toUpperCase()) ?? state.projects[0];
  const rows = state.allIssues().filter((rec) => rec.projectId === project.id).sort((a, b) => Number(b.id) - Number(a.id)).map((rec) => {
    const c = controls(state, rec);
    const k = esc(rec.key);
    return `<tr data-testid="issue-row-${k}"><td><a href="/browse/${k}?as=${esc(as)}">${k}</a></td><td>${esc(rec.summary)}</td><td>${statusCell(rec)}</td>
<td data-testid="assignee-${k}">${esc(name(rec.assignee))}</td><td data-testid="duedate-value-${k}">${esc(rec.duedate ?? '—')}</td><td>${labels(rec)}</td><td>${esc(priority(rec))}</td>
<td>${c.transitions}<br>${c.assign}<br>${c.due}<br>${c.comment}</td></tr>`;
  }).join('\n');
  const body = `<table><thead><tr><th>Key</th><th>Summary</th><th>Status</th><th>Assignee</th><th>Due</th><th>Labels</th><th>Priority</th><th>Actions</th></tr></thead>
<tbody>${rows || '<tr><td colspan="8">No issues yet.</td></tr>'}</tbody></table>`;
  return shell(state, `${project.name} (${project.key})`, as, body);
}
