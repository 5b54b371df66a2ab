// Why onestream exists: eight tabs of one origin share ONE upstream stream and each sees every
// event once, in order; the same eight tabs each with its own plain gRPC-Web stream exhaust
// HTTP/1.1's six connections per host and the last two tabs get nothing.
import type { Page } from "@playwright/test";
import { devOnly, expect, expectCursors, openTabs, publish, stats, test, waitForEvents, waitForLive, waitForUpstream, waitUntil } from "./helpers";

const TABS = 8;
const EVENTS = 50;

test("8 tabs: one upstream stream, every tab gets every event exactly once, in order", async ({ context, server }) => {
  const pages = await openTabs(TABS, context, server.url, { topics: ["fanout"] });
  await Promise.all(pages.map((p) => waitForLive(p, ["fanout"])));
  await waitForUpstream(server.url, 1, ["fanout"]);

  await publish(server.url, "fanout", EVENTS);
  for (const page of pages) expectCursors(await waitForEvents(page, "fanout", EVENTS), 1, EVENTS);
  expect((await stats(server.url)).activeStreams).toBe(1);
  expect(await pages[0]!.evaluate(() => window.__onestream.status?.role)).toBe("shared-worker");
});

test.describe("plain connect-web stream per tab", () => {
  devOnly("the plain page is served by the dev server only");

  test("8 tabs: six streams open, tabs 7 and 8 stall with nothing", async ({ context, server }) => {
    const pages: Page[] = [];
    for (let i = 0; i < TABS; i++) {
      const page = await context.newPage();
      await page.goto(`/e2e/pages/plain.html?server=${encodeURIComponent(server.url)}&topics=plain`);
      pages.push(page);
    }
    const opened = async () => (await Promise.all(pages.map((p) => p.evaluate(() => window.__plain.hello)))).filter(Boolean).length;
    await waitUntil(async () => (await opened()) === 6, { message: "six plain streams open" });
    await waitForUpstream(server.url, 6);

    await publish(server.url, "plain", EVENTS);
    const counts = async () => Promise.all(pages.map((p) => p.evaluate(() => window.__plain.events)));
    // Once the six open tabs have everything, the other two have had every chance.
    await waitUntil(async () => (await counts()).filter((n) => n === EVENTS).length === 6, { message: "six tabs served" });
    const final = await counts();
    expect(final.filter((n) => n === 0)).toHaveLength(2);
    expect(await opened()).toBe(6);
    expect((await stats(server.url)).activeStreams).toBe(6);
  });
});
