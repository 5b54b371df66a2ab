// The fallback without SharedWorker: tabs elect a leader with Web Locks (in-memory, same
// semantics), the leader runs the real host and engine in-page and serves the others over real
// BroadcastChannels; when it goes, another tab takes over and nobody loses or repeats an event.
import { afterEach, describe, expect, it } from "vitest";
import type { StreamEvent } from "../contract/types";
import { createWorld, type World } from "../worker/host/test-world";
import { createClientWith, type Client, type ClientOptions } from "./client";

let world: World;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  world?.dispose();
});

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
