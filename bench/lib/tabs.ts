// Opening N tabs of a bench page in a fresh browser context and driving their `window.bench`
// from Node. One context per measurement: its own HTTP connection pool, IndexedDB and
// SharedWorker, so runs cannot leak into each other.
import type { Browser, BrowserContext, Page } from "@playwright/test";
import type { BenchPageApi, Snapshot, StartOptions } from "../pages/api";

/** Tabs navigated concurrently while opening a set. */
const OPEN_AT_ONCE = 4;

export interface Tabs {
  context: BrowserContext;
  pages: Page[];
  start(opts: StartOptions): Promise<void>;
  snapshots(): Promise<Snapshot[]>;
  close(): Promise<void>;
}

/** Functions the driver offers every page of the set (Playwright's exposeFunction). */
export type Exposed = Record<string, (...args: never[]) => unknown>;

export async function openTabs(browser: Browser, url: string, n: number, expose: Exposed = {}): Promise<Tabs> {
  const context = await browser.newContext();
  for (const [name, fn] of Object.entries(expose)) await context.exposeFunction(name, fn);
  const pages: Page[] = [];
  // A few at a time: 16 simultaneous navigations on 2 cores only measure the scheduler.
  for (let i = 0; i < n; i += OPEN_AT_ONCE) {
    const group = Array.from({ length: Math.min(OPEN_AT_ONCE, n - i) }, async (_, k) => {
      const page = await context.newPage();
      page.on("pageerror", (e) => console.error(`[tab ${i + k}] ${e.message}`));
      await page.goto(url);
      await page.waitForFunction(() => "bench" in window);
      return page;
    });
    pages.push(...(await Promise.all(group)));
  }
  return {
    context,
    pages,
    async start(opts) {
      await Promise.all(pages.map((p) => p.evaluate((o) => (window as unknown as { bench: BenchPageApi }).bench.start(o), opts)));
    },
    snapshots: () => Promise.all(pages.map((p) => p.evaluate(() => (window as unknown as { bench: BenchPageApi }).bench.snapshot()))),
    close: () => context.close(),
  };
}

/** Polls `check` (from Node: FIELD-NOTES, waitForFunction does not await) until it returns a value. */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
