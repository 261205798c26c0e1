// The soak's oracle: the expected final state of every finding, computed only from the findings as
// generated and the operations the soak applied, with the sync rules of the product page and
// docs/internals.md. It shares no code with the app.
//
// Per finding it tracks the expected CATAAM status, the Jira status category (and whether a done
// issue is "Won't Do"), the due date and the assignee. Status operations are only applied to a
// finding whose world already matches the expectation ("settled"), so the expected result of each
// operation is unambiguous; due date and assignee are owned by Jira, so the last value a human set
// wins whatever else is in flight.

export const FINDING_PROPERTY = 'cataam.finding';
const CLOSED = new Set(['RESOLVED', 'FALSE_POSITIVE']);

/** Whether the app should ticket a finding seen for the first time (product page, sync rules). */
export function shouldTicket(f) {
  if (CLOSED.has(f.status)) return false;
  if (f.kind === 'COMPLIANCE' && f.compliance?.result === 'PASS') return false;
  return true;
}

/** "Won't Do" by resolution or by status name (as Jira admins name it). */
export function isWontDo(issue) {
  const norm = (s) => String(s ?? '').toLowerCase().replace(/[’']/g, '').replace(/\s+/g, ' ').trim();
  return norm(issue.fields?.resolution?.name) === 'wont do' || norm(issue.fields?.status?.name) === 'wont do';
}

export class Oracle {
  /**
   * @param {object[]} findings the CATAAM findings before the app ran
   * @param {Record<string, 'PASS'|'FAIL'>} testOutcomes outcome of every re-run, by test id
   */
  constructor(findings, testOutcomes) {
    this.testOutcomes = testOutcomes;
    /** fid → expectation */
    this.expect = new Map();
    for (const f of findings) this.addFinding(f);
    this.ops = 0;
    this.opCounts = {};
  }

  /** A finding that exists in CATAAM (at start or created later). */
  addFinding(f) {
    this.expect.set(f.id, {
      id: f.id,
      kind: f.kind,
      testId: f.compliance?.testId ?? null,
      ticketed: shouldTicket(f),
      status: f.status,
      category: 'new',
      wontDo: false,
      dueDate: f.dueDate ?? null,
      assignee: f.assignedTo?.accountId ?? null,
      history: [],
    });
  }

  count(kind) {
    this.ops += 1;
    this.opCounts[kind] = (this.opCounts[kind] ?? 0) + 1;
  }

  /**
   * Records an operation and updates the expectation. `op.kind`:
   * cataam: resolve | falsePositive | reopen | acknowledge | complianceRun
   * jira:   inProgress | toDo | done | wontDo | assign(accountId) | dueDate(date)
   */
  apply(fid, op) {
    const e = this.expect.get(fid);
    if (!e) throw new Error(`oracle: unknown finding ${fid}`);
    this.count(op.kind);
    e.history.push(op.kind);
    const wasDone = e.category === 'done';
    switch (op.kind) {
      case 'resolve':
        e.status = 'RESOLVED';
        if (!wasDone) Object.assign(e, { category: 'done', wontDo: false });
        break;
      case 'falsePositive':
        e.status = 'FALSE_POSITIVE';
        if (!wasDone) Object.assign(e, { category: 'done', wontDo: true });
        break;
      case 'reopen':
      case 'acknowledge':
        e.status = op.kind === 'reopen' ? 'OPEN' : 'ACKNOWLEDGED';
        if (wasDone) Object.assign(e, { category: 'new', wontDo: false });
        break;
      case 'complianceRun':
        break; // changes the test result and logs only
      case 'inProgress':
        Object.assign(e, { category: 'indeterminate', wontDo: false, status: 'ACKNOWLEDGED' });
        break;
      case 'toDo':
        if (wasDone) e.status = 'OPEN';
        Object.assign(e, { category: 'new', wontDo: false });
        break;
      case 'done':
        if (e.kind === 'COMPLIANCE' && e.testId) {
          // Jira Done re-runs the test: still failing reopens the issue and the finding.
          if (this.testOutcomes[e.testId] === 'PASS') Object.assign(e, { category: 'done', wontDo: false, status: 'RESOLVED' });
          else Object.assign(e, { category: 'new', wontDo: false, status: 'OPEN' });
        } else Object.assign(e, { category: 'done', wontDo: false, status: 'RESOLVED' });
        break;
      case 'wontDo':
        Object.assign(e, { category: 'done', wontDo: true, status: 'FALSE_POSITIVE' });
        break;
      case 'assign':
        e.assignee = op.accountId;
        break;
      case 'dueDate':
        e.dueDate = op.date;
        break;
      default:
        throw new Error(`oracle: unknown operation ${op.kind}`);
    }
  }

  /**
   * Compares one finding's world with its expectation → list of problems (empty when it matches).
   * @param {object} finding current CATAAM finding
   * @param {object[]} issues Jira issues carrying this finding's id
   */
  problems(fid, finding, issues) {
    const e = this.expect.get(fid);
    const out = [];
    if (!e.ticketed) {
      if (issues.length) out.push({ type: 'unexpected_issue', detail: `${issues.length} issue(s) for a finding that is not ticketed` });
      return out;
    }
    if (issues.length === 0) {
      out.push({ type: 'missing_issue', detail: 'no issue' });
      return out;
    }
    if (issues.length > 1) out.push({ type: 'duplicate', detail: `${issues.length} issues` });
    const issue = issues[0];
    const cat = issue.fields?.status?.statusCategory?.key;
    if (finding.status !== e.status) out.push({ type: 'status', detail: `CATAAM ${finding.status}, expected ${e.status}` });
    if (cat !== e.category) out.push({ type: 'status', detail: `Jira ${issue.key} category ${cat}, expected ${e.category}` });
    else if (cat === 'done' && isWontDo(issue) !== e.wontDo) {
      out.push({ type: 'status', detail: `Jira ${issue.key} Won't Do ${isWontDo(issue)}, expected ${e.wontDo}` });
    }
    if ((finding.dueDate ?? null) !== e.dueDate) out.push({ type: 'field', detail: `dueDate ${finding.dueDate}, expected ${e.dueDate}` });
    if ((finding.assignedTo?.accountId ?? null) !== e.assignee) {
      out.push({ type: 'field', detail: `assignedTo ${finding.assignedTo?.accountId ?? null}, expected ${e.assignee}` });
    }
    return out;
  }
}

/** Jira issues by the finding id in their `cataam.finding` property. */
export function issuesByFinding(issues) {
  const map = new Map();
  for (const i of issues) {
    const id = i.properties?.[FINDING_PROPERTY]?.findingId;
    if (!id) continue;
    if (!map.has(id)) map.set(id, []);
    map.get(id).push(i);
  }
  return map;
}

/**
 * The data-policy scan: every stored KVS key and value (and pending queue message) is searched for
 * finding content (titles, descriptions, remediation, asset names and addresses, compliance logs
 * and test names, people's names and e-mails) and for the raw secrets. Returns the leaks found.
 */
export function scanForContent({ entries, queue = [], findings, secrets = [] }) {
  const needles = new Map();
  const add = (s, what) => {
    if (typeof s !== 'string') return;
    const v = s.trim();
    if (v.length >= 8) needles.set(v, what);
  };
  for (const f of findings) {
    add(f.title, 'title');
    add(f.description, 'description');
    add(f.remediation, 'remediation');
    add(f.asset?.hostname, 'asset hostname');
    add(f.asset?.ip, 'asset ip');
    add(f.asset?.cloudAccount, 'cloud account');
    add(f.compliance?.testName, 'compliance test name');
    add(f.compliance?.logs, 'compliance logs');
    add(f.assignedTo?.displayName, 'assignee name');
    add(f.assignedTo?.email, 'assignee e-mail');
    add(f.mitre?.name, 'MITRE technique name');
  }
  for (const s of secrets) add(s, 'secret');
  const leaks = [];
  const haystacks = [
    ...entries.map((e) => ({ where: `kvs ${e.key}`, text: `${e.key}\n${JSON.stringify(e.value)}` })),
    ...queue.map((q, i) => ({ where: `queue message ${i}`, text: JSON.stringify(q.body ?? q) })),
  ];
  // One pass per needle over everything joined (a 40-character prefix is enough to be content),
  // then locate the entry only for the needles that hit.
  const SEP = '\u0000';
  const big = haystacks.map((h) => h.text).join(SEP);
  for (const [needle, what] of needles) {
    const forms = [needle.slice(0, 40), JSON.stringify(needle).slice(1, 41)];
    if (!forms.some((n) => big.includes(n))) continue;
    for (const h of haystacks) if (forms.some((n) => h.text.includes(n))) leaks.push({ where: h.where, what });
  }
  return leaks;
}
