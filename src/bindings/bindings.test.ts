// The framework bindings' shared store and their Vue and Svelte faces, against the real client,
// host and engine (fake server, fake clock) over real MessageChannels. React's hooks are thin
// over the same store; StrictMode's double mount runs in real Chromium in the consumer matrix.
import { afterEach, describe, expect, it } from "vitest";
import { get } from "svelte/store";
import { effectScope } from "vue";
import type { StreamEvent } from "../../contract/types";
import { createWorld, type World } from "../../worker/host/test-world";
import { createClientWith, type Client, type SubscribeOptions } from "../client";
import { hostLink } from "../link";
import { eventStore, lastEvents, MAX_LIST, statusStore } from "./store";
import { eventsStore, statusStore as svelteStatus } from "./svelte";
import { useEvents, useStatus } from "./vue";

let world: World;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  world?.dispose();
});

/** A client of a fresh host whose subscribe() calls are counted (opened, still open). */
function countedClient(): { client: Client; opened: () => number; open: () => number } {
  world = createWorld();
  const host = world.newHost();
  const client = createClientWith(
    { baseUrl: "http://server.test" },
    { locks: world.locks, connector: { start: (onLink) => onLink(hostLink(host, "shared-worker")), close: () => {} }, hints: false },
  );
  clients.push(client);
  let opened = 0;
  let open = 0;
  const subscribe: Client["subscribe"] = (topics, onEvents, opts) => {
    const handle = client.subscribe(topics, onEvents, opts);
    opened++;
    open++;
    let closed = false;
    return {
      live: handle.live,
      unsubscribe() {
        if (!closed) open--;
        closed = true;
        handle.unsubscribe();
      },
    };
  };
  return { client: new Proxy(client, { get: (t, k) => (k === "subscribe" ? subscribe : Reflect.get(t, k)) }), opened: () => opened, open: () => open };
}

const cursors = (events: readonly StreamEvent[]) => events.map((e) => Number(e.cursor));
const microtask = () => new Promise<void>((r) => queueMicrotask(r));

/** Options that record when the topics are live. */
function liveFlag(extra: SubscribeOptions = {}): { options: SubscribeOptions; isLive: () => boolean } {
  let live = false;
  return { options: { ...extra, onLive: () => (live = true) }, isLive: () => live };
}

describe("eventStore", () => {
  it("shares one client subscription among its listeners and closes it a microtask after the last leaves", async () => {
    const { client, opened, open } = countedClient();
    const { options, isLive } = liveFlag({ since: "now" });
    const store = eventStore(client, ["t"], lastEvents(), [], options);
    const seen: number[] = [];
    const offA = store.subscribe(() => seen.push(store.get().length));
    const offB = store.subscribe(() => {});
    expect([opened(), open()]).toEqual([1, 1]);
    await world.until(isLive, "live");
    world.server.publish("t", 3);
    await world.until(() => store.get().length === 3, "3 events");
    expect(cursors(store.get())).toEqual([1, 2, 3]);
    expect(seen.at(-1)).toBe(3);
    offA();
    offA(); // idempotent
    await microtask();
    expect(open()).toBe(1);
    offB();
    expect(open()).toBe(1);
    await microtask();
    expect([opened(), open()]).toEqual([1, 0]);
  });

  it("an unsubscribe and a subscribe in the same task (StrictMode's double mount) keep the one subscription", async () => {
    const { client, opened, open } = countedClient();
    const { options, isLive } = liveFlag({ since: "now" });
    const store = eventStore(client, ["t"], lastEvents(), [], options);
    store.subscribe(() => {})();
    const off = store.subscribe(() => {});
    await microtask();
    expect([opened(), open()]).toEqual([1, 1]);
    await world.until(isLive, "live");
    world.server.publish("t", 2);
    await world.until(() => store.get().length === 2, "2 events");
    off();
    await microtask();
    expect(open()).toBe(0);
  });

  it("reopened after a real close, it resumes after the last event it saw (even from since: now)", async () => {
    const { client, opened } = countedClient();
    const { options, isLive } = liveFlag({ since: "now" });
    const store = eventStore(client, ["t"], lastEvents(), [], options);
    let off = store.subscribe(() => {});
    await world.until(isLive, "live");
    world.server.publish("t", 3);
    await world.until(() => store.get().length === 3, "3 events");
    off();
    await microtask();
    world.server.publish("t", 2); // while nobody listens
    off = store.subscribe(() => {});
    await world.until(() => store.get().length === 5, "the 2 missed events");
    expect(cursors(store.get())).toEqual([1, 2, 3, 4, 5]);
    expect(opened()).toBe(2);
    off();
  });

  it("a reducer that returns the same state notifies nobody", async () => {
    const { client } = countedClient();
    const { options, isLive } = liveFlag({ since: "now" });
    let batches = 0;
    const store = eventStore(client, ["t"], (n: number) => (batches++, n), 0, options);
    let notified = 0;
    store.subscribe(() => notified++);
    await world.until(isLive, "live");
    world.server.publish("t", 4);
    await world.until(() => batches > 0, "the reducer ran");
    expect([store.get(), notified]).toEqual([0, 0]);
  });

  it("without a client stays at its initial value and subscribes to nothing", async () => {
    const store = eventStore(null, ["t"], lastEvents(), []);
    const off = store.subscribe(() => {});
    expect(store.get()).toEqual([]);
    off();
    expect(statusStore(undefined).get()).toBeUndefined();
  });
});

