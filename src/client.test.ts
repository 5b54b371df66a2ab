// The tab client against the real host and engine (fake server, fake clock), connected over
// real MessageChannels with comlink — the SharedWorker path minus the SharedWorker object.
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { StreamEvent } from "../contract/types";
import { createWorld, type World } from "../worker/host/test-world";
import type { Host } from "../worker/host/worker-host";
import { createClientWith, type Client, type ClientOptions, type ClientStatus } from "./client";
import { hostLink, type Connector, type Link } from "./link";

let world: World;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  world?.dispose();
});

/** A connector to `host` in this realm; `patch` may alter the link (to fake an old worker). */
function connectorTo(host: Host, patch: (l: Link) => Link = (l) => l): Connector {
  return { start: (onLink) => onLink(patch(hostLink(host, "shared-worker"))), close: () => {} };
}

function tab(host: Host, options: Partial<ClientOptions> = {}, patch?: (l: Link) => Link): Client {
  const c = createClientWith(
    { baseUrl: "http://server.test", ...options },
    { locks: world.locks, connector: connectorTo(host, patch), hints: false },
  );
  clients.push(c);
  return c;
}

function collect(c: Client, topics: string[], since: "now" | "stored" = "now") {
  const got: StreamEvent[] = [];
  const live: string[] = [];
  const handle = c.subscribe(topics, (events) => got.push(...events), { since, onLive: (t) => live.push(...t) });
  return { got, live, handle };
}

