// Binds engines to tabs. One engine (so one upstream stream) per user, shared by every tab of
// that user that connects; per tab a comlink control object (`connect()`), a batched data
// endpoint (TabPipe) and a watch on the tab's Web Lock, granted to us when the tab closes,
// reloads or navigates — MessagePorts never say so themselves. An engine that failed for good
// (a terminal error) is replaced on that user's next init or subscribe. The same host runs in the
// SharedWorker and, for the fallback, in the leader tab; it touches nothing global but
// queueMicrotask (batch flushes).
import type { Clock, Cursor, Engine, NetworkHint } from "../engine/types";
import { withDeadline } from "../engine/deadline";
import { ClosedError } from "../engine/errors";
import { isNetworkHint } from "../../contract/validate";
import { VersionMismatchError } from "../../contract/errors";
import {
  PROTOCOL_VERSION,
  tabLockName,
  type ControlApi,
  type DataEndpoint,
  type GetAuth,
  type InitRequest,
  type InitResponse,
  type SubscribeSpec,
} from "../../contract/protocol";
import { intKnob } from "./knob";
import { checkSpec, giveBack, restart, subscribeParts, type HostSub, type Part, type TabSubs } from "./tab-subscriptions";
import type { LifeLock } from "./life-lock";
import type { Locks } from "./locks";
import {
  DEFAULT_MAX_BATCH_EVENTS,
  DEFAULT_MAX_UNACKED_EVENTS,
  MAX_MAX_BATCH_EVENTS,
  MAX_MAX_UNACKED_EVENTS,
  TabPipe,
} from "./tab-pipe";

/** How long one tab may take to produce auth headers before the next live tab is asked. */
export const DEFAULT_AUTH_TIMEOUT_MS = 5_000;
export const MAX_AUTH_TIMEOUT_MS = 60_000;
/** Longest user key; it names persisted state, so it must stay a sane string. */
export const MAX_USER_LENGTH = 256;

export interface HostConfig {
  /** Fixed server base URL. Unset: the first tab's `init` decides, and later tabs must agree. */
  baseUrl?: string;
  /** Per-tab bound of unacknowledged events before the tab is cut off and must resync. */
  maxUnackedEvents?: number;
  /** Events per posted batch before it is sent without waiting for the end of the task. */
  maxBatchEvents?: number;
  authTimeoutMs?: number;
}

export interface HostDeps {
  /** Builds the engine of one user; called when the first tab of that user connects. */
  engineFor(user: string, getHeaders: (why: "connect" | "refresh") => Promise<Record<string, string>>, baseUrl: string): Engine;
  locks: Locks;
  clock: Clock;
  warn?: (message: string) => void;
  /** The lock this host holds for its whole life; its name goes to every tab in `init`. Released by close(). */
  lifeLock?: LifeLock;
}

export interface Host {
  /**
   * A fresh control object for one connecting tab (expose it with comlink on that tab's port).
   * `onGone` runs once the tab is gone (closed, or its lock released): close its port there.
   */
  connect(onGone?: () => void): ControlApi;
  /** Number of live tabs (for diagnostics and tests). */
  tabCount(): number;
  /** Closes every tab and engine. */
  close(): Promise<void>;
}

interface Tab extends TabSubs {
  id: string;
  /** The tab's connection number (InitRequest.attempt; 0 when it sends none). */
  attempt: number;
  user: string;
  pipe: TabPipe;
  auth: GetAuth | undefined;
  subs: Map<number, HostSub>;
  gone: boolean;
  onGone: (() => void) | undefined;
}

interface UserEngine {
  engine: Engine;
  tabs: Set<Tab>;
  unwatch: () => void;
}

