// The two foreign protocols in Node, below the browser: the real engine, the README's adapters,
// the real transport (connect-web over Node's fetch) and the real servers (grpc-js behind
// @grpc-web/proxy; connect-node). Fast checks of what the e2e specs then prove in Chromium.
import { afterEach, describe, expect, it } from "vitest";
import { createEngine } from "../../worker/engine/engine";
import type { Engine } from "../../worker/engine/types";
import { connectUpstream, rpcOver } from "../../worker/adapters/upstream";
import type { AnyAdapter } from "../../worker/adapters/adapter";
import { createGrpcTransport } from "../../worker/host/grpc-transport";
import { realClock } from "../../worker/host/real-clock";
import { MemoryStorage, Recorder } from "../../worker/testing";
import { waitUntil } from "../wait";
import { listenAdapter } from "./listen-adapter";
import { startListenServer, type ListenServer } from "./listen-server";
import { watchAdapter } from "./watch-adapter";
import { startWatchServer, type WatchServer } from "./watch-server";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function engineOn(adapter: AnyAdapter, url: string, storage = new MemoryStorage()): Engine {
  const warnings: string[] = [];
  const engine = createEngine(
    {
      upstream: connectUpstream(adapter, rpcOver(createGrpcTransport({ baseUrl: url })), (m) => warnings.push(m)),
      storage,
      clock: realClock,
      random: Math.random,
      user: "it",
      warn: (m) => warnings.push(m),
    },
    { preHelloIdleMs: 5_000, backoffFloorMs: 50, backoffInitialMs: 50 },
  );
  cleanups.push(() => engine.close().catch(() => {})); // a test may have closed it (a second close rejects)
  return engine;
}

/** An engine on `adapter` subscribed to `topic` once it is live; `rec` has what it delivered. */
async function liveOn(adapter: AnyAdapter, url: string, topic: string, storage = new MemoryStorage()): Promise<{ engine: Engine; rec: Recorder }> {
  const engine = engineOn(adapter, url, storage);
  const rec = new Recorder();
  engine.subscribe([topic], rec.sink);
  await waitUntil(() => engine.status().state === "live", { message: `live on ${topic}` });
  return { engine, rec };
}

describe("watchdemo.v1: grpc-js behind @grpc-web/proxy", () => {
  async function watchServer(): Promise<WatchServer> {
    const server = await startWatchServer({ bookmarkMs: 200 });
    cleanups.push(() => server.close());
    return server;
  }

  it("streams puts under the prefix with their keys; a publish is a Put whose request id makes a retry a no-op", async () => {
    const server = await watchServer();
    const { engine, rec } = await liveOn(watchAdapter, server.url, "pods/");
    const revisions = ["pods/a", "nodes/x", "pods/b"].map((k) => server.store.put(k, bytes(k)).revision);
    await waitUntil(() => rec.events.length === 2);
    expect(rec.events.map((e) => [e.cursor, e.meta?.key, text(e.payload)])).toEqual([
      [revisions[0], "pods/a", "pods/a"],
      [revisions[2], "pods/b", "pods/b"],
    ]);

    const { cursor } = await engine.publish("pods/", bytes("from a tab"), { key: "k-1" });
    expect(server.store.put("pods/", bytes("again"), "k-1")).toEqual({ revision: cursor, duplicate: true });
    await waitUntil(() => rec.events.length === 3);
    expect(rec.events[2]).toMatchObject({ cursor, meta: { key: "pods/" } });
  });

  it("a closed engine leaves no Watch open at the gRPC server (the proxy cancels the upstream call)", async () => {
    const server = await watchServer();
    const { engine } = await liveOn(watchAdapter, server.url, "pods/");
    expect(server.stats().activeWatches).toBe(1);
    await engine.close();
    await waitUntil(() => server.stats().activeWatches === 0, { message: "the upstream Watch to end" });
  });

  it("resumes from the stored revision; one compacted away becomes a retention reset at the compact revision", async () => {
    const server = await watchServer();
    const storage = new MemoryStorage();
    const { engine: first } = await liveOn(watchAdapter, server.url, "pods/", storage);
    const r1 = server.store.put("pods/1", bytes("1")).revision;
    await waitUntil(() => storage.cursorOf("it", "pods/") === r1);
    await first.close();

    server.store.put("pods/2", bytes("2"));
    const r3 = server.store.put("pods/3", bytes("3")).revision;
    server.store.compact(r3 - 1n);
    const { engine: second, rec } = await liveOn(watchAdapter, server.url, "pods/", storage);
    await waitUntil(() => rec.events.length === 1);
    expect(rec.of("reset")).toEqual([{ kind: "reset", topic: "pods/", reason: "retention", resumeAfter: r3 - 1n }]);
    expect(rec.events.map((e) => e.cursor)).toEqual([r3]);
    expect(second.status().state).toBe("live");
  });

  it("bookmarks are stored: after a restart a quiet prefix resumes past other prefixes' compacted puts, no reset", async () => {
    const server = await watchServer();
    const storage = new MemoryStorage();
    const { engine: first } = await liveOn(watchAdapter, server.url, "pods/", storage);
    server.store.put("pods/1", bytes("1"));
    for (let i = 0; i < 5; i++) server.store.put(`nodes/${i}`, bytes("elsewhere"));
    const head = server.store.revision;
    await waitUntil(() => storage.cursorOf("it", "pods/") === head, { message: "a bookmark at the head, stored" });
    await first.close();

    server.store.compact(head);
    const { rec } = await liveOn(watchAdapter, server.url, "pods/", storage);
    const r2 = server.store.put("pods/2", bytes("2")).revision;
    await waitUntil(() => rec.events.length === 1);
    expect(rec.events.map((e) => e.cursor)).toEqual([r2]);
    expect(rec.of("reset")).toEqual([]);
  });

  it("a late joiner whose revision was compacted gets a retention reset, then live", async () => {
    const server = await watchServer();
    const { engine, rec } = await liveOn(watchAdapter, server.url, "pods/");
    const [r1, , r3] = ["pods/1", "pods/2", "pods/3"].map((k) => server.store.put(k, bytes(k)).revision);
    await waitUntil(() => rec.events.length === 3); // the stream is past r1: the joiner needs history
    server.store.compact(r3! - 1n);
    const late = new Recorder();
    engine.subscribe(["pods/"], late.sink, { since: { "pods/": r1! } });
    await waitUntil(() => late.of("live").length === 1);
    const r4 = server.store.put("pods/4", bytes("4")).revision;
    await waitUntil(() => late.events.length === 1);
    expect(late.of("reset")).toMatchObject([{ topic: "pods/", reason: "retention" }]);
    expect(late.events.map((e) => e.cursor)).toEqual([r4]);
    expect(engine.status().state).toBe("live");
  });
});

