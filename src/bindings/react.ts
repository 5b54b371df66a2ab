// `onestream/react`: hooks over useSyncExternalStore. One store per (client, topics) lives as
// long as the component; its subscription opens when React subscribes and closes a microtask
// after React lets go, so StrictMode's mount → unmount → mount keeps exactly one subscription
// and an unmounted component leaks none. A null client (server-side rendering, or before the app
// created one) renders the initial value.
//
//   const messages = useEvents(client, ["chat/42"], { max: 50 });
//   const status = useStatus(client);
//   const publish = usePublish(client);
import { useCallback, useMemo, useSyncExternalStore } from "react";
import type { ClientStatus, Publishing, SubscribeOptions } from "../client";
import type { Cursor, StreamEvent } from "../../contract/types";
import { eventStore, lastEvents, statusStore, type ExternalStore, type MaybeClient, type Reducer } from "./store";

export { DEFAULT_LIST, MAX_LIST, type MaybeClient, type Reducer } from "./store";

function useStore<T>(store: ExternalStore<T>): T {
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

/**
 * `reduce` folded over the events of `topics`. The reducer, `initial` and `options` of the first
 * render are kept; a new client or another set of topics starts a new store from `initial`.
 */
export function useEventReducer<T, C extends Cursor = bigint>(
  client: MaybeClient<C>,
  topics: readonly string[],
  reduce: Reducer<T, C>,
  initial: T,
  options?: SubscribeOptions<C>,
): T {
  const key = JSON.stringify(topics);
  const store = useMemo(() => eventStore(client, topics, reduce, initial, options), [client, key]);
  return useStore(store);
}

/** The last `max` events (default 100) of `topics`, oldest first. */
export function useEvents<C extends Cursor = bigint>(
  client: MaybeClient<C>,
  topics: readonly string[],
  options: SubscribeOptions<C> & { max?: number } = {},
): readonly StreamEvent<C>[] {
  const { max, ...subscribeOptions } = options;
  const reduce = useMemo(() => lastEvents<C>(max), [max]);
  return useEventReducer(client, topics, reduce, [], subscribeOptions);
}

/** The client's status, re-rendering on each change; undefined without a client. */
export function useStatus<C extends Cursor>(client: MaybeClient<C>): ClientStatus | undefined {
  const store = useMemo(() => statusStore(client), [client]);
  return useStore(store);
}

/** A stable `publish(topic, payload)` (the client's own); a string payload is sent as UTF-8. Throws without a client. */
export function usePublish<C extends Cursor = bigint>(client: MaybeClient<C>): (topic: string, payload: Uint8Array | string) => Publishing<C> {
  return useCallback(
    (topic: string, payload: Uint8Array | string) => {
      if (client == null) throw new Error("onestream/react: usePublish has no client yet");
      return client.publish(topic, typeof payload === "string" ? new TextEncoder().encode(payload) : payload);
    },
    [client],
  );
}
