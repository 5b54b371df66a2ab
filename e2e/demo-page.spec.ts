// The demo page as a person meets it: a clean load logs nothing, an empty page says what to do,
// a topic's chip follows the connection (live → reconnecting → live) through a server fault, the
// last error carries its time and goes away once live, and a publish shows both of its moments.
import type { ConsoleMessage, Page } from "@playwright/test";
import { startDemo, type RunningDemo } from "../scripts/demo";
import { devOnly, expect, fault, tabUrl, test, waitForLive } from "./helpers";

devOnly("drives the dev server's pages; the bundle adds nothing here");

/** Console errors and warnings (and uncaught exceptions) of `page` from now on. */
function complaints(page: Page): string[] {
  const seen: string[] = [];
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error" || m.type() === "warning") seen.push(`console.${m.type()}: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => seen.push(`pageerror: ${e.message}`));
  return seen;
}

const chip = (page: Page, topic: string) => page.locator(`article.topic[data-topic="${topic}"] .tag`);
const lastError = (page: Page) => page.locator('#status-details dd[data-key="last error"]');

let demo: RunningDemo | undefined;
test.afterEach(async () => {
  await demo?.close();
  demo = undefined;
});

test("npm start's page: clean load, empty state, a chip that follows the connection, a timed error, both moments of a publish", async ({ page }) => {
  demo = await startDemo({
    serverPort: 0,
    vitePort: 0,
    server: { heartbeatMs: 1000 },
    // Its own optimizer cache: the suite's dev server and demo.spec.ts use theirs.
    vite: { cacheDir: "node_modules/.cache/onestream-e2e-demo-page-vite", logLevel: "warn", server: { hmr: false, watch: null } },
  });
  const seen = complaints(page);
  let statsPolls = 0;
  page.on("response", (r) => void (r.url().endsWith("/admin/stats") && statsPolls++));
  await page.goto(demo.pageUrl);

  // A fresh page: nothing joined, and it says what to do rather than "connecting" forever.
  await expect(page.locator("#topics-empty")).toBeVisible();
  await expect(page.locator("#topics-empty")).toContainText("Join a topic to start streaming");
  await expect(page.locator("#status-state")).toHaveText("idle");
  await expect(page.locator("#faults")).toBeVisible();
  // A clean load is over once the server's stats came through the dev server's forwarding a
  // few times (polled every second): whatever the page requests at load has been answered.
  await expect(page.locator('#server-stats dd[data-key="active streams"]')).toHaveText("0");
  await expect.poll(() => statsPolls, { message: "three stats polls" }).toBeGreaterThanOrEqual(3);
  expect(seen, "console on a clean load").toEqual([]);

  await page.locator("#join-topic").fill("news");
  await page.getByRole("button", { name: "Join" }).click();
  await expect(page.locator("#topics-empty")).toBeHidden();
  await expect(chip(page, "news")).toHaveText("live");
  await waitForLive(page, ["news"]);
  await expect(lastError(page)).toHaveText("—");

  await page.locator("#publish-payload").fill("hello");
  await page.getByRole("button", { name: "Publish" }).click();
  const line = page.locator('article.topic[data-topic="news"] li.publish');
  await expect(line).toHaveText(/"hello" durable in \d+ ms, acknowledged as #1 in \d+ ms$/);

  // The server goes silent: the watchdog notices, the chip and the badge leave "live".
  await fault(demo.server.url, { kind: "wedge" });
  await expect(chip(page, "news")).toHaveText("reconnecting", { timeout: 20_000 });
  await expect(page.locator("#status-state")).toHaveText("reconnecting");
  await expect(lastError(page)).toHaveText(/^stale: .+ — at \d\d:\d\d:\d\d, (just now|\d+ s ago)$/);

  await fault(demo.server.url, { kind: "heal" });
  await expect(chip(page, "news")).toHaveText("live", { timeout: 20_000 });
  await expect(lastError(page)).toHaveText("—");
  await expect(page.locator("#status-state")).toHaveText("live");
  expect(seen, "console during the run").toEqual([]);
});

test("the suite's demo page (?server=) loads without console errors or warnings", async ({ page, server }) => {
  const seen = complaints(page);
  await page.goto(tabUrl(server.url, { topics: ["news"] }));
  await waitForLive(page, ["news"]);
  await expect(chip(page, "news")).toHaveText("live");
  await expect(page.locator('#server-stats dd[data-key="server"]')).toContainText("not reachable from this page");
  expect(seen).toEqual([]);
});
