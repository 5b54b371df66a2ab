// The host with the real engine on a fake server, tabs connected over real MessagePorts.
import { afterEach, describe, expect, it } from "vitest";
import { createWorld, rawTab, type World } from "./test-world";
import { PROTOCOL_VERSION } from "../../contract/protocol";

let world: World;
afterEach(() => world?.dispose());

const bytes = (s: string) => new TextEncoder().encode(s);

describe("worker host", () => {
  it("serves two tabs from one engine and one upstream stream", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = await rawTab(world, host);
    const b = await rawTab(world, host);
    await a.control.subscribe(1, { topics: ["news"], since: "now" });
    await b.control.subscribe(1, { topics: ["news", "sport"], since: "now" });
    await world.until(() => world.server.openStreams === 1 && world.server.streamTopics()[0]?.length === 2, "stream with both topics");
    await world.until(() => a.batches.some((m) => m.status?.state === "live"), "live status in tab a");
    world.server.publish("news", 3);
    world.server.publish("sport", 2);
    await world.until(() => b.events(1).length === 5 && a.events(1).length === 3, "events in both tabs");
    expect(a.events(1).map((e) => e.cursor)).toEqual([1n, 2n, 3n]);
    expect(b.events(1).map((e) => `${e.topic}:${e.cursor}`)).toEqual(["news:1", "news:2", "news:3", "sport:1", "sport:2"]);
    expect(world.engines).toEqual(["u"]);
    expect(world.server.openStreams).toBe(1);
  });

  it("keeps one engine per user", async () => {
    world = createWorld();
    const host = world.newHost();
    await rawTab(world, host, { user: "ann" });
    await rawTab(world, host, { user: "bob" });
    await rawTab(world, host, { user: "ann" });
    expect(world.engines).toEqual(["ann", "bob"]);
  });

  it("sends many events in few port messages", async () => {
    world = createWorld();
    const host = world.newHost({ maxBatchEvents: 1000 });
    const a = await rawTab(world, host);
    await a.control.subscribe(1, { topics: ["t"], since: "now" });
    await world.until(() => a.batches.some((m) => m.status?.state === "live"), "live");
    const before = a.batches.length;
    for (let i = 0; i < 20; i++) world.server.publish("t", 250);
    await world.until(() => a.events(1).length === 5000, "5000 events");
    const messages = a.batches.length - before;
    expect(messages).toBeGreaterThanOrEqual(5); // 5000 / maxBatchEvents
    expect(messages).toBeLessThanOrEqual(25); // never one message per event
    expect(a.events(1).map((e) => Number(e.cursor))).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
  });

  it("removes a dead tab's subscriptions when its lock is released, and its topics leave the stream", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = await rawTab(world, host);
    const b = await rawTab(world, host);
    await a.control.subscribe(1, { topics: ["shared", "only-a"], since: "now" });
    await b.control.subscribe(1, { topics: ["shared"], since: "now" });
    await world.until(() => world.server.streamTopics()[0]?.length === 2, "both topics in the stream");
    expect(host.tabCount()).toBe(2);
    a.kill();
    await world.until(() => host.tabCount() === 1, "tab a removed");
    await world.until(
      () => world.server.openStreams === 1 && world.server.streamTopics()[0]?.join() === "shared",
      "only-a left the stream",
    );
    world.server.publish("shared", 1);
    await world.until(() => b.events(1).length === 1, "b still served");
  });

  it("closes the engine when the last tab of a user is gone", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = await rawTab(world, host);
    await a.control.subscribe(1, { topics: ["x"], since: "now" });
    await world.until(() => world.server.openStreams === 1, "stream open");
    a.kill();
    await world.until(() => world.server.openStreams === 0, "stream closed");
  });

  it("cuts a frozen tab at its bound while the other keeps receiving; resync loses and repeats nothing", async () => {
    world = createWorld();
    const host = world.newHost({ maxUnackedEvents: 300, maxBatchEvents: 100 });
    const frozen = await rawTab(world, host);
    const healthy = await rawTab(world, host);
    await frozen.control.subscribe(1, { topics: ["t"], since: "now" });
    await healthy.control.subscribe(1, { topics: ["t"], since: "now" });
    await world.until(() => healthy.batches.some((m) => m.status?.state === "live"), "live");
    await world.until(() => frozen.batches.some((m) => m.status?.state === "live"), "live (frozen)");
    frozen.acking = false;
    for (let i = 0; i < 20; i++) {
      world.server.publish("t", 100);
      await world.flush();
    }
    await world.until(() => healthy.events(1).length === 2000, "healthy tab got everything");
    await world.until(() => frozen.batches.some((m) => m.overflow === true), "overflow notice");
    const beforeResync = frozen.events(1).length;
    expect(beforeResync).toBeLessThanOrEqual(300 + 100);
    expect(beforeResync).toBeLessThan(2000);
    // The tab wakes up and resyncs, again after each overflow notice (history comes faster than
    // acks, so the bound cuts it in rounds), as the client does.
    frozen.acking = true;
    let rounds = 0;
    let handled = 0;
    await world.until(() => {
      const notice = frozen.batches.filter((m) => m.overflow === true).at(-1);
      if (notice !== undefined && notice.seq > handled) {
        handled = notice.seq;
        rounds++;
        void frozen.control.resync(notice.seq);
      }
      return frozen.events(1).length >= 2000;
    }, "frozen tab caught up");
    expect(rounds).toBeGreaterThanOrEqual(1);
    expect(frozen.events(1).map((e) => Number(e.cursor))).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
  });

  it("publishes through the host and relays auth from a live tab", async () => {
    world = createWorld({ token: "s3cret" });
    const host = world.newHost();
    const asked: string[] = [];
    const a = await rawTab(world, host, {
      auth: async (why) => {
        asked.push(why);
        return { authorization: "Bearer s3cret" };
      },
    });
    const pending = a.control.publish("news", bytes("hello"), "k1");
    await world.until(() => world.server.publishRequests.length > 0, "publish reached the server");
    await expect(pending).resolves.toEqual({ cursor: 1n });
    expect(world.server.retained("news").map((e) => new TextDecoder().decode(e.payload))).toEqual(["hello"]);
    expect(asked.length).toBeGreaterThan(0);
    // No token is ever persisted.
    expect(JSON.stringify([...world.storage.outbox.values()].map((m) => [...m.values()]), (_, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain("s3cret");
  });

  it("asks the next live tab for auth when the newest one does not answer in time", async () => {
    world = createWorld({ token: "tok" });
    const host = world.newHost({ authTimeoutMs: 1_000 });
    let askedOld = 0;
    const older = await rawTab(world, host, {
      auth: async () => {
        askedOld++;
        return { authorization: "Bearer tok" };
      },
    });
    let askedNew = 0;
    await rawTab(world, host, {
      auth: () => {
        askedNew++;
        return new Promise(() => {}); // newest, frozen
      },
    });
    const t0 = world.clock.monotonic();
    await older.control.subscribe(1, { topics: ["t"], since: "now" });
    await world.until(() => older.batches.some((m) => m.status?.state === "live"), "live with the older tab's token", 10_000);
    expect(askedNew).toBeGreaterThan(0);
    expect(askedOld).toBeGreaterThan(0);
    expect(world.clock.monotonic() - t0).toBeGreaterThanOrEqual(1_000);
  });

  it("rejects bad input in the offending tab only; the worker and the other tab carry on", async () => {
    world = createWorld();
    const host = world.newHost();
    const bad = await rawTab(world, host);
    const good = await rawTab(world, host);
    await good.control.subscribe(1, { topics: ["t"], since: "now" });
    await world.until(() => good.batches.some((m) => m.status?.state === "live"), "live");

    const rejections = [
      bad.control.subscribe(1, { topics: [], since: "now" }),
      bad.control.subscribe(2, { topics: ["ok", "bad\u0001"], since: "now" }),
      bad.control.subscribe(3, { topics: ["x".repeat(300)] }),
      bad.control.subscribe(4, { topics: ["ok"], since: { ok: -1n } }),
      bad.control.publish("", bytes("x"), "k2"),
      bad.control.publish("t", "not bytes" as unknown as Uint8Array, "k3"),
      bad.control.publish("t", new Uint8Array(16 * 1024 * 1024 + 1), "k4"),
      bad.control.publish("t", bytes("x"), ""),
      bad.control.hint("weird" as never),
    ];
    for (const r of rejections) await expect(r).rejects.toThrow(/^(onestream|publish): /);
    await expect(bad.control.subscribe(9, { topics: [] })).rejects.toMatchObject({ name: "TypeError" });
    await expect(bad.control.publish("t", new Uint8Array(16 * 1024 * 1024 + 1), "k5")).rejects.toMatchObject({ name: "RangeError" });

    world.server.publish("t", 2);
    await world.until(() => good.events(1).length === 2, "good tab still served");
    // The offending tab itself still works for valid calls.
    await bad.control.subscribe(10, { topics: ["t"], since: "now" });
    await bad.control.close();
    await expect(bad.control.subscribe(11, { topics: ["t"] })).rejects.toMatchObject({ name: "ClosedError" });
  });

  it("rejects a tab of another protocol version with a clear error", async () => {
    world = createWorld();
    const host = world.newHost();
    const other = PROTOCOL_VERSION + 1;
    await expect(rawTab(world, host, { init: { protocol: other } })).rejects.toMatchObject({
      name: "VersionMismatchError",
      message: expect.stringMatching(new RegExp(`protocol v${other} .* v${PROTOCOL_VERSION}`)),
    });
    expect(host.tabCount()).toBe(0);
    // Later tabs of the right version are unaffected.
    await rawTab(world, host);
    expect(host.tabCount()).toBe(1);
  });

  it("holds one server per worker: a tab naming another baseUrl is refused", async () => {
    world = createWorld();
    const host = world.newHost();
    await rawTab(world, host, { init: { baseUrl: "http://one.test" } });
    await expect(rawTab(world, host, { init: { baseUrl: "http://two.test" } })).rejects.toThrow(/streams from http:\/\/one\.test/);
  });

  it("clamps out-of-range knobs instead of failing", async () => {
    world = createWorld();
    const warnings: string[] = [];
    const { createHost } = await import("./worker-host");
    const host = createHost(
      { engineFor: () => { throw new Error("unused"); }, locks: world.locks, clock: world.clock, warn: (m) => warnings.push(m) },
      { maxUnackedEvents: 1e12, maxBatchEvents: Number.NaN, authTimeoutMs: -5 },
    );
    expect(warnings).toHaveLength(3);
    await host.close();
  });
});
