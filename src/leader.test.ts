// The fallback without SharedWorker: tabs elect a leader with Web Locks (in-memory, same
// semantics), the leader runs the real host and engine — in-page, or in a dedicated Worker it
// owns — and the others are served over real BroadcastChannels; when it goes, another tab takes
// over and nobody loses or repeats an event. The dedicated "Worker" is a stand-in whose global
// scope is the other end of a MessageChannel, served exactly as `serve()` serves a dedicated
// worker's scope.
import * as Comlink from "comlink";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { StreamEvent } from "../contract/types";
import { leaderWorkerApi } from "../worker/host/leader-worker";
import { createWorld, type World } from "../worker/host/test-world";
import type { Host } from "../worker/host/worker-host";
import { createClientWith, type Client, type ClientOptions } from "./client";
import { WORKER_START_TIMEOUT_MS } from "./leader-hosts";

let world: World;
const clients: Client[] = [];
afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  for (const c of clients.splice(0)) await c.close();
  world?.dispose();
});

interface MadeWorker {
  host: Host;
  terminated: boolean;
  /** Dies as a crash does: answers nothing more, its life lock is released. */
  crash(): Promise<void>;
}

/** A factory of stand-in dedicated workers, each with its own host, as `new Worker(url)` gives. */
function dedicatedWorkers() {
  const made: MadeWorker[] = [];
  const factory = (): Worker => {
    const host = world.newHost();
    const scope = new MessageChannel();
    const ports: MessagePort[] = [scope.port1, scope.port2];
    const accept = (port: unknown): void => {
      ports.push(port as MessagePort);
      Comlink.expose(host.connect(() => (port as MessagePort).close()), port as Comlink.Endpoint);
    };
    Comlink.expose(leaderWorkerApi(host, accept, BroadcastChannel), scope.port2);
    const entry: MadeWorker = {
      host,
      terminated: false,
      async crash() {
        for (const p of ports) p.close();
        await host.close();
      },
    };
    made.push(entry);
    world.onDispose(() => ports.forEach((p) => p.close()));
    return Object.assign(scope.port1, {
      terminate() {
        entry.terminated = true;
        void entry.crash();
      },
    }) as unknown as Worker;
  };
  return { made, factory };
}

let nameCounter = 0;

function tabs(n: number, name: string, options: Partial<ClientOptions> = {}): Client[] {
  return Array.from({ length: n }, () => {
    const c = createClientWith(
      { baseUrl: "http://server.test", name, fallback: "leader", ...options },
      { locks: world.locks, createLeaderHost: () => world.newHost(), hints: false },
    );
    clients.push(c);
    return c;
  });
}

function collect(c: Client, topics: string[]) {
  const got: StreamEvent[] = [];
  const live: string[] = [];
  c.subscribe(topics, (events) => got.push(...events), { since: "now", onLive: (t) => live.push(...t) });
  return { got, live };
}

const cursors = (events: StreamEvent[]) => events.map((e) => Number(e.cursor));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const leaderOf = (ts: Client[]) => ts.find((t) => t.status.role === "leader")!;

