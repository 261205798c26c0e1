// The page's only way to the app: `@forge/bridge` `invoke(name, payload)` to the resolver.
// Every call resolves to the resolver's own answer (`{ ok: true, ... }` or `{ ok: false, error }`);
// bridge failures, timeouts and malformed answers become `{ ok: false, error }` too, so callers
// handle one shape.

/** Longest wait for one resolver call: Forge stops a resolver after 25 s. */
const TIMEOUT_MS = 30_000;

let bridge = null;

// @forge/bridge looks up the Custom UI bridge when it is first evaluated, so it is loaded on the
// first call (esbuild inlines the dynamic import) instead of at page start.
async function loadInvoke() {
  if (!bridge) bridge = import('@forge/bridge');
  const mod = await bridge;
  return mod.invoke;
}

/**
 * Asks Jira to inject its design tokens (light/dark theme) into the page; the stylesheet falls
 * back to the light values when this is unavailable. Never throws.
 */
export async function enableTheme() {
  try {
    if (!bridge) bridge = import('@forge/bridge');
    const mod = await bridge;
    await mod.view.theme.enable();
    return true;
  } catch {
    return false;
  }
}

/** Calls resolver function `name` with `payload`; never throws. */
export async function call(name, payload = {}) {
  let timer;
  try {
    const invoke = await loadInvoke();
    const timeout = new Promise((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, error: { code: 'TIMEOUT', message: 'The request timed out.' } }),
        TIMEOUT_MS,
      );
    });
    const answer = await Promise.race([invoke(name, payload), timeout]);
    if (answer && typeof answer === 'object' && typeof answer.ok === 'boolean') {
      if (!answer.ok && (!answer.error || typeof answer.error !== 'object')) {
        return { ok: false, error: { code: 'UNKNOWN', message: 'The app answered with an error.' } };
      }
      return answer;
    }
    return { ok: false, error: { code: 'BAD_ANSWER', message: 'The app sent an unexpected answer.' } };
  } catch (err) {
    const bridgeMissing = /bridge/i.test(String(err?.message ?? ''));
    return {
      ok: false,
      error: {
        code: bridgeMissing ? 'BRIDGE' : (err?.code ?? 'INVOKE_FAILED'),
        message: String(err?.message ?? err).trim().split('\n')[0],
      },
    };
  } finally {
    clearTimeout(timer);
  }
}
