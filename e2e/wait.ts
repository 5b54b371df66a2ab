// The one way the e2e suite waits: poll from Node until a probe holds. page.waitForFunction
// cannot await a promise (FIELD-NOTES), and fixed sleeps are either flaky or slow.

/** Poll interval for every wait in the suite. */
export const POLL_MS = 25;
/** Default time budget of a wait. */
export const WAIT_MS = 10_000;

/**
 * Polls `probe` until it returns a truthy value (returned) or `timeoutMs` passes (throws with
 * `message` and the last value seen).
 */
export async function waitUntil<T>(
  probe: () => Promise<T> | T,
  opts: { timeoutMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? WAIT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.message ?? "a condition"} (last: ${JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
