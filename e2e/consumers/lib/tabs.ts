// The browser check every fixture app passes, in real Chromium against the real reference
// server (started here from the repo's sources): two tabs of the app share one upstream stream,
// both reach `live`, and an event one tab publishes reaches both, once. Apps with a component
// that subscribes (the framework bindings) also unmount it in both tabs: the topic must leave the
// upstream stream (no leaked subscription) and come back when it mounts again.
//
// The page contract every fixture implements, driven through the DOM only:
//   ?server=URL  the reference server;   #status  the client's state;   #events li  one per event
//   #message + #send  publish the text on TOPIC;   #toggle (bindings)  unmount / mount the feed.
import type { Browser, Page } from "@playwright/test";
import { startServer, type RunningServer } from "../../../server/server";
import { waitUntil } from "../../wait";

export const TOPIC = "consumers/demo";
/** A first load through a Vite dev server on a cold cache takes a while on a loaded 2-core machine. */
const LOAD_MS = 30_000;

export interface TwoTabsOptions {
  /** Names the check in the published text and in errors. */
  label: string;
  /** The app has #toggle: check that unmounting its feed releases the topic. */
  toggle?: boolean;
}

export interface TwoTabsResult {
  /** Main-frame navigations per tab: 1 unless something reloaded the page. */
  navigations: number[];
}

export function appUrl(base: string, server: RunningServer, path = "/"): string {
  return `${base}${path}?server=${encodeURIComponent(server.url)}`;
}

async function texts(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).allTextContents();
}

async function waitForState(pages: Page[], state: string): Promise<void> {
  await waitUntil(async () => (await Promise.all(pages.map((p) => texts(p, "#status")))).every(([s]) => s === state), {
    timeoutMs: LOAD_MS,
    message: `#status "${state}" in every tab`,
  });
}

async function waitForStreams(server: RunningServer, count: number): Promise<void> {
  await waitUntil(() => server.stats().activeStreams === count, {
    message: `${count} upstream stream(s) (activeStreams ${server.stats().activeStreams})`,
  });
}

/** Publishes `text` from the first tab and checks that every tab shows it exactly once. */
async function publishAndSee(pages: Page[], text: string): Promise<void> {
  await pages[0]!.bringToFront(); // a background tab paints rarely: Playwright's click would wait ~2 s for it
  await pages[0]!.fill("#message", text);
  await pages[0]!.click("#send");
  await waitUntil(async () => (await Promise.all(pages.map((p) => texts(p, "#events li")))).every((l) => l.includes(text)), {
    message: `"${text}" in every tab`,
  });
  for (const page of pages) {
    const seen = (await texts(page, "#events li")).filter((t) => t === text).length;
    if (seen !== 1) throw new Error(`a tab shows "${text}" ${seen} times`);
  }
}

export async function checkTwoTabs(browser: Browser, base: string, opts: TwoTabsOptions): Promise<TwoTabsResult> {
  const server = await startServer({ port: 0, faults: true });
  const context = await browser.newContext();
  const errors: string[] = [];
  try {
    const pages = [await context.newPage(), await context.newPage()];
    const navigations = pages.map(() => 0);
    pages.forEach((page, i) => {
      page.on("pageerror", (e) => errors.push(`tab ${i + 1}: ${e.message}`));
      page.on("framenavigated", (frame) => {
        if (frame === page.mainFrame()) navigations[i]!++;
      });
    });
    for (const page of pages) await page.goto(appUrl(base, server), { timeout: LOAD_MS });
    await waitForState(pages, "live");
    await waitForStreams(server, 1);
    await publishAndSee(pages, `hello from ${opts.label}`);
    if (opts.toggle) {
      for (const page of pages) await page.bringToFront().then(() => page.click("#toggle"));
      await waitUntil(() => !server.stats().subscribedTopics.includes(TOPIC), { message: `${TOPIC} to leave the stream after unmount` });
      for (const page of pages) await page.bringToFront().then(() => page.click("#toggle"));
      await waitUntil(() => server.stats().subscribedTopics.includes(TOPIC), { message: `${TOPIC} back in the stream after mount` });
      await waitForState(pages, "live");
      await waitForStreams(server, 1);
      await publishAndSee(pages, `again from ${opts.label}`);
    }
    if (errors.length > 0) throw new Error(`page errors:\n${errors.join("\n")}`);
    return { navigations };
  } catch (e) {
    if (errors.length > 0 && e instanceof Error) e.message += `\npage errors:\n${errors.join("\n")}`;
    throw e;
  } finally {
    await context.close();
    await server.close();
  }
}
