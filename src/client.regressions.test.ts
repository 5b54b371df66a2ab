// Client regression tests, against the real host and engine (fake server, fake
// clock) over real MessageChannels: one onLive per topic however the host splits or resyncs a
// subscription, a refused topic reaches only its subscription's onError, one
// ClosedError class whoever throws it.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { ClosedError as EngineClosedError } from "../worker/engine/errors";
import type { StreamEvent } from "../contract/types";
import { createWorld, type World } from "../worker/host/test-world";
import type { Host } from "../worker/host/worker-host";
import { createClient, createClientWith, type Client } from "./client";
import { ClosedError, DeniedError, reviveError } from "../contract/errors";
import { hostLink, sharedWorkerConnector } from "./link";
import * as Comlink from "comlink";

let world: World;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  world?.dispose();
});

function tab(host: Host): Client {
  const c = createClientWith(
    { baseUrl: "http://server.test" },
    { locks: world.locks, connector: { start: (onLink) => onLink(hostLink(host, "shared-worker")), close: () => {} }, hints: false },
  );
  clients.push(c);
  return c;
}

describe("client: regressions", () => {
  it("outside a browser (server-side rendering) the client fails saying so, naming navigator.locks", async () => {
    const c = createClient({ worker: "/worker.js" });
    const message = /Web Locks \(navigator\.locks\) are not available outside a browser/;
    expect(c.status).toMatchObject({ state: "failed", lastError: { code: "unsupported", message: expect.stringMatching(message) } });
    await expect(c.ready).rejects.toThrow(message);
    expect(() => c.subscribe(["t"], () => {})).toThrow(message);
  });

  it("close() resolves with the real SharedWorker connector, which disposes the link the client already disposed", async () => {
    world = createWorld();
    const host = world.newHost();
    const channel = new MessageChannel();
    Comlink.expose(host.connect(() => channel.port2.close()), channel.port2);
    const worker = { port: channel.port1, addEventListener: () => {} } as unknown as SharedWorker;
    const c = createClientWith(
      { baseUrl: "http://server.test" },
      { locks: world.locks, connector: sharedWorkerConnector(() => worker, "onestream/v2/test", world.locks), hints: false },
    );
    await c.ready;
    // It threw comlink's "Proxy has been released and is not useable" (found by the README's code).
    await expect(c.close()).resolves.toBeUndefined();
    expect(c.status.state).toBe("closed");
  });

  it("a subscription the host splits in two reports each topic live once, in one onLive", async () => {
    world = createWorld();
    const host = world.newHost();
    world.server.publish("a", 5);
    const c = tab(host);
    const calls: string[][] = [];
    const got: StreamEvent[] = [];
    // A cursor for "a" beside a topic without one: two engine subscriptions behind one.
    c.subscribe(["a", "b"], (events) => got.push(...events), { since: { a: 2n }, onLive: (t) => calls.push([...t].sort()) });
    await world.until(() => calls.length > 0 && got.length === 3, "live and the history of a");
    world.server.publish("a", 1);
    world.server.publish("b", 1);
    await world.until(() => got.length === 5, "live events");
    expect(calls).toEqual([["a", "b"]]);
  });

  it("a resync after an overflow does not report live again", async () => {
    world = createWorld();
    const host = world.newHost({ maxUnackedEvents: 100, maxBatchEvents: 50 });
    const c = tab(host);
    const calls: string[][] = [];
    const got: StreamEvent[] = [];
    c.subscribe(["t"], (events) => got.push(...events), { since: "now", onLive: (t) => calls.push(t) });
    await world.until(() => calls.length === 1, "live");
    let resynced = false;
    c.onStatus((s) => (resynced ||= s.resyncing));
    // Bursts faster than the tab acks: over the bound, so the tab is cut and resyncs.
    for (let i = 0; i < 8; i++) world.server.publish("t", 50);
    await world.until(() => got.length === 400 && !c.status.resyncing, "all events after a resync");
    expect(resynced).toBe(true);
    expect(got.map((e) => Number(e.cursor))).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(calls).toEqual([["t"]]);
  });

  it("topics the server refuses reach that subscription's onError, naming them; the others keep flowing", async () => {
    world = createWorld();
    const host = world.newHost();
    const c = tab(host);
    const ok: StreamEvent[] = [];
    c.subscribe(["ok"], (events) => ok.push(...events), { since: "now" });
    await world.until(() => c.status.state === "live" && c.status.topics.includes("ok"), "live on ok");
    world.server.rejectSubscribes(new ConnectError("not yours", Code.PermissionDenied));
    const errors: Error[] = [];
    const secret = c.subscribe(["secret", "mine"], () => {}, { since: "now", onError: (e) => errors.push(e) });
    await world.until(() => errors.length > 0, "the refusal");
    expect(errors[0]).toBeInstanceOf(DeniedError);
    expect(errors[0]).toMatchObject({ code: "permission_denied", topics: expect.arrayContaining(["secret"]) });
    expect(errors[0]!.message).toMatch(/secret/);
    expect(c.status.state).not.toBe("failed");
    world.server.publish("ok", 2);
    await world.until(() => ok.length === 2, "ok still flows");
    secret.unsubscribe();
  });

  it("has one ClosedError class: the engine's, revived with its message", () => {
    expect(ClosedError).toBe(EngineClosedError);
    const revived = reviveError({ name: "ClosedError", message: "onestream tab connection is closed" });
    expect(revived).toBeInstanceOf(ClosedError);
    expect(revived.message).toBe("onestream tab connection is closed");
  });
});
