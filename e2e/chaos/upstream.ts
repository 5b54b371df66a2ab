// Counts, from the browser's side, the Subscribe requests that are open right now: CDP Network
// events on every SharedWorker target (shared mode) or on every page (fallback mode, where the
// leader tab does the fetch). Compared with the server's activeStreams at quiet moments, it tells
// a client that leaks streams from a server that keeps zombies.
//
// Attaching to a starting worker and enabling Network took 200–900 ms here, longer than the
// worker takes to send its first Subscribe: a chaos tab therefore makes its SharedWorker at load
// but starts its client only once ready() says the watch sees that worker's network. A worker the
// client makes by itself (after a crash) may still be seen late: its count is then too low, which
// the checks report as unmeasured, never as a pass; a count too high is always a leak.
//
// A DevTools session on a SharedWorker also outlives its last tab: measured here, the worker
// target is never destroyed and the tabs that open next hang in "connecting" on it. So the watch
// detaches before every tab closes (releaseWorkers) and before it kills a worker (crashWorker).
import type { BrowserContext, CDPSession, Page } from "@playwright/test";
import { BrowserCdp, type TargetChannel, type TargetInfo } from "../kit/cdp";
import type { ChaosMode } from "./messages";

const SUBSCRIBE_PATH = "/onestream.v1.StreamService/Subscribe";
/** Keep no response bodies in DevTools: the streams are long. */
const NETWORK_ENABLE = { maxTotalBufferSize: 1024, maxResourceBufferSize: 1024 };

interface RequestEvent {
  requestId: string;
  request: { url: string; method: string };
}

/** Open Subscribe requests of one CDP source (a worker or a page). */
class OpenRequests {
  readonly ids = new Set<string>();
  listen(on: (event: string, fn: (p: any) => void) => void): void {
    on("Network.requestWillBeSent", (e: RequestEvent) => {
      if (e.request.method === "POST" && e.request.url.endsWith(SUBSCRIBE_PATH)) this.ids.add(e.requestId);
    });
    const done = (e: { requestId: string }) => this.ids.delete(e.requestId);
    on("Network.loadingFinished", done);
    on("Network.loadingFailed", done);
  }
}

export interface UpstreamWatch {
  /** Subscribe requests open in the browser now. */
  open(): number;
  /** Starts watching a page (fallback mode; a no-op in shared mode). */
  addPage(page: Page): Promise<void>;
  /** Resolves once a worker exists and its network is watched (shared mode; at once in fallback). */
  ready(timeoutMs: number): Promise<void>;
  /** Shared mode: detaches from the SharedWorkers, so they die with their last tab. */
  releaseWorkers(): Promise<void>;
  /** Shared mode: kills the SharedWorker (Target.closeTarget); false when there is none. */
  crashWorker(): Promise<boolean>;
  close(): Promise<void>;
}

export async function watchUpstream(context: BrowserContext, mode: ChaosMode): Promise<UpstreamWatch> {
  return mode === "shared" ? watchWorkers(context) : watchPages(context);
}

async function watchWorkers(context: BrowserContext): Promise<UpstreamWatch> {
  const cdp = await BrowserCdp.for(context.browser()!);
  const sources = new Map<string, { channel: Promise<TargetChannel | undefined>; requests: OpenRequests }>();

  const attach = (target: TargetInfo): void => {
    if (target.type !== "shared_worker" || sources.has(target.targetId)) return;
    const requests = new OpenRequests();
    const channel = cdp.attach(target).then(
      async (ch) => {
        requests.listen((event, fn) => ch.on(event, fn));
        await ch.send("Network.enable", NETWORK_ENABLE).catch(() => {});
        return ch;
      },
      () => undefined, // gone before we got there
    );
    sources.set(target.targetId, { channel, requests });
  };
  const forget = async (targetId: string): Promise<void> => {
    const source = sources.get(targetId);
    sources.delete(targetId);
    await (await source?.channel)?.detach();
  };

  const offCreated = cdp.onTargetCreated(attach);
  const onDestroyed = (e: { targetId: string }) => void forget(e.targetId);
  cdp.session.on("Target.targetDestroyed", onDestroyed);
  for (const t of await cdp.sharedWorkers()) attach(t);

  return {
    open: () => [...sources.values()].reduce((n, s) => n + s.requests.ids.size, 0),
    addPage: async () => {},
    async ready(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let workers: TargetInfo[];
      while ((workers = await cdp.sharedWorkers()).length === 0) {
        if (Date.now() > deadline) throw new Error(`no SharedWorker within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const w of workers) attach(w);
      await Promise.all(workers.map((w) => sources.get(w.targetId)?.channel));
    },
    async releaseWorkers() {
      await Promise.all([...sources.keys()].map(forget));
    },
    async crashWorker() {
      const workers = await cdp.sharedWorkers();
      for (const w of workers) {
        await forget(w.targetId);
        await cdp.session.send("Target.closeTarget", { targetId: w.targetId }).catch(() => {});
      }
      return workers.length > 0;
    },
    async close() {
      offCreated();
      cdp.session.off("Target.targetDestroyed", onDestroyed);
      await Promise.all([...sources.keys()].map(forget));
    },
  };
}

async function watchPages(context: BrowserContext): Promise<UpstreamWatch> {
  const sources = new Map<Page, { session: CDPSession; requests: OpenRequests }>();
  return {
    open: () => [...sources.values()].reduce((n, s) => n + s.requests.ids.size, 0),
    async addPage(page) {
      const session = await context.newCDPSession(page);
      const requests = new OpenRequests();
      requests.listen((event, fn) => session.on(event as "Network.requestWillBeSent", fn));
      await session.send("Network.enable", NETWORK_ENABLE);
      sources.set(page, { session, requests });
      page.once("close", () => sources.delete(page));
    },
    ready: async () => {},
    releaseWorkers: async () => {},
    crashWorker: async () => false,
    async close() {
      await Promise.all([...sources.values()].map((s) => s.session.detach().catch(() => {})));
      sources.clear();
    },
  };
}