const cursors = (events: StreamEvent[]) => events.map((e) => Number(e.cursor));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("client over the host", () => {
  it("two tabs share one stream; each gets each event of its topics once, in order, and is told when live", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = tab(host);
    const b = tab(host);
    const ra = collect(a, ["news"]);
    const rb = collect(b, ["news", "sport"]);
    await world.until(() => ra.live.includes("news") && rb.live.length === 2, "both live");
    expect(ra.handle.live.has("news")).toBe(true);
    expect(a.status).toMatchObject({ state: "live", role: "shared-worker", resyncing: false });
    world.server.publish("news", 10);
    world.server.publish("sport", 3);
    await world.until(() => ra.got.length === 10 && rb.got.length === 13, "events");
    expect(cursors(ra.got)).toEqual(range(1, 10));
    expect(cursors(rb.got.filter((e) => e.topic === "sport"))).toEqual([1, 2, 3]);
    expect(world.server.openStreams).toBe(1);
    expect(world.engines).toHaveLength(1);
  });

  it("reports status level-triggered with its role", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = tab(host);
    const seen: ClientStatus[] = [];
    a.onStatus((s) => seen.push(s));
    expect(seen[0]?.state).toBe("connecting");
    collect(a, ["t"]);
    await world.until(() => a.status.state === "live", "live");
    // No two consecutive reports are equal.
    for (let i = 1; i < seen.length; i++) expect(JSON.stringify(seen[i])).not.toBe(JSON.stringify(seen[i - 1]));
    expect(seen.at(-1)).toMatchObject({ state: "live", role: "shared-worker" });
  });

  it("drops a status field once the engine's state no longer carries it", async () => {
    world = createWorld();
    const host = world.newHost();
    world.server.rejectSubscribes(new ConnectError("down", Code.Unavailable));
    const a = tab(host);
    collect(a, ["t"]);
    await world.until(() => a.status.state === "backoff", "backoff");
    expect(a.status.nextAttemptAt).toBeTypeOf("number");
    await world.until(() => a.status.state === "live", "live after the retry", 60_000);
    expect(a.status.nextAttemptAt).toBeUndefined();
  });

  it("publishes through the durable outbox and resolves once acknowledged", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = tab(host);
    const r = collect(a, ["chat"]);
    await world.until(() => r.live.length === 1, "live");
    const p = a.publish("chat", new TextEncoder().encode("hi"));
    await world.until(() => r.got.length === 1, "own event back");
    await expect(p).resolves.toEqual({ cursor: 1n });
    expect(new TextDecoder().decode(r.got[0]!.payload)).toBe("hi");
  });

  it("rejects bad input clearly and keeps working", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = tab(host);
    expect(() => a.subscribe([], () => {})).toThrow(TypeError);
    expect(() => a.subscribe(["ok", "bad\n"], () => {})).toThrow(/control characters/);
    expect(() => a.subscribe(["ok"], () => {}, { since: { ok: 1 as unknown as bigint } })).toThrow(/bigint/);
    await expect(a.publish("t", "text" as unknown as Uint8Array)).rejects.toThrow(/Uint8Array/);
    await expect(a.publish("t", new Uint8Array(16 * 1024 * 1024 + 1))).rejects.toMatchObject({ name: "RangeError" });
    const r = collect(a, ["t"]);
    await world.until(() => r.live.length === 1, "still works");
  });

  it("rejects every call after close with ClosedError, releases its lock and its topics", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = tab(host);
    collect(a, ["t"]);
    await world.until(() => world.server.openStreams === 1, "stream");
    await a.close();
    expect(a.status.state).toBe("closed");
    expect(() => a.subscribe(["t"], () => {})).toThrow(expect.objectContaining({ name: "ClosedError" }));
    await expect(a.publish("t", new Uint8Array(1))).rejects.toMatchObject({ name: "ClosedError" });
    await expect(a.reset()).rejects.toMatchObject({ name: "ClosedError" });
    await world.until(() => host.tabCount() === 0 && world.server.openStreams === 0, "tab and stream gone");
  });

  it("resyncs by itself after overflowing its bound: nothing lost, nothing repeated", async () => {
    world = createWorld();
    const host = world.newHost({ maxUnackedEvents: 150, maxBatchEvents: 50 });
    const a = tab(host);
    const b = tab(host);
    const ra = collect(a, ["t"]);
    const rb = collect(b, ["t"]);
    const resyncing: boolean[] = [];
    a.onStatus((s) => resyncing.push(s.resyncing));
    await world.until(() => ra.live.length === 1 && rb.live.length === 1, "live");
    for (let i = 0; i < 10; i++) world.server.publish("t", 100); // far faster than acks come back
    await world.until(() => ra.got.length === 1000 && rb.got.length === 1000, "everything delivered");
    expect(cursors(ra.got)).toEqual(range(1, 1000));
    expect(cursors(rb.got)).toEqual(range(1, 1000));
    expect(resyncing).toContain(true);
    await world.until(() => a.status.resyncing === false, "resync over");
  });

  it("property: whatever the bound and the bursts, every tab gets every event once, in order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 6 }),
        async (bound, bursts) => {
          world = createWorld();
          const host = world.newHost({ maxUnackedEvents: bound, maxBatchEvents: 64 });
          const rs = [tab(host), tab(host)].map((c) => collect(c, ["p"]));
          await world.until(() => rs.every((r) => r.live.length === 1), "live");
          for (const n of bursts) world.server.publish("p", n);
          const total = bursts.reduce((a, b) => a + b, 0);
          await world.until(() => rs.every((r) => r.got.length >= total), "all delivered", 20_000);
          await world.flush();
          for (const r of rs) expect(cursors(r.got)).toEqual(range(1, total));
          for (const c of clients.splice(0)) await c.close();
          world.dispose();
        },
      ),
      { numRuns: 12 },
    );
  });

  it("fails clearly when the worker speaks another protocol version", async () => {
    world = createWorld();
    const host = world.newHost();
    const old = tab(host, {}, (l) => ({ ...l, init: async (req, auth) => ({ ...(await l.init(req, auth)), protocol: 99 }) }));
    await expect(old.ready).rejects.toMatchObject({ name: "VersionMismatchError", message: expect.stringMatching(/v99/) });
    expect(old.status).toMatchObject({ state: "failed", lastError: { code: "version_mismatch" } });
    expect(() => old.subscribe(["t"], () => {})).toThrow(/v99/);
    await expect(old.publish("t", new Uint8Array(1))).rejects.toMatchObject({ name: "VersionMismatchError" });
  });

  it("relays getAuth to the worker on connect; tokens reach the server, never storage", async () => {
    world = createWorld({ token: "tok" });
    const host = world.newHost();
    const whys: Array<string | undefined> = [];
    const a = tab(host, {
      user: "u",
      getAuth: async (why) => {
        whys.push(why);
        return { authorization: "Bearer tok" };
      },
    });
    const r = collect(a, ["t"]);
    await world.until(() => r.live.length === 1, "live with auth");
    expect(whys).toContain("connect");
    await a.publish("t", new Uint8Array([1]));
    for (const m of world.storage.outbox.values()) for (const rec of m.values()) expect(JSON.stringify(rec, (_, v) => (typeof v === "bigint" ? "" : v))).not.toContain("tok");
  });

  it("reset() wipes this user's persisted state", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = tab(host, { user: "ann" });
    const r = collect(a, ["t"]);
    await world.until(() => r.live.length === 1, "live");
    world.server.publish("t", 2);
    await world.until(() => (world.storage.cursors.get("ann")?.size ?? 0) > 0, "cursor persisted");
    // Unsubscribed first: a subscription that stays is reconnected after the wipe, live from
    // now, and its new position is persisted again (the engine's reset contract).
    r.handle.unsubscribe();
    await a.reset();
    expect(world.storage.cursors.get("ann")?.size ?? 0).toBe(0);
  });

  it("forwards page events as network hints", async () => {
    world = createWorld();
    const host = world.newHost();
    const win = new EventTarget();
    const doc = Object.assign(new EventTarget(), { visibilityState: "visible" });
    const a = createClientWith(
      { baseUrl: "http://server.test" },
      { locks: world.locks, connector: connectorTo(host), hints: { window: win, document: doc } },
    );
    clients.push(a);
    collect(a, ["t"]);
    await world.until(() => a.status.state === "live", "live");
    win.dispatchEvent(new Event("offline"));
    await world.until(() => a.status.state === "offline", "offline after the page's offline event");
    win.dispatchEvent(new Event("online"));
    await world.until(() => a.status.state === "live", "live again after online");
  });

  it("fails with UnsupportedError without SharedWorker when fallback is 'none'", async () => {
    world = createWorld();
    const c = createClientWith({ fallback: "none", worker: "/w.js" }, { locks: world.locks, hints: false });
    clients.push(c);
    await expect(c.ready).rejects.toMatchObject({ name: "UnsupportedError", message: expect.stringMatching(/SharedWorker/) });
  });
});

