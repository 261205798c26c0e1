// The CATAAM admin page (Jira Settings → Apps → CATAAM Integration).
// Plain DOM over the static markup in index.html; every action goes through `call()` (the
// @forge/bridge resolver) and shows a loading state, then a result or a specific error.
// Untrusted text (project names, org name, server messages) is only ever set as textContent.

import { call, enableTheme } from './api.js';
import {
  DEFAULT_BASE_URL,
  DEFAULT_PRIORITIES,
  PRIORITY_KEYS,
  SEVERITIES,
  checkApiKey,
  checkBaseUrl,
  validateSettings,
} from './validate.js';
import {
  absoluteTime,
  actionLabel,
  connectionView,
  errorText,
  reasonLabel,
  relativeTime,
  toDate,
} from './format.js';

/** Above this many projects the dropdown gets a search box. */
const PROJECT_SEARCH_THRESHOLD = 8;
/** Safety cap on project pages (100 per page → 20,000 projects). */
const MAX_PROJECT_PAGES = 200;
/** Health refresh while a first sync runs, and otherwise. */
const HEALTH_FAST_MS = 3000;
const HEALTH_SLOW_MS = 15000;
/** Most activity rows shown. */
const ACTIVITY_ROWS = 10;

const $ = (id) => document.getElementById(id);

const state = {
  apiKeySet: false,
  webhookSecretSet: false,
  projects: [],
  savedProject: null,
  healthTimer: null,
  backlogActive: false,
};

// ---------------------------------------------------------------------------------------------
// Small DOM helpers

/** Creates an element with attributes/properties and children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An ADS-style section message: tone `info` | `success` | `warning` | `error`. */
function sectionMessage(tone, title, ...body) {
  return h(
    'div',
    { class: `section-message ${tone}`, role: tone === 'error' ? 'alert' : 'status' },
    title ? h('h3', { class: 'sm-title', text: title }) : null,
    ...body.map((b) => (typeof b === 'string' ? h('p', { text: b }) : b)),
  );
}

function show(container, ...nodes) {
  container.replaceChildren(...nodes.filter(Boolean));
}

/** Marks a button busy (spinner, disabled) for the duration of `work()`. */
async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

function timeNode(value) {
  const date = toDate(value);
  if (!date) return document.createTextNode('never');
  return h('time', { datetime: date.toISOString(), title: absoluteTime(date) }, relativeTime(date));
}

// ---------------------------------------------------------------------------------------------
// Field errors

const FIELD_INPUT = {
  baseUrl: 'baseUrl',
  apiKey: 'apiKey',
  projectId: 'projectId',
  projectKey: 'projectId',
  issueType: 'issueType',
  minSeverity: 'minSeverity',
  kinds: null,
  sharedSecret: 'generate-secret',
  ...Object.fromEntries(PRIORITY_KEYS.map((k) => [`priorities.${k}`, `priority-${k}`])),
};

function clearFieldErrors() {
  for (const node of document.querySelectorAll('.field-error')) {
    node.hidden = true;
    node.textContent = '';
  }
  for (const node of document.querySelectorAll('[aria-invalid="true"]')) {
    node.removeAttribute('aria-invalid');
  }
}

function setFieldError(field, message) {
  const slotId = field === 'projectKey' ? 'projectId-error' : `${field}-error`;
  const slot = $(slotId);
  if (!slot) return false;
  slot.textContent = message;
  slot.hidden = false;
  const inputId = FIELD_INPUT[field];
  if (inputId && $(inputId)) $(inputId).setAttribute('aria-invalid', 'true');
  if (field === 'kinds') {
    for (const box of document.querySelectorAll('input[name="kinds"]')) {
      box.setAttribute('aria-invalid', 'true');
    }
  }
  return true;
}

/** Shows field errors next to their fields; returns those that have no field on the page. */
function showFieldErrors(errors) {
  const unplaced = [];
  for (const err of errors) {
    if (!setFieldError(err.field, err.message || errorText(err))) unplaced.push(err);
  }
  return unplaced;
}

