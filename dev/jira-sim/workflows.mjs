// Workflows of the Jira simulator: statuses (with their categories) and the transitions between them.
//
// Two built-in workflows, plus any custom definition of the same shape:
// - `default`: Jira Software's simplified workflow (To Do / In Progress / Done, any status to any
//   other through global transitions, no screens; entering Done sets a resolution, default "Done").
// - `custom`: a classic multi-hop workflow (Open → Triage → In Progress → In Review → Closed, Closed
//   → Reopened → …) with no direct new → done edge and a screen that requires a resolution on the
//   transition into Closed, so a client has to search a path by status category.

/** Jira's status categories (ids and keys as Jira Cloud answers them). */
export const STATUS_CATEGORIES = {
  new: { id: 2, key: 'new', colorName: 'blue-gray', name: 'To Do' },
  indeterminate: { id: 4, key: 'indeterminate', colorName: 'yellow', name: 'In Progress' },
  done: { id: 3, key: 'done', colorName: 'green', name: 'Done' },
};

/** The simplified workflow of a Jira Software team-managed project. */
export const DEFAULT_WORKFLOW = {
  name: 'Software Simplified Workflow',
  statuses: [
    { id: '10000', name: 'To Do', category: 'new' },
    { id: '3', name: 'In Progress', category: 'indeterminate' },
    { id: '10001', name: 'Done', category: 'done' },
  ],
  initial: '10000',
  // Global transitions: available from every status except the target itself.
  transitions: [
    { id: '11', name: 'To Do', from: '*', to: '10000' },
    { id: '21', name: 'In Progress', from: '*', to: '3' },
    { id: '31', name: 'Done', from: '*', to: '10001', acceptsResolution: true },
  ],
};

/** A classic workflow with multi-hop paths and a required resolution screen into Closed. */
export const CUSTOM_WORKFLOW = {
  name: 'CATAAM Security Workflow',
  statuses: [
    { id: '1', name: 'Open', category: 'new' },
    { id: '10100', name: 'Triage', category: 'new' },
    { id: '3', name: 'In Progress', category: 'indeterminate' },
    { id: '10101', name: 'In Review', category: 'indeterminate' },
    { id: '6', name: 'Closed', category: 'done' },
    { id: '4', name: 'Reopened', category: 'new' },
  ],
  initial: '1',
  transitions: [
    { id: '11', name: 'Start triage', from: ['1'], to: '10100' },
    { id: '21', name: 'Start progress', from: ['10100', '4'], to: '3' },
    { id: '31', name: 'Back to triage', from: ['3'], to: '10100' },
    { id: '41', name: 'Submit for review', from: ['3'], to: '10101' },
    { id: '51', name: 'Request changes', from: ['10101'], to: '3' },
    { id: '61', name: 'Close issue', from: ['10101'], to: '6', screen: { resolutionRequired: true } },
    { id: '71', name: 'Reopen issue', from: ['6'], to: '4' },
    { id: '81', name: 'Triage again', from: ['4'], to: '10100' },
  ],
};

/**
 * Resolve the `workflow` option into a checked definition.
 * @param {'default'|'custom'|object|undefined} option
 */
export function resolveWorkflow(option) {
  let wf;
  if (option === undefined || option === null || option === 'default') wf = DEFAULT_WORKFLOW;
  else if (option === 'custom') wf = CUSTOM_WORKFLOW;
  else if (typeof option === 'object') wf = option;
  else throw new Error(`unknown workflow ${JSON.stringify(option)} (use 'default', 'custom' or a definition)`);
  const ids = new Set(wf.statuses.map((s) => s.id));
  for (const s of wf.statuses) {
    if (!STATUS_CATEGORIES[s.category]) throw new Error(`status ${s.name}: unknown category ${s.category}`);
  }
  if (!ids.has(wf.initial)) throw new Error(`workflow ${wf.name}: unknown initial status ${wf.initial}`);
  for (const t of wf.transitions) {
    if (!ids.has(t.to)) throw new Error(`transition ${t.id}: unknown target ${t.to}`);
    if (t.from !== '*' && !t.from.every((f) => ids.has(f))) throw new Error(`transition ${t.id}: unknown source`);
  }
  return structuredClone(wf);
}

/** The status definition with this id, or undefined. */
export function statusById(wf, id) {
  return wf.statuses.find((s) => s.id === String(id));
}

/** Status by name (case-insensitive) or id. */
export function findStatus(wf, nameOrId) {
  const needle = String(nameOrId).toLowerCase();
  return wf.statuses.find((s) => s.id === String(nameOrId) || s.name.toLowerCase() === needle);
}

/** The transitions a user may take from `statusId` (global ones never loop back to the same status). */
export function transitionsFrom(wf, statusId) {
  return wf.transitions.filter((t) =>
    t.from === '*' ? t.to !== statusId : t.from.includes(statusId),
  );
}

/** Whether the transition shows a screen, and whether that screen requires a resolution. */
export function transitionScreen(t) {
  return { hasScreen: Boolean(t.screen), resolutionRequired: Boolean(t.screen?.resolutionRequired) };
}

/**
 * Shortest chain of transitions from `fromId` to the status `toId` (breadth-first), or null.
 * Used by the "human" helpers only; the app must find its own path through the REST API.
 */
export function pathTo(wf, fromId, toId) {
  if (fromId === toId) return [];
  const prev = new Map([[fromId, null]]);
  const queue = [fromId];
  while (queue.length) {
    const cur = queue.shift();
    for (const t of transitionsFrom(wf, cur)) {
      if (prev.has(t.to)) continue;
      prev.set(t.to, { from: cur, t });
      if (t.to === toId) {
        const chain = [];
        for (let at = toId; prev.get(at); at = prev.get(at).from) chain.unshift(prev.get(at).t);
        return chain;
      }
      queue.push(t.to);
    }
  }
  return null;
}