describe("lastEvents", () => {
  it("keeps the newest max events, oldest first, and returns the same list for an empty batch", () => {
    const e = (cursor: number): StreamEvent => ({ topic: "t", cursor: BigInt(cursor), payload: new Uint8Array(), publishedAt: 0 });
    const keep3 = lastEvents(3);
    const list = keep3(keep3([], [e(1), e(2)]), [e(3), e(4)]);
    expect(cursors(list)).toEqual([2, 3, 4]);
    expect(cursors(lastEvents()([], Array.from({ length: 150 }, (_, i) => e(i + 1))))).toHaveLength(100);
  });

  it("rejects a max that is not an integer from 1 to MAX_LIST", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, MAX_LIST + 1]) expect(() => lastEvents(bad)).toThrow(RangeError);
    expect(() => lastEvents(MAX_LIST)).not.toThrow();
  });
});

describe("statusStore", () => {
  it("follows the client's status, the same object until it changes", async () => {
    const { client } = countedClient();
    const store = statusStore(client);
    const states: string[] = [];
    const off = store.subscribe(() => states.push(store.get()!.state));
    expect(store.get()).toBe(client.status);
    client.subscribe(["t"], () => {});
    await world.until(() => store.get()?.state === "live", "live");
    expect(states).toContain("live");
    expect(store.get()).toBe(store.get());
    off();
  });
});

describe("onestream/svelte", () => {
  it("is a Svelte store: the value at once, then each change; get() reads it", async () => {
    const { client, open } = countedClient();
    const { options, isLive } = liveFlag({ since: "now" });
    const events = eventsStore(client, ["t"], { max: 2, ...options });
    const values: number[][] = [];
    const off = events.subscribe((list) => values.push(cursors(list)));
    expect(values).toEqual([[]]);
    await world.until(isLive, "live");
    world.server.publish("t", 3);
    await world.until(() => values.at(-1)?.length === 2, "2 events");
    expect(values.at(-1)).toEqual([2, 3]);
    expect(cursors(get(events))).toEqual([2, 3]);
    off();
    await microtask();
    expect(open()).toBe(0);
  });

  it("statusStore does not repeat a value it already gave", async () => {
    const { client } = countedClient();
    const states: string[] = [];
    const off = svelteStatus(client).subscribe((s) => states.push(s!.state));
    expect(states).toEqual([client.status.state]);
    off();
  });
});

describe("onestream/vue", () => {
  it("fills a shallowRef and lets go when its effect scope stops", async () => {
    const { client, open } = countedClient();
    const { options, isLive } = liveFlag({ since: "now" });
    const scope = effectScope();
    const refs = scope.run(() => ({ events: useEvents(client, ["t"], options), status: useStatus(client) }))!;
    await world.until(isLive, "live");
    world.server.publish("t", 2);
    await world.until(() => refs.events.value.length === 2, "2 events");
    expect(refs.status.value?.state).toBe("live");
    expect(open()).toBe(1);
    scope.stop();
    await microtask();
    expect(open()).toBe(0);
  });
});
