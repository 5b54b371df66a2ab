// `onestream/vue`: composables that hold a topic's events or the client's status in a
// shallowRef (the value is replaced, never deeply tracked) and let go when the calling effect
// scope ends (onScopeDispose: a component's setup, or your own effectScope). Called outside
// any scope they stay subscribed until the client closes. A null client gives the initial value.
//
//   const messages = useEvents(client, ["chat/42"], { max: 50 }); // ShallowRef<readonly StreamEvent<C>[]>
//   const status = useStatus(client);                                // ShallowRef<ClientStatus | undefined>
import { getCurrentScope, onScopeDispose, shallowRef, type ShallowRef } from "vue";
import type { ClientStatus, SubscribeOptions } from "../client";
import type { Cursor, StreamEvent } from "../../contract/types";
import { eventStore, lastEvents, statusStore, type ExternalStore, type MaybeClient, type Reducer } from "./store";

export { DEFAULT_LIST, MAX_LIST, type MaybeClient, type Reducer } from "./store";

function useStore<T>(store: ExternalStore<T>): Readonly<ShallowRef<T>> {
  const value = shallowRef(store.get());
  const unsubscribe = store.subscribe(() => {
    value.value = store.get();
  });
  if (getCurrentScope() !== undefined) onScopeDispose(unsubscribe);
  return value;
}

/** `reduce` folded over the events of `topics`, from `initial`. */
export function useEventReducer<T, C extends Cursor = bigint>(
  client: MaybeClient<C>,
  topics: readonly string[],
  reduce: Reducer<T, C>,
  initial: T,
  options?: SubscribeOptions<C>,
): Readonly<ShallowRef<T>> {
  return useStore(eventStore(client, topics, reduce, initial, options));
}

/** The last `max` events (default 100) of `topics`, oldest first. */
export function useEvents<C extends Cursor = bigint>(
  client: MaybeClient<C>,
  topics: readonly string[],
  options: SubscribeOptions<C> & { max?: number } = {},
): Readonly<ShallowRef<readonly StreamEvent<C>[]>> {
  const { max, ...subscribeOptions } = options;
  return useEventReducer(client, topics, lastEvents<C>(max), [], subscribeOptions);
}

/** The client's status; undefined without a client. */
export function useStatus<C extends Cursor>(client: MaybeClient<C>): Readonly<ShallowRef<ClientStatus | undefined>> {
  return useStore(statusStore(client));
}
