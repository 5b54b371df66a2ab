// The one external store the React, Vue and Svelte bindings wrap: a value folded from a topic's
// events (or the client's status) with `get()` and `subscribe(listener)`. The client
// subscription opens with the first listener and closes a microtask after the last one leaves,
// so a framework that unsubscribes and at once subscribes again (React StrictMode's double mount,
// a Svelte component swapped for another) keeps one subscription and loses nothing. After a real
// close it reopens from the cursors it last saw. Imports only types: it never pulls a second copy
// of the client into a bundle.
import type { Client, ClientStatus, SubscribeOptions } from "../client";
import type { Cursor, Since, StreamEvent } from "../../contract/types";

/** What every binding hands to its framework: the current value and change notification. */
export interface ExternalStore<T> {
  /** The current value; the same object until it changes (React's useSyncExternalStore relies on it). */
  get(): T;
  /** `listener` is called after each change; returns the unsubscribe function (idempotent). */
  subscribe(listener: () => void): () => void;
}

/** Folds each batch of events into the state; must return a new object when it changes anything. */
export type Reducer<T, C extends Cursor = bigint> = (state: T, events: readonly StreamEvent<C>[]) => T;

/** The client, or nothing yet (server-side rendering, a client created after the first render). */
export type MaybeClient<C extends Cursor = bigint> = Client<C> | null | undefined;

/** Longest list `eventList` keeps, to catch garbage: more than this is a bug, not a UI. */
export const MAX_LIST = 100_000;
/** `eventList`'s default length. */
export const DEFAULT_LIST = 100;

/** Keeps the last `max` events; throws RangeError unless max is an integer in 1..MAX_LIST. */
export function lastEvents<C extends Cursor = bigint>(max: number = DEFAULT_LIST): Reducer<readonly StreamEvent<C>[], C> {
  if (!Number.isInteger(max) || max < 1 || max > MAX_LIST) {
    throw new RangeError(`onestream: max must be an integer from 1 to ${MAX_LIST}, got ${String(max)}`);
  }
  return (list, events) => {
    const next = list.concat(events);
    return next.length > max ? next.slice(next.length - max) : next;
  };
}

/** Listener bookkeeping shared by both stores: `open` on the first listener, `close` a microtask after the last. */
function refCounted<T>(get: () => T, open: (changed: () => void) => () => void): ExternalStore<T> {
  const listeners = new Set<() => void>();
  let close: (() => void) | undefined;
  let closing = false;
  const changed = () => {
    for (const l of [...listeners]) l();
  };
  return {
    get,
    subscribe(listener) {
      const entry = () => listener(); // its own identity: one function may be subscribed twice
      listeners.add(entry);
      close ??= open(changed);
      return () => {
        if (!listeners.delete(entry) || listeners.size > 0 || closing) return;
        closing = true;
        queueMicrotask(() => {
          closing = false;
          if (listeners.size > 0 || close === undefined) return;
          close();
          close = undefined;
        });
      };
    },
  };
}

/**
 * `reduce` folded over the events of `topics`, starting from `initial`. Without a client it
 * stays `initial` and subscribes to nothing.
 */
export function eventStore<T, C extends Cursor = bigint>(
  client: MaybeClient<C>,
  topics: readonly string[],
  reduce: Reducer<T, C>,
  initial: T,
  options: SubscribeOptions<C> = {},
): ExternalStore<T> {
  let state = initial;
  /** Last cursor seen per topic: a reopen resumes after it. */
  const seen = new Map<string, C>();
  const since = (): Since<C> | undefined => {
    if (seen.size === 0) return options.since;
    const from: Record<string, C> = typeof options.since === "object" ? { ...options.since } : {};
    for (const [topic, cursor] of seen) from[topic] = cursor;
    return from;
  };
  return refCounted(
    () => state,
    (changed) => {
      if (client == null) return () => {};
      const from = since();
      const onReset: SubscribeOptions<C>["onReset"] = (reset) => {
        // A new epoch may restart below what we saw; no position at all means "from now".
        if (reset.resumeAfter === undefined) seen.delete(reset.topic);
        else seen.set(reset.topic, reset.resumeAfter);
        options.onReset?.(reset);
      };
      const sub = client.subscribe(
        [...topics],
        (events) => {
          for (const e of events) seen.set(e.topic, e.cursor);
          const next = reduce(state, events);
          if (Object.is(next, state)) return;
          state = next;
          changed();
        },
        { ...options, onReset, ...(from === undefined ? {} : { since: from }) },
      );
      return () => sub.unsubscribe();
    },
  );
}

/** The client's status; undefined without a client. */
export function statusStore<C extends Cursor>(client: MaybeClient<C>): ExternalStore<ClientStatus | undefined> {
  return refCounted(
    () => client?.status,
    (changed) => (client == null ? () => {} : client.onStatus(changed)),
  );
}
