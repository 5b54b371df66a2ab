// `npm start` as a user meets it: the demo's server stats and fault panel work through the dev
// server's forwarding of /admin/* (the admin endpoints themselves never answer a page), and that
// forwarding serves the demo's own pages only.
import { startDemo, type RunningDemo } from "../scripts/demo";
import { devOnly, expect, recording, test, waitForLive, waitUntil } from "./helpers";

devOnly("starts its own dev server; the bundle is not involved");

let demo: RunningDemo | undefined;
test.afterEach(async () => {
  await demo?.close();
  demo = undefined;
});

test("npm start's demo shows the server's stats and breaks the stream from its fault panel", async ({ page }) => {
  demo = await startDemo({
    serverPort: 0,
    vitePort: 0,
    server: { heartbeatMs: 1000 },
    // Its own optimizer cache: the suite's dev server is using the default one.
    vite: { cacheDir: "node_modules/.cache/onestream-e2e-demo-vite", logLevel: "warn", server: { hmr: false, watch: null } },
  });
  await page.goto(`${demo.pageUrl}?topics=demo`);
  await waitForLive(page, ["demo"]);
  const activeStreams = page.locator('#server-stats dd[data-key="active streams"]');
  await expect(activeStreams).toHaveText("1");

  await expect(page.locator("#faults")).toBeVisible();
  await page.getByRole("button", { name: "error", exact: true }).click();
  await expect(page.locator("#fault-result")).toContainText("error: done");
  await waitUntil(async () => ((await recording(page)).status?.connection ?? 0) >= 2, { message: "a reconnect after the fault" });
  await waitForLive(page, ["demo"]);
  await expect(page.locator('#server-stats dd[data-key="streams opened"]')).toHaveText("2");

  // The server's admin endpoints refuse the page itself; the dev server forwards only its own pages.
  const direct = await page.evaluate((url) => fetch(`${url}/admin/stats`).then((r) => `HTTP ${r.status}`, () => "refused"), demo.server.url);
  expect(direct).toBe("refused");
  const crossSite = await fetch(`${demo.pageUrl}admin/stats`, { headers: { "sec-fetch-site": "cross-site" } });
  expect(crossSite.status).toBe(404);
  const otherOrigin = await fetch(`${demo.pageUrl}admin/publish`, {
    method: "POST",
    headers: { origin: "https://evil.example", "content-type": "application/json" },
    body: '{"topic":"demo"}',
  });
  expect(otherOrigin.status).toBe(404);
  expect(demo.server.stats().publishes).toBe(0);
});
