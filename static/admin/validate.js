// Client-side checks of the admin form. They mirror `src/settings.rs` (`normalize_base_url`,
// `validate_api_key`, `Settings::validated`) so the admin sees field-level messages before a round
// trip; the resolver re-checks everything and its field errors are shown the same way.
// Messages never echo the submitted value (the API key is a secret).

/** Default CATAAM API base URL (same as `DEFAULT_BASE_URL` in Rust). */
export const DEFAULT_BASE_URL = 'https://service.cataam.com';

/** Severities from most to least severe, as the resolver sends them. */
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];

/** Finding kinds the app can ticket. */
export const KINDS = ['IASM', 'COMPLIANCE'];

/** Priority map keys, in severity order. */
export const PRIORITY_KEYS = ['critical', 'high', 'medium', 'low', 'info'];

/** Jira's default priority for each severity (the resolver's defaults). */
export const DEFAULT_PRIORITIES = {
  critical: 'Highest',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
  info: 'Lowest',
};

const ALLOWED_HOSTS = ['service.cataam.com', 'app.cataam.com'];
const LABEL = /^[a-z0-9-]{1,63}$/;

/** `true` for service.cataam.com, app.cataam.com or any other `<label>.cataam.com` host. */
export function isAllowedHost(host) {
  if (ALLOWED_HOSTS.includes(host)) return true;
  if (!host.endsWith('.cataam.com')) return false;
  const sub = host.slice(0, -'.cataam.com'.length);
  return (
    sub.length > 0 &&
    sub.split('.').every((l) => LABEL.test(l) && !l.startsWith('-') && !l.endsWith('-'))
  );
}

function fieldError(field, code, message) {
  return { field, code, message };
}

/**
 * Checks a CATAAM API base URL. Returns `{ value }` (normalised, no trailing slash) or
 * `{ error: { field: 'baseUrl', code, message } }`.
 */
export function checkBaseUrl(input) {
  const raw = String(input ?? '').trim();
  const bad = (code, message) => ({ error: fieldError('baseUrl', code, message) });
  if (!raw) return bad('REQUIRED', 'Enter the CATAAM API base URL.');
  let url;
  try {
    url = new URL(raw);
  } catch {
    return bad('INVALID_URL', 'This is not a valid URL.');
  }
  if (url.protocol !== 'https:') return bad('INVALID_URL', 'The URL must start with https://.');
  if (url.username || url.password) {
    return bad('INVALID_URL', 'The URL must not contain a user name or password.');
  }
  if (raw.includes('?') || raw.includes('#')) {
    return bad('INVALID_URL', 'The URL must not contain a query (?) or fragment (#).');
  }
  const host = url.hostname.replace(/\.$/, '');
  if (!host) return bad('INVALID_URL', 'The URL has no host.');
  if (host.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host)) {
    return bad('HOST_NOT_ALLOWED', 'Use a *.cataam.com host name, not an IP address.');
  }
  if (!isAllowedHost(host)) {
    return bad(
      'HOST_NOT_ALLOWED',
      'The host must be service.cataam.com, app.cataam.com or another *.cataam.com host.',
    );
  }
  if (url.port) return bad('HOST_NOT_ALLOWED', 'Use the default HTTPS port (remove the :port part).');
  const path = url.pathname.replace(/\/+$/, '');
  return { value: `https://${host}${path}` };
}

/**
 * Checks an API key typed into the form. A blank key is fine when one is already saved
 * (`keySaved`): the resolver keeps the stored key. Returns a field error or `null`.
 */
export function checkApiKey(input, keySaved) {
  const key = String(input ?? '').trim();
  if (!key) {
    return keySaved
      ? null
      : fieldError(
          'apiKey',
          'REQUIRED',
          'Enter a CATAAM API key (Org Settings → Integrations → API Keys).',
        );
  }
  if (!key.startsWith('cataam_') || key.length === 'cataam_'.length) {
    return fieldError(
      'apiKey',
      'INVALID_API_KEY',
      'CATAAM API keys start with cataam_ (Org Settings → Integrations → API Keys).',
    );
  }
  if (key.length > 512 || !/^[\x21-\x7e]+$/.test(key)) {
    return fieldError(
      'apiKey',
      'INVALID_API_KEY',
      'The API key contains characters a CATAAM key never has; paste it again.',
    );
  }
  return null;
}

/**
 * Validates the whole form. `form` is `{ baseUrl, apiKey, projectId, projectKey, issueType,
 * minSeverity, kinds, priorities }`; `keySaved` says whether a key is already stored.
 * Returns `{ payload, errors }`: the normalised payload for `saveSettings` and every field error
 * (empty when the form is valid).
 */
export function validateSettings(form, { keySaved = false } = {}) {
  const errors = [];
  const base = checkBaseUrl(form.baseUrl);
  if (base.error) errors.push(base.error);
  const keyError = checkApiKey(form.apiKey, keySaved);
  if (keyError) errors.push(keyError);
  const projectId = String(form.projectId ?? '').trim();
  if (!projectId) {
    errors.push(fieldError('projectId', 'REQUIRED', 'Choose the Jira project for new issues.'));
  } else if (!/^\d{1,20}$/.test(projectId)) {
    errors.push(fieldError('projectId', 'INVALID_VALUE', 'Choose a project from the list.'));
  }
  const issueType = String(form.issueType ?? '').trim();
  if (!issueType) {
    errors.push(
      fieldError('issueType', 'REQUIRED', 'Enter the issue type for new issues (for example Bug).'),
    );
  } else if ([...issueType].length > 255) {
    errors.push(fieldError('issueType', 'INVALID_VALUE', 'The issue type name is too long.'));
  }
  const minSeverity = SEVERITIES.includes(form.minSeverity) ? form.minSeverity : null;
  if (!minSeverity) {
    errors.push(fieldError('minSeverity', 'INVALID_VALUE', 'Choose a minimum severity.'));
  }
  const kinds = KINDS.filter((k) => (form.kinds ?? []).includes(k));
  if (kinds.length === 0) {
    errors.push(fieldError('kinds', 'REQUIRED', 'Select at least one kind of finding to ticket.'));
  }
  const priorities = {};
  for (const key of PRIORITY_KEYS) {
    const value = String(form.priorities?.[key] ?? '').trim();
    if (!value) {
      errors.push(fieldError(`priorities.${key}`, 'REQUIRED', 'Enter a Jira priority name.'));
    } else if ([...value].length > 255) {
      errors.push(fieldError(`priorities.${key}`, 'INVALID_VALUE', 'The priority name is too long.'));
    }
    priorities[key] = value;
  }
  const payload = {
    baseUrl: base.value ?? String(form.baseUrl ?? '').trim(),
    apiKey: String(form.apiKey ?? '').trim(),
    projectId,
    projectKey: String(form.projectKey ?? '').trim() || null,
    issueType,
    minSeverity: minSeverity ?? form.minSeverity,
    kinds,
    priorities,
  };
  return { payload, errors };
}