function focusFirstInvalid() {
  const first = document.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
}

// ---------------------------------------------------------------------------------------------
// Loading settings

function refuse(error) {
  $('page-loading').hidden = true;
  $('content').hidden = true;
  show(
    $('page-message'),
    sectionMessage(
      'error',
      'You need to be a Jira administrator',
      'Only Jira administrators can view or change the CATAAM integration settings. Ask a Jira ' +
        'administrator of this site to configure the app, or to give you the Administer Jira ' +
        'global permission.',
      error?.message && error.code !== 'FORBIDDEN' ? error.message : '',
    ),
  );
}

function loadFailed(error) {
  $('page-loading').hidden = true;
  $('content').hidden = true;
  const retry = h('button', { type: 'button', class: 'button', id: 'reload-settings' }, 'Try again');
  retry.addEventListener('click', () => start());
  show(
    $('page-message'),
    sectionMessage('error', 'The settings could not be loaded', errorText(error), h('p', {}, retry)),
  );
}

function fillForm(answer) {
  const s = answer.settings ?? {};
  state.apiKeySet = Boolean(answer.apiKeySet);
  state.webhookSecretSet = Boolean(answer.webhookSecretSet);
  $('baseUrl').value = s.baseUrl || DEFAULT_BASE_URL;
  $('apiKey').value = '';
  $('issueType').value = s.issueType || 'Bug';
  $('minSeverity').value = SEVERITIES.includes(s.minSeverity) ? s.minSeverity : 'INFO';
  const kinds = Array.isArray(s.kinds) ? s.kinds : ['IASM', 'COMPLIANCE'];
  for (const box of document.querySelectorAll('input[name="kinds"]')) {
    box.checked = kinds.includes(box.value);
  }
  for (const key of PRIORITY_KEYS) {
    $(`priority-${key}`).value = s.priorities?.[key] || DEFAULT_PRIORITIES[key];
  }
  state.savedProject = s.projectId ? { id: String(s.projectId), key: s.projectKey ?? null } : null;
  $('webhookUrl').value = answer.webTriggerUrl ?? '';
  $('copy-webhook').disabled = !answer.webTriggerUrl;
  renderKeyState();
  renderSecretState();
  if (state.projects.length) renderProjects();
}

function renderKeyState() {
  $('apiKey-saved').hidden = !state.apiKeySet;
  $('apiKey').placeholder = state.apiKeySet ? '•••••••• (saved — leave blank to keep it)' : 'cataam_…';
}

function renderSecretState() {
  const node = $('secret-state');
  if (state.webhookSecretSet) {
    show(
      node,
      h('span', { class: 'lozenge lozenge-success' }, 'Set'),
      h('span', { id: 'secret-status-text' }, 'A secret is set.'),
    );
    $('generate-secret').textContent = 'Generate new secret';
  } else {
    show(
      node,
      h('span', { class: 'lozenge' }, 'Not set'),
      h('span', { id: 'secret-status-text' }, 'No secret yet. Generate one to enable real-time push.'),
    );
    $('generate-secret').textContent = 'Generate';
  }
}

async function start() {
  $('page-loading').hidden = false;
  show($('page-message'));
  const answer = await call('getSettings');
  if (!answer.ok) {
    if (answer.error.code === 'FORBIDDEN') refuse(answer.error);
    else loadFailed(answer.error);
    return;
  }
  fillForm(answer);
  $('page-loading').hidden = true;
  $('content').hidden = false;
  loadProjects();
  refreshHealth();
}

// ---------------------------------------------------------------------------------------------
// 1 · Connection

