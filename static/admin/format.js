// Pure presentation helpers of the admin page: times, connection states, resolver error texts.
// No DOM here, so the page's wording can be checked by plain Node tests.

/** Parses a timestamp the resolver may send as ms since epoch or an RFC 3339 string. */
export function toDate(value) {
  if (value === null || value === undefined || value === '') return null;
  const d = typeof value === 'number' ? new Date(value) : new Date(String(value));
  return Number.isNaN(d.getTime()) ? null : d;
}

const UNITS = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
];

/** "3 minutes ago" / "in 2 minutes" / "just now" for `date` relative to `now` (both Dates). */
export function relativeTime(date, now = new Date()) {
  if (!date) return 'never';
  const diff = date.getTime() - now.getTime();
  const abs = Math.abs(diff);
  if (abs < 5000) return diff <= 0 ? 'just now' : 'in a few seconds';
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  for (const [unit, ms] of UNITS) {
    if (abs >= ms || unit === 'second') return rtf.format(Math.round(diff / ms), unit);
  }
  return rtf.format(Math.round(diff / 1000), 'second');
}

/** Absolute, unambiguous time for a tooltip: "2026-12-04 20:15:03 UTC". */
export function absoluteTime(date) {
  if (!date) return '';
  return `${date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')} UTC`;
}

/**
 * How a connection state from `getHealth` is shown: `{ label, tone, text }` where tone is an ADS
 * lozenge appearance (`success`, `removed`, `moved`, `default`).
 */
export function connectionView(connection) {
  const state = connection?.state ?? 'not_configured';
  switch (state) {
    case 'ok':
      return {
        state,
        label: 'Connected',
        tone: 'success',
        text: 'The app reaches the CATAAM API with the saved key.',
      };
    case 'key_rejected':
      return {
        state,
        label: 'API key rejected',
        tone: 'removed',
        text:
          'CATAAM rejected the saved API key (it was revoked or is wrong). Create a new key in ' +
          'CATAAM at Org Settings → Integrations → API Keys, paste it above and save. Sync is paused.',
      };
    case 'unreachable':
      return {
        state,
        label: 'CATAAM unreachable',
        tone: 'moved',
        text:
          'The last attempt to reach CATAAM failed. The app keeps retrying; check the base URL if ' +
          'this persists.',
      };
    case 'unknown':
      return {
        state,
        label: 'Not checked yet',
        tone: 'default',
        text: 'The app has not talked to CATAAM since it was configured. Click Sync now, or wait for the next poll.',
      };
    case 'not_configured':
      return {
        state,
        label: 'Not configured',
        tone: 'default',
        text: 'Enter the CATAAM connection and a Jira project above, then save.',
      };
    default:
      return { state, label: String(state), tone: 'default', text: '' };
  }
}

const ERROR_TEXTS = {
  FORBIDDEN: 'Only Jira administrators can change the CATAAM integration.',
  INVALID_URL: 'The base URL is not valid. It must be an https:// URL such as https://service.cataam.com.',
  HOST_NOT_ALLOWED:
    'This host is not allowed. The app may only call service.cataam.com, app.cataam.com or another *.cataam.com host.',
  KEY_REJECTED:
    'CATAAM rejected this API key. Check that you copied the whole key and that it has not been revoked (Org Settings → Integrations → API Keys).',
  UNREACHABLE:
    'Could not reach CATAAM at this base URL. Check the URL and try again; if it is right, CATAAM may be down.',
  CATAAM_UNREACHABLE:
    'Could not reach CATAAM at this base URL. Check the URL and try again; if it is right, CATAAM may be down.',
  NOT_CONFIGURED: 'Enter and save the CATAAM base URL and API key first.',
  VALIDATION: 'Some fields need attention.',
  TIMEOUT: 'The request took too long. Try again.',
  CATAAM_REJECTED: 'CATAAM refused the request. Check the base URL and the API key.',
  JIRA_HTTP: 'Jira refused the request. Try again.',
  JIRA_UNREACHABLE: 'Jira could not be reached. Try again.',
  NOT_FOUND: 'It no longer exists. Refresh the page.',
  BRIDGE:
    'The page could not talk to Jira. Open it from Jira Settings → Apps → CATAAM Integration and reload.',
};

/** Codes whose resolver message is more specific than the generic text (it names the cause). */
const PREFER_MESSAGE = new Set(['UNREACHABLE', 'CATAAM_REJECTED', 'JIRA_HTTP', 'JIRA_UNREACHABLE', 'NOT_CONFIGURED', 'NOT_FOUND', 'INVALID_URL', 'HOST_NOT_ALLOWED']);

/**
 * Human text for a resolver error `{ code, message }`: the resolver's own message where it is the
 * more specific one, else the known text for the code, else the message.
 */
export function errorText(error) {
  if (!error) return 'Something went wrong. Try again.';
  if (error.code === 'INVOKE_FAILED') {
    return `The app could not answer. Try again in a moment.${error.message ? ` (${error.message})` : ''}`;
  }
  if (PREFER_MESSAGE.has(error.code) && error.message) return String(error.message);
  const known = ERROR_TEXTS[error.code];
  if (known) return known;
  if (error.message) return String(error.message);
  return error.code ? `Something went wrong (${error.code}). Try again.` : 'Something went wrong. Try again.';
}

/** Human label of an activity action code (`created`, `transitioned`, ...). */
export function actionLabel(action) {
  const labels = {
    created: 'Issue created',
    updated: 'Issue updated',
    transitioned: 'Issue transitioned',
    reopened: 'Issue reopened',
    commented: 'Comment added',
    adopted: 'Issue adopted',
    cataam_updated: 'Finding updated in CATAAM',
    rerun_failed_reopened: 'Re-run still failing: issue reopened',
    skipped: 'Skipped',
    dead_letter: 'Moved to dead letters',
  };
  return labels[action] ?? String(action ?? '').replace(/[_-]+/g, ' ');
}

const REASONS = {
  below_threshold: 'below the minimum severity',
  filtered_kind: 'finding kind not selected',
  project_misconfigured: 'project or issue type not usable (check Jira Configuration)',
  closed_unlinked: 'already closed in CATAAM, never ticketed',
  compliance_passed: 'compliance test passes',
  issue_deleted: 'Jira issue was deleted',
};

/** Human text of a skip reason code; unknown codes are de-underscored. */
export function reasonLabel(reason) {
  return REASONS[reason] ?? String(reason).replace(/[_-]+/g, ' ').toLowerCase();
}
