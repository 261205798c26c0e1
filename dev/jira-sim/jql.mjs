// The JQL subset of the Jira simulator: a tokenizer, a recursive-descent parser producing a small
// AST, and an evaluator over issue snapshots. Errors are `JqlError`s carrying Jira's wording; the
// HTTP layer answers them with 400 `{ errorMessages: [message], errors: {} }`.
//
// Supported: clauses `field op value` joined with AND / OR / NOT and parentheses; operators `=`,
// `!=`, `>`, `>=`, `<`, `<=`, `~`, `!~`, `IN`, `NOT IN`, `IS [NOT] EMPTY|NULL`; fields project, key /
// issuekey, id, updated, created, resolutiondate, duedate, status, statusCategory, resolution,
// assignee, reporter, labels, summary, text, issuetype / type, priority and
// `issue.property[<key>].<path>`; functions `currentUser()` and `now()`; `ORDER BY` on updated,
// created, key, id, duedate, priority, summary, status (ASC | DESC, comma-separated).

/** A JQL problem Jira would report as 400. */
export class JqlError extends Error {}

const WORD = /[^\s(),=!<>~"']/;

function tokenize(src) {
  const toks = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(' || c === ')' || c === ',') { toks.push({ t: c }); i++; continue; }
    const two = src.slice(i, i + 2);
    if (['!=', '>=', '<=', '!~'].includes(two)) { toks.push({ t: 'op', v: two }); i += 2; continue; }
    if (['=', '>', '<', '~'].includes(c)) { toks.push({ t: 'op', v: c }); i++; continue; }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) { s += src[j + 1]; j += 2; continue; }
        s += src[j++];
      }
      if (j >= src.length) throw new JqlError(`Error in the JQL Query: The quoted string '${s}' has not been completed.`);
      toks.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    if (c === '!') throw new JqlError(`Error in the JQL Query: The character '!' is a reserved JQL character.`);
    let j = i;
    while (j < src.length && (WORD.test(src[j]) || (src[j] === '[' ) || (src[j] === ']'))) {
      if (src[j] === '[') { // issue.property[key] may hold any character but ']'
        const close = src.indexOf(']', j);
        if (close < 0) throw new JqlError("Error in the JQL Query: Expecting ']' before the end of the query.");
        j = close + 1;
        continue;
      }
      j++;
    }
    toks.push({ t: 'word', v: src.slice(i, j) });
    i = j;
  }
  return toks;
}

const isKw = (tok, kw) => tok && tok.t === 'word' && tok.v.toUpperCase() === kw;

/**
 * Parse a JQL string into `{ where: AST | null, orderBy: [{ field, dir }] }`.
 * @throws {JqlError}
 */
