// Offline, as the kit makes it (pages offline, the SharedWorker's new requests failing, open
// streams cut at a fault proxy): no connection attempts while offline; back online the stream is
// live within a second and what was published meanwhile arrives once; a publish made offline
// survives its tab (durable outbox) and lands exactly once.
import type { Page } from "@playwright/test";
import { goOffline, goOnline, startFaultProxy } from "./kit";
import type { FaultProxy } from "./kit";
import {
  expect,
  expectCursors,
  openTab,
  openTabs,
  publish,
  recording,
  received,
  stats,
  test,
  waitForEvents,
  waitForLive,
  waitForState,
  waitUntil,
} from "./helpers";

/** How long we watch for attempts that must not happen (longer than the 1 s backoff floor). */
const QUIET_WINDOW_MS = 2_500;
/**
 * Back online, live at once: well under the backoff a failed attempt would add. A bound with
 * headroom for a loaded 2-core machine (typically < 0.5 s; the figures belong to the bench).
 */
const ONLINE_TO_LIVE_MS = 3_000;

let proxy: FaultProxy;
test.beforeEach(async ({ server }) => {
  proxy = await startFaultProxy({ target: server.url });
});
test.afterEach(async () => {
  await proxy.close();
});

test("offline: status offline, no attempts; online: live again at once, missed events once", async ({ context, server }) => {
  const tabs = await openTabs(2, context, proxy.url, { topics: ["news"] });
  await Promise.all(tabs.map((p) => waitForLive(p, ["news"])));
  await publish(server.url, "news", 3);
  for (const p of tabs) await waitForEvents(p, "news", 3);

  await goOffline(context, { proxy });
  for (const p of tabs) await waitForState(p, "offline");
  const streamsBefore = (await stats(server.url)).totalStreams;
  const acceptedBefore = proxy.accepted();
  const statesBefore = (await recording(tabs[0]!)).states.length;
  await publish(server.url, "news", 5);
  // Nothing can be awaited for "no attempt happens": watch a window longer than the backoff floor.
  await new Promise((r) => setTimeout(r, QUIET_WINDOW_MS));
  expect((await stats(server.url)).totalStreams).toBe(streamsBefore);
  expect(proxy.accepted()).toBe(acceptedBefore);
  expect((await recording(tabs[0]!)).states.slice(statesBefore - 1)).toEqual(["offline"]);

  const t0 = Date.now();
  await goOnline(context);
  await waitForLive(tabs[0]!, ["news"], 5_000);
  expect(Date.now() - t0).toBeLessThan(ONLINE_TO_LIVE_MS);
  for (const p of tabs) expectCursors(await waitForEvents(p, "news", 8), 1, 8);
});

/** True once the page's origin has a onestream outbox record (the publish is durable). */
async function outboxHasRecord(page: Page): Promise<boolean> {
  return page.evaluate(async () => {
    const names = (await indexedDB.databases()).map((d) => d.name ?? "");
    for (const name of names.filter((n) => n.includes("onestream"))) {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open(name);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      try {
        for (const store of Array.from(db.objectStoreNames).filter((s) => s.includes("outbox"))) {
          const count = await new Promise<number>((resolve, reject) => {
            const req = db.transaction(store).objectStore(store).count();
            req.onsuccess = () => resolve(req.result);
            req.onerror = () => reject(req.error);
          });
          if (count > 0) return true;
        }
      } finally {
        db.close();
      }
    }
    return false;
  });
}

test("outbox: publish offline, close the tab, reopen, online: lands exactly once", async ({ context, server }) => {
  const first = await openTab(context, proxy.url, { topics: ["orders"] });
  await waitForLive(first, ["orders"]);
  // One event online, so a cursor is stored and the next tab resumes after it.
  await publish(server.url, "orders", 1, "online-order");
  await waitForEvents(first, "orders", 1);

  await goOffline(context, { proxy });
  await waitForState(first, "offline");
  await first.evaluate(() => {
    void window.onestream!.publish("orders", new TextEncoder().encode("offline-order")).catch(() => {});
  });
  await waitUntil(() => outboxHasRecord(first), { message: "the publish in the IndexedDB outbox" });
  await first.close();
  expect((await stats(server.url)).topics.orders).toBe("1");

  // An offline page cannot load, so the network returns before the next tab opens; its new
  // SharedWorker finds the publish in the outbox.
  await goOnline(context);
  const second = await openTab(context, proxy.url, { topics: ["orders"] });
  const events = await waitForEvents(second, "orders", 1);
  expect(events).toEqual([expect.objectContaining({ cursor: "2", payload: "offline-order" })]);
  const s = await stats(server.url);
  expect(s.topics.orders).toBe("2");
  expect(s.publishes).toBe(2);
  await waitForLive(second, ["orders"]);
  expect(await received(second, "orders")).toHaveLength(1);
});
