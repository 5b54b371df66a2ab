// One scenario's world: the backend (server, proxy, publisher), a fresh browser context (fresh
// IndexedDB, so fresh cursors and outbox), the tabs, the upstream watch and the recorder, plus the
// waits every part of a run shares (fresh data in every tab, a settled upstream count).
import type { Browser, BrowserContext } from "@playwright/test";
import { startBackend, type Backend } from "./backend";
import type { ChaosMode } from "./messages";
import { Recorder, type TabRecord } from "./recorder";
import { Tabs } from "./tabs";
import { watchUpstream, type UpstreamWatch } from "./upstream";

export interface WorldOptions {
  mode: ChaosMode;
  tabs: number;
  topics: string[];
  rate: number;
  publishEveryMs: number;
  heartbeatMs: number;
  /** A tab without fresh data for this long is stuck. */
  stuckMs: number;
  /** How long the upstream count may take to settle at a quiet moment. */
  settleMs: number;
}

export interface World {
  opts: WorldOptions;
  backend: Backend;
  context: BrowserContext;
  recorder: Recorder;
  tabs: Tabs;
  upstream: UpstreamWatch;
}

/** How often the waits look again. */
const POLL_MS = 50;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function createWorld(browser: Browser, pagesUrl: string, opts: WorldOptions): Promise<World> {
  const backend = await startBackend({ heartbeatMs: opts.heartbeatMs, topics: opts.topics, rate: opts.rate });
  const context = await browser.newContext();
  const recorder = new Recorder(backend.ledger);
  const upstream = await watchUpstream(context, opts.mode);
  const tabs = await Tabs.create({
    context,
    pagesUrl,
    serverUrl: backend.tabUrl,
    mode: opts.mode,
    publishEveryMs: opts.publishEveryMs,
    recorder,
    upstream,
  });
  return { opts, backend, context, recorder, tabs, upstream };
}

export async function closeWorld(world: World): Promise<void> {
  world.recorder.run.publisherErrors = world.backend.publisherErrors();
  await world.upstream.close();
  await world.context.close().catch(() => {});
  await world.backend.close();
}

/**
 * Waits until every open tab was handed an event the server appended at or after `since`
 * (data flows again everywhere), for at most `timeoutMs`; returns the tabs that were not.
 */
export async function waitForFlow(world: World, since: number, timeoutMs: number): Promise<TabRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const behind = world.recorder.openTabs().filter((t) => t.freshAt < since);
    if (behind.length === 0 || Date.now() > deadline) return behind;
    await sleep(POLL_MS);
  }
}

/** Polls `probe` until it holds or `timeoutMs` passes; returns whether it held. */
export async function pollUntil(probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await sleep(POLL_MS);
  }
}
