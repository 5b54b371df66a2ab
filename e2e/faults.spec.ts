// The server breaks the stream every way FIELD-NOTES lists; each time the client must notice,
// reconnect, resume from its cursors and show every event exactly once, in order. A permanent
// error (permission denied) must end in `failed`, reported once, with no further attempts.
import { tokenPolicy } from "../server/server";
import {
  connection,
  devOnly,
  expect,
  expectCursors,
  fault,
  openTab,
  publish,
  recording,
  test,
  waitForEvents,
  waitForLive,
  waitForState,
  waitUntil,
  watchSubscribes,
} from "./helpers";

/** Server heartbeat for this file: the engine's idle timeout is then max(2.5 × 1 s, 5 s) = 5 s. */
const HEARTBEAT_MS = 1_000;
const IDLE_TIMEOUT_MS = 5_000;
test.use({ serverOptions: { faults: true, heartbeatMs: HEARTBEAT_MS } });

const BREAKS: Array<{ name: string; body: Record<string, unknown>; error: RegExp }> = [
  { name: "drop", body: { kind: "drop" }, error: /^unknown/ },
  { name: "truncate", body: { kind: "truncate" }, error: /protocol error/ },
  { name: "error unavailable", body: { kind: "error", code: "unavailable" }, error: /^unavailable/ },
];

for (const { name, body, error } of BREAKS) {
  test(`${name}: reconnects and resumes, nothing lost or repeated`, async ({ context, server }) => {
    const page = await openTab(context, server.url, { topics: ["f"] });
    await waitForLive(page, ["f"]);
    await publish(server.url, "f", 5);
    await waitForEvents(page, "f", 5);
    const before = await connection(page);

    await fault(server.url, body);
    await publish(server.url, "f", 5);
    await waitUntil(async () => (await connection(page)) > before, { message: "a reconnect" });
    await waitForLive(page, ["f"]);
    expectCursors(await waitForEvents(page, "f", 10), 1, 10);
    expect((await recording(page)).errors.some((e) => error.test(e))).toBe(true);
  });
}

test.describe("slow recoveries", () => {
  devOnly("timing-heavy; the dev project covers them");

  test("wedge: the watchdog trips at the idle timeout, then recovers after heal", async ({ context, server }) => {
    const page = await openTab(context, server.url, { topics: ["w"] });
    await waitForLive(page, ["w"]);
    await publish(server.url, "w", 3);
    await waitForEvents(page, "w", 3);

    const wedgedAt = Date.now();
    await fault(server.url, { kind: "wedge" });
    await publish(server.url, "w", 3);
    await waitUntil(async () => (await recording(page)).errors.some((e) => e.startsWith("stale")), {
      timeoutMs: IDLE_TIMEOUT_MS + 3_000,
      message: "the watchdog's stale",
    });
    const tripped = Date.now() - wedgedAt;
    // The last frame came at most one heartbeat before the wedge.
    expect(tripped).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - HEARTBEAT_MS - 100);
    expect(tripped).toBeLessThanOrEqual(IDLE_TIMEOUT_MS + 1_000);

    // Streams opened while wedged stay silent too; heal lets the reconnect through.
    await fault(server.url, { kind: "heal" });
    await waitForLive(page, ["w"], 15_000);
    await publish(server.url, "w", 2);
    expectCursors(await waitForEvents(page, "w", 8), 1, 8);
  });

  test("reject ×3 then success: backs off, then resumes", async ({ browser, context, server }) => {
    const page = await openTab(context, server.url, { topics: ["r"] });
    await waitForLive(page, ["r"]);
    await publish(server.url, "r", 2);
    await waitForEvents(page, "r", 2);
    const subscribes = await watchSubscribes(browser, context);
    const before = await connection(page);

    await fault(server.url, { kind: "reject", code: "unavailable", count: 3 });
    await fault(server.url, { kind: "drop" });
    await publish(server.url, "r", 2);
    await waitUntil(async () => (await connection(page)) > before, { timeoutMs: 20_000, message: "the reopen after 3 rejects" });
    await waitForLive(page, ["r"]);
    expectCursors(await waitForEvents(page, "r", 4), 1, 4);
    expect(subscribes.count()).toBeGreaterThanOrEqual(4);
    const rec = await recording(page);
    expect(rec.states).toContain("backoff");
    expect(rec.errors.some((e) => e.startsWith("unavailable"))).toBe(true);
    await subscribes.stop();
  });
});

test.describe("permission denied", () => {
  test.use({ serverOptions: { faults: true, heartbeatMs: HEARTBEAT_MS, auth: tokenPolicy({ tok: ["allowed/"] }) } });
  /** Watched for attempts that must not happen (longer than the backoff floor). */
  const QUIET_WINDOW_MS = 2_500;

  test("status failed, reported once, no further attempts", async ({ browser, context, server }) => {
    const page = await openTab(context, server.url, { topics: ["secret/plans"], token: "tok" });
    await waitForState(page, "failed");
    const subscribes = await watchSubscribes(browser, context);
    await new Promise((r) => setTimeout(r, QUIET_WINDOW_MS));
    expect(subscribes.count()).toBe(0);
    const rec = await recording(page);
    expect(rec.failedReports).toBe(1);
    expect(rec.status?.lastError?.code).toBe("permission_denied");
    expect(rec.states.at(-1)).toBe("failed");
    await subscribes.stop();
  });
});
