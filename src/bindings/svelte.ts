// `onestream/svelte`: readable stores (Svelte's store contract: `subscribe(run)` calls `run`
// with the current value at once and on each change, and returns the unsubscribe function), so
// `$messages` works in any component, in Svelte 4 and 5. The client subscription is shared by
// every subscriber of one store and closes a microtask after the last one leaves.
//
//   const messages = eventsStore(client, ["chat/42"], { max: 50 }); // {#each $messages as e}
//   const status = statusStore(client);                               // {$status?.state}
import type { Readable } from "svelte/store";
import type { ClientStatus, SubscribeOptions } from "../client";
import type { Cursor, StreamEvent } from "../../contract/types";
import { eventStore, lastEvents, statusStore as statusSource, type ExternalStore, type MaybeClient, type Reducer } from "./store";

export { DEFAULT_LIST, MAX_LIST, type MaybeClient, type Reducer } from "./store";

function readable<T>(store: ExternalStore<T>): Readable<T> {
  return {
    subscribe(run) {
      let last = store.get();
      run(last);
      return store.subscribe(() => {
        const value = store.get();
        if (Object.is(value, last)) return; // the status store repeats the current value when it opens
        last = value;
        run(value);
      });
    },
  };
}

/** `reduce` folded over the events of `topics`, from `initial`. */
export function eventReducerStore<T, C extends Cursor = bigint>(
  client: MaybeClient<C>,
  topics: readonly string[],
  reduce: Reducer<T, C>,
  initial: T,
  options?: SubscribeOptions<C>,
): Readable<T> {
  return readable(eventStore(client, topics, reduce, initial, options));
}

/** The last `max` events (default 100) of `topics`, oldest first. */
export function eventsStore<C extends Cursor = bigint>(
  client: MaybeClient<C>,
  topics: readonly string[],
  options: SubscribeOptions<C> & { max?: number } = {},
): Readable<readonly StreamEvent<C>[]> {
  const { max, ...subscribeOptions } = options;
  return eventReducerStore(client, topics, lastEvents<C>(max), [], subscribeOptions);
}

/** The client's status; undefined without a client. */
export function statusStore<C extends Cursor>(client: MaybeClient<C>): Readable<ClientStatus | undefined> {
  return readable(statusSource(client));
}
