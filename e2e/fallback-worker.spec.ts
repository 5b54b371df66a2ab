// The fallback's leader runs the engine in a dedicated Worker it owns, not in its page: Chrome
// throttles a page hidden for > 5 min (timers once a minute) and a busy page runs nothing else,
// but neither reaches a worker. Followers are served by that worker directly, so a leader page
// that is stuck does not hold up their events; and a worker that dies is replaced by the next
// leadership term, losing nothing.
import type { Page } from "@playwright/test";
import type { TabOptions } from "./helpers";
import { faultWhileEventsFlow } from "./flowing";
import { expect, expectCursors, openTabs, publish, recording, test, waitForEvents, waitForLive, waitForUpstream, waitUntil } from "./helpers";

test.use({ serverOptions: { faults: true, heartbeatMs: 1_000 } });

const noSharedWorker: TabOptions = { topics: ["fw"], noSharedWorker: true };
/** How long the leader page's main thread is kept busy. */
const BUSY_MS = 6_000;

async function byRole(tabs: Page[]): Promise<{ leader: Page; followers: Page[] }> {
  const roles = await Promise.all(tabs.map(async (p) => (await recording(p)).status?.role));
  const leader = tabs[roles.indexOf("leader")]!;
  return { leader, followers: tabs.filter((p) => p !== leader) };
}

test("no SharedWorker: followers get events while the leader page's main thread is busy", async ({ context, server }) => {
  const tabs = await openTabs(3, context, server.url, noSharedWorker);
  await Promise.all(tabs.map((p) => waitForLive(p, ["fw"])));
  const { leader, followers } = await byRole(tabs);
  // A follower hears when the leader's busy loop has begun (a BroadcastChannel needs no main thread to send).
  await followers[0]!.evaluate(() => {
    new BroadcastChannel("busy-probe").onmessage = () => ((window as { busySince?: number }).busySince = Date.now());
  });
  let busy = true;
  const blocked = leader
    .evaluate((ms) => {
      new BroadcastChannel("busy-probe").postMessage("busy");
      const end = Date.now() + ms;
      while (Date.now() < end) {
        // nothing else runs in this page meanwhile: no timer, no message, no promise
      }
    }, BUSY_MS)
    .finally(() => (busy = false));
  await waitUntil(() => followers[0]!.evaluate(() => (window as { busySince?: number }).busySince), { message: "the leader page busy" });

  await publish(server.url, "fw", 5);
  for (const p of followers) expectCursors(await waitForEvents(p, "fw", 5, BUSY_MS - 1_000), 1, 5);
  expect(busy, "the followers got the events before the leader page was free again").toBe(true);
  await blocked;
  expectCursors(await waitForEvents(leader, "fw", 5), 1, 5);
});

test("no SharedWorker: the leader's worker crashes while events flow: a new term takes over, nothing lost or repeated, one upstream", async ({
  context,
  server,
}) => {
  const tabs = await openTabs(3, context, server.url, noSharedWorker);
  await Promise.all(tabs.map((p) => waitForLive(p, ["fw"])));
  const { leader } = await byRole(tabs);
  await faultWhileEventsFlow(server.url, tabs, "fw", () => leader.workers()[0]!.evaluate(() => self.close()));
  expect(tabs.map((p) => p.workers().length).reduce((a, b) => a + b)).toBe(1);
  await waitForUpstream(server.url, 1, ["fw"]);
});