describe("leader fallback", () => {
  it("builds the leader's host on demand (the engine is a dynamic import) and fails clearly when it cannot load", async () => {
    world = createWorld();
    const name = `n${++nameCounter}`;
    const lazy = createClientWith(
      { baseUrl: "http://server.test", name, fallback: "leader" },
      { locks: world.locks, createLeaderHost: async () => world.newHost(), hints: false },
    );
    clients.push(lazy);
    await lazy.ready;
    expect(lazy.status.role).toBe("leader");
    const r = collect(lazy, ["t"]);
    await world.until(() => r.live.length === 1, "live");
    world.server.publish("t", 2);
    await world.until(() => r.got.length === 2, "events");

    const broken = createClientWith(
      { baseUrl: "http://server.test", name: `n${++nameCounter}`, fallback: "leader" },
      { locks: world.locks, createLeaderHost: () => Promise.reject(new Error("chunk failed to load")), hints: false },
    );
    clients.push(broken);
    await expect(broken.ready).rejects.toThrow(/chunk failed to load/);
    expect(broken.status.state).toBe("failed");
  });

  it("elects one leader that serves every tab over one upstream stream", async () => {
    world = createWorld();
    const [a, b, c] = tabs(3, `n${++nameCounter}`);
    await Promise.all([a!.ready, b!.ready, c!.ready]);
    const roles = [a, b, c].map((t) => t!.status.role).sort();
    expect(roles).toEqual(["follower", "follower", "leader"]);
    const rs = [a, b, c].map((t) => collect(t!, ["t"]));
    await world.until(() => rs.every((r) => r.live.length === 1), "all live");
    world.server.publish("t", 20);
    await world.until(() => rs.every((r) => r.got.length === 20), "all got 20");
    for (const r of rs) expect(cursors(r.got)).toEqual(range(1, 20));
    expect(world.server.openStreams).toBe(1);
    expect(world.engines).toHaveLength(1);
  });

  it("lets a follower publish through the leader", async () => {
    world = createWorld();
    const [, b] = tabs(2, `n${++nameCounter}`);
    await b!.ready;
    expect(b!.status.role).toBe("follower");
    const r = collect(b!, ["chat"]);
    await world.until(() => r.live.length === 1, "live");
    const p = b!.publish("chat", new TextEncoder().encode("from a follower"));
    await world.until(() => r.got.length === 1, "event back");
    await expect(p).resolves.toEqual({ cursor: 1n });
  });

  it("relays auth from a follower over BroadcastChannel when the leader has none", async () => {
    world = createWorld({ token: "tok" });
    const name = `n${++nameCounter}`;
    const [leader] = tabs(1, name);
    await leader!.ready;
    expect(leader!.status.role).toBe("leader");
    let asked = 0;
    const [follower] = tabs(1, name, {
      user: "u",
      getAuth: async () => {
        asked++;
        return { authorization: "Bearer tok" };
      },
    });
    await follower!.ready;
    const r = collect(follower!, ["t"]);
    await world.until(() => r.live.length === 1, "live with the follower's token");
    expect(asked).toBeGreaterThan(0);
  });

  it("hands over within a second when the leader closes: nothing lost or repeated", async () => {
    world = createWorld();
    const [a, b, c] = tabs(3, `n${++nameCounter}`);
    await Promise.all([a!.ready, b!.ready, c!.ready]);
    const leader = [a!, b!, c!].find((t) => t.status.role === "leader")!;
    const rest = [a!, b!, c!].filter((t) => t !== leader);
    const rs = rest.map((t) => collect(t, ["t"]));
    collect(leader, ["t"]);
    await world.until(() => rs.every((r) => r.live.length === 1), "live");
    world.server.publish("t", 5);
    await world.until(() => rs.every((r) => r.got.length === 5), "first five");

    const t0 = world.clock.monotonic();
    await leader.close();
    world.server.publish("t", 5); // while nobody leads
    await world.until(
      () => rest.some((t) => t.status.role === "leader") && rest.every((t) => t.status.state === "live"),
      "a new leader, live",
    );
    expect(world.clock.monotonic() - t0).toBeLessThan(1000);
    expect(rest.map((t) => t.status.role).sort()).toEqual(["follower", "leader"]);
    world.server.publish("t", 5);
    await world.until(() => rs.every((r) => r.got.length >= 15), "all fifteen");
    await world.flush();
    for (const r of rs) expect(cursors(r.got)).toEqual(range(1, 15));
    expect(world.server.openStreams).toBe(1);
  });

  it("a follower's publish in flight at the handover resolves once, from the next leader: one event", async () => {
    world = createWorld();
    const [a, b] = tabs(2, `n${++nameCounter}`);
    await Promise.all([a!.ready, b!.ready]);
    const leader = a!.status.role === "leader" ? a! : b!;
    const follower = leader === a ? b! : a!;
    world.server.rejectPublishes(new Error("network error")); // the first send fails; the retry waits for the clock
    const p = follower.publish("t", new Uint8Array([42]));
    await world.until(() => world.server.publishRequests.length === 1, "first attempt");
    await leader.close();
    // The follower retries under the same key; the new leader's engine joins the record it
    // loaded from the durable outbox (or the server answers with the first cursor).
    await world.until(() => world.server.retained("t").length === 1, "published by the next leader");
    await world.clock.advance(60_000);
    await expect(p).resolves.toEqual({ cursor: 1n });
    expect(world.server.retained("t").map((e) => [...e.payload])).toEqual([[42]]);
  });
});

