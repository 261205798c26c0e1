// The data and the rules of the Jira simulator: users, projects, catalogues (issue types,
// priorities, resolutions, statuses), issues with their properties, comments and changelog, the
// search index with its eventual consistency, and Jira's validation rules. No HTTP here: every
// operation takes the acting account id and either returns data or throws a `JiraError` that the
// HTTP layer turns into Jira's `{ errorMessages, errors }` answer. Every change is reported through
// `onEvent` as a Forge product event.

import { validateAdf, adfToText } from './adf.mjs';
import { parseJql, compileJql, JqlError } from './jql.mjs';
import { STATUS_CATEGORIES, resolveWorkflow, statusById, transitionsFrom, transitionScreen } from './workflows.mjs';

/** An error Jira answers with `status` and `{ errorMessages, errors }`. */
export class JiraError extends Error {
  constructor(status, errorMessages = [], errors = {}) {
    super(errorMessages[0] ?? Object.values(errors)[0] ?? `HTTP ${status}`);
    this.status = status;
    this.errorMessages = errorMessages;
    this.errors = errors;
  }

  /** The response body Jira sends for this error. */
  body() {
    return { errorMessages: this.errorMessages, errors: this.errors };
  }
}

const TEXT_LIMIT = 32767;
const PROPERTY_LIMIT = 32768;