describe("client: acknowledging what the app processed", () => {
  it("an async onEvents holds the next batch and the stored cursor until its promise resolves", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = tab(host);
    const calls: number[][] = [];
    const finish: Array<() => void> = [];
    a.subscribe(["t"], (events) => {
      calls.push(cursors(events));
      return new Promise<void>((resolve) => finish.push(resolve));
    });
    await world.until(() => a.status.state === "live", "live");
    world.server.publish("t", 3);
    await world.until(() => calls.length === 1, "first batch");
    world.server.publish("t", 2);
    for (let i = 0; i < 10; i++) await world.flush();
    expect(calls).toEqual([[1, 2, 3]]); // the next batch waits for the app
    expect(world.storage.cursorOf("anonymous", "t")).toBe(0n); // only "now" is stored: nothing processed yet
    finish.shift()!();
    await world.until(() => calls.length === 2, "second batch");
    expect(calls[1]).toEqual([4, 5]);
    await world.until(() => world.storage.cursorOf("anonymous", "t") === 3n, "cursor 3 stored");
    finish.shift()!();
    await world.until(() => world.storage.cursorOf("anonymous", "t") === 5n, "cursor 5 stored");
  });

  it("a rejected or throwing onEvents does not acknowledge its events; a later success does", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = tab(host);
    let mode: "reject" | "throw" | "ok" = "reject";
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    a.subscribe(["t"], (): Promise<void> | void => {
      if (mode === "reject") return Promise.reject(new Error("app could not apply"));
      if (mode === "throw") throw new Error("app bug");
    });
    await world.until(() => a.status.state === "live", "live");
    world.server.publish("t", 2);
    for (let i = 0; i < 10; i++) await world.flush();
    mode = "throw";
    world.server.publish("t", 1);
    for (let i = 0; i < 10; i++) await world.flush();
    expect(world.storage.cursorOf("anonymous", "t")).toBe(0n);
    mode = "ok";
    world.server.publish("t", 1);
    await world.until(() => world.storage.cursorOf("anonymous", "t") === 4n, "cursor 4 stored");
    expect(errors).toHaveBeenCalledTimes(2);
    errors.mockRestore();
  });
});

describe("client: identity, logout and durable publishes", () => {
  it("refuses getAuth without user: one default key would mix two users' outboxes", () => {
    world = createWorld();
    expect(() => createClientWith({ baseUrl: "http://server.test", getAuth: async () => ({}) }, { locks: world.locks, hints: false })).toThrow(
      /getAuth needs `user`/,
    );
  });

  it("reset() ends the user's subscriptions in every tab with an EndedError; nothing is stored again", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = tab(host, { user: "u" });
    const b = tab(host, { user: "u" });
    const errors: string[] = [];
    const ra = a.subscribe(["t"], () => {}, { onError: (e) => errors.push(`a:${e.name}`) });
    b.subscribe(["t"], () => {}, { onError: (e) => errors.push(`b:${e.name}`) });
    await world.until(() => a.status.state === "live" && ra.live.has("t"), "live");
    world.server.publish("t", 2);
    await world.until(() => world.storage.cursorOf("u", "t") === 2n, "cursor stored");
    await a.reset();
    await world.until(() => errors.length === 2, "both ended");
    expect(errors.sort()).toEqual(["a:EndedError", "b:EndedError"]);
    await world.until(() => world.server.openStreams === 0, "stream closed");
    world.server.publish("t", 3);
    for (let i = 0; i < 20; i++) await world.flush();
    expect(world.storage.cursors.get("u")).toBeUndefined();
  });

  it("publish(...).durable resolves once the outbox committed it, before the server answers", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = tab(host);
    collect(a, ["t"]);
    await world.until(() => a.status.state === "live", "live");
    world.server.rejectPublishes(new ConnectError("down", Code.Unavailable)); // the first send fails
    let durable = false;
    let acked = false;
    const p = a.publish("t", new Uint8Array([1]));
    void p.durable.then(() => (durable = true));
    void p.then(() => (acked = true));
    await world.until(() => durable, "durable");
    expect(acked).toBe(false);
    expect([...(world.storage.outbox.get("anonymous")?.values() ?? [])]).toHaveLength(1);
    await world.until(() => acked, "acknowledged after the retry");
    expect((await p).cursor).toBe(1n);
  });
});
