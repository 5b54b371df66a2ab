// onestream/testing: what a Playwright test needs to break the network under a SharedWorker and
// look inside it. Playwright alone cannot (FIELD-NOTES): `context.setOffline` leaves the worker's
// new fetches working and every open stream flowing, and the worker is invisible to page APIs.
import type { Browser, BrowserContext } from "@playwright/test";
import { BrowserCdp } from "./cdp";
import type { TargetChannel, TargetInfo } from "./cdp";
import type { FaultProxy } from "./fault-proxy";

export { startFaultProxy, MAX_DELAY_MS } from "./fault-proxy";
export type { FaultMode, FaultProxy, FaultProxyOptions } from "./fault-proxy";
export { CdpError } from "./cdp";
export type { TargetInfo } from "./cdp";

export interface OfflineOptions {
  /**
   * How in-flight streams get cut; offline emulation leaves them flowing. Give either:
   * - `proxy`: a FaultProxy in front of the server; set to `reset` while offline (open
   *   connections reset, new ones refused) and back to `pass` by goOnline; or
   * - `cut`: your own callback, e.g. a server-side "drop every stream" endpoint.
   * Without either, open streams keep flowing (only new requests fail).
   */
  proxy?: FaultProxy;
  cut?: () => unknown;
}

const OFFLINE = { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 };
const ONLINE = { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 };

interface OfflineState {
  cdp: BrowserCdp;
  /** Worker targets already claimed (attach in flight or done), by target id. */
  claimed: Map<string, Promise<TargetChannel | undefined>>;
  unwatch: () => void;
  proxy?: FaultProxy;
}

const offlineContexts = new WeakMap<BrowserContext, OfflineState>();

function browserOf(context: BrowserContext): Browser {
  const browser = context.browser();
  if (browser === null) {
    throw new Error("onestream/testing needs a context from browser.newContext(); persistent contexts have no Browser for CDP");
  }
  return browser;
}

/** The CDP browserContextId of `context`, read through one of its pages (undefined without pages). */
async function cdpContextId(context: BrowserContext): Promise<string | undefined> {
  const page = context.pages()[0];
  if (page === undefined) return undefined;
  const session = await context.newCDPSession(page);
  try {
    const { targetInfo } = await session.send("Target.getTargetInfo");
    return targetInfo.browserContextId;
  } finally {
    await session.detach().catch(() => {});
  }
}

function belongs(target: TargetInfo, contextId: string | undefined): boolean {
  if (target.type !== "shared_worker") return false;
  return contextId === undefined || target.browserContextId === undefined || target.browserContextId === contextId;
}

/**
 * Takes `context` offline as a whole: its pages (`context.setOffline`, so they get `offline`
 * events), the new requests of each of its SharedWorkers (CDP network emulation on the worker
 * target, also applied to workers that start while offline, as soon as their target appears),
 * and open streams (see OfflineOptions). Idempotent; goOnline undoes all of it. Workers are
 * matched to the context through its first page; a context without pages takes every
 * SharedWorker of the browser offline.
 */
export async function goOffline(context: BrowserContext, options: OfflineOptions = {}): Promise<void> {
  if (offlineContexts.has(context)) return;
  const cdp = await BrowserCdp.for(browserOf(context));
  const contextId = await cdpContextId(context);
  const claimed = new Map<string, Promise<TargetChannel | undefined>>();

  const cutWorker = (target: TargetInfo): Promise<TargetChannel | undefined> => {
    if (!belongs(target, contextId)) return Promise.resolve(undefined);
    const known = claimed.get(target.targetId);
    if (known !== undefined) return known;
    const attached = (async () => {
      try {
        const channel = await cdp.attach(target);
        await channel.send("Network.enable");
        await channel.send("Network.emulateNetworkConditions", OFFLINE);
        return channel;
      } catch {
        return undefined; // the worker went away meanwhile: nothing left to take offline
      }
    })();
    claimed.set(target.targetId, attached);
    return attached;
  };

  const state: OfflineState = { cdp, claimed, unwatch: cdp.onTargetCreated((t) => void cutWorker(t)), proxy: options.proxy };
  offlineContexts.set(context, state);
  await Promise.all((await cdp.sharedWorkers()).map(cutWorker));
  await context.setOffline(true);
  options.proxy?.set("reset");
  await options.cut?.();
}

/** Undoes goOffline: the proxy passes again, workers' emulation is lifted, then pages go online. */
export async function goOnline(context: BrowserContext): Promise<void> {
  const state = offlineContexts.get(context);
  offlineContexts.delete(context);
  if (state !== undefined) {
    state.unwatch();
    state.proxy?.set("pass");
    const channels = await Promise.all(state.claimed.values());
    // A worker that died meanwhile may never answer: only talk to those still listed.
    const alive = new Set((await state.cdp.sharedWorkers()).map((t) => t.targetId));
    await Promise.all(
      channels.map(async (channel) => {
        if (channel === undefined) return;
        if (!channel.isClosed && alive.has(channel.target.targetId)) {
          await channel.send("Network.emulateNetworkConditions", ONLINE).catch(() => {});
        }
        await channel.detach();
      }),
    );
  }
  // Pages last: their `online` event is what tells the worker to reconnect now.
  await context.setOffline(false);
}