export function createHost(deps: HostDeps, config: HostConfig = {}): Host {
  const warn = deps.warn ?? (() => {});
  const pipeConfig = {
    maxUnackedEvents: intKnob("maxUnackedEvents", config.maxUnackedEvents, { fallback: DEFAULT_MAX_UNACKED_EVENTS, min: 1, max: MAX_MAX_UNACKED_EVENTS }, warn),
    maxBatchEvents: intKnob("maxBatchEvents", config.maxBatchEvents, { fallback: DEFAULT_MAX_BATCH_EVENTS, min: 1, max: MAX_MAX_BATCH_EVENTS }, warn),
  };
  const authTimeoutMs = intKnob("authTimeoutMs", config.authTimeoutMs, { fallback: DEFAULT_AUTH_TIMEOUT_MS, min: 1, max: MAX_AUTH_TIMEOUT_MS }, warn);
  let baseUrl = config.baseUrl;
  const engines = new Map<string, UserEngine>();
  /** Live tabs by id: the newest connection of each tab. */
  const tabsById = new Map<string, Tab>();
  /** Engine closes under way (their last cursor saves), awaited by close(). */
  const closing = new Set<Promise<void>>();
  let hostClosed = false;

  /** Asks the user's live tabs for headers, newest first; no tab with getAuth → no headers. */
  async function headersFor(user: string, why: "connect" | "refresh"): Promise<Record<string, string>> {
    const tabs = [...(engines.get(user)?.tabs ?? [])].filter((t) => t.auth !== undefined).reverse();
    let lastError: unknown;
    for (const tab of tabs) {
      try {
        return await withDeadline(tab.auth!(why), authTimeoutMs, deps.clock, `getAuth of tab ${tab.id}`);
      } catch (e) {
        lastError = e;
        warn(`onestream: getAuth of tab ${tab.id} failed: ${String(e)}`);
      }
    }
    if (tabs.length === 0) return {};
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /**
   * The user's engine; a failed one (a terminal error: it stays failed) is replaced by a fresh
   * one, which takes over the subscriptions of every tab of that user.
   */
  function engineOf(user: string, url: string): UserEngine {
    const ue = engines.get(user);
    if (ue === undefined) {
      const entry: UserEngine = { engine: newEngine(user, url), tabs: new Set(), unwatch: () => {} };
      entry.unwatch = watch(entry);
      engines.set(user, entry);
      return entry;
    }
    if (ue.engine.status().state !== "failed") return ue;
    ue.unwatch();
    const old = ue.engine;
    ue.engine = newEngine(user, url);
    ue.unwatch = watch(ue);
    closeEngine(old);
    for (const tab of ue.tabs) for (const [sub, s] of tab.subs) restart(ue.engine, tab, sub, s, warn);
    return ue;
  }

  function newEngine(user: string, url: string): Engine {
    return deps.engineFor(user, (why) => headersFor(user, why), url);
  }

  function watch(ue: UserEngine): () => void {
    return ue.engine.watchStatus((s) => {
      for (const tab of ue.tabs) tab.pipe.status(s);
    });
  }

  function closeEngine(engine: Engine): void {
    const done: Promise<void> = engine
      .close()
      .catch((e: unknown) => warn(`onestream: closing engine failed: ${String(e)}`))
      .finally(() => closing.delete(done));
    closing.add(done);
  }

  function dropTab(tab: Tab): void {
    if (tab.gone) return;
    tab.gone = true;
    if (tabsById.get(tab.id) === tab) tabsById.delete(tab.id);
    for (const s of tab.subs.values()) for (const p of s.parts) p.handle.unsubscribe();
    tab.subs.clear();
    tab.pipe.close();
    // On a later task, so that the reply to a close() call still goes out on that port.
    const onGone = tab.onGone;
    if (onGone !== undefined) deps.clock.setTimeout(onGone, 0);
    const ue = engines.get(tab.user);
    if (ue === undefined) return;
    ue.tabs.delete(tab);
    if (ue.tabs.size === 0) {
      engines.delete(tab.user);
      ue.unwatch();
      closeEngine(ue.engine);
    }
  }

  function connect(onGone?: () => void): ControlApi {
    let tab: Tab | undefined;
    let closed = false;

    const live = (): Tab => {
      if (closed || hostClosed || tab?.gone === true) throw new ClosedError("tab connection");
      if (tab === undefined) throw new Error("onestream: init() must be the first call");
      return tab;
    };

    return {
      async init(req: InitRequest, data: DataEndpoint, auth?: GetAuth): Promise<InitResponse> {
        // Held before any tab hears its name: a tab must never be granted it while we live.
        const hostLock = deps.lifeLock !== undefined && (await deps.lifeLock.held) ? deps.lifeLock.name : undefined;
        if (closed || hostClosed) throw new ClosedError("tab connection");
        if (tab !== undefined) throw new Error("onestream: init() was already called");
        if (req === null || typeof req !== "object") throw new TypeError("onestream: init needs a request object");
        if (req.protocol !== PROTOCOL_VERSION) {
          throw new VersionMismatchError(
            `onestream: this tab speaks protocol v${String(req.protocol)} but the worker speaks v${PROTOCOL_VERSION}; reload the tab`,
          );
        }
        if (typeof req.tabId !== "string" || req.tabId.length === 0) throw new TypeError("onestream: tabId must be a non-empty string");
        if (typeof req.user !== "string" || req.user.length === 0 || req.user.length > MAX_USER_LENGTH) {
          throw new TypeError(`onestream: user must be a string of 1..${MAX_USER_LENGTH} characters`);
        }
        if (req.baseUrl !== undefined && typeof req.baseUrl !== "string") throw new TypeError("onestream: baseUrl must be a string");
        const attempt = req.attempt ?? 0;
        if (!Number.isSafeInteger(attempt) || attempt < 0) throw new TypeError("onestream: attempt must be a non-negative integer");
        const older = tabsById.get(req.tabId);
        if (older !== undefined && older.attempt > attempt) throw new ClosedError("superseded tab connection");
        if (data === null || typeof data !== "object" || typeof data.postMessage !== "function") {
          throw new TypeError("onestream: init needs a data endpoint (MessagePort)");
        }
        if (baseUrl === undefined) {
          if (req.baseUrl === undefined || req.baseUrl === "") throw new TypeError("onestream: no baseUrl: pass one to createClient or serve()");
          baseUrl = req.baseUrl;
        } else if (config.baseUrl === undefined && req.baseUrl !== undefined && req.baseUrl !== baseUrl) {
          throw new TypeError(`onestream: this worker streams from ${baseUrl}, not ${req.baseUrl}; use another client name`);
        }
        const ue = engineOf(req.user, baseUrl);
        const t: Tab = {
          id: req.tabId,
          attempt,
          user: req.user,
          pipe: new TabPipe(data, pipeConfig),
          auth: typeof auth === "function" ? auth : undefined,
          subs: new Map(),
          gone: false,
          onGone,
        };
        tab = t;
        // A tab that connects again (its first connection went unanswered, so it made another)
        // replaces its older connection; dropped after this one joined, so the engine stays.
        tabsById.set(t.id, t);
        ue.tabs.add(t);
        if (older !== undefined) dropTab(older);
        t.pipe.status(ue.engine.status());
        // The tab holds this lock for its whole life: our request is granted once it is gone.
        deps.locks.request(tabLockName(t.id), () => dropTab(t)).catch((e: unknown) => warn(`onestream: tab lock: ${String(e)}`));
        return { protocol: PROTOCOL_VERSION, baseUrl, ...(hostLock === undefined ? {} : { hostLock }) };
      },

      async subscribe(sub: number, spec: SubscribeSpec): Promise<void> {
        const t = live();
        if (!Number.isSafeInteger(sub)) throw new TypeError("onestream: subscription id must be an integer");
        if (t.subs.has(sub)) throw new TypeError(`onestream: subscription ${sub} already exists`);
        checkSpec(spec);
        const { engine } = engineOf(t.user, baseUrl!);
        t.subs.set(sub, { spec, parts: subscribeParts(engine, t, sub, spec) });
      },

      async unsubscribe(sub: number): Promise<void> {
        const t = live();
        const s = t.subs.get(sub);
        if (s === undefined) return;
        t.subs.delete(sub);
        t.pipe.forget(sub);
        for (const p of s.parts) p.handle.unsubscribe();
      },

      async resync(ackedSeq: number): Promise<void> {
        const t = live();
        if (typeof ackedSeq !== "number") throw new TypeError("onestream: resync needs the last handled batch number");
        t.pipe.ack(ackedSeq);
        if (!t.pipe.overflowed) return;
        // Only topics that lost deliveries are resubscribed, each from the exact cursor the tab
        // has; the rest lost nothing and their engine subscriptions run on. New before old, so
        // no topic leaves the stream in between.
        for (const [sub, p] of t.pipe.resumePoints()) {
          const s = t.subs.get(sub);
          if (s === undefined) continue;
          for (const r of p.resets) t.pipe.deliver(sub, r);
          if (p.live.length > 0) t.pipe.deliver(sub, { kind: "live", topics: p.live });
          // Where to resume is unknown: say so, and go on from now (never a silent gap).
          for (const topic of p.unknown) t.pipe.deliver(sub, { kind: "reset", topic, reason: "resync", resumeAfter: undefined });
          const topics = [...p.after.keys(), ...p.unknown];
          if (topics.length === 0) continue;
          let fresh: Part[];
          try {
            fresh = subscribeParts(engines.get(t.user)!.engine, t, sub, { topics, since: Object.fromEntries(p.after), otherwise: "now" });
          } catch (e) {
            giveBack(t, sub, s, e, warn);
            continue;
          }
          for (const part of s.parts) {
            for (const topic of topics) part.topics.delete(topic);
            if (part.topics.size === 0) part.handle.unsubscribe();
          }
          s.parts = [...s.parts.filter((part) => part.topics.size > 0), ...fresh];
        }
      },

      async publish(topic: string, payload: Uint8Array, key: string): Promise<{ cursor: Cursor | undefined }> {
        // The engine validates topic, bytes, size (its maxPayloadBytes) and key, and rejects this call only.
        return engines.get(live().user)!.engine.publish(topic, payload, { key });
      },

      async durable(key: string): Promise<void> {
        if (typeof key !== "string") throw new TypeError("onestream: durable needs the publish's key");
        return engines.get(live().user)!.engine.durable(key);
      },

      async hint(h: NetworkHint): Promise<void> {
        const t = live();
        if (!isNetworkHint(h)) throw new TypeError(`onestream: unknown network hint ${String(h)}`);
        engines.get(t.user)!.engine.hint(h);
      },

      async reset(): Promise<void> {
        const t = live();
        await engines.get(t.user)!.engine.reset();
      },

      async close(): Promise<void> {
        if (closed) return;
        closed = true;
        if (tab !== undefined) dropTab(tab);
      },
    };
  }

  return {
    connect,
    tabCount: () => tabsById.size,
    async close(): Promise<void> {
      hostClosed = true;
      const all = [...engines.values()];
      for (const ue of all) for (const t of [...ue.tabs]) dropTab(t);
      await Promise.all(closing);
      deps.lifeLock?.release();
    },
  };
}
