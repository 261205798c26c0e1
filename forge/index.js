// Forge handlers: exactly the functions manifest.yml names, each one line into the Rust core.
import { makeResolver } from '@forge/resolver';
import { createHost } from './host.js';
import { withCore } from './wasm.js';

/** scheduledTrigger `cataam-poll` (every 5 minutes). */
export const poll = async () => withCore((c) => c.poll(createHost()));

/** webtrigger `cataam-push`: CATAAM's signed pushes. Answers `{ statusCode, headers, body }`. */
export const push = async (request) => withCore((c) => c.push(createHost(), request));

/** trigger `jira-issue-events`: Jira issue created/updated (ignoreSelf). */
export const issueEvent = async (event) => withCore((c) => c.issueEvent(createHost(), event));

/** consumer `cataam-sync-consumer`: continuations, delayed retries, compliance re-run polls. */
export const consume = async (asyncEvent) => withCore((c) => c.consume(createHost(), asyncEvent.body));

// The admin page's resolver functions (docs/internals.md "Resolver functions").
const RESOLVER_FUNCTIONS = [
  'getSettings', 'saveSettings', 'testConnection', 'listProjects', 'generateSecret',
  'reregisterWebhook', 'getHealth', 'retryDeadLetter', 'syncNow',
];

/** jira:adminPage `cataam-admin` resolver. */
export const resolver = makeResolver(
  Object.fromEntries(
    RESOLVER_FUNCTIONS.map((name) => [
      name,
      ({ payload, context }) =>
        withCore((c) => c.resolver(createHost(), name, payload ?? {}, { accountId: context?.accountId ?? null })),
    ]),
  ),
);