export interface ConsoleEntry {
  /** "log", "warning", "error", … as CDP names them. */
  type: string;
  /** Arguments joined by spaces: primitives as themselves, objects as CDP describes them ("Object", "Error: …"). */
  text: string;
}

export interface SharedWorkerInspector {
  target: TargetInfo;
  /** Evaluates `expression` in the worker; awaits a promise result; returns it by value. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Any CDP command on the worker target, e.g. send("Network.enable"). */
  send<T = any>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Any CDP event of the worker target, e.g. on("Network.requestWillBeSent", …); returns the off function. */
  on(method: string, listener: (params: any) => void): () => void;
  /** Console calls seen since attaching. */
  consoleMessages(): ConsoleEntry[];
  /** Resolves with the first console call (past or future) whose text matches. */
  waitForConsole(match: string | RegExp, timeoutMs?: number): Promise<ConsoleEntry>;
  detach(): Promise<void>;
}

export interface InspectOptions {
  /** Only workers of this context. */
  context?: BrowserContext;
  /** Only workers whose script URL contains this string or matches this pattern. */
  url?: string | RegExp;
  /** How long to wait for a matching worker to exist; default 5000 ms. */
  timeoutMs?: number;
}

/** Default wait for a SharedWorker to appear or a console line to show. */
export const DEFAULT_INSPECT_TIMEOUT_MS = 5_000;
const POLL_MS = 50;

function describeRemote(arg: { value?: unknown; unserializableValue?: string; description?: string; type: string }): string {
  if (arg.value !== undefined) return typeof arg.value === "string" ? arg.value : JSON.stringify(arg.value);
  return arg.unserializableValue ?? arg.description ?? arg.type;
}

/** The first SharedWorker matching `options`, waiting (up to its timeout) for one to exist. */
async function findSharedWorker(cdp: BrowserCdp, options: InspectOptions): Promise<TargetInfo> {
  const contextId = options.context ? await cdpContextId(options.context) : undefined;
  const timeoutMs = options.timeoutMs ?? DEFAULT_INSPECT_TIMEOUT_MS;
  const matches = (t: TargetInfo) =>
    belongs(t, contextId) &&
    (options.url === undefined || (typeof options.url === "string" ? t.url.includes(options.url) : options.url.test(t.url)));

  const deadline = Date.now() + timeoutMs;
  let target: TargetInfo | undefined;
  while ((target = (await cdp.sharedWorkers()).find(matches)) === undefined) {
    if (Date.now() > deadline) throw new Error(`no SharedWorker${options.url ? ` matching ${options.url}` : ""} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return target;
}

/**
 * Kills a (the first matching) SharedWorker as a crash would: its tabs are not told, its
 * requests die with it. CDP `Target.closeTarget` from the browser session, so no debugger is
 * attached to it (one would be handed to the next worker of that name and URL, which would then
 * hang at start). Resolves with the target it closed.
 */
export async function crashSharedWorker(browser: Browser, options: InspectOptions = {}): Promise<TargetInfo> {
  const cdp = await BrowserCdp.for(browser);
  const target = await findSharedWorker(cdp, options);
  const { success } = await cdp.session.send("Target.closeTarget", { targetId: target.targetId });
  if (!success) throw new Error(`Chromium refused to close the SharedWorker ${target.url}`);
  return target;
}

/** Attaches to a (the first matching) SharedWorker over CDP, waiting for one to exist. */
export async function inspectSharedWorker(browser: Browser, options: InspectOptions = {}): Promise<SharedWorkerInspector> {
  const cdp = await BrowserCdp.for(browser);
  const target = await findSharedWorker(cdp, options);
  const channel = await cdp.attach(target);
  const seen: ConsoleEntry[] = [];
  const waiters = new Set<(e: ConsoleEntry) => void>();
  channel.on("Runtime.consoleAPICalled", (p: { type: string; args: Parameters<typeof describeRemote>[0][] }) => {
    const entry = { type: p.type, text: p.args.map(describeRemote).join(" ") };
    seen.push(entry);
    for (const w of waiters) w(entry);
  });
  await channel.send("Runtime.enable");

  return {
    target,
    async evaluate<T>(expression: string): Promise<T> {
      const r = await channel.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
      if (r.exceptionDetails) {
        throw new Error(`in the SharedWorker: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      }
      return r.result.value as T;
    },
    send: (method, params) => channel.send(method, params),
    on: (method, listener) => channel.on(method, listener),
    consoleMessages: () => [...seen],
    waitForConsole(match, waitMs = DEFAULT_INSPECT_TIMEOUT_MS) {
      const test = (e: ConsoleEntry) => (typeof match === "string" ? e.text.includes(match) : match.test(e.text));
      const past = seen.find(test);
      if (past) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no SharedWorker console line matching ${match} within ${waitMs} ms`));
        }, waitMs);
        const waiter = (e: ConsoleEntry) => {
          if (!test(e)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(e);
        };
        waiters.add(waiter);
      });
    },
    detach: () => channel.detach(),
  };
}
