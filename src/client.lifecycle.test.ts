// The client's connection lifecycle against the real host and engine (fake server, fake clock)
// through the real SharedWorker connector: the "SharedWorker" is a stand-in whose port is
// served by a host in this realm, exactly as `onconnect` serves it in a browser. A crash is
// the host going away (its life lock released, its ports closed); the browser then makes a new
// worker for the next `new SharedWorker` of that name.
import * as Comlink from "comlink";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { StreamEvent } from "../contract/types";
import { createWorld, type World } from "../worker/host/test-world";
import type { Host } from "../worker/host/worker-host";
import { createClientWith, type Client } from "./client";
import { ANSWER_DEADLINE_MS, sharedWorkerConnector } from "./link";

let world: World;
const clients: Client[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const c of clients.splice(0)) await c.close();
  world?.dispose();
});

/** The worker side of a connection: the host and the port it serves the tab on. */
interface Served {
  host: Host;
  port: MessagePort;
}

/** A SharedWorker factory whose every "worker" connects to `host()`; `served` records each connection. */
function sharedWorkerOf(host: () => Host, served: Served[] = []): (name: string) => SharedWorker {
  return () => {
    const ch = new MessageChannel();
    const h = host();
    Comlink.expose(h.connect(() => ch.port2.close()), ch.port2);
    served.push({ host: h, port: ch.port2 });
    world.onDispose(() => ch.port2.close());
    return { port: ch.port1, addEventListener() {} } as unknown as SharedWorker;
  };
}

function tab(host: () => Host, served?: Served[]): Client {
  const c = createClientWith(
    { baseUrl: "http://server.test" },
    { locks: world.locks, connector: sharedWorkerConnector(sharedWorkerOf(host, served), "w", world.locks), hints: false },
  );
  clients.push(c);
  return c;
}

describe("client lifecycle: close", () => {
  it("close() over a SharedWorker resolves, releases the tab's lock and topics, says closed; twice is fine", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = tab(() => host);
    const b = tab(() => host);
    a.subscribe(["only-a"], () => {}, { since: "now" });
    b.subscribe(["only-b"], () => {}, { since: "now" });
    await world.until(() => a.status.state === "live" && b.status.state === "live", "both live");
    await world.until(() => world.server.streamTopics().join("|") === "only-a,only-b", "one stream, two topics");

    await expect(a.close()).resolves.toBeUndefined();
    expect(a.status.state).toBe("closed");
    await expect(a.close()).resolves.toBeUndefined();
    await world.until(() => host.tabCount() === 1, "the host dropped the tab");
    await world.until(() => world.server.streamTopics().join("|") === "only-b", "only-a left the stream");
    expect(b.status.state).toBe("live");
  });
});

/**
 * The browser's side of `new SharedWorker(url, { name })`: the live worker, or a new one once it
 * died. A crash cuts the worker's ports first (it answers nothing more), then lets its host go,
 * which releases its life lock as a dead worker's context does.
 */
function browserWorkers() {
  let live: Host | undefined;
  const made: Host[] = [];
  const served: Served[] = [];
  return {
    made,
    served,
    current(): Host {
      if (live === undefined) made.push((live = world.newHost()));
      return live;
    },
    async crash(): Promise<void> {
      const dead = live!;
      live = undefined;
      for (const s of served) if (s.host === dead) s.port.close();
      await dead.close();
    },
  };
}

function tabOf(workers: ReturnType<typeof browserWorkers>): Client {
  return tab(() => workers.current(), workers.served);
}

function collect(c: Client, topic: string) {
  const got: StreamEvent[] = [];
  c.subscribe([topic], (events) => got.push(...events), { since: "now" });
  return got;
}

const cursors = (events: StreamEvent[]) => events.map((e) => Number(e.cursor));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("client lifecycle: the shared worker dies", () => {
  it("every tab notices, meets the others in one new worker and resumes from its own cursors: nothing lost or repeated", async () => {
    world = createWorld();
    const workers = browserWorkers();
    const tabs = [tabOf(workers), tabOf(workers)];
    const got = tabs.map((t) => collect(t, "t"));
    await world.until(() => tabs.every((t) => t.status.state === "live"), "live");
    world.server.publish("t", 5);
    await world.until(() => got.every((g) => g.length === 5), "first five");

    await workers.crash();
    world.server.publish("t", 5); // while no worker runs
    await world.until(() => workers.made.length === 2 && tabs.every((t) => t.status.state === "live"), "live on a new worker");
    world.server.publish("t", 5);
    await world.until(() => got.every((g) => g.length >= 15), "all fifteen");
    await world.flush();
    for (const g of got) expect(cursors(g)).toEqual(range(1, 15));
    expect(workers.made[1]!.tabCount()).toBe(2);
    expect(world.server.openStreams).toBe(1);
    expect(tabs.map((t) => t.status.role)).toEqual(["shared-worker", "shared-worker"]);
  });

  it("a publish in flight when the worker dies resolves once, from the new worker: one event", async () => {
    world = createWorld();
    const workers = browserWorkers();
    const a = tabOf(workers);
    const got = collect(a, "t");
    await world.until(() => a.status.state === "live", "live");
    world.server.rejectPublishes(new Error("network error")); // the first send fails; the retry waits for the clock
    const p = a.publish("t", new Uint8Array([42]));
    await world.until(() => world.server.publishRequests.length === 1, "first attempt");
    await workers.crash();
    await world.until(() => workers.made.length === 2 && world.server.retained("t").length === 1, "published by the new worker");
    await world.clock.advance(60_000);
    await expect(p).resolves.toEqual({ cursor: 1n });
    await world.until(() => got.length === 1, "the event, once");
    expect(world.server.retained("t").map((e) => [...e.payload])).toEqual([[42]]);
  });

  it("a worker that never answers (a tab attached to a dying one) is asked for again; its late answer does not double the tab", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] }); // the connector's own timers
    world = createWorld();
    const host = world.newHost();
    let made = 0;
    let serveFirst: () => void = () => {};
    const objects: EventTarget[] = [];
    const factory = (): SharedWorker => {
      const ch = new MessageChannel();
      const serve = (): void => Comlink.expose(host.connect(() => ch.port2.close()), ch.port2);
      if (++made === 1) serveFirst = serve; // silent until we say so
      else serve();
      world.onDispose(() => ch.port2.close());
      objects.push(Object.assign(new EventTarget(), { port: ch.port1 }));
      return objects.at(-1) as unknown as SharedWorker;
    };
    const a = createClientWith(
      { baseUrl: "http://server.test" },
      { locks: world.locks, connector: sharedWorkerConnector(factory, "w", world.locks), hints: false },
    );
    clients.push(a);
    const got = collect(a, "t");
    await world.until(() => host.tabCount() === 0 && a.status.state === "connecting", "waiting on the silent worker");
    vi.advanceTimersByTime(ANSWER_DEADLINE_MS);
    await world.until(() => a.status.state === "live", "live through the second ask");
    expect(made).toBe(2);
    objects[0]!.dispatchEvent(new Event("error")); // the abandoned worker failing is no concern of ours
    serveFirst(); // the first connection's init arrives at last
    await world.flush();
    expect(host.tabCount()).toBe(1);
    world.server.publish("t", 3);
    await world.until(() => got.length === 3, "events");
    await world.flush();
    expect(cursors(got)).toEqual([1, 2, 3]);
    expect(made).toBe(2);
    expect(a.status.state).toBe("live");
  });
});
