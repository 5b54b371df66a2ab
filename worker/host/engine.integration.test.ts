// The real bindings end to end: engine + gRPC-Web transport (connect-web over Node's fetch) +
// IndexedDB binding (fake-indexeddb) against the reference server, with its faults. Real time,
// so it waits by polling with short real timeouts; everything else is tested with fakes.
import "fake-indexeddb/auto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../server/server";
import { createEngine } from "../engine/engine";
import { Recorder } from "../testing";
import type { Engine } from "../engine/types";
import { createGrpcTransport } from "./grpc-transport";
import { onestreamV1 } from "../adapters/onestream-v1";
import { connectUpstream, rpcOver } from "../adapters/upstream";
import { openIdbStorage } from "./idb-storage";
import { realClock } from "./real-clock";

type Server = Awaited<ReturnType<typeof startServer>>;

async function until(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function admin(server: Server, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${server.url}/admin/${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  if (!res.ok) throw new Error(`admin ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

describe("engine + grpc transport + idb storage + reference server", () => {
  let server: Server;
  const dbName = `onestream-it-${process.pid}`;
  const warnings: string[] = [];
  const engines: Engine[] = [];

  const start = () => {
    const engine = createEngine(
      {
        upstream: connectUpstream(onestreamV1(), rpcOver(createGrpcTransport({ baseUrl: server.url }))),
        storage: openIdbStorage(dbName),
        clock: realClock,
        random: Math.random,
        user: "it-user",
        warn: (m) => warnings.push(m),
      },
      { minIdleMs: 300, preHelloIdleMs: 1_000, backoffFloorMs: 50, backoffInitialMs: 50, topicDebounceMs: 5 },
    );
    engines.push(engine);
    return engine;
  };

  beforeAll(async () => {
    server = await startServer({ port: 0, heartbeatMs: 100, faults: true });
  });
  afterAll(async () => {
    for (const e of engines) await e.close().catch(() => {});
    await server?.close();
  });

  it("streams, survives drop / truncate / wedge, publishes durably, and resumes after a restart", async () => {
    const engine = start();
    const rec = new Recorder();
    engine.subscribe(["it-a"], rec.sink);
    await until("live", () => engine.status().state === "live");

    await admin(server, "publish", { topic: "it-a", payload: "x", count: 5 });
    await until("5 events", () => rec.events.length === 5);

    await admin(server, "fault", { kind: "drop" });
    await admin(server, "publish", { topic: "it-a", count: 3 });
    await until("8 events after a drop", () => rec.events.length === 8);

    await admin(server, "fault", { kind: "truncate" });
    await admin(server, "publish", { topic: "it-a", count: 2 });
    await until("10 events after a truncate", () => rec.events.length === 10);

    const before = engine.status().connection;
    await admin(server, "fault", { kind: "wedge" });
    await until("the watchdog to trip", () => engine.status().lastError?.code === "stale");
    await admin(server, "fault", { kind: "heal" });
    await until("live again", () => engine.status().state === "live" && engine.status().connection > before);

    const { cursor } = await engine.publish("it-a", new TextEncoder().encode("hello"));
    expect(cursor).toBe(11n);
    await until("11 events", () => rec.events.length === 11);
    expect(rec.cursors("it-a")).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(new TextDecoder().decode(rec.events[10]!.payload)).toBe("hello");
    await engine.close();

    await admin(server, "publish", { topic: "it-a", count: 2 });
    const again = start();
    const rec2 = new Recorder();
    again.subscribe(["it-a"], rec2.sink);
    await until("resume from the stored cursor", () => rec2.events.length === 2);
    expect(rec2.cursors("it-a")).toEqual([12, 13]);
    expect(await openIdbStorage(dbName).loadOutbox("it-user")).toEqual([]);
    await again.reset();
    expect(await openIdbStorage(dbName).loadCursors("it-user")).toEqual([]);
  }, 20_000);
});
