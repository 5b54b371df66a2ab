// Positions survive everything but a lost server log: a server restart (same log) resumes where
// the tab was; closing every tab and coming back delivers what was missed from the stored cursors,
// once; a server that lost its log (new epoch) is reported to the app as a reset, never skipped
// silently. And topics nobody watches any more leave the upstream stream at once.
import { createMemoryLog, startServer } from "../server/server";
import {
  expect,
  expectCursors,
  fault,
  openTab,
  openTabs,
  publish,
  received,
  recording,
  stats,
  test,
  waitForEvents,
  waitForLive,
  waitForUpstream,
  waitUntil,
} from "./helpers";

const HEARTBEAT_MS = 1_000;
test.use({ serverOptions: { faults: true, heartbeatMs: HEARTBEAT_MS } });

test("close every tab, publish, reopen: the missed events arrive once, from stored cursors", async ({ context, server }) => {
  const tabs = await openTabs(2, context, server.url, { topics: ["c"] });
  await Promise.all(tabs.map((p) => waitForLive(p, ["c"])));
  await publish(server.url, "c", 3);
  for (const p of tabs) await waitForEvents(p, "c", 3);

  await Promise.all(tabs.map((p) => p.close()));
  await waitForUpstream(server.url, 0);
  await publish(server.url, "c", 4);

  const again = await openTab(context, server.url, { topics: ["c"] });
  await waitForLive(again, ["c"]);
  await waitForEvents(again, "c", 4);
  await publish(server.url, "c", 1);
  expectCursors(await waitForEvents(again, "c", 5), 4, 8);
  expect((await recording(again)).resets).toEqual([]);
});

/** Typically ~0.1 s (the tab lock is granted 11-36 ms after close); headroom for a loaded machine. */
const TOPICS_GONE_MS = 3_000;

test("a tab closes: its topics leave the upstream stream at once", async ({ context, server }) => {
  const a = await openTab(context, server.url, { topics: ["only-a"] });
  const b = await openTab(context, server.url, { topics: ["only-b"] });
  await waitForLive(a, ["only-a"]);
  await waitForLive(b, ["only-b"]);
  await waitForUpstream(server.url, 1, ["only-a", "only-b"]);

  const closedAt = Date.now();
  await a.close();
  await waitUntil(
    async () => {
      const s = await stats(server.url);
      return s.activeStreams === 1 && !s.subscribedTopics.includes("only-a") && s.subscribedTopics.includes("only-b");
    },
    { message: "only-a gone from the upstream stream" },
  );
  expect(Date.now() - closedAt).toBeLessThan(TOPICS_GONE_MS);
  // And the other tab goes on receiving.
  await publish(server.url, "only-b", 2);
  expectCursors(await waitForEvents(b, "only-b", 2), 1, 2);
});

test("server restart keeping its log: the tab resumes where it was", async ({ context }) => {
  const log = createMemoryLog();
  let server = await startServer({ port: 0, log, heartbeatMs: HEARTBEAT_MS, faults: true });
  const { port } = server;
  try {
    const page = await openTab(context, server.url, { topics: ["r"] });
    await waitForLive(page, ["r"]);
    await publish(server.url, "r", 3);
    await waitForEvents(page, "r", 3);
    const before = (await recording(page)).status!.connection;

    await server.close();
    await waitUntil(async () => (await recording(page)).status?.state !== "live", { message: "the tab to notice" });
    server = await startServer({ port, log, heartbeatMs: HEARTBEAT_MS, faults: true });
    await publish(server.url, "r", 3);
    await waitUntil(async () => ((await recording(page)).status?.connection ?? 0) > before, { timeoutMs: 20_000, message: "the reconnect" });
    await waitForLive(page, ["r"]);
    expectCursors(await waitForEvents(page, "r", 6), 1, 6);
    expect((await recording(page)).resets).toEqual([]);
  } finally {
    await server.close();
  }
});

test("new epoch (server lost its log): the app gets a reset notice, then the new events", async ({ context, server }) => {
  const page = await openTab(context, server.url, { topics: ["e"] });
  await waitForLive(page, ["e"]);
  await publish(server.url, "e", 3);
  await waitForEvents(page, "e", 3);
  const epoch = (await stats(server.url)).epoch;

  await fault(server.url, { kind: "new-epoch" });
  expect((await stats(server.url)).epoch).not.toBe(epoch);
  await waitUntil(async () => (await recording(page)).resets.length > 0, { message: "a reset notice" });
  expect((await recording(page)).resets).toEqual([{ topic: "e", reason: "epoch", resumeAfter: "0" }]);

  await publish(server.url, "e", 2);
  const events = await waitForEvents(page, "e", 5);
  expect(events.slice(3).map((e) => e.cursor)).toEqual(["1", "2"]);
  await waitForLive(page, ["e"]);
  expect(await received(page, "e")).toHaveLength(5);
});