async function testConnection() {
  const result = $('test-result');
  clearFieldErrors();
  const base = checkBaseUrl($('baseUrl').value);
  const keyError = checkApiKey($('apiKey').value, state.apiKeySet);
  if (base.error || keyError) {
    showFieldErrors([base.error, keyError].filter(Boolean));
    show(result, sectionMessage('error', null, 'Fix the highlighted fields, then test again.'));
    focusFirstInvalid();
    return;
  }
  show(result, h('span', { class: 'help' }, 'Testing the connection…'));
  const answer = await busy($('test-connection'), () =>
    call('testConnection', { baseUrl: base.value, apiKey: $('apiKey').value.trim() }),
  );
  if (answer.ok) {
    const org = answer.org?.name;
    show(
      result,
      h('span', { class: 'badge-connected', id: 'connected-badge' }, 'Connected ✓'),
      org ? h('span', {}, 'CATAAM organisation: ', h('strong', { id: 'org-name', text: org })) : null,
    );
    return;
  }
  const { code, field } = answer.error;
  if (code === 'FORBIDDEN') return refuse(answer.error);
  if (code === 'KEY_REJECTED') {
    setFieldError('apiKey', 'CATAAM rejected this key.');
  } else if (field === 'baseUrl' || code === 'INVALID_URL' || code === 'HOST_NOT_ALLOWED') {
    setFieldError('baseUrl', answer.error.message || errorText(answer.error));
  } else if (field === 'apiKey') {
    setFieldError('apiKey', answer.error.message || errorText(answer.error));
  }
  const titles = {
    KEY_REJECTED: 'API key rejected',
    UNREACHABLE: 'CATAAM unreachable',
    CATAAM_UNREACHABLE: 'CATAAM unreachable',
    HOST_NOT_ALLOWED: 'Host not allowed',
    INVALID_URL: 'Invalid base URL',
    NOT_CONFIGURED: 'No API key yet',
  };
  show(
    result,
    sectionMessage(
      'error',
      titles[code] ?? 'Connection failed',
      errorText(answer.error),
      answer.error.message && answer.error.message !== errorText(answer.error)
        ? h('p', { class: 'help' }, `Details: ${answer.error.message}`)
        : null,
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// 2 · Projects

function projectLabel(p) {
  return p.key ? `${p.name} (${p.key})` : p.name;
}

function renderProjects() {
  const select = $('projectId');
  const current = select.value || state.savedProject?.id || '';
  const filter = $('project-filter').value.trim().toLowerCase();
  const matches = filter
    ? state.projects.filter(
        (p) =>
          String(p.name ?? '').toLowerCase().includes(filter) ||
          String(p.key ?? '').toLowerCase().includes(filter),
      )
    : state.projects;
  const options = [h('option', { value: '' }, 'Choose a project…')];
  const selected = state.projects.find((p) => String(p.id) === current);
  if (current && !selected) {
    const label = state.savedProject?.key ?? current;
    options.push(h('option', { value: current, 'data-key': state.savedProject?.key ?? '' },
      `${label} (not available — choose another project)`));
  } else if (selected && !matches.includes(selected)) {
    options.push(h('option', { value: selected.id, 'data-key': selected.key }, projectLabel(selected)));
  }
  for (const p of matches) {
    options.push(h('option', { value: String(p.id), 'data-key': p.key ?? '' }, projectLabel(p)));
  }
  if (filter && matches.length === 0) {
    options.push(h('option', { value: '__none', disabled: true }, `No project matches “${filter}”`));
  }
  select.replaceChildren(...options);
  select.value = current;
  $('project-filter-wrap').hidden = state.projects.length <= PROJECT_SEARCH_THRESHOLD;
  const count = state.projects.length;
  $('projectId-status').textContent = filter
    ? `${matches.length} of ${count} projects match.`
    : `${count} project${count === 1 ? '' : 's'} available.`;
  if (current && !selected) {
    setFieldError('projectId', 'The saved project is no longer available to the app. Choose another project.');
  }
}

async function loadProjects() {
  const select = $('projectId');
  const status = $('projectId-status');
  $('projects-retry').hidden = true;
  select.disabled = true;
  select.setAttribute('aria-busy', 'true');
  const all = [];
  let startAt = 0;
  let failure = null;
  for (let page = 0; page < MAX_PROJECT_PAGES; page++) {
    status.textContent = all.length ? `Loading projects… (${all.length} so far)` : 'Loading projects…';
    const answer = await call('listProjects', { query: '', startAt });
    if (!answer.ok) {
      failure = answer.error;
      break;
    }
    const items = Array.isArray(answer.projects) ? answer.projects : [];
    all.push(...items.filter((p) => p && p.id !== undefined && p.id !== null));
    if (answer.isLast !== false || items.length === 0 || answer.nextStartAt == null) break;
    startAt = answer.nextStartAt;
  }
  select.disabled = false;
  select.removeAttribute('aria-busy');
  const seen = new Set();
  state.projects = all.filter((p) => !seen.has(String(p.id)) && seen.add(String(p.id)));
  if (failure) {
    if (failure.code === 'FORBIDDEN') return refuse(failure);
    status.textContent = '';
    setFieldError('projectId', `The projects could not be loaded: ${errorText(failure)}`);
    $('projects-retry').hidden = false;
    if (!state.projects.length) {
      const saved = state.savedProject;
      select.replaceChildren(
        h('option', { value: saved?.id ?? '', 'data-key': saved?.key ?? '' },
          saved ? `${saved.key ?? saved.id} (saved)` : 'Projects unavailable'),
      );
      return;
    }
  }
  renderProjects();
  if (!state.projects.length && !failure) {
    status.textContent = 'No projects found. Create a Jira project first, or check the app’s access.';
  }
}

// ---------------------------------------------------------------------------------------------
// 3 · Real-time push

async function copyText(text, statusNode, input) {
  let done = false;
  try {
    await navigator.clipboard.writeText(text);
    done = true;
  } catch {
    // Clipboard API unavailable (permissions policy of the Custom UI iframe): select and copy.
    try {
      input.focus();
      input.select();
      done = document.execCommand('copy');
    } catch {
      done = false;
    }
  }
  statusNode.classList.toggle('error', !done);
  statusNode.textContent = done ? 'Copied' : 'Could not copy automatically: the text is selected, press Ctrl+C.';
  if (!done) {
    input.focus();
    input.select();
  }
  clearTimeout(statusNode.clearTimer);
  statusNode.clearTimer = setTimeout(() => {
    statusNode.textContent = '';
  }, 4000);
}

async function generateSecret() {
  const result = $('secret-result');
  show(result);
  const answer = await busy($('generate-secret'), () => call('generateSecret'));
  if (!answer.ok || typeof answer.secret !== 'string' || !answer.secret) {
    if (answer.error?.code === 'FORBIDDEN') return refuse(answer.error);
    show(result, sectionMessage('error', 'The secret could not be generated', errorText(answer.error)));
    return;
  }
  state.webhookSecretSet = true;
  renderSecretState();
  $('sharedSecret-error').hidden = true;
  $('generate-secret').removeAttribute('aria-invalid');
  // A "Settings not saved" left over from a save that only lacked the secret no longer applies.
  if ($('save-result').querySelector('.error') && !document.querySelector('.field-error:not([hidden])')) {
    show($('save-result'));
  }
  $('secretValue').value = answer.secret;
  $('secret-reveal').hidden = false;
  const until = toDate(answer.previousSecretValidUntil);
  show(
    $('secret-grace'),
    until
      ? h('p', {}, 'The previous secret keeps working until ', timeNode(until),
        ` (${absoluteTime(until)}), so deliveries continue while you update CATAAM.`)
      : null,
  );
  $('copy-secret').focus();
}

async function reregister() {
  const result = $('reregister-result');
  show(result, h('span', { class: 'help' }, 'Registering…'));
  const answer = await busy($('reregister'), () => call('reregisterWebhook'));
  if (answer.ok) {
    if (answer.url) $('webhookUrl').value = answer.url;
    show(result, sectionMessage('success', null, 'Webhook URL registered with CATAAM.'));
    return;
  }
  if (answer.error.code === 'FORBIDDEN') return refuse(answer.error);
  show(result, sectionMessage('error', 'Registration failed', errorText(answer.error)));
}

// ---------------------------------------------------------------------------------------------
// Save

function readForm() {
  const select = $('projectId');
  const option = select.selectedOptions[0];
  return {
    baseUrl: $('baseUrl').value,
    apiKey: $('apiKey').value,
    projectId: select.value === '__none' ? '' : select.value,
    projectKey: option?.dataset.key || null,
    issueType: $('issueType').value,
    minSeverity: $('minSeverity').value,
    kinds: [...document.querySelectorAll('input[name="kinds"]:checked')].map((b) => b.value),
    priorities: Object.fromEntries(PRIORITY_KEYS.map((k) => [k, $(`priority-${k}`).value])),
  };
}

function webhookErrorText(error) {
  if (!error) return 'CATAAM did not accept the webhook URL.';
  if (typeof error === 'string') return error;
  return errorText(error);
}

async function save(event) {
  event.preventDefault();
  const result = $('save-result');
  clearFieldErrors();
  show(result);
  const { payload, errors } = validateSettings(readForm(), { keySaved: state.apiKeySet });
  if (!state.webhookSecretSet) {
    errors.push({
      field: 'sharedSecret',
      code: 'REQUIRED',
      message: 'Generate a shared secret, then paste it into CATAAM.',
    });
  }
  if (errors.length) {
    showFieldErrors(errors);
    show(
      result,
      sectionMessage(
        'error',
        'Settings not saved',
        `Fix the ${errors.length === 1 ? 'highlighted field' : `${errors.length} highlighted fields`} and save again.`,
      ),
    );
    focusFirstInvalid();
    return;
  }
  show(result, h('p', { class: 'help' }, 'Saving…'));
  const answer = await busy($('save'), () => call('saveSettings', payload));
  if (!answer.ok) {
    const err = answer.error;
    if (err.code === 'FORBIDDEN') return refuse(err);
    if (err.code === 'VALIDATION' && Array.isArray(err.fields)) {
      const unplaced = showFieldErrors(err.fields);
      show(
        result,
        sectionMessage(
          'error',
          'Settings not saved',
          'Fix the highlighted fields and save again.',
          unplaced.length
            ? h('ul', {}, unplaced.map((f) => h('li', {}, `${f.field}: ${f.message || f.code}`)))
            : null,
        ),
      );
      focusFirstInvalid();
      return;
    }
    if (err.field) setFieldError(err.field, errorText(err));
    show(result, sectionMessage('error', 'Settings not saved', errorText(err)));
    return;
  }
  state.apiKeySet = state.apiKeySet || Boolean(payload.apiKey);
  $('apiKey').value = '';
  renderKeyState();
  const webhook = answer.webhook ?? {};
  if (webhook.registered) {
    show(
      result,
      sectionMessage(
        'success',
        'Settings saved',
        'The webhook URL is registered with CATAAM: findings will be pushed in real time, and the ' +
          '5-minute poll keeps everything in step.',
      ),
    );
  } else {
    show(
      result,
      sectionMessage(
        'warning',
        'Settings saved, but the webhook URL was not registered with CATAAM',
        webhookErrorText(webhook.error),
        'Real-time push is off until it is registered; the 5-minute poll still syncs. Fix the ' +
          'problem, then click Re-register Webhook with CATAAM.',
      ),
    );
  }
  const fresh = await call('getSettings');
  if (fresh.ok) fillForm(fresh);
  refreshHealth();
}

// ---------------------------------------------------------------------------------------------
// Sync health

function renderHealth(health) {
  const view = connectionView(health.connection);
  const lozenge = $('health-connection');
  lozenge.className = `lozenge lozenge-${view.tone}`;
  lozenge.textContent = view.label;
  lozenge.dataset.state = view.state;
  if (view.state === 'key_rejected' || view.state === 'unreachable') {
    // An earlier "Connected ✓" from Test Connection no longer holds.
    if ($('connected-badge')) show($('test-result'));
  }
  const detail = health.connection?.message;
  const text = $('health-connection-text');
  if (view.tone === 'removed' || view.tone === 'moved') {
    show(text, sectionMessage(view.tone === 'removed' ? 'error' : 'warning', view.label, view.text,
      detail ? h('p', { class: 'help' }, detail) : null));
    text.className = '';
  } else {
    text.className = 'help';
    text.textContent = view.text;
  }
  show($('health-last-poll'), timeNode(health.lastPollAt));
  show($('health-next-poll'), health.nextPollAt ? timeNode(health.nextPollAt) : document.createTextNode('—'));
  show($('health-last-push'), timeNode(health.lastPushAt));

  const backlog = health.backlog;
  const total = Number(backlog?.total) || 0;
  const done = Math.max(0, Number(backlog?.done) || 0);
  const active = Boolean(backlog) && (backlog.active === true || (total > 0 && done < total));
  state.backlogActive = active;
  $('backlog').hidden = !active;
  if (active) {
    const bar = $('backlog-bar');
    if (total > 0) {
      bar.max = total;
      bar.value = Math.min(done, total);
      $('backlog-label').textContent = `First sync: ${done} of ${total} findings`;
    } else {
      bar.removeAttribute('value');
      $('backlog-label').textContent = done
        ? `First sync in progress: ${done} finding${done === 1 ? '' : 's'} processed`
        : 'First sync in progress…';
    }
  }

  const counts = health.counts ?? {};
  $('count-created').textContent = String(counts.created ?? 0);
  $('count-updated').textContent = String(counts.updated ?? 0);
  $('count-transitioned').textContent = String(counts.transitioned ?? 0);
  const skipped = counts.skipped && typeof counts.skipped === 'object' ? counts.skipped : {};
  const skippedTotal =
    typeof counts.skipped === 'number'
      ? counts.skipped
      : Number(counts.skippedTotal) ||
        Object.values(skipped).reduce((a, n) => a + (Number(n) || 0), 0);
  $('count-skipped').textContent = String(skippedTotal);
  $('count-cataam').textContent = String(counts.cataamUpdates ?? 0);
  $('count-commented').textContent = String(counts.commented ?? 0);
  const errors = counts.errors && typeof counts.errors === 'object' ? counts.errors : {};
  show(
    $('skipped-reasons'),
    ...Object.entries(skipped)
      .filter(([, n]) => Number(n) > 0)
      .map(([reason, n]) => h('li', {}, `${n} skipped: ${reasonLabel(reason)}`)),
    ...Object.entries(errors)
      .filter(([, n]) => Number(n) > 0)
      .map(([code, n]) => h('li', { class: 'error-count' }, `${n} failed attempt${Number(n) === 1 ? '' : 's'}: ${code}`)),
  );

  const dead = Array.isArray(health.deadLetters) ? health.deadLetters : [];
  $('dead-rows').hidden = dead.length === 0;
  $('dead-empty').hidden = dead.length > 0;
  show(
    $('dead-rows'),
    ...dead.map((d) => {
      const retry = h(
        'button',
        { type: 'button', class: 'button button-small', 'aria-label': `Retry ${d.findingId}` },
        'Retry',
      );
      const item = h(
        'li',
        { 'data-finding': d.findingId },
        h(
          'span',
          { class: 'row-main' },
          h('span', { class: 'row-title mono', text: d.findingId }),
          h(
            'span',
            { class: 'row-meta' },
            `${d.code ?? 'ERROR'} · ${d.attempts ?? '?'} attempt${d.attempts === 1 ? '' : 's'}`,
            d.at ? ' · ' : '',
            d.at ? timeNode(d.at) : '',
          ),
        ),
        retry,
      );
      retry.addEventListener('click', () => retryDeadLetter(d.findingId, retry, item));
      return item;
    }),
  );

  const activity = Array.isArray(health.activity) ? health.activity.slice(0, ACTIVITY_ROWS) : [];
  $('activity-rows').hidden = activity.length === 0;
  $('activity-empty').hidden = activity.length > 0;
  show(
    $('activity-rows'),
    ...activity.map((a) =>
      h(
        'li',
        { 'data-finding': a.findingId ?? '', 'data-action': a.action ?? '' },
        h(
          'span',
          { class: 'row-main' },
          h('span', { class: 'row-title' }, actionLabel(a.action), a.issueKey ? ` · ${a.issueKey}` : ''),
          h('span', { class: 'row-meta' }, h('span', { class: 'mono', text: a.findingId ?? '' }), ' · ', timeNode(a.at)),
        ),
      ),
    ),
  );
}

function scheduleHealth() {
  clearTimeout(state.healthTimer);
  state.healthTimer = setTimeout(
    () => {
      if (document.hidden) scheduleHealth();
      else refreshHealth();
    },
    state.backlogActive ? HEALTH_FAST_MS : HEALTH_SLOW_MS,
  );
}

let healthInFlight = null;

async function refreshHealth() {
  if (healthInFlight) return healthInFlight;
  const button = $('health-refresh');
  healthInFlight = busy(button, async () => {
    const answer = await call('getHealth');
    if (answer.ok && answer.health) {
      show($('health-error'));
      renderHealth(answer.health);
      $('health').dataset.loaded = String(Date.now());
    } else if (answer.error?.code === 'FORBIDDEN') {
      refuse(answer.error);
    } else {
      show($('health-error'), sectionMessage('error', null, `Health could not be loaded: ${errorText(answer.error)}`));
    }
  });
  try {
    await healthInFlight;
  } finally {
    healthInFlight = null;
    scheduleHealth();
  }
}

async function retryDeadLetter(findingId, button, item) {
  const answer = await busy(button, () => call('retryDeadLetter', { findingId }));
  if (answer.ok) {
    button.replaceWith(h('span', { class: 'lozenge lozenge-inprogress' }, 'Retried'));
    refreshHealth();
  } else {
    if (answer.error.code === 'FORBIDDEN') return refuse(answer.error);
    item.append(h('p', { class: 'field-error', role: 'alert' }, errorText(answer.error)));
  }
}

function reportSummary(report) {
  if (!report || typeof report !== 'object') return 'Sync finished.';
  const parts = [
    ['created', 'created'],
    ['updated', 'updated'],
    ['transitioned', 'transitioned'],
    ['cataamUpdates', 'CATAAM updates'],
    ['deadLettered', 'dead-lettered'],
  ]
    .filter(([k]) => Number(report[k]) > 0)
    .map(([k, label]) => `${report[k]} ${label}`);
  const more = report.stoppedForBudget ? ' More work continues in the background.' : '';
  return `Sync finished: ${parts.length ? parts.join(', ') : 'nothing to change'}.${more}`;
}

async function syncNow() {
  const result = $('sync-now-result');
  show(result, h('span', { class: 'help' }, 'Syncing…'));
  const answer = await busy($('sync-now'), () => call('syncNow'));
  if (answer.ok) {
    show(result, h('span', { class: 'help', id: 'sync-now-summary' }, reportSummary(answer.report)));
    refreshHealth();
  } else {
    if (answer.error.code === 'FORBIDDEN') return refuse(answer.error);
    show(result, sectionMessage('error', null, errorText(answer.error)));
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

function wire() {
  $('settings-form').addEventListener('submit', save);
  $('test-connection').addEventListener('click', testConnection);
  for (const id of ['baseUrl', 'apiKey']) {
    $(id).addEventListener('input', () => show($('test-result')));
  }
  $('project-filter').addEventListener('input', renderProjects);
  $('projects-retry').addEventListener('click', () => {
    clearFieldErrors();
    loadProjects();
  });
  $('projectId').addEventListener('change', () => {
    $('projectId-error').hidden = true;
    $('projectId').removeAttribute('aria-invalid');
  });
  $('copy-webhook').addEventListener('click', () =>
    copyText($('webhookUrl').value, $('copy-webhook-status'), $('webhookUrl')),
  );
  $('copy-secret').addEventListener('click', () =>
    copyText($('secretValue').value, $('copy-secret-status'), $('secretValue')),
  );
  $('generate-secret').addEventListener('click', generateSecret);
  $('reregister').addEventListener('click', reregister);
  $('health-refresh').addEventListener('click', refreshHealth);
  $('sync-now').addEventListener('click', syncNow);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !$('content').hidden) refreshHealth();
  });
}

wire();
enableTheme();
start();
