// Shared pieces of the e2e specs: a fresh reference server per test (with the options the test
// needs), demo tabs pointed at it, and readers of what each tab recorded. Everything waits by
// polling from Node (FIELD-NOTES: page.waitForFunction does not await promises); no fixed sleeps.
import { test as base, expect } from "@playwright/test";
import type { Browser, BrowserContext, Page } from "@playwright/test";
import { startServer } from "../server/server";
import type { AdminStats, RunningServer, ServerOptions } from "../server/server";
import type { DemoRecording, ReceivedEvent } from "../src/demo/record";
import { inspectSharedWorker } from "./kit";
import { WAIT_MS, waitUntil } from "./wait";

export { expect, waitUntil, WAIT_MS };
export type { AdminStats, DemoRecording, ReceivedEvent, RunningServer, ServerOptions };

/**
 * `server`: a reference server on a free port, fresh for each test, closed after it.
 * Configure per file or describe block with `test.use({ serverOptions: { heartbeatMs: 1000 } })`.
 */
export const test = base.extend<{ serverOptions: ServerOptions; server: RunningServer }>({
  serverOptions: [{ faults: true, heartbeatMs: 1000 }, { option: true }],
  server: async ({ serverOptions }, use) => {
    const server = await startServer({ port: 0, ...serverOptions });
    await use(server);
    await server.close();
  },
});

export interface TabOptions {
  topics?: string[];
  user?: string;
  fallback?: "auto" | "leader" | "none";
  token?: string;
  /** Removes window.SharedWorker before the page's scripts run. */
  noSharedWorker?: boolean;
  /** Removes window.Worker too: the fallback's leader must run the engine in its page. */
  noDedicatedWorker?: boolean;
  /** Another page that records like the demo (default "/"), and what else its query says. */
  page?: string;
  query?: Record<string, string>;
}

export function tabUrl(serverUrl: string, opts: TabOptions = {}): string {
  const q = new URLSearchParams({ server: serverUrl });
  if (opts.topics?.length) q.set("topics", opts.topics.join(","));
  if (opts.user) q.set("user", opts.user);
  if (opts.fallback) q.set("fallback", opts.fallback);
  if (opts.token) q.set("token", opts.token);
  for (const [k, v] of Object.entries(opts.query ?? {})) q.set(k, v);
  return `${opts.page ?? "/"}?${q}`;
}

/** Opens a demo tab on `serverUrl` and waits until its client exists and its topics are joined. */
export async function openTab(context: BrowserContext, serverUrl: string, opts: TabOptions = {}): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`[page error] ${e.message}`));
  if (opts.noSharedWorker) {
    await page.addInitScript(() => {
      delete (window as { SharedWorker?: unknown }).SharedWorker;
    });
  }
  if (opts.noDedicatedWorker) await page.addInitScript(() => delete (window as { Worker?: unknown }).Worker);
  await page.goto(tabUrl(serverUrl, opts));
  await waitUntil(
    async () => {
      const r = await page.evaluate(() => ({ ready: window.__onestream?.ready, error: window.__onestream?.startError }));
      if (r.error) throw new Error(`demo failed to start: ${r.error}`);
      return r.ready === true;
    },
    { message: "demo tab ready" },
  );
  return page;
}

export function recording(page: Page): Promise<DemoRecording> {
  return page.evaluate(() => window.__onestream);
}

export async function received(page: Page, topic: string): Promise<ReceivedEvent[]> {
  return page.evaluate((t) => window.__onestream.received[t] ?? [], topic);
}

export async function state(page: Page): Promise<string | undefined> {
  return page.evaluate(() => window.__onestream.status?.state);
}

export async function waitForState(page: Page, wanted: string, timeoutMs = WAIT_MS): Promise<void> {
  await waitUntil(async () => (await state(page)) === wanted, { timeoutMs, message: `state ${wanted}` });
}

/** Waits until `page` recorded at least `count` events of `topic`; returns them. */
export async function waitForEvents(page: Page, topic: string, count: number, timeoutMs = WAIT_MS): Promise<ReceivedEvent[]> {
  return waitUntil(
    async () => {
      const events = await received(page, topic);
      return events.length >= count ? events : undefined;
    },
    { timeoutMs, message: `${count} events of ${topic}` },
  );
}

/** Asserts that `events` are exactly the cursors from..to, each once, in order. */
export function expectCursors(events: ReceivedEvent[], from: number, to: number): void {
  const want = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => String(from + i));
  expect(events.map((e) => e.cursor)).toEqual(want);
}

export async function stats(serverUrl: string): Promise<AdminStats> {
  const res = await fetch(`${serverUrl}/admin/stats`);
  if (!res.ok) throw new Error(`GET /admin/stats: HTTP ${res.status}`);
  return (await res.json()) as AdminStats;
}

/** Appends `count` events to `topic` through POST /admin/publish; returns their cursors. */
export async function publish(serverUrl: string, topic: string, count = 1, payload = "e"): Promise<string[]> {
  const res = await fetch(`${serverUrl}/admin/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic, payload, count }),
  });
  if (!res.ok) throw new Error(`POST /admin/publish: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { cursors: string[] }).cursors;
}

export async function fault(serverUrl: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${serverUrl}/admin/fault`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST /admin/fault ${JSON.stringify(body)}: HTTP ${res.status} ${await res.text()}`);
}

/** Waits until the server has exactly `n` active streams whose topics include `topics`. */
export async function waitForUpstream(serverUrl: string, n: number, topics: string[] = [], timeoutMs = WAIT_MS): Promise<AdminStats> {
  return waitUntil(
    async () => {
      const s = await stats(serverUrl);
      return s.activeStreams === n && topics.every((t) => s.subscribedTopics.includes(t)) ? s : undefined;
    },
    { timeoutMs, message: `${n} active stream(s) carrying ${topics.join(",") || "any topics"}` },
  );
}

/** Waits until every topic of `page` is live (the stream caught up). */
export async function waitForLive(page: Page, topics: string[], timeoutMs = WAIT_MS): Promise<void> {
  await waitUntil(
    async () => {
      const s = (await recording(page)).status;
      return s?.state === "live" && topics.every((t) => s.liveTopics.includes(t));
    },
    { timeoutMs, message: `live on ${topics.join(",")}` },
  );
}

/** Call at the top of a file or describe block whose tests run in the `dev` project only. */
export function devOnly(reason: string): void {
  test.beforeEach(({}, info) => test.skip(info.project.name !== "dev", reason));
}

/** Opens `n` demo tabs one after another, each ready before the next opens. */
export async function openTabs(n: number, context: BrowserContext, serverUrl: string, opts: TabOptions = {}): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < n; i++) pages.push(await openTab(context, serverUrl, opts));
  return pages;
}

/**
 * Counts the SharedWorker's Subscribe requests from now on, seen by CDP on the worker target:
 * the server counts only streams it accepted, and rejected attempts matter too.
 */
export async function watchSubscribes(browser: Browser, context: BrowserContext): Promise<{ count(): number; stop(): Promise<void> }> {
  const worker = await inspectSharedWorker(browser, { context });
  let n = 0;
  worker.on("Network.requestWillBeSent", (e: { request: { url: string; method: string } }) => {
    if (e.request.method === "POST" && e.request.url.endsWith("/onestream.v1.StreamService/Subscribe")) n++;
  });
  await worker.send("Network.enable");
  return { count: () => n, stop: () => worker.detach() };
}

/** The status connection number of `page` (1 on the first open, +1 per reopen). */
export async function connection(page: Page): Promise<number> {
  return (await recording(page)).status?.connection ?? 0;
}
