// The tab side of onestream: `createClient` returns one object per tab that subscribes,
// publishes and reports status, whoever serves it (SharedWorker, or the leader tab of the
// fallback). It dedupes by its own per-topic cursor, so a leader handover or a resync after an
// overflow never shows an event twice, and it acks every batch so the host can bound its queue.
import { sameStatus } from "../contract/status";
import type { Cursor, Delivery, Status } from "../contract/types";
import { browserLocks } from "../worker/host/locks";
import { ClosedError, LeaderChangedError, UnsupportedError, VersionMismatchError, reviveError } from "../contract/errors";
import type { Client, ClientEnv, ClientOptions, ClientStatus } from "./api";
import { forwardHints } from "./hints";
import { pickConnector } from "./connect";
import { publishProblem, refusedPublish, startPublish } from "./publishing";
import { applyDelivery, createSub, guard, specFor, type Processed, type Sub } from "./subscription";
import type { Connector, Control, Link, Role } from "./link";
import { DEFAULT_NAME, PROTOCOL_VERSION, tabLockName, type AckMessage, type BatchMessage } from "../contract/protocol";

export type { Client, ClientEnv, ClientOptions, ClientStatus, Publishing, SubscriptionHandle } from "./api";
export type { SubscribeOptions } from "./subscription";

interface Active {
  link: Link;
  ready: boolean;
  /** A batch whose app callbacks are still running (async onEvents): later batches wait in `backlog`. */
  busy: boolean;
  backlog: BatchMessage[];
  /** Rejecters of control calls in flight on this link. */
  pending: Set<(e: Error) => void>;
}

const NAME_PATTERN = /^[\w.\-]{1,64}$/;

/** Status equality for de-duplication: the engine's own, plus what the tab adds. */
function sameClientStatus(a: ClientStatus, b: ClientStatus): boolean {
  return sameStatus(a, b) && a.role === b.role && a.resyncing === b.resyncing;
}

export function createClient<C extends Cursor = bigint>(options: ClientOptions): Client<C> {
  return createClientWith<C>(options, {});
}

/** createClient with test seams (see ClientEnv). */
export function createClientWith<C extends Cursor = bigint>(options: ClientOptions, env: ClientEnv): Client<C> {
  // One implementation for every cursor type: the tab only compares cursors it got from its host.
  return buildClient(options, env) as unknown as Client<C>;
}

