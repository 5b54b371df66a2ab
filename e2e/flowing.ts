// A fault in the middle of a steady flow of events, and the check that follows it: every tab
// comes back live with every event exactly once, in order. Used by the crash specs (a dead
// SharedWorker, a dead leader worker), which differ only in how they kill the host.
import type { Page } from "@playwright/test";
import { expectCursors, publish, received, stats, waitForEvents, waitForLive, waitUntil } from "./helpers";

/** Events per publish call and the pause between calls: ~250 events/s. */
const BATCH = 5;
const PAUSE_MS = 20;
/** Events each tab must get before the fault, and again after it. */
const FLOWING = 50;

/**
 * Publishes `topic` steadily; once the tabs receive it, runs `fault`, waits for the server to
 * see a new upstream stream and every tab to receive again, stops publishing and asserts that
 * every tab is live and got every event once, in order. Returns how many were published.
 */
export async function faultWhileEventsFlow(serverUrl: string, tabs: Page[], topic: string, fault: () => Promise<unknown>): Promise<number> {
  let publishing = true;
  let published = 0;
  const publisher = (async () => {
    while (publishing) {
      published += (await publish(serverUrl, topic, BATCH)).length;
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
  })();
  try {
    await waitUntil(async () => (await received(tabs[0]!, topic)).length >= FLOWING, { message: "events flowing" });
    const before = (await stats(serverUrl)).totalStreams;
    await fault();
    const atFault = published;
    await waitUntil(async () => (await stats(serverUrl)).totalStreams > before, { message: "a new upstream stream" });
    for (const p of tabs) {
      await waitUntil(async () => (await received(p, topic)).length >= atFault + FLOWING, { message: "events flowing again" });
    }
  } finally {
    publishing = false;
    await publisher;
  }
  for (const p of tabs) {
    await waitForLive(p, [topic]);
    expectCursors(await waitForEvents(p, topic, published), 1, published);
  }
  return published;
}
