// The lifecycle between tabs and the SharedWorker that serves them, in real Chromium against the
// real server: a client that closes lets go of everything it held (its tab lock, its topics in
// the upstream stream) while its page stays open; a worker that dies under its tabs is noticed
// by every one of them, which reconnect to a new worker and resume from their own cursors.
import type { Page } from "@playwright/test";
import { crashSharedWorker } from "./kit";
import { faultWhileEventsFlow } from "./flowing";
import { expect, openTab, openTabs, stats, test, waitForLive, waitForUpstream, waitUntil } from "./helpers";

test.use({ serverOptions: { faults: true, heartbeatMs: 1_000 } });

/** Tab locks held in this origin right now (each live client holds one). */
async function heldTabLocks(page: Page): Promise<number> {
  return page.evaluate(async () => (await navigator.locks.query()).held?.filter((l) => l.name?.startsWith("onestream-tab-")).length ?? 0);
}

test("client.close() resolves, frees the tab lock and the tab's topics, says closed; twice is fine", async ({ context, server }) => {
  const a = await openTab(context, server.url, { topics: ["only-a"] });
  const b = await openTab(context, server.url, { topics: ["only-b"] });
  await Promise.all([waitForLive(a, ["only-a"]), waitForLive(b, ["only-b"])]);
  await waitForUpstream(server.url, 1, ["only-a", "only-b"]);
  expect(await heldTabLocks(a)).toBe(2);

  const outcome = await a.evaluate(() => window.onestream!.close().then(() => "resolved", (e: Error) => `rejected: ${e.message}`));
  expect(outcome).toBe("resolved");
  expect(await a.evaluate(() => window.onestream!.status.state)).toBe("closed");
  expect(await a.evaluate(() => window.onestream!.close().then(() => "resolved", (e: Error) => `rejected: ${e.message}`))).toBe("resolved");
  await waitUntil(async () => (await heldTabLocks(b)) === 1, { message: "the closed client's tab lock released" });
  await waitUntil(
    async () => {
      const s = await stats(server.url);
      return s.activeStreams === 1 && !s.subscribedTopics.includes("only-a") && s.subscribedTopics.includes("only-b");
    },
    { message: "only-a gone from the upstream stream, only-b still there" },
  );
  expect(await b.evaluate(() => window.onestream!.status.state)).toBe("live");
});

test("the SharedWorker crashes while events flow: every tab reconnects to a new one, nothing lost or repeated, one upstream", async ({
  browser,
  context,
  server,
}) => {
  const tabs = await openTabs(3, context, server.url, { topics: ["crash"] });
  await Promise.all(tabs.map((p) => waitForLive(p, ["crash"])));
  await faultWhileEventsFlow(server.url, tabs, "crash", () => crashSharedWorker(browser, { context }));
  // The dead worker's stream must be gone too. (The reference server before its stream reaper
  // — the server-safety branch — could keep a handler stuck on a connection that died mid-write.)
  await waitForUpstream(server.url, 1, ["crash"]);
});