function buildClient(options: ClientOptions, env: ClientEnv): Client<Cursor> {
  const name = options.name ?? DEFAULT_NAME;
  if (!NAME_PATTERN.test(name)) throw new TypeError("onestream: name must be 1-64 letters, digits, '.', '_' or '-'");
  if (options.getAuth !== undefined && options.user === undefined) {
    // Cursors and the outbox are keyed by user: with one default key for everybody, a publish
    // that alice left in the outbox would be sent with bob's token by bob's tab.
    throw new TypeError("onestream: getAuth needs `user` too (the signed-in user's id): persisted state is keyed by it");
  }
  const user = options.user ?? "anonymous";
  if (typeof user !== "string" || user.length === 0) throw new TypeError("onestream: user must be a non-empty string");
  const fallback = options.fallback ?? "auto";
  if (fallback !== "auto" && fallback !== "leader" && fallback !== "none") {
    throw new TypeError("onestream: fallback must be 'auto', 'leader' or 'none'");
  }
  if (options.dedicatedWorker !== undefined && typeof options.dedicatedWorker !== "function") {
    throw new TypeError("onestream: dedicatedWorker must be a function (name) => Worker");
  }
  const baseUrl = options.baseUrl ?? (globalThis as { location?: { origin?: string } }).location?.origin;
  /** This tab's identity for the host; it names the Web Lock the tab holds for its whole life. */
  const tabId = crypto.randomUUID();
  const locks = env.locks ?? browserLocks();

  const subs = new Map<number, Sub>();
  /** Status watchers, each with the status it got last. */
  const listeners = new Map<(s: ClientStatus) => void, ClientStatus>();
  let nextHostId = 0;
  /** Connections this tab made so far (InitRequest.attempt). */
  let attempts = 0;
  let active: Active | undefined;
  let waiters: Array<{ resolve: (a: Active) => void; reject: (e: Error) => void }> = [];
  let failure: Error | undefined;
  let closed = false;
  let releaseTabLock: () => void = () => {};
  let stopHints: () => void = () => {};
  let connector: Connector | undefined;
  let readyResolve: () => void = () => {};
  let readyReject: (e: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  ready.catch(() => {});

  const hasSharedWorker = typeof (globalThis as { SharedWorker?: unknown }).SharedWorker === "function";
  let role: Role = env.connector !== undefined || (fallback !== "leader" && hasSharedWorker) ? "shared-worker" : "follower";
  let status: ClientStatus = {
    state: "connecting",
    connection: 0,
    serverEpoch: "",
    liveTopics: [],
    topics: [],
    role,
    resyncing: false,
  };

  /** Tells each watcher the status, unless it is the one that watcher got last. */
  function emit(): void {
    const now = status;
    for (const [cb, last] of [...listeners]) {
      if (sameClientStatus(last, now) || !listeners.has(cb)) continue;
      listeners.set(cb, now);
      guard("onStatus", () => cb(now));
    }
  }

  function setStatus(patch: Partial<ClientStatus>): void {
    status = { ...status, ...patch };
    emit();
  }

  function fail(e: Error): void {
    if (failure !== undefined || closed) return;
    failure = e;
    for (const w of waiters) w.reject(e);
    waiters = [];
    readyReject(e);
    const code = e instanceof VersionMismatchError ? "version_mismatch" : e instanceof UnsupportedError ? "unsupported" : "failed";
    setStatus({ state: "failed", lastError: { code, message: e.message } });
  }

  /** The current initialised link, waiting for one if a handover is under way. */
  function current(): Promise<Active> {
    if (closed) return Promise.reject(new ClosedError("client"));
    if (failure !== undefined) return Promise.reject(failure);
    if (active?.ready === true) return Promise.resolve(active);
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  }

  async function call<T>(fn: (c: Control) => Promise<T>): Promise<T> {
    const a = await current();
    return new Promise<T>((resolve, reject) => {
      a.pending.add(reject);
      fn(a.link.control).then(
        (v) => {
          a.pending.delete(reject);
          resolve(v);
        },
        (e: unknown) => {
          a.pending.delete(reject);
          reject(reviveError(e));
        },
      );
    });
  }

  /** Sends `sub` to the host under a fresh id; `resume`: from this tab's own cursors. */
  function send(a: Active, sub: Sub, resume: boolean): void {
    const id = ++nextHostId;
    sub.hostId = id;
    subs.set(id, sub);
    a.link.control.subscribe(id, specFor(sub, resume)).catch((e: unknown) => {
      if (active !== a || sub.hostId !== id) return;
      const err = reviveError(e);
      subs.delete(id);
      sub.closed = true;
      if (sub.opts.onError !== undefined) sub.opts.onError(err);
      else console.error("onestream: subscribe failed", err);
    });
  }

  function deliver(a: Active, sub: Sub, d: Delivery): Processed {
    const { processed, next } = applyDelivery(sub, d);
    if (next === undefined) return processed;
    if (sub.hostId !== undefined) {
      subs.delete(sub.hostId);
      a.link.control.unsubscribe(sub.hostId).catch(() => {});
    }
    // "inactive": every topic refused, or logout ended it. "resubscribe": the engine cut this
    // subscriber, so it comes back from our own cursors.
    if (next === "inactive") sub.closed = true;
    else send(a, sub, true);
    return processed;
  }

  /**
   * Batches are handled one at a time, in order: when an app's onEvents returns a promise, the
   * next batch waits for it (an app that applies events to its own storage sees them in order),
   * and the batch is acknowledged only once every callback of it settled — that acknowledgement
   * is what lets the worker store the cursor. The status rides along and is shown at once.
   */
  function onBatch(a: Active, msg: BatchMessage): void {
    if (a.busy) {
      const { status: now, ...rest } = msg;
      if (now !== undefined) showStatus(a, now);
      a.backlog.push(rest);
      return;
    }
    const failed = new Set<number>();
    const waits: Promise<void>[] = [];
    for (const [id, d] of msg.deliveries) {
      const sub = subs.get(id);
      if (sub === undefined || sub.closed || sub.hostId !== id) continue;
      const processed = deliver(a, sub, d);
      if (processed === false) failed.add(id);
      else if (processed !== true) waits.push(processed.then((ok) => void (ok || failed.add(id))));
    }
    if (msg.status !== undefined) showStatus(a, msg.status);
    if (waits.length === 0) return finishBatch(a, msg, failed);
    a.busy = true;
    void Promise.all(waits).then(() => {
      a.busy = false;
      finishBatch(a, msg, failed);
      while (!a.busy && a.backlog.length > 0 && active === a) onBatch(a, a.backlog.shift()!);
    });
  }

  function showStatus(a: Active, s: Status): void {
    // Replaced whole: optional fields (lastError, nextAttemptAt) must not outlive their state.
    status = { ...s, role: a.link.role, resyncing: status.resyncing };
    emit();
  }

  function finishBatch(a: Active, msg: BatchMessage, failed: ReadonlySet<number>): void {
    if (msg.overflow === true) {
      setStatus({ resyncing: true });
      a.link.control.resync(msg.seq).then(
        () => {
          if (active === a) setStatus({ resyncing: false });
        },
        (e: unknown) => console.error("onestream: resync failed", reviveError(e)),
      );
    }
    const ack: AckMessage = failed.size === 0 ? { t: "ack", seq: msg.seq } : { t: "ack", seq: msg.seq, failed: [...failed] };
    a.link.data.postMessage(ack);
  }

  function adopt(link: Link): void {
    if (closed || failure !== undefined) {
      link.dispose();
      return;
    }
    const previous = active;
    const a: Active = { link, ready: false, busy: false, backlog: [], pending: new Set() };
    active = a;
    if (previous !== undefined) {
      previous.link.dispose();
      const err = new LeaderChangedError("onestream: the tab's host changed (leader handover or worker restart) before answering");
      for (const reject of previous.pending) reject(err);
    }
    role = link.role;
    setStatus({ role, state: "connecting", resyncing: false });
    link.data.addEventListener("message", (ev: MessageEvent) => {
      const msg = ev.data as BatchMessage | null;
      if (active === a && msg !== null && typeof msg === "object" && msg.t === "batch") onBatch(a, msg);
    });
    link.data.start?.();
    const auth = options.getAuth;
    link
      .init(
        { protocol: PROTOCOL_VERSION, tabId, user, attempt: ++attempts, ...(baseUrl === undefined ? {} : { baseUrl }) },
        auth === undefined ? undefined : (why) => auth(why),
      )
      .then((res) => {
        if (active !== a) return;
        if (res.protocol !== PROTOCOL_VERSION) {
          throw new VersionMismatchError(
            `onestream: the worker speaks protocol v${res.protocol} but this tab v${PROTOCOL_VERSION}; reload the tab`,
          );
        }
        a.ready = true;
        // Everything is (re)sent: after a handover, from this tab's own cursors.
        const all = new Set(subs.values());
        subs.clear();
        for (const sub of all) if (!sub.closed) send(a, sub, sub.hostId !== undefined);
        for (const w of waiters) w.resolve(a);
        waiters = [];
        readyResolve();
      })
      .catch((e: unknown) => {
        if (active === a) fail(reviveError(e));
      });
  }

  function start(): void {
    if (locks === undefined) {
      // In Node (server-side rendering) say so: "this browser" would send people looking for a browser bug.
      const where = typeof window === "undefined" ? "outside a browser: create the client in the browser" : "in this browser";
      fail(new UnsupportedError(`onestream: Web Locks (navigator.locks) are not available ${where}`));
      return;
    }
    try {
      const { worker, dedicatedWorker, serve } = options;
      connector = env.connector ?? pickConnector({ worker, dedicatedWorker, serve, fallback, hasSharedWorker, name, tabId, locks, env });
    } catch (e) {
      fail(reviveError(e));
      return;
    }
    // The host watches this lock to learn that the tab is gone: hold it before telling our id.
    locks
      .request(tabLockName(tabId), () => {
        if (closed) return undefined;
        const held = new Promise<void>((resolve) => (releaseTabLock = resolve));
        connector!.start(adopt, fail);
        return held;
      })
      .catch((e: unknown) => fail(reviveError(e)));
    if (env.hints !== false) {
      stopHints = forwardHints((h) => {
        if (active?.ready === true) active.link.control.hint(h).catch(() => {});
      }, env.hints);
    }
  }

  function checkOpen(): void {
    if (closed) throw new ClosedError("client");
    if (failure !== undefined) throw failure;
  }

  const client: Client<Cursor> = {
    get status() {
      return status;
    },
    ready,
    onStatus(cb) {
      listeners.set(cb, status);
      guard("onStatus", () => cb(status));
      return () => void listeners.delete(cb);
    },

    subscribe(topics, onEvents, opts = {}) {
      checkOpen();
      const sub = createSub(topics, onEvents, opts);
      if (active?.ready === true) send(active, sub, false);
      else subs.set(-++nextHostId, sub); // parked under a placeholder id until a link is ready
      return {
        live: sub.live,
        unsubscribe() {
          if (sub.closed) return;
          sub.closed = true;
          for (const [id, s] of subs) if (s === sub) subs.delete(id);
          if (sub.hostId !== undefined && active?.ready === true) active.link.control.unsubscribe(sub.hostId).catch(() => {});
        },
      };
    },

    publish(topic, payload) {
      const refused = closed ? new ClosedError("client") : (failure ?? publishProblem(topic, payload));
      return refused !== undefined ? refusedPublish(refused) : startPublish(topic, payload, call);
    },

    async reset() {
      checkOpen();
      await call((c) => c.reset());
      // Every subscription of this user has ended in the worker; its notice may still be on the
      // data port (not ordered with this reply): end the rest here, each once.
      const a = active;
      if (a === undefined) return;
      for (const sub of new Set(subs.values())) if (!sub.closed) deliver(a, sub, { kind: "ended", reason: "reset" });
    },

    async close() {
      if (closed) return;
      const a = active;
      closed = true;
      stopHints();
      for (const sub of subs.values()) sub.closed = true;
      subs.clear();
      const err = new ClosedError("client");
      for (const w of waiters) w.reject(err);
      waiters = [];
      readyReject(err);
      active = undefined;
      try {
        if (a !== undefined) {
          // Not awaited: a leader that is already gone never answers. The message leaves before
          // the channel is dropped, and the host also learns it from our tab lock.
          if (a.ready) a.link.control.close().catch(() => {});
          for (const reject of a.pending) reject(err);
          a.link.dispose();
        }
        connector?.close();
      } finally {
        // Whatever went wrong above, the host must learn that this tab is gone.
        releaseTabLock();
        setStatus({ state: "closed" });
      }
    },
  };

  start();
  return client;
}