export function parseJql(src) {
  const toks = tokenize(String(src ?? ''));
  let p = 0;
  const peek = (o = 0) => toks[p + o];
  const expectEnd = () => {
    if (p < toks.length) {
      const tok = toks[p];
      throw new JqlError(`Error in the JQL Query: Expecting either 'OR' or 'AND' but got '${tok.v ?? tok.t}'.`);
    }
  };

  const parseValue = () => {
    const tok = toks[p++];
    if (!tok) throw new JqlError('Error in the JQL Query: Expecting a value but reached the end of the query.');
    if (tok.t === 'str') return { kind: 'lit', v: tok.v, quoted: true };
    if (tok.t === 'word') {
      if (peek()?.t === '(' && peek(1)?.t === ')') { p += 2; return { kind: 'fn', name: tok.v.toLowerCase() }; }
      return { kind: 'lit', v: tok.v, quoted: false };
    }
    throw new JqlError(`Error in the JQL Query: Expecting a value but got '${tok.v ?? tok.t}'.`);
  };

  const parseClause = () => {
    const ftok = toks[p++];
    if (!ftok || (ftok.t !== 'word' && ftok.t !== 'str')) {
      throw new JqlError(`Error in the JQL Query: Expecting a field name but got '${ftok?.v ?? ftok?.t ?? 'end of query'}'.`);
    }
    const field = ftok.v;
    let op;
    const t = peek();
    if (t?.t === 'op') { op = t.v; p++; }
    else if (isKw(t, 'IN')) { op = 'in'; p++; }
    else if (isKw(t, 'NOT') && isKw(peek(1), 'IN')) { op = 'not in'; p += 2; }
    else if (isKw(t, 'IS') && isKw(peek(1), 'NOT')) { op = 'is not'; p += 2; }
    else if (isKw(t, 'IS')) { op = 'is'; p++; }
    else throw new JqlError(`Error in the JQL Query: Expecting operator but got '${t?.v ?? t?.t ?? 'end of query'}'.`);
    let value;
    if (op === 'in' || op === 'not in') {
      if (peek()?.t !== '(') throw new JqlError(`Error in the JQL Query: Expecting '(' after '${op.toUpperCase()}'.`);
      p++;
      const list = [];
      if (peek()?.t !== ')') {
        for (;;) {
          list.push(parseValue());
          if (peek()?.t === ',') { p++; continue; }
          break;
        }
      }
      if (peek()?.t !== ')') throw new JqlError("Error in the JQL Query: Expecting ')' to close the list.");
      p++;
      value = { kind: 'list', items: list };
    } else if (op === 'is' || op === 'is not') {
      const v = toks[p++];
      if (!isKw(v, 'EMPTY') && !isKw(v, 'NULL')) throw new JqlError(`Error in the JQL Query: Expecting 'EMPTY' or 'NULL' after '${op.toUpperCase()}'.`);
      value = { kind: 'empty' };
    } else {
      value = isKw(peek(), 'EMPTY') || isKw(peek(), 'NULL') ? (p++, { kind: 'empty' }) : parseValue();
    }
    return { type: 'clause', field, op, value };
  };

  const parsePrimary = () => {
    if (isKw(peek(), 'NOT')) { p++; return { type: 'not', expr: parsePrimary() }; }
    if (peek()?.t === '(') {
      p++;
      const e = parseOr();
      if (peek()?.t !== ')') throw new JqlError("Error in the JQL Query: Expecting ')' before the end of the query.");
      p++;
      return e;
    }
    return parseClause();
  };
  const parseAnd = () => {
    let e = parsePrimary();
    while (isKw(peek(), 'AND')) { p++; e = { type: 'and', a: e, b: parsePrimary() }; }
    return e;
  };
  const parseOr = () => {
    let e = parseAnd();
    while (isKw(peek(), 'OR')) { p++; e = { type: 'or', a: e, b: parseAnd() }; }
    return e;
  };

  let where = null;
  if (p < toks.length && !(isKw(peek(), 'ORDER') && isKw(peek(1), 'BY'))) where = parseOr();
  const orderBy = [];
  if (isKw(peek(), 'ORDER')) {
    if (!isKw(peek(1), 'BY')) throw new JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.");
    p += 2;
    for (;;) {
      const f = toks[p++];
      if (!f || (f.t !== 'word' && f.t !== 'str')) throw new JqlError('Error in the JQL Query: Expecting a field name in ORDER BY.');
      let dir = 'ASC';
      if (isKw(peek(), 'ASC') || isKw(peek(), 'DESC')) dir = toks[p++].v.toUpperCase();
      orderBy.push({ field: f.v.toLowerCase(), dir });
      if (peek()?.t === ',') { p++; continue; }
      break;
    }
  }
  expectEnd();
  return { where, orderBy };
}

const PROPERTY_FIELD = /^issue\.property\[(.+)\]\.(.+)$/i;
const RELATIVE = /^([+-]?)(\d+)([wdhm])$/i;
const UNIT = { w: 604800000, d: 86400000, h: 3600000, m: 60000 };

/**
 * Parse a JQL date literal: "YYYY-MM-DD[ HH:mm]", "YYYY/MM/DD[ HH:mm]", epoch ms, "-5d". As in
 * Jira, an absolute date is wall-clock time in the searching user's time zone (`timeZone`, IANA;
 * default UTC); a period ("-5d", "-90m") is relative to now and needs no time zone.
 */
export function parseJqlDate(v, now, timeZone = 'UTC') {
  const s = String(v).trim();
  if (/^\d{9,}$/.test(s)) return Number(s);
  const rel = RELATIVE.exec(s);
  if (rel) return now + (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * UNIT[rel[3].toLowerCase()];
  const m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$/.exec(s);
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], m[4] ? +m[4] : 0, m[5] ? +m[5] : 0);
  if (Number.isNaN(wall)) return null;
  // The instant whose wall-clock time in `timeZone` is `wall` (two passes settle DST edges).
  let t = wall - zoneOffsetMs(wall, timeZone);
  t = wall - zoneOffsetMs(t, timeZone);
  return t;
}

const zoneFormats = new Map();
/** Offset of `timeZone` from UTC at instant `t` (ms; positive east of Greenwich). */
export function zoneOffsetMs(t, timeZone) {
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  let f = zoneFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    zoneFormats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return asUtc - (t - (t % 1000 + 1000) % 1000);
}

/**
 * Compile a parsed query against a context, returning `{ match(snap), compare(a, b) }`.
 *
 * `ctx` supplies the catalogues: `projects`, `statuses`, `resolutions`, `priorities`, `issueTypes`,
 * `users` (arrays), `issueExists(keyOrId)` (live check, as Jira validates keys before searching),
 * `actor` (account id for currentUser()) and `now` (ms).
 * A snapshot is the simulator's issue record (see state.mjs) without comments.
 */