describe("listendemo.v1: opaque resume tokens over connect-node", () => {
  async function listenServer(): Promise<ListenServer> {
    const server = await startListenServer({ keepAliveMs: 200 });
    cleanups.push(() => server.close());
    return server;
  }
  const tokens = (server: ListenServer, target: string) => server.store.changes(target).map((c) => Buffer.from(c.token).toString("base64"));

  it("streams changes with their tokens; a publish carries its idempotency key in a header", async () => {
    const server = await listenServer();
    const { engine, rec } = await liveOn(listenAdapter, server.url, "room");
    for (const d of ["a", "b"]) server.store.write("room", bytes(d));
    const { cursor } = await engine.publish("room", bytes("c"), { key: "k-1" });
    expect(server.store.write("room", bytes("again"), "k-1").duplicate).toBe(true);
    await waitUntil(() => rec.events.length === 3);
    expect(rec.events.map((e) => text(e.payload))).toEqual(["a", "b", "c"]);
    expect(rec.events.map((e) => e.cursor)).toEqual(tokens(server, "room"));
    expect(rec.events[2]!.cursor).toBe(cursor);
  });

  it("a late joiner's older token gets the history on a `once` call, lined up with the live stream", async () => {
    const server = await listenServer();
    const { engine } = await liveOn(listenAdapter, server.url, "room");
    for (const d of ["a", "b", "c"]) server.store.write("room", bytes(d));
    const all = tokens(server, "room");
    const late = new Recorder();
    engine.subscribe(["room"], late.sink, { since: { room: all[0]! } });
    server.store.write("room", bytes("d"));
    await waitUntil(() => late.events.length === 3 && late.of("live").length === 1);
    expect(late.events.map((e) => text(e.payload))).toEqual(["b", "c", "d"]);
    expect(late.of("reset")).toEqual([]);
    await waitUntil(() => server.stats().activeListens === 1, { message: "the history call to end" });
    expect(server.stats().totalListens).toBe(2);
  });

  it("a topic added beside the live stream: the new call replays from the same tokens, nothing twice", async () => {
    const server = await listenServer();
    const { engine, rec } = await liveOn(listenAdapter, server.url, "room");
    server.store.write("room", bytes("a"));
    await waitUntil(() => rec.events.length === 1);
    engine.subscribe(["lobby"], () => {});
    // Written while the call for room + lobby opens beside the old one (make-before-break).
    for (const d of ["b", "c", "d"]) {
      server.store.write("room", bytes(d));
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitUntil(() => engine.status().topics.length === 2 && engine.status().state === "live");
    server.store.write("room", bytes("e"));
    await waitUntil(() => rec.events.length === 5);
    expect(rec.events.map((e) => text(e.payload))).toEqual(["a", "b", "c", "d", "e"]);
    await waitUntil(() => server.stats().activeListens === 1, { message: "the old call to end" });
  });

  it("an expired token becomes a retention reset, then the target's kept changes", async () => {
    const server = await listenServer();
    const storage = new MemoryStorage();
    const { engine: first } = await liveOn(listenAdapter, server.url, "room", storage);
    server.store.write("room", bytes("a"));
    await waitUntil(() => storage.cursorOf("it", "room") === tokens(server, "room")[0]);
    await first.close();

    for (const d of ["b", "c"]) server.store.write("room", bytes(d));
    server.store.compact("room", 1);
    const { rec } = await liveOn(listenAdapter, server.url, "room", storage);
    await waitUntil(() => rec.events.length === 1);
    const floor = Buffer.from(server.store.floor("room")).toString("base64");
    expect(rec.of("reset")).toEqual([{ kind: "reset", topic: "room", reason: "retention", resumeAfter: floor }]);
    expect(rec.events.map((e) => text(e.payload))).toEqual(["c"]);
  });

  it("a late joiner whose token expired gets a retention reset, then the kept history, then live", async () => {
    const server = await listenServer();
    const { engine, rec } = await liveOn(listenAdapter, server.url, "room");
    for (const d of ["a", "b", "c"]) server.store.write("room", bytes(d));
    await waitUntil(() => rec.events.length === 3); // the stream is past the joiner's token: it needs history
    const old = tokens(server, "room")[0]!;
    server.store.compact("room", 1);
    const late = new Recorder();
    engine.subscribe(["room"], late.sink, { since: { room: old } });
    await waitUntil(() => late.of("live").length === 1);
    server.store.write("room", bytes("d"));
    await waitUntil(() => late.events.length === 2);
    expect(late.of("reset")).toMatchObject([{ topic: "room", reason: "retention" }]);
    expect(late.events.map((e) => text(e.payload))).toEqual(["c", "d"]);
  });
});
