// serve() with the real bindings (gRPC-Web over Node's fetch, IndexedDB via fake-indexeddb, the
// real clock) in a stand-in SharedWorker scope: a tab connects through `onconnect` exactly as in
// a browser and receives events from the reference server. Real time: waits poll briefly.
import "fake-indexeddb/auto";
import * as Comlink from "comlink";
import { afterEach, describe, expect, it } from "vitest";
import { startServer } from "../server/server";
import { createMemoryLocks } from "./host/memory-locks";
import { PROTOCOL_VERSION, tabLockName, type BatchMessage, type ControlApi } from "../contract/protocol";
import { serve } from "./index";

async function until(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("serve()", () => {
  it("serves a tab that connects through onconnect, with the real bindings", async () => {
    const server = await startServer({ port: 0, heartbeatMs: 1000, admin: true });
    cleanups.push(() => server.close());
    const scope = globalThis as { onconnect?: ((e: { ports: MessagePort[] }) => void) | null };
    scope.onconnect = null; // what makes serve() treat this scope as a SharedWorker
    cleanups.push(() => delete scope.onconnect);
    const locks = createMemoryLocks();
    const served = serve({ locks, dbName: `onestream-serve-${process.pid}`, warn: () => {} });
    cleanups.push(() => served.host.close());

    // The tab: holds its lock, connects, inits with its server and a data port.
    let release: () => void = () => {};
    await new Promise<void>((granted) => {
      void locks.request(tabLockName("t1"), () => {
        granted();
        return new Promise<void>((r) => (release = r));
      });
    });
    cleanups.push(() => release());
    const ctl = new MessageChannel();
    const data = new MessageChannel();
    cleanups.push(() => [ctl.port1, ctl.port2, data.port1, data.port2].forEach((p) => p.close()));
    scope.onconnect!({ ports: [ctl.port2] });
    const control = Comlink.wrap<ControlApi>(ctl.port1);
    const batches: BatchMessage[] = [];
    data.port1.addEventListener("message", (e: MessageEvent) => {
      const msg = e.data as BatchMessage;
      batches.push(msg);
      data.port1.postMessage({ t: "ack", seq: msg.seq });
    });
    data.port1.start();

    const res = await control.init(
      { protocol: PROTOCOL_VERSION, tabId: "t1", user: "u", baseUrl: server.url },
      Comlink.transfer(data.port2, [data.port2]),
    );
    expect(res).toEqual({ protocol: PROTOCOL_VERSION, baseUrl: server.url, hostLock: expect.stringMatching(/^onestream-host-/) });
    await control.subscribe(1, { topics: ["it"], since: "now" });
    await until("live", () => batches.some((b) => b.status?.state === "live"));
    await fetch(`${server.url}/admin/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic: "it", payload: "x", count: 3 }),
    });
    const events = () => batches.flatMap((b) => b.deliveries.flatMap(([, d]) => (d.kind === "events" ? d.events : [])));
    await until("three events", () => events().length === 3);
    expect(events().map((e) => e.cursor)).toEqual([1n, 2n, 3n]);
    expect(server.stats().activeStreams).toBe(1);

    // The tab goes away: its lock is released and the worker drops its stream.
    release();
    await until("stream closed", () => server.stats().activeStreams === 0);
    expect(served.host.tabCount()).toBe(0);
  });
});
