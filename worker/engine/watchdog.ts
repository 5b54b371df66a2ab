// The idle watchdog: turns a silently wedged stream into a recoverable reconnect.
//
// connect-es never notices a stream that stops sending (a dead proxy keeps the fetch open
// forever), so liveness comes from the server: it promises a frame at least every heartbeat.
// This combinator wraps the frame stream; every item resets an idle timer, and when the timer
// fires it aborts the underlying call (freeing one of the browser's 6 HTTP/1.1 slots), yields
// exactly one STALE and ends. After that it is fused: it yields nothing more, ever.
// Modelled on XMTP's WatchdogStream (xmtp/libxmtp, subscriptions/watchdog.rs).
import type { Clock } from "./types";

export const STALE: unique symbol = Symbol("onestream.stale");
export type Stale = typeof STALE;

export interface WatchdogOptions<T> {
  clock: Clock;
  /** Idle timeout until an item changes it (e.g. before Hello). */
  idleMs: number;
  /** Sees every item; a number returned becomes the idle timeout from then on (Hello's heartbeat). */
  idleMsAfter?: (item: T) => number | undefined;
  /** Called once when the watchdog trips, before STALE is yielded: abort the fetch here. */
  onStale?: () => void;
  /** Our own abort: the stream ends at once, even if the source never honours the signal. */
  signal?: AbortSignal;
}

/** What a wait resolves to when `signal` aborted it. */
const ABORTED: unique symbol = Symbol("onestream.aborted");

const ignore = (): void => {};

export async function* watchdog<T>(source: AsyncIterable<T>, opts: WatchdogOptions<T>): AsyncGenerator<T | Stale, void, undefined> {
  const { clock } = opts;
  const it = source[Symbol.asyncIterator]();
  let idleMs = opts.idleMs;
  let lastActivity = clock.monotonic();
  // Set only while we wait for the source: time the consumer spends on an item is not idleness.
  let trip: ((s: Stale | typeof ABORTED) => void) | undefined;
  let cancelTimer: (() => void) | undefined;

  // One timer per idle period, not per item: when it fires early (items came in meanwhile) it
  // re-arms for the remainder, so a busy stream costs one monotonic() read per item.
  const arm = (ms: number): void => {
    cancelTimer = clock.setTimeout(check, Math.max(0, ms));
  };
  const check = (): void => {
    cancelTimer = undefined;
    const elapsed = clock.monotonic() - lastActivity;
    if (trip !== undefined && elapsed >= idleMs) trip(STALE);
    else arm(trip !== undefined ? idleMs - elapsed : idleMs);
  };

  const onAbort = (): void => trip?.(ABORTED);
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  arm(idleMs);
  try {
    for (;;) {
      if (opts.signal?.aborted === true) return;
      lastActivity = clock.monotonic();
      const next = it.next();
      // A fresh promise per wait: racing one long-lived promise would pile up reactions on it.
      const stale = new Promise<Stale | typeof ABORTED>((resolve) => (trip = resolve));
      const result = await Promise.race([next, stale]);
      trip = undefined;
      if (result === ABORTED) {
        next.then(ignore, ignore);
        it.return?.().then(ignore, ignore);
        return;
      }
      if (result === STALE) {
        next.then(ignore, ignore); // the aborted call rejects; nobody is listening any more
        opts.onStale?.();
        it.return?.().then(ignore, ignore);
        yield STALE;
        return;
      }
      if (result.done === true) return;
      const item = result.value;
      const changed = opts.idleMsAfter?.(item);
      if (changed !== undefined && changed !== idleMs) {
        idleMs = changed;
        cancelTimer?.();
        arm(idleMs);
      }
      yield item;
    }
  } finally {
    cancelTimer?.();
    opts.signal?.removeEventListener("abort", onAbort);
  }
}
