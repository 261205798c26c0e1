// The admin page's client-side checks and wording (static/admin/validate.js, format.js), run in
// Node: they must agree with the resolver's rules in src/settings.rs so the admin sees the same
// field errors before and after a round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkApiKey,
  checkBaseUrl,
  isAllowedHost,
  validateSettings,
  DEFAULT_PRIORITIES,
} from '../../static/admin/validate.js';
import { connectionView, errorText, relativeTime, toDate } from '../../static/admin/format.js';

test('base URL: the same accept/normalise table as src/settings.rs', () => {
  for (const [input, want] of [
    ['https://service.cataam.com', 'https://service.cataam.com'],
    ['  https://service.cataam.com/ ', 'https://service.cataam.com'],
    ['https://APP.cataam.com//', 'https://app.cataam.com'],
    ['https://acme.eu.cataam.com/gw/', 'https://acme.eu.cataam.com/gw'],
    ['https://service.cataam.com:443/', 'https://service.cataam.com'],
  ]) {
    assert.deepEqual(checkBaseUrl(input), { value: want }, input);
  }
});

test('base URL: the same rejections and codes as src/settings.rs', () => {
  for (const [input, code] of [
    ['', 'REQUIRED'],
    ['service.cataam.com', 'INVALID_URL'],
    ['http://service.cataam.com', 'INVALID_URL'],
    ['https://user:pw@service.cataam.com', 'INVALID_URL'],
    ['https://user@service.cataam.com', 'INVALID_URL'],
    ['https://service.cataam.com/?x=1', 'INVALID_URL'],
    ['https://service.cataam.com/?', 'INVALID_URL'],
    ['https://service.cataam.com/#frag', 'INVALID_URL'],
    ['https://cataam.com', 'HOST_NOT_ALLOWED'],
    ['https://evil.com', 'HOST_NOT_ALLOWED'],
    ['https://service.cataam.com.evil.com', 'HOST_NOT_ALLOWED'],
    ['https://evilcataam.com', 'HOST_NOT_ALLOWED'],
    ['https://127.0.0.1', 'HOST_NOT_ALLOWED'],
    ['https://[::1]', 'HOST_NOT_ALLOWED'],
    ['https://service.cataam.com:8443', 'HOST_NOT_ALLOWED'],
  ]) {
    const { error } = checkBaseUrl(input);
    assert.ok(error, `${input} must be rejected`);
    assert.equal(error.code, code, input);
    assert.equal(error.field, 'baseUrl');
  }
  assert.equal(isAllowedHost('a-b.c1.cataam.com'), true);
  assert.equal(isAllowedHost('-x.cataam.com'), false);
  assert.equal(isAllowedHost('.cataam.com'), false);
});

test('API key: blank keeps a saved key, shape errors never echo the key', () => {
  assert.equal(checkApiKey('', true), null);
  assert.equal(checkApiKey('   ', true), null);
  assert.equal(checkApiKey('', false).code, 'REQUIRED');
  assert.equal(checkApiKey('cataam_abc123', false), null);
  for (const bad of ['zq9secret', 'cataam_', 'CATAAM_zq9secret', 'cataam_ zq9secret', 'cataam_zq9secret\u00e9', `cataam_zq9secret${'a'.repeat(600)}`]) {
    const err = checkApiKey(bad, true);
    assert.equal(err?.code, 'INVALID_API_KEY', bad);
    assert.equal(err.field, 'apiKey');
    assert.ok(!err.message.includes('zq9secret'), 'the message must not echo the key');
  }
});

test('whole form: every error at once, in field order, with the page field names', () => {
  const { errors } = validateSettings({
    baseUrl: 'http://x.com',
    apiKey: '',
    projectId: '',
    issueType: '  ',
    minSeverity: 'SEVERE',
    kinds: [],
    priorities: { ...DEFAULT_PRIORITIES, medium: ' ' },
  });
  assert.deepEqual(
    errors.map((e) => `${e.field}:${e.code}`),
    [
      'baseUrl:INVALID_URL',
      'apiKey:REQUIRED',
      'projectId:REQUIRED',
      'issueType:REQUIRED',
      'minSeverity:INVALID_VALUE',
      'kinds:REQUIRED',
      'priorities.medium:REQUIRED',
    ],
  );
  assert.equal(
    validateSettings({ projectId: 'SEC', baseUrl: 'https://service.cataam.com' }, { keySaved: true })
      .errors.find((e) => e.field === 'projectId').code,
    'INVALID_VALUE',
  );
});

test('whole form: a valid form becomes the normalised saveSettings payload', () => {
  const { payload, errors } = validateSettings(
    {
      baseUrl: ' https://service.cataam.com/ ',
      apiKey: '',
      projectId: ' 10000 ',
      projectKey: 'SEC',
      issueType: ' Bug ',
      minSeverity: 'HIGH',
      kinds: ['COMPLIANCE', 'IASM', 'BOGUS'],
      priorities: { critical: ' Highest ', high: 'High', medium: 'Medium', low: 'Low', info: 'Lowest' },
    },
    { keySaved: true },
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(payload, {
    baseUrl: 'https://service.cataam.com',
    apiKey: '',
    projectId: '10000',
    projectKey: 'SEC',
    issueType: 'Bug',
    minSeverity: 'HIGH',
    kinds: ['IASM', 'COMPLIANCE'],
    priorities: { critical: 'Highest', high: 'High', medium: 'Medium', low: 'Low', info: 'Lowest' },
  });
});

test('wording: connection states, error codes, times', () => {
  assert.equal(connectionView({ state: 'key_rejected' }).label, 'API key rejected');
  assert.equal(connectionView({ state: 'ok' }).tone, 'success');
  assert.equal(connectionView(undefined).state, 'not_configured');
  assert.equal(connectionView({ state: 'unknown' }).label, 'Not checked yet');
  assert.equal(connectionView({ state: 'weird_new_state' }).label, 'weird_new_state');
  assert.equal(
    errorText({ code: 'UNREACHABLE', message: 'CATAAM could not be reached at the base URL (X).' }),
    'CATAAM could not be reached at the base URL (X).',
    'the resolver names the cause',
  );
  assert.match(errorText({ code: 'INVOKE_FAILED', message: 'boom' }), /could not answer.*boom/);
  assert.match(errorText({ code: 'KEY_REJECTED', message: 'x' }), /rejected this API key/);
  assert.match(errorText({ code: 'HOST_NOT_ALLOWED' }), /\*\.cataam\.com/);
  assert.equal(errorText({ code: 'SOMETHING_NEW', message: 'Server says hi' }), 'Server says hi');
  assert.match(errorText({ code: 'SOMETHING_NEW' }), /SOMETHING_NEW/);
  const now = new Date('2026-12-04T20:00:00Z');
  assert.equal(relativeTime(toDate('2026-12-04T19:57:00Z'), now), '3 minutes ago');
  assert.equal(relativeTime(toDate(now.getTime() + 120_000), now), 'in 2 minutes');
  assert.equal(relativeTime(toDate(null), now), 'never');
  assert.equal(toDate('not a date'), null);
});