describe("leader fallback with a dedicated worker", () => {
  it("the leader's worker serves every tab, followers included, over one upstream stream", async () => {
    world = createWorld();
    const workers = dedicatedWorkers();
    const all = tabs(3, `d${++nameCounter}`, { dedicatedWorker: workers.factory });
    await Promise.all(all.map((t) => t.ready));
    expect(all.map((t) => t.status.role).sort()).toEqual(["follower", "follower", "leader"]);
    const got = all.map((t) => collect(t, ["t"]).got);
    await world.until(() => all.every((t) => t.status.state === "live"), "all live");
    expect(workers.made).toHaveLength(1);
    expect(workers.made[0]!.host.tabCount()).toBe(3); // the followers too, over BroadcastChannel
    world.server.publish("t", 20);
    await world.until(() => got.every((g) => g.length === 20), "all got 20");
    for (const g of got) expect(cursors(g)).toEqual(range(1, 20));
    expect(world.server.openStreams).toBe(1);
    expect(world.engines).toHaveLength(1);
  });

  it("hands over when the leader closes: its worker ends, the next leader's starts, nothing lost or repeated", async () => {
    world = createWorld();
    const workers = dedicatedWorkers();
    const all = tabs(3, `d${++nameCounter}`, { dedicatedWorker: workers.factory });
    await Promise.all(all.map((t) => t.ready));
    const leader = leaderOf(all);
    const rest = all.filter((t) => t !== leader);
    const got = rest.map((t) => collect(t, ["t"]).got);
    await world.until(() => rest.every((t) => t.status.state === "live"), "live");
    world.server.publish("t", 5);
    await world.until(() => got.every((g) => g.length === 5), "first five");

    await leader.close();
    world.server.publish("t", 5); // while nobody leads
    await world.until(() => rest.some((t) => t.status.role === "leader") && rest.every((t) => t.status.state === "live"), "a new leader, live");
    expect(workers.made).toHaveLength(2);
    expect(workers.made[0]!.terminated).toBe(true);
    world.server.publish("t", 5);
    await world.until(() => got.every((g) => g.length >= 15), "all fifteen");
    await world.flush();
    for (const g of got) expect(cursors(g)).toEqual(range(1, 15));
    expect(world.server.openStreams).toBe(1);
  });

  it("a leader whose worker dies steps down; the next term starts a new worker; nothing lost or repeated", async () => {
    world = createWorld();
    const workers = dedicatedWorkers();
    const all = tabs(2, `d${++nameCounter}`, { dedicatedWorker: workers.factory });
    await Promise.all(all.map((t) => t.ready));
    const got = all.map((t) => collect(t, ["t"]).got);
    await world.until(() => all.every((t) => t.status.state === "live"), "live");
    world.server.publish("t", 5);
    await world.until(() => got.every((g) => g.length === 5), "first five");

    await workers.made[0]!.crash();
    world.server.publish("t", 5);
    await world.until(
      () => workers.made.length === 2 && all.every((t) => t.status.state === "live") && workers.made[1]!.host.tabCount() === 2,
      "both tabs live on a new worker",
    );
    expect(all.map((t) => t.status.role).sort()).toEqual(["follower", "leader"]);
    world.server.publish("t", 5);
    await world.until(() => got.every((g) => g.length >= 15), "all fifteen");
    await world.flush();
    for (const g of got) expect(cursors(g)).toEqual(range(1, 15));
    expect(world.server.openStreams).toBe(1);
  });

  it("runs the engine in-page, with one warning, when the worker cannot be made or stays silent", async () => {
    world = createWorld();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const [broken] = tabs(1, `d${++nameCounter}`, {
      dedicatedWorker: () => {
        throw new ReferenceError("Worker is not defined");
      },
    });
    const { got } = collect(broken!, ["t"]);
    await world.until(() => broken!.status.state === "live", "live in-page");
    expect(broken!.status.role).toBe("leader");
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/in its page: Worker is not defined/));
    world.server.publish("t", 2);
    await world.until(() => got.length === 2, "events");

    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] }); // the start timeout's own timer
    const silent = new MessageChannel(); // nobody serves its other end
    world.onDispose(() => silent.port1.close());
    const [patient] = tabs(1, `d${++nameCounter}`, { dedicatedWorker: () => Object.assign(silent.port1, { terminate() {} }) as unknown as Worker });
    collect(patient!, ["t"]);
    await world.flush();
    expect(patient!.status.state).toBe("connecting");
    vi.advanceTimersByTime(WORKER_START_TIMEOUT_MS);
    await world.until(() => patient!.status.state === "live" && patient!.status.role === "leader", "live in-page after the timeout");
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/did not answer within/));
  });
});