export function compileJql(parsed, ctx) {
  const invalidValue = (v, field) => new JqlError(`The value '${v}' does not exist for the field '${field}'.`);
  const lower = (x) => String(x).toLowerCase();
  const valueText = (val) => (val.kind === 'fn' ? val.name : val.v);

  const resolveIn = (catalogue, field) => (val) => {
    if (val.kind === 'empty') return null;
    const needle = lower(valueText(val));
    const hit = catalogue.filter((c) => lower(c.id) === needle || lower(c.name) === needle || (c.key && lower(c.key) === needle));
    if (!hit.length) throw invalidValue(valueText(val), field);
    return hit.map((c) => c.id);
  };

  const fieldAccess = (name) => {
    const f = lower(name);
    const prop = PROPERTY_FIELD.exec(name);
    if (prop) {
      const [, key, path] = prop;
      return { kind: 'property', get: (s) => path.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), s.properties?.[key]) };
    }
    switch (f) {
      case 'project': return { kind: 'ref', resolve: resolveIn(ctx.projects, 'project'), get: (s) => s.projectId };
      case 'key': case 'issuekey': case 'id': return { kind: 'issue', get: (s) => s.id };
      case 'updated': case 'updateddate': return { kind: 'date', get: (s) => s.updated };
      case 'created': case 'createddate': return { kind: 'date', get: (s) => s.created };
      case 'resolutiondate': case 'resolved': return { kind: 'date', get: (s) => s.resolutiondate };
      case 'duedate': case 'due': return { kind: 'date', get: (s) => (s.duedate ? Date.parse(`${s.duedate}T00:00:00Z`) : null) };
      case 'status': return { kind: 'ref', resolve: resolveIn(ctx.statuses, 'status'), get: (s) => s.statusId };
      case 'statuscategory': return {
        kind: 'ref',
        resolve: resolveIn(ctx.statusCategories, 'statusCategory'),
        get: (s) => ctx.categoryOfStatus(s.statusId),
      };
      case 'resolution': return {
        kind: 'ref',
        resolve: (val) => (val.kind !== 'empty' && lower(valueText(val)) === 'unresolved' ? null : resolveIn(ctx.resolutions, 'resolution')(val)),
        get: (s) => s.resolutionId,
      };
      case 'priority': return { kind: 'ref', resolve: resolveIn(ctx.priorities, 'priority'), get: (s) => s.priorityId };
      case 'issuetype': case 'type': return { kind: 'ref', resolve: resolveIn(ctx.issueTypes, 'issuetype'), get: (s) => s.issuetypeId };
      case 'assignee': case 'reporter': return {
        kind: 'ref',
        resolve: (val) => {
          if (val.kind === 'empty') return null;
          if (val.kind === 'fn' && val.name === 'currentuser') return [ctx.actor];
          const needle = lower(valueText(val));
          const hit = ctx.users.filter((u) => lower(u.accountId) === needle || lower(u.displayName) === needle);
          if (!hit.length) throw invalidValue(valueText(val), f);
          return hit.map((u) => u.accountId);
        },
        get: (s) => s[f],
      };
      case 'labels': return { kind: 'labels', get: (s) => s.labels };
      case 'summary': return { kind: 'text', get: (s) => s.summary };
      case 'text': return { kind: 'text', get: (s) => `${s.summary}\n${s.descriptionText ?? ''}` };
      default:
        throw new JqlError(`Field '${name}' does not exist or you do not have permission to view it.`);
    }
  };

  const dateOf = (val, field) => {
    if (val.kind === 'fn' && val.name === 'now') return ctx.now;
    const t = parseJqlDate(valueText(val), ctx.now, ctx.timeZone);
    if (t === null) {
      throw new JqlError(`Date value '${valueText(val)}' for field '${field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.`);
    }
    return t;
  };

  const compileClause = (c) => {
    const fa = fieldAccess(c.field);
    const { op, value } = c;
    const items = value.kind === 'list' ? value.items : [value];
    const emptyTest = (x) => x === null || x === undefined || (Array.isArray(x) && x.length === 0) || x === '';
    const unsupported = () => new JqlError(`The operator '${op}' is not supported by the '${c.field}' field.`);
    if (value.kind === 'empty') {
      if (!['=', '!=', 'is', 'is not'].includes(op)) throw unsupported();
      const want = op === '=' || op === 'is';
      return (s) => emptyTest(fa.get(s)) === want;
    }
    const neg = op === '!=' || op === 'not in' || op === '!~';
    const wrap = (pred) => (neg ? (s) => !pred(s) : pred);
    switch (fa.kind) {
      case 'issue': {
        if (!['=', '!=', 'in', 'not in'].includes(op)) throw unsupported();
        const ids = items.map((v) => {
          const id = ctx.issueExists(valueText(v));
          if (!id) throw new JqlError(`An issue with key '${valueText(v)}' does not exist for field '${lower(c.field) === 'id' ? 'id' : 'key'}'.`);
          return id;
        });
        return wrap((s) => ids.includes(s.id));
      }
      case 'ref': {
        if (!['=', '!=', 'in', 'not in'].includes(op)) throw unsupported();
        const wanted = items.flatMap((v) => {
          const r = fa.resolve(v);
          return r === null ? [null] : r;
        });
        return wrap((s) => wanted.includes(fa.get(s) ?? null));
      }
      case 'date': {
        if (['in', 'not in', '~', '!~'].includes(op)) throw unsupported();
        const t = dateOf(value, c.field);
        const cmp = { '=': (x) => x === t, '!=': (x) => x === t, '>': (x) => x > t, '>=': (x) => x >= t, '<': (x) => x < t, '<=': (x) => x <= t }[op];
        if (op === '!=') return (s) => fa.get(s) !== null && fa.get(s) !== t;
        return (s) => fa.get(s) !== null && fa.get(s) !== undefined && cmp(fa.get(s));
      }
      case 'labels': {
        if (!['=', '!=', 'in', 'not in'].includes(op)) throw unsupported();
        const wanted = items.map((v) => valueText(v));
        return wrap((s) => (s.labels ?? []).some((l) => wanted.includes(l)));
      }
      case 'text': {
        if (op !== '~' && op !== '!~') throw unsupported();
        const needle = lower(valueText(value)).replace(/\*/g, '');
        return wrap((s) => lower(fa.get(s) ?? '').includes(needle));
      }
      case 'property': {
        if (['~', '!~'].includes(op)) throw unsupported();
        const asComparable = (x) => (typeof x === 'number' ? x : x === null || x === undefined ? x : String(x));
        const lits = items.map((v) => valueText(v));
        const eq = (x) => x !== undefined && x !== null && lits.some((l) => (typeof x === 'number' ? x === Number(l) : String(x) === l));
        if (['=', 'in'].includes(op)) return (s) => eq(fa.get(s));
        if (['!=', 'not in'].includes(op)) return (s) => { const x = fa.get(s); return x !== undefined && x !== null && !eq(x); };
        const l = lits[0];
        const rhs = /^-?\d+(\.\d+)?$/.test(l) ? Number(l) : l;
        return (s) => {
          const x = asComparable(fa.get(s));
          if (x === undefined || x === null) return false;
          return { '>': x > rhs, '>=': x >= rhs, '<': x < rhs, '<=': x <= rhs }[op];
        };
      }
      default: throw unsupported();
    }
  };

  const compile = (n) => {
    if (!n) return () => true;
    if (n.type === 'and') { const a = compile(n.a); const b = compile(n.b); return (s) => a(s) && b(s); }
    if (n.type === 'or') { const a = compile(n.a); const b = compile(n.b); return (s) => a(s) || b(s); }
    if (n.type === 'not') { const e = compile(n.expr); return (s) => !e(s); }
    return compileClause(n);
  };

  const sortKey = {
    updated: (s) => s.updated,
    created: (s) => s.created,
    id: (s) => Number(s.id),
    key: (s) => [ctx.projectKeyOf(s.projectId), Number(s.key.split('-')[1])],
    issuekey: (s) => [ctx.projectKeyOf(s.projectId), Number(s.key.split('-')[1])],
    duedate: (s) => s.duedate ?? null,
    priority: (s) => Number(s.priorityId),
    summary: (s) => s.summary,
    status: (s) => ctx.statuses.find((x) => x.id === s.statusId)?.name ?? '',
  };
  for (const o of parsed.orderBy) {
    if (!sortKey[o.field]) throw new JqlError(`Not able to sort using field '${o.field}'.`);
  }
  const order = parsed.orderBy.length ? parsed.orderBy : [{ field: 'key', dir: 'DESC' }];
  const cmpVal = (a, b) => {
    if (Array.isArray(a)) {
      for (let i = 0; i < a.length; i++) { const c = cmpVal(a[i], b[i]); if (c) return c; }
      return 0;
    }
    if (a === b) return 0;
    if (a === null || a === undefined) return 1; // empty values sort last
    if (b === null || b === undefined) return -1;
    return a < b ? -1 : 1;
  };
  const compare = (a, b) => {
    for (const o of order) {
      const c = cmpVal(sortKey[o.field](a), sortKey[o.field](b));
      if (c) return o.dir === 'DESC' ? -c : c;
    }
    return Number(a.id) - Number(b.id);
  };

  return { match: compile(parsed.where), compare, bounded: Boolean(parsed.where) };
}