/** Jira's timestamp format: `2026-12-04T20:07:30.123+0000`. */
export function jiraTime(ms) {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

const ISSUE_TYPES = [
  { id: '10001', name: 'Task', description: 'A small, distinct piece of work.' },
  { id: '10002', name: 'Bug', description: 'A problem or error.' },
  { id: '10003', name: 'Story', description: "Functionality or a feature expressed as a user goal." },
  { id: '10000', name: 'Epic', description: 'A big user story that needs to be broken down.' },
];
const PRIORITIES = [
  { id: '1', name: 'Highest', statusColor: '#d04437' },
  { id: '2', name: 'High', statusColor: '#f15c75' },
  { id: '3', name: 'Medium', statusColor: '#f79232', isDefault: true },
  { id: '4', name: 'Low', statusColor: '#707070' },
  { id: '5', name: 'Lowest', statusColor: '#999999' },
];
const RESOLUTIONS = [
  { id: '10000', name: 'Done', description: 'Work has been completed on this issue.', default: true },
  { id: '10001', name: "Won't Do", description: 'This issue won\'t be actioned.' },
  { id: '10002', name: 'Duplicate', description: 'The problem is a duplicate of an existing issue.' },
  { id: '10003', name: 'Cannot Reproduce', description: 'All attempts at reproducing this issue failed.' },
];
const CREATE_FIELDS = new Set(['project', 'issuetype', 'summary', 'description', 'priority', 'labels', 'assignee', 'reporter', 'duedate']);
const EDIT_FIELDS = new Set(['summary', 'description', 'priority', 'labels', 'assignee', 'reporter', 'duedate']);
const ALL_FIELDS = ['statuscategorychangedate', 'issuetype', 'project', 'resolution', 'resolutiondate', 'created', 'updated',
  'priority', 'labels', 'assignee', 'status', 'description', 'summary', 'creator', 'reporter', 'duedate', 'comment',
  'lastViewed', 'subtasks', 'issuelinks'];

const notOnScreen = (f) => `Field '${f}' cannot be set. It is not on the appropriate screen, or unknown.`;
const clone = (x) => (x === undefined ? undefined : structuredClone(x));

/**
 * Create the simulator's state.
 * @param {object} o
 * @param {() => string} o.baseUrl      base URL for `self` links
 * @param {() => number} [o.now]
 * @param {(event: object) => void} [o.onEvent]
 * @param {() => void} [o.onChange]     called after every mutation (persistence)
 */
export function createState(o) {
  const now = o.now ?? Date.now;
  const base = o.baseUrl;
  const onEvent = o.onEvent ?? (() => {});
  const onChange = o.onChange ?? (() => {});
  const appAccountId = o.appAccountId ?? '557058:cataam-forge-app';
  let indexLagMs = o.indexLagMs ?? 0;
  // Every user's time zone (the site default): Jira reads absolute JQL dates in it.
  const timeZone = o.timeZone ?? 'Etc/UTC';
  const emitAssigned = Boolean(o.assignedEvents);

  const users = new Map();
  users.set(appAccountId, { accountId: appAccountId, displayName: 'CATAAM for Jira', accountType: 'app', admin: true, emailVisible: false });
  for (const u of o.users ?? []) {
    users.set(u.accountId, { accountType: 'atlassian', emailVisible: true, admin: false, ...u });
  }
  const globalWorkflow = resolveWorkflow(o.workflow);
  const projects = (o.projects ?? [{ key: 'SEC', name: 'Security' }]).map((p, i) => ({
    id: String(p.id ?? 10000 + i),
    key: p.key,
    name: p.name ?? p.key,
    workflow: p.workflow ? resolveWorkflow(p.workflow) : globalWorkflow,
  }));
  const statuses = [];
  for (const p of projects) {
    for (const s of p.workflow.statuses) if (!statuses.some((x) => x.id === s.id)) statuses.push(s);
  }

  let issues = new Map(); // id -> record
  let counters = { issue: 10000, comment: 10000, changelog: 10000, project: {} };
  let index = new Map(); // id -> [{ at, snap }] newest last

  // ---------- lookups ----------
  const projectOf = (rec) => projects.find((p) => p.id === rec.projectId);
  const workflowOf = (rec) => projectOf(rec).workflow;
  const findProject = (ref) => {
    if (!ref || typeof ref !== 'object') return null;
    if (ref.id !== undefined) return projects.find((p) => p.id === String(ref.id)) ?? null;
    if (ref.key !== undefined) return projects.find((p) => p.key.toUpperCase() === String(ref.key).toUpperCase()) ?? null;
    return null;
  };
  const byNameOrId = (list, ref) => {
    if (!ref || typeof ref !== 'object') return null;
    if (ref.id !== undefined) return list.find((x) => x.id === String(ref.id)) ?? null;
    if (ref.name !== undefined) return list.find((x) => x.name.toLowerCase() === String(ref.name).toLowerCase()) ?? null;
    return null;
  };
  const lookupIssue = (idOrKey) => {
    const s = String(idOrKey);
    if (/^\d+$/.test(s)) return issues.get(s) ?? null;
    const up = s.toUpperCase();
    for (const rec of issues.values()) if (rec.key === up) return rec;
    return null;
  };
  const getIssue = (idOrKey) => {
    const rec = lookupIssue(idOrKey);
    if (!rec) throw new JiraError(404, ['Issue does not exist or you do not have permission to see it.']);
    return rec;
  };
  const user = (id) => users.get(id) ?? null;

  // ---------- representations ----------
  const avatarUrls = (seed) => {
    const u = `https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/default/${encodeURIComponent(seed)}`;
    return { '48x48': `${u}?s=48`, '24x24': `${u}?s=24`, '16x16': `${u}?s=16`, '32x32': `${u}?s=32` };
  };
  const userJson = (accountId) => {
    const u = user(accountId);
    if (!u) return null;
    const j = { self: `${base()}/rest/api/3/user?accountId=${encodeURIComponent(u.accountId)}`, accountId: u.accountId, accountType: u.accountType };
    if (u.emailAddress && u.emailVisible !== false) j.emailAddress = u.emailAddress;
    return Object.assign(j, { avatarUrls: avatarUrls(u.accountId), displayName: u.displayName, active: u.active !== false, timeZone, locale: 'en_US' });
  };
  const userDetails = (accountId) => {
    const j = userJson(accountId);
    if (!j) return null;
    delete j.locale;
    return j;
  };
  const categoryJson = (key) => {
    const c = STATUS_CATEGORIES[key];
    return { self: `${base()}/rest/api/3/statuscategory/${c.id}`, id: c.id, key: c.key, colorName: c.colorName, name: c.name };
  };
  const statusJson = (s) => ({
    self: `${base()}/rest/api/3/status/${s.id}`,
    description: s.description ?? '',
    iconUrl: `${base()}/images/icons/statuses/generic.png`,
    name: s.name,
    id: s.id,
    statusCategory: categoryJson(s.category),
  });
  const priorityJson = (p) => ({ self: `${base()}/rest/api/3/priority/${p.id}`, iconUrl: `${base()}/images/icons/priorities/${p.name.toLowerCase()}.svg`, name: p.name, id: p.id });
  const resolutionJson = (r) => ({ self: `${base()}/rest/api/3/resolution/${r.id}`, id: r.id, description: r.description, name: r.name });
  const issueTypeJson = (t) => ({ self: `${base()}/rest/api/3/issuetype/${t.id}`, id: t.id, description: t.description, iconUrl: `${base()}/images/icons/issuetypes/${t.name.toLowerCase()}.svg`, name: t.name, subtask: false, hierarchyLevel: t.name === 'Epic' ? 1 : 0 });
  const projectRef = (p) => ({ self: `${base()}/rest/api/3/project/${p.id}`, id: p.id, key: p.key, name: p.name, projectTypeKey: 'software', simplified: false, avatarUrls: avatarUrls(p.key) });
  const projectJson = (p) => ({
    expand: 'description,lead,issueTypes,url,projectKeys,permissions,insight',
    self: `${base()}/rest/api/3/project/${p.id}`, id: p.id, key: p.key, name: p.name, avatarUrls: avatarUrls(p.key),
    projectTypeKey: 'software', simplified: false, style: 'classic', isPrivate: false, properties: {},
    issueTypes: ISSUE_TYPES.map(issueTypeJson),
  });
  const commentJson = (rec, c) => ({
    self: `${base()}/rest/api/3/issue/${rec.id}/comment/${c.id}`, id: c.id,
    author: userDetails(c.author), body: clone(c.body), updateAuthor: userDetails(c.author),
    created: jiraTime(c.created), updated: jiraTime(c.updated), jsdPublic: true,
  });

  /** All field values of an issue record, as Jira renders them. */
  const fieldValues = (rec) => {
    const wf = workflowOf(rec);
    const status = statusById(wf, rec.statusId) ?? statuses.find((s) => s.id === rec.statusId);
    const resolution = RESOLUTIONS.find((r) => r.id === rec.resolutionId);
    return {
      statuscategorychangedate: jiraTime(rec.statusCategoryChanged),
      issuetype: issueTypeJson(ISSUE_TYPES.find((t) => t.id === rec.issuetypeId)),
      project: projectRef(projectOf(rec)),
      resolution: resolution ? resolutionJson(resolution) : null,
      resolutiondate: rec.resolutiondate ? jiraTime(rec.resolutiondate) : null,
      created: jiraTime(rec.created),
      updated: jiraTime(rec.updated),
      priority: priorityJson(PRIORITIES.find((p) => p.id === rec.priorityId)),
      labels: [...rec.labels],
      assignee: rec.assignee ? userDetails(rec.assignee) : null,
      status: statusJson(status),
      description: clone(rec.description) ?? null,
      summary: rec.summary,
      creator: userDetails(rec.creator),
      reporter: rec.reporter ? userDetails(rec.reporter) : null,
      duedate: rec.duedate ?? null,
      comment: {
        comments: (rec.comments ?? []).map((c) => commentJson(rec, c)),
        self: `${base()}/rest/api/3/issue/${rec.id}/comment`,
        maxResults: (rec.comments ?? []).length, total: (rec.comments ?? []).length, startAt: 0,
      },
      lastViewed: null,
      subtasks: [],
      issuelinks: [],
    };
  };

  /** Which fields a `fields` parameter selects (Jira: `*all`, `*navigable`, names, `-name`). */
  const selectFields = (spec, dflt) => {
    const list = spec === undefined || spec === null ? dflt : (Array.isArray(spec) ? spec : String(spec).split(',')).map((s) => s.trim()).filter(Boolean);
    const chosen = new Set();
    for (const f of list) {
      if (f === '*all') ALL_FIELDS.forEach((x) => chosen.add(x));
      else if (f === '*navigable') ALL_FIELDS.filter((x) => x !== 'comment').forEach((x) => chosen.add(x));
      else if (!f.startsWith('-')) chosen.add(f);
    }
    for (const f of list) if (f.startsWith('-')) chosen.delete(f.slice(1));
    return chosen;
  };
  const selectProps = (spec) => {
    if (spec === undefined || spec === null) return [];
    return (Array.isArray(spec) ? spec : String(spec).split(',')).map((s) => s.trim()).filter(Boolean);
  };

  /**
   * Render an issue (live record or index snapshot) as IssueBean.
   * @param {object} rec
   * @param {{ fields?: any, properties?: any, expand?: string, defaultFields?: string[], idOnly?: boolean }} opt
   */
  const issueJson = (rec, opt = {}) => {
    const wanted = selectFields(opt.fields, opt.defaultFields ?? ['*all']);
    const props = selectProps(opt.properties);
    if (opt.idOnly && wanted.size === 0 && props.length === 0) return { id: rec.id };
    const all = fieldValues(rec);
    const fields = {};
    for (const f of ALL_FIELDS) if (wanted.has(f)) fields[f] = all[f];
    const out = { expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations', id: rec.id, self: `${base()}/rest/api/3/issue/${rec.id}`, key: rec.key };
    if (props.length) {
      out.properties = {};
      const keys = props.includes('*all') ? Object.keys(rec.properties) : props;
      for (const k of keys) if (k in rec.properties) out.properties[k] = clone(rec.properties[k]);
    }
    out.fields = fields;
    const expand = String(opt.expand ?? '').split(',').map((s) => s.trim());
    if (expand.includes('transitions')) out.transitions = transitionsJson(rec, {}).transitions;
    if (expand.includes('changelog')) {
      const histories = historiesJson(rec);
      out.changelog = { startAt: 0, maxResults: histories.length, total: histories.length, histories };
    }
    return out;
  };

  /** The issue's change history (oldest first), as Jira's Changelog objects. */
  // The spec types ChangeDetails values as (non-nullable) strings: empty sides are left out here,
  // while product events keep them as null like Forge's payloads.
  const historiesJson = (rec) => (rec.changelog ?? []).map((h) => ({
    id: h.id, author: userDetails(h.author), created: jiraTime(h.created),
    items: h.items.map((i) => Object.fromEntries(Object.entries(i).filter(([, v]) => v !== null))),
  }));

  // ---------- transitions ----------
  function transitionsJson(rec, { expandFields = false, transitionId } = {}) {
    const wf = workflowOf(rec);
    let list = transitionsFrom(wf, rec.statusId);
    if (transitionId !== undefined && transitionId !== null && transitionId !== '') list = list.filter((t) => t.id === String(transitionId));
    return {
      expand: 'transitions',
      transitions: list.map((t) => {
        const to = statusById(wf, t.to);
        const screen = transitionScreen(t);
        const j = {
          id: t.id, name: t.name, to: statusJson(to), hasScreen: screen.hasScreen, isGlobal: t.from === '*',
          isInitial: false, isAvailable: true, isConditional: false, isLooped: false,
        };
        if (expandFields) {
          j.fields = {};
          if (screen.hasScreen) {
            j.fields.resolution = {
              required: screen.resolutionRequired,
              schema: { type: 'resolution', system: 'resolution' },
              name: 'Resolution', key: 'resolution', hasDefaultValue: false, operations: ['set'],
              allowedValues: RESOLUTIONS.map(resolutionJson),
            };
          }
        }
        return j;
      }),
    };
  }

  // ---------- index (eventual consistency of search) ----------
  const snapshot = (rec) => {
    const s = clone({ ...rec, comments: undefined, changelog: undefined });
    s.descriptionText = rec.description ? adfToText(rec.description) : '';
    return s;
  };
  const reindex = (rec) => {
    const list = index.get(rec.id) ?? [];
    list.push({ at: now(), snap: snapshot(rec) });
    // keep the newest entry that is already visible, plus every newer one
    const cutoff = now() - indexLagMs;
    let firstVisible = -1;
    for (let i = list.length - 1; i >= 0; i--) if (list[i].at <= cutoff) { firstVisible = i; break; }
    index.set(rec.id, firstVisible > 0 ? list.slice(firstVisible) : list);
  };
  const indexedView = (id) => {
    const list = index.get(id);
    if (!list) return null;
    const cutoff = now() - indexLagMs;
    for (let i = list.length - 1; i >= 0; i--) if (list[i].at <= cutoff) return list[i].snap;
    return null;
  };

  // ---------- events ----------
  // Forge documents only these issue fields in product events, users as `{ accountId }` only: an
  // app has to read the issue for anything else (resolution, due date, labels, e-mail, ...).
  const eventIssue = (rec) => {
    const f = fieldValues(rec);
    const ref = (id) => (id ? { accountId: id } : null);
    return {
      id: rec.id,
      key: rec.key,
      fields: {
        summary: f.summary, issuetype: f.issuetype, creator: ref(rec.creator), created: f.created, project: f.project,
        reporter: ref(rec.reporter), assignee: ref(rec.assignee), updated: f.updated, status: f.status,
      },
    };
  };
  const emitUpdated = (rec, actor, items, history) => {
    const ev = {
      eventType: 'avi:jira:updated:issue',
      atlassianId: actor,
      issue: eventIssue(rec),
      changelog: { id: history.id, items: items.map((i) => ({ ...i })) },
      associatedUsers: [{ accountId: actor }],
    };
    const st = items.find((i) => i.fieldId === 'status');
    if (st) ev.associatedStatuses = [{ id: st.from, name: st.fromString }, { id: st.to, name: st.toString }];
    onEvent(ev);
    if (emitAssigned) {
      const assigned = items.find((i) => i.fieldId === 'assignee');
      if (assigned && assigned.to) {
        onEvent({ eventType: 'avi:jira:assigned:issue', atlassianId: actor, issue: eventIssue(rec), changelog: { id: history.id, items: [{ ...assigned }] }, associatedUsers: [{ accountId: assigned.to }] });
      }
    }
  };
  const recordChange = (rec, actor, items) => {
    if (!items.length) return null;
    const history = { id: String(++counters.changelog), author: actor, created: now(), items };
    rec.changelog.push(history);
    return history;
  };

  // ---------- field validation ----------
  const userChange = (field, fromId, toId) => ({
    field, fieldtype: 'jira', fieldId: field,
    from: fromId ?? null, fromString: fromId ? user(fromId)?.displayName ?? null : null,
    to: toId ?? null, toString: toId ? user(toId)?.displayName ?? null : null,
  });

  /**
   * Validate `fields` + `update` of a create or edit body and compute the new values.
   * Returns `{ values, errors }`; `values` holds only fields that were given.
   */
  const validateFields = (body, mode, rec) => {
    const errors = {};
    const values = {};
    const fields = body.fields ?? {};
    const update = body.update ?? {};
    if (typeof fields !== 'object' || Array.isArray(fields)) return { values, errors: { fields: 'fields must be an object.' } };
    const allowed = mode === 'create' ? CREATE_FIELDS : EDIT_FIELDS;
    const given = { ...fields };
    for (const [f, ops] of Object.entries(update)) {
      if (f in fields) { errors[f] = `Field '${f}' cannot be specified in both 'fields' and 'update'.`; continue; }
      if (!Array.isArray(ops)) { errors[f] = `Field '${f}' update operations must be a list.`; continue; }
      if (f === 'labels') {
        let labels = rec ? [...rec.labels] : [];
        for (const op of ops) {
          if ('set' in op) labels = Array.isArray(op.set) ? [...op.set] : [];
          if ('add' in op) { if (!labels.includes(op.add)) labels.push(op.add); }
          if ('remove' in op) labels = labels.filter((l) => l !== op.remove);
        }
        given.labels = labels;
      } else if (ops.length === 1 && 'set' in ops[0]) {
        given[f] = ops[0].set;
      } else if (allowed.has(f)) {
        errors[f] = `Field '${f}' supports only the 'set' operation here.`;
      } else {
        errors[f] = notOnScreen(f);
      }
    }
    for (const [f, v] of Object.entries(given)) {
      if (!allowed.has(f)) { errors[f] = notOnScreen(f); continue; }
      switch (f) {
        case 'project': {
          const p = findProject(v);
          if (!p) errors.project = 'Specify a valid project ID or key';
          else values.project = p;
          break;
        }
        case 'issuetype': {
          const t = byNameOrId(ISSUE_TYPES, v);
          if (!t) errors.issuetype = 'Specify an issue type';
          else values.issuetype = t;
          break;
        }
        case 'summary':
          if (typeof v !== 'string' || !v.trim()) errors.summary = 'You must specify a summary of the issue.';
          else if (v.length > 255) errors.summary = 'Summary must be less than 255 characters.';
          else if (/[\r\n]/.test(v)) errors.summary = 'The summary is invalid because it contains newline characters.';
          else values.summary = v;
          break;
        case 'description': {
          if (v === null) { values.description = null; break; }
          if (typeof v !== 'object' || Array.isArray(v)) { errors.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)'; break; }
          const r = validateAdf(v);
          if (!r.valid) { errors.description = `Operation value must be an Atlassian Document (see the Atlassian Document Format): ${r.errors[0].path} ${r.errors[0].message}`; break; }
          if (adfToText(v).length > TEXT_LIMIT) { errors.description = `The entered text is too long. It exceeds the allowed limit of ${TEXT_LIMIT.toLocaleString('en-US')} characters.`; break; }
          values.description = clone(v);
          break;
        }
        case 'priority': {
          const p = byNameOrId(PRIORITIES, v);
          if (!p) errors.priority = 'Specify the Priority (id or name) in the string format';
          if (p) values.priority = p;
          if (v && (v.name !== undefined || v.id !== undefined) && !p) errors.priority = `The priority selected is invalid.`;
          break;
        }
        case 'labels': {
          if (v === null) { values.labels = []; break; }
          if (!Array.isArray(v) || v.some((l) => typeof l !== 'string')) { errors.labels = 'Labels must be a list of strings.'; break; }
          const bad = v.find((l) => /\s/.test(l));
          if (bad !== undefined) { errors.labels = `The label '${bad}' contains spaces which is invalid.`; break; }
          const empty = v.find((l) => l === '');
          if (empty !== undefined) { errors.labels = 'The label must not be empty.'; break; }
          const long = v.find((l) => l.length > 255);
          if (long !== undefined) { errors.labels = 'The label must not exceed 255 characters.'; break; }
          values.labels = [...new Set(v)];
          break;
        }
        case 'assignee':
        case 'reporter': {
          if (v === null || (v && v.accountId === null)) { values[f] = null; break; }
          const id = v && typeof v === 'object' ? v.accountId ?? v.id : undefined;
          if (typeof id !== 'string') { errors[f] = `Specify a valid value for ${f}`; break; }
          if (!user(id) || user(id).accountType === 'app') { errors[f] = f === 'assignee' ? `User '${id}' cannot be assigned issues.` : `Specify a valid value for ${f}`; break; }
          values[f] = id;
          break;
        }
        case 'duedate': {
          if (v === null || v === '') { values.duedate = null; break; }
          const m = typeof v === 'string' && /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
          const ok = m && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);
          if (!ok) errors.duedate = `Error parsing date string: ${v}`;
          else values.duedate = v;
          break;
        }
        default:
          errors[f] = notOnScreen(f);
      }
    }
    if (mode === 'create') {
      if (!('project' in given) && !errors.project) errors.project = 'Specify a valid project ID or key';
      if (!('issuetype' in given) && !errors.issuetype) errors.issuetype = 'Specify an issue type';
      if (!('summary' in given) && !errors.summary) errors.summary = 'You must specify a summary of the issue.';
    }
    return { values, errors };
  };

  const validateProperties = (props) => {
    if (props === undefined) return [];
    if (!Array.isArray(props)) throw new JiraError(400, ['properties must be a list of { key, value }.']);
    for (const p of props) {
      if (!p || typeof p.key !== 'string' || !p.key || p.key.length > 255) throw new JiraError(400, ['The property key must be between 1 and 255 characters.']);
      if (p.value === undefined) throw new JiraError(400, [`The property '${p.key}' has no value.`]);
      if (Buffer.byteLength(JSON.stringify(p.value)) > PROPERTY_LIMIT) throw new JiraError(400, [`The property value exceeds the maximum size of ${PROPERTY_LIMIT} bytes.`]);
    }
    return props;
  };

  // ---------- operations ----------
  /** Create an issue; returns the record. */
  function createIssue(actor, body) {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new JiraError(400, ['Request body must be a JSON object.']);
    const { values, errors } = validateFields(body, 'create', null);
    if (Object.keys(errors).length) throw new JiraError(400, [], errors);
    const props = validateProperties(body.properties);
    const t = now();
    const p = values.project;
    counters.project[p.key] = (counters.project[p.key] ?? 0) + 1;
    const rec = {
      id: String(++counters.issue),
      key: `${p.key}-${counters.project[p.key]}`,
      projectId: p.id,
      issuetypeId: values.issuetype.id,
      summary: values.summary,
      description: values.description ?? null,
      priorityId: values.priority?.id ?? '3',
      labels: values.labels ?? [],
      assignee: values.assignee ?? null,
      reporter: values.reporter === undefined ? actor : values.reporter, // Jira defaults the reporter to the caller
      creator: actor,
      duedate: values.duedate ?? null,
      statusId: p.workflow.initial,
      resolutionId: null,
      resolutiondate: null,
      created: t,
      updated: t,
      statusCategoryChanged: t,
      properties: Object.fromEntries(props.map((x) => [x.key, clone(x.value)])),
      comments: [],
      changelog: [],
    };
    issues.set(rec.id, rec);
    reindex(rec);
    onChange();
    onEvent({ eventType: 'avi:jira:created:issue', atlassianId: actor, issue: eventIssue(rec), associatedUsers: [{ accountId: actor }] });
    return rec;
  }

  /** Bulk create: `{ created: [rec], failures: [{ index, error }] }`. */
  function createIssues(actor, body) {
    const list = body?.issueUpdates;
    if (!Array.isArray(list) || list.length === 0) throw new JiraError(400, ['Nothing to create: issueUpdates is empty.']);
    if (list.length > 50) throw new JiraError(400, ['The number of issues to create must not exceed 50.']);
    const created = [];
    const failures = [];
    list.forEach((item, i) => {
      try { created.push(createIssue(actor, item)); } catch (e) {
        if (!(e instanceof JiraError)) throw e;
        failures.push({ index: i, error: e });
      }
    });
    return { created, failures };
  }

  const changeItems = (rec, values) => {
    const items = [];
    const plain = (field, from, to) => items.push({ field, fieldtype: 'jira', fieldId: field, from: null, fromString: from, to: null, toString: to });
    if ('summary' in values && values.summary !== rec.summary) plain('summary', rec.summary, values.summary);
    if ('description' in values && JSON.stringify(values.description) !== JSON.stringify(rec.description)) {
      plain('description', rec.description ? adfToText(rec.description) : null, values.description ? adfToText(values.description) : null);
    }
    if ('priority' in values && values.priority.id !== rec.priorityId) {
      items.push({ field: 'priority', fieldtype: 'jira', fieldId: 'priority', from: rec.priorityId, fromString: PRIORITIES.find((p) => p.id === rec.priorityId).name, to: values.priority.id, toString: values.priority.name });
    }
    if ('labels' in values && JSON.stringify([...values.labels].sort()) !== JSON.stringify([...rec.labels].sort())) {
      plain('labels', rec.labels.length ? [...rec.labels].sort().join(' ') : '', values.labels.length ? [...values.labels].sort().join(' ') : '');
    }
    for (const f of ['assignee', 'reporter']) if (f in values && values[f] !== rec[f]) items.push(userChange(f, rec[f], values[f]));
    if ('duedate' in values && values.duedate !== rec.duedate) {
      items.push({
        field: 'duedate', fieldtype: 'jira', fieldId: 'duedate',
        from: rec.duedate, fromString: rec.duedate ? `${rec.duedate} 00:00:00.0` : null,
        to: values.duedate, toString: values.duedate ? `${values.duedate} 00:00:00.0` : null,
      });
    }
    return items;
  };

  /** Edit fields of an issue. */
  function editIssue(actor, idOrKey, body) {
    const rec = getIssue(idOrKey);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new JiraError(400, ['Request body must be a JSON object.']);
    const { values, errors } = validateFields(body, 'edit', rec);
    if (Object.keys(errors).length) throw new JiraError(400, [], errors);
    const props = validateProperties(body.properties);
    const items = changeItems(rec, values);
    for (const [k, v] of Object.entries(values)) {
      if (k === 'priority') rec.priorityId = v.id; else rec[k] = v;
    }
    for (const p of props) rec.properties[p.key] = clone(p.value);
    if (items.length) rec.updated = now();
    if (items.length || props.length) { reindex(rec); onChange(); }
    const history = recordChange(rec, actor, items);
    if (history) emitUpdated(rec, actor, items, history);
    return rec;
  }

  const findResolution = (ref) => {
    const r = byNameOrId(RESOLUTIONS, ref);
    if (!r) throw new JiraError(400, [], { resolution: ref?.name !== undefined ? `Resolution '${ref.name}' does not exist.` : 'Specify a valid resolution id or name.' });
    return r;
  };

  /** Perform a workflow transition (`{ transition: { id }, fields?: { resolution }, update?: { comment } }`). */
  function transitionIssue(actor, idOrKey, body) {
    const rec = getIssue(idOrKey);
    const tid = body?.transition?.id;
    if (tid === undefined || tid === null) throw new JiraError(400, ["Missing 'transition' identifier"]);
    const wf = workflowOf(rec);
    const t = transitionsFrom(wf, rec.statusId).find((x) => x.id === String(tid));
    if (!t) throw new JiraError(400, [`Transition id '${tid}' is not valid for this issue.`]);
    const screen = transitionScreen(t);
    const fields = body.fields ?? {};
    const errors = {};
    let resolution;
    for (const [f, v] of Object.entries(fields)) {
      if (f === 'resolution' && (screen.hasScreen || t.acceptsResolution)) {
        try { resolution = findResolution(v); } catch (e) { Object.assign(errors, e.errors); }
      } else errors[f] = notOnScreen(f);
    }
    const to = statusById(wf, t.to);
    const from = statusById(wf, rec.statusId);
    if (screen.resolutionRequired && !resolution && !errors.resolution) errors.resolution = 'Resolution is required.';
    const comments = body.update?.comment ?? [];
    for (const c of comments) {
      const r = c?.add?.body ? validateAdf(c.add.body) : { valid: false };
      if (!r.valid) errors.comment = 'Comment body is not a valid Atlassian Document.';
    }
    if (Object.keys(errors).length) throw new JiraError(400, [], errors);
    const items = [];
    if (to.id !== from.id) {
      items.push({ field: 'status', fieldtype: 'jira', fieldId: 'status', from: from.id, fromString: from.name, to: to.id, toString: to.name });
    }
    let newResolution = rec.resolutionId;
    if (to.category === 'done') newResolution = (resolution ?? (rec.resolutionId ? RESOLUTIONS.find((r) => r.id === rec.resolutionId) : RESOLUTIONS[0])).id;
    else newResolution = null;
    if (newResolution !== rec.resolutionId) {
      const name = (id) => RESOLUTIONS.find((r) => r.id === id)?.name ?? null;
      items.push({ field: 'resolution', fieldtype: 'jira', fieldId: 'resolution', from: rec.resolutionId, fromString: name(rec.resolutionId), to: newResolution, toString: name(newResolution) });
    }
    const t0 = now();
    if (from.category !== to.category) rec.statusCategoryChanged = t0;
    rec.statusId = to.id;
    if (newResolution !== rec.resolutionId) rec.resolutiondate = newResolution ? t0 : null;
    rec.resolutionId = newResolution;
    rec.updated = t0;
    reindex(rec);
    onChange();
    const history = recordChange(rec, actor, items);
    if (history) emitUpdated(rec, actor, items, history);
    for (const c of comments) addComment(actor, rec.id, { body: c.add.body });
    return rec;
  }

  /** Add a comment (`{ body: ADF }`); returns the comment JSON. */
  function addComment(actor, idOrKey, body) {
    const rec = getIssue(idOrKey);
    if (!body || typeof body !== 'object' || body.body === undefined) throw new JiraError(400, [], { comment: 'Comment body can not be empty!' });
    const r = validateAdf(body.body);
    if (!r.valid) throw new JiraError(400, ['INVALID_INPUT'], { comment: `Comment body is not a valid Atlassian Document: ${r.errors[0].path} ${r.errors[0].message}` });
    if (adfToText(body.body).length > TEXT_LIMIT) throw new JiraError(400, [], { comment: `The entered text is too long. It exceeds the allowed limit of ${TEXT_LIMIT.toLocaleString('en-US')} characters.` });
    const t = now();
    const c = { id: String(++counters.comment), author: actor, body: clone(body.body), created: t, updated: t };
    rec.comments.push(c);
    rec.updated = t;
    reindex(rec);
    onChange();
    const cj = commentJson(rec, c);
    onEvent({
      eventType: 'avi:jira:commented:issue', atlassianId: actor, issue: eventIssue(rec),
      comment: { id: cj.id, self: cj.self, body: cj.body, author: { accountId: actor }, updateAuthor: { accountId: actor }, created: cj.created, updated: cj.updated, jsdPublic: true },
      associatedUsers: [{ accountId: actor }],
    });
    return cj;
  }

  /** Delete an issue (Jira fires `avi:jira:deleted:issue`). */
  function deleteIssue(actor, idOrKey) {
    const rec = getIssue(idOrKey);
    const ev = { eventType: 'avi:jira:deleted:issue', atlassianId: actor, issue: eventIssue(rec), associatedUsers: [{ accountId: actor }] };
    issues.delete(rec.id);
    index.delete(rec.id);
    onChange();
    onEvent(ev);
  }

  function listComments(idOrKey, { startAt = 0, maxResults = 100, orderBy } = {}) {
    const rec = getIssue(idOrKey);
    let list = rec.comments.map((c) => commentJson(rec, c));
    if (orderBy === '-created') list = list.reverse();
    const s = Math.max(0, Number(startAt) || 0);
    const m = Math.min(Math.max(Number(maxResults ?? 100) || 100, 0), 5000);
    return { startAt: s, maxResults: m, total: list.length, comments: list.slice(s, s + m) };
  }

  function setProperty(actor, idOrKey, key, value) {
    const rec = getIssue(idOrKey);
    if (!key || key.length > 255) throw new JiraError(400, ['The property key must be between 1 and 255 characters.']);
    if (value === undefined) throw new JiraError(400, ['The property value must be valid, non-empty JSON.']);
    if (Buffer.byteLength(JSON.stringify(value)) > PROPERTY_LIMIT) throw new JiraError(400, [`The property value exceeds the maximum size of ${PROPERTY_LIMIT} bytes.`]);
    const created = !(key in rec.properties);
    rec.properties[key] = clone(value);
    reindex(rec);
    onChange();
    return created;
  }
  function getProperty(idOrKey, key) {
    const rec = getIssue(idOrKey);
    if (!(key in rec.properties)) throw new JiraError(404, [`The property with key '${key}' does not exist.`]);
    return { key, value: clone(rec.properties[key]) };
  }
  function deleteProperty(actor, idOrKey, key) {
    const rec = getIssue(idOrKey);
    if (!(key in rec.properties)) throw new JiraError(404, [`The property with key '${key}' does not exist.`]);
    delete rec.properties[key];
    reindex(rec);
    onChange();
  }
  function propertyKeys(idOrKey) {
    const rec = getIssue(idOrKey);
    return { keys: Object.keys(rec.properties).map((k) => ({ self: `${base()}/rest/api/3/issue/${rec.id}/properties/${encodeURIComponent(k)}`, key: k })) };
  }

  // ---------- search ----------
  const jqlContext = (actor) => ({
    projects, statuses, resolutions: RESOLUTIONS, priorities: PRIORITIES, issueTypes: ISSUE_TYPES, users: [...users.values()],
    statusCategories: Object.values(STATUS_CATEGORIES).map((c) => ({ id: c.key, key: c.key, name: c.name, numericId: c.id }))
      .flatMap((c) => [c, { id: c.key, name: String(c.numericId) }]),
    categoryOfStatus: (id) => statuses.find((s) => s.id === id)?.category ?? null,
    projectKeyOf: (pid) => projects.find((p) => p.id === pid)?.key ?? '',
    issueExists: (v) => lookupIssue(v)?.id ?? null,
    actor,
    timeZone,
    now: now(),
  });

  /** `POST /search/jql` semantics; returns SearchAndReconcileResults. */
  function search(actor, body) {
    const jql = body?.jql;
    if (typeof jql !== 'string') throw new JiraError(400, ['The JQL query is required.']);
    let compiled;
    try {
      compiled = compileJql(parseJql(jql), jqlContext(actor));
    } catch (e) {
      if (e instanceof JqlError) throw new JiraError(400, [e.message]);
      throw e;
    }
    if (!compiled.bounded) throw new JiraError(400, ['Unbounded JQL queries are not allowed here. Please add a search restriction to your query.']);
    const fieldsSpec = body.fields ?? [];
    const props = body.properties ?? [];
    const idOnly = (Array.isArray(fieldsSpec) ? fieldsSpec.length === 0 : !fieldsSpec) && props.length === 0;
    const cap = idOnly ? 5000 : 100;
    let max = body.maxResults === undefined ? 50 : Number(body.maxResults);
    if (!Number.isInteger(max) || max < 0) throw new JiraError(400, ['maxResults must be a non-negative integer.']);
    max = Math.min(max, cap);
    const tag = hash(jql);
    let offset = 0;
    if (body.nextPageToken !== undefined && body.nextPageToken !== null) {
      try {
        const t = JSON.parse(Buffer.from(String(body.nextPageToken), 'base64url').toString('utf8'));
        if (t.j !== tag || !Number.isInteger(t.o) || t.o < 0) throw new Error('mismatch');
        offset = t.o;
      } catch {
        throw new JiraError(400, ['The provided next page token is invalid or expired.']);
      }
    }
    const reconcile = new Set((body.reconcileIssues ?? []).map((x) => String(x)));
    if (reconcile.size > 50) throw new JiraError(400, ['reconcileIssues accepts at most 50 issue ids.']);
    const candidates = [];
    for (const rec of issues.values()) {
      const view = reconcile.has(rec.id) ? snapshot(rec) : indexedView(rec.id);
      if (view && compiled.match(view)) candidates.push(view);
    }
    candidates.sort(compiled.compare);
    const page = candidates.slice(offset, offset + max);
    const out = {
      issues: page.map((s) => issueJson(hydrate(s), { fields: fieldsSpec, properties: props, expand: body.expand, defaultFields: [], idOnly: true })),
      isLast: offset + max >= candidates.length,
    };
    if (!out.isLast) out.nextPageToken = Buffer.from(JSON.stringify({ o: offset + max, j: tag })).toString('base64url');
    return out;
  }
  // A snapshot lacks comments/changelog: render it with the live ones when the issue still exists.
  const hydrate = (snap) => ({ ...snap, comments: issues.get(snap.id)?.comments ?? [], changelog: issues.get(snap.id)?.changelog ?? [] });
  const hash = (s) => {
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return (h >>> 0).toString(36);
  };

  // ---------- persistence ----------
  function toJSON() {
    return { version: 1, counters, issues: [...issues.values()] };
  }
  function load(data) {
    if (!data || data.version !== 1) return;
    counters = { ...counters, ...data.counters, project: { ...data.counters?.project } };
    issues = new Map();
    index = new Map();
    for (const rec of data.issues ?? []) {
      // Project ids come from the options' order: re-attach by the key prefix instead.
      const project = projects.find((p) => p.key === rec.key.split('-')[0]);
      if (!project) continue;
      rec.projectId = project.id;
      if (!statusById(project.workflow, rec.statusId)) rec.statusId = project.workflow.initial;
      issues.set(rec.id, rec);
      index.set(rec.id, [{ at: 0, snap: snapshot(rec) }]);
    }
  }

  return {
    appAccountId,
    users,
    projects,
    statuses,
    catalogues: { issueTypes: ISSUE_TYPES, priorities: PRIORITIES, resolutions: RESOLUTIONS },
    get indexLagMs() { return indexLagMs; },
    set indexLagMs(v) { indexLagMs = v; },
    lookupIssue, getIssue, workflowOf, projectOf,
    userJson, statusJson, priorityJson, resolutionJson, projectJson, issueTypeJson, issueJson, transitionsJson, fieldValues,
    categoryJson, historiesJson,
    createIssue, createIssues, editIssue, deleteIssue, transitionIssue, addComment, listComments,
    setProperty, getProperty, deleteProperty, propertyKeys, search,
    allIssues: () => [...issues.values()],
    toJSON, load,
  };
}
