// The client's connection lifecycle against the real host and engine (fake server, fake clock)
// through the real SharedWorker connector: the "SharedWorker" is a stand-in whose port is
// served by a host in this realm, exactly as `onconnect` serves it in a browser.
import * as Comlink from "comlink";
import { afterEach, describe, expect, it } from "vitest";
import { createWorld, type World } from "../worker/host/test-world";
import type { Host } from "../worker/host/worker-host";
import { createClientWith, type Client } from "./client";
import { sharedWorkerConnector } from "./link";

let world: World;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  world?.dispose();
});

/** A SharedWorker factory whose every "worker" connects to `host`. */
function sharedWorkerOf(host: () => Host): (name: string) => SharedWorker {
  return () => {
    const ch = new MessageChannel();
    Comlink.expose(host().connect(() => ch.port2.close()), ch.port2);
    world.onDispose(() => ch.port2.close());
    return { port: ch.port1, addEventListener() {} } as unknown as SharedWorker;
  };
}

function tab(host: () => Host): Client {
  const c = createClientWith(
    { baseUrl: "http://server.test" },
    { locks: world.locks, connector: sharedWorkerConnector(sharedWorkerOf(host), "w"), hints: false },
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
