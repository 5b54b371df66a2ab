// The engine: one upstream stream shared by every subscriber, resumed from per-topic cursors,
// watched for silence, reconnected without storms. This file wires the parts and holds the
// lifecycle (load, subscribe, hints, close, logout); the parts are
//   main-stream.ts  the call that carries every topic, and why it ends and when the next starts
//   subscribers.ts  who is delivered to, and where each one starts
//   catchup.ts      history calls for subscribers whose cursor is older than the stream
//   delivery.ts     the dispatcher and the fan-out to subscribers (with acknowledgements)
//   ledger.ts       which cursor may be stored: what a subscriber acknowledged
//   saver.ts        the group commit that stores it, off the delivery path
//   outbox.ts       durable publishes
//   sleep-watch.ts  sleep/wake detection
// and the timing policy is backoff.ts and watchdog.ts. The wire is an Upstream (types.ts): the
// engine parses no protocol of its own.
import { withDeadline } from "./deadline";
import { type Auth } from "./call";
import { Catchups } from "./catchup";
import { type EngineConfig, resolveConfig } from "./config";
import type { EngineContext } from "./context";
import { Positions } from "./cursors";
import { Dispatcher, Fanout, type Op } from "./delivery";
import { ClosedError, FailedError } from "./errors";
import { Ledger } from "./ledger";
import { MainStream } from "./main-stream";
import { Outbox } from "./outbox";
import { CursorSaver } from "./saver";
import { watchSleep } from "./sleep-watch";
import { StatusCell } from "./status";
import { Subscribers } from "./subscribers";
import { TopicSet } from "./topics";
import type {
  Cursor,
  CursorRecord,
  Engine,
  EngineDeps,
  ErrorInfo,
  NetworkHint,
  OutboxRecord,
  State,
  Status,
} from "./types";
import { isNetworkHint } from "../../contract/validate";

export function createEngine(deps: EngineDeps, configIn?: Partial<EngineConfig>): Engine {
  const { upstream, storage, clock, random, user } = deps;
  const warn = (m: string): void => deps.warn?.(m);
  const config = resolveConfig(configIn, warn);
  if (upstream.maxTopics !== undefined) config.maxStreamTopics = Math.min(config.maxStreamTopics, Math.max(1, upstream.maxTopics));
  const ordered = upstream.cursors === "ordered";
  /** The app's auth headers; one that never answers is a retryable DeadlineExceeded, not a hang. */
  const headersFor = async (why: Auth): Promise<Record<string, string>> =>
    deps.getHeaders === undefined ? {} : ((await withDeadline(deps.getHeaders(why), config.preHelloIdleMs, clock, "getHeaders")) ?? {});
  /**
   * Pending sleep()s, each as the function that ends it at once (timer cancelled, promise
   * resolved): close() and reset() end them, so nothing of ours outlives the engine and no
   * awaiter (the saver's retry) is left hanging. Sleepers re-check why they woke.
   */
  const sleeps = new Set<() => void>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      let cancelTimer: (() => void) | undefined;
      const end = (): void => {
        cancelTimer?.();
        sleeps.delete(end);
        resolve();
      };
      cancelTimer = clock.setTimeout(end, ms);
      sleeps.add(end);
    });
  const endSleeps = (): void => {
    for (const end of [...sleeps]) end();
  };

  // ---- state ----
  let closed = false;
  let failure: ErrorInfo | undefined;
  let ready = false;
  let offline = false;
  let stopSleepWatch: (() => void) | undefined;
  let onlineWaiters: (() => void)[] = [];
  /** Bumped by reset(): a load that was in flight then must not bring wiped state back. */
  let generation = 0;
  /** reset()s in progress: no stream opens until the wipe is done. */
  let resetting = 0;
  const running = new Set<Promise<void>>();
  const warnedOnce = new Set<string>();

  const topicSet = new TopicSet();
  const positions = new Positions();
  const delivered = new Map<string, Cursor>();
  const cell = new StatusCell(
    { state: "connecting", connection: 0, serverEpoch: "", liveTopics: [], topics: [] },
    (e) => warn(`onestream: a status watcher threw: ${String(e)}`),
  );
  const saver: CursorSaver = new CursorSaver({
    take: () => ledger.take(),
    save: (records, forget) => storage.saveCursors(user, records, forget),
    sleep,
    warn,
    retryMs: config.storageRetryMs,
  });
  const ledger = new Ledger(config.maxQueuedEvents, () => saver.kick());
  const fanout = new Fanout({ warn, settle: (p) => ledger.ack(p), bufferLimit: config.catchupBufferEvents, overflow: (sub) => subscribers.cutOverflowed(sub) });
  const dispatcher = new Dispatcher((ops) => {
    fanout.dispatch(ops);
    trackDelivered(ops);
  });
  const ctx: EngineContext = {
    config,
    clock,
    random,
    upstream,
    warn,
    warnOnce(key, message) {
      if (warnedOnce.has(key)) return;
      warnedOnce.add(key);
      warn(message);
    },
    headersFor,
    positions,
    delivered,
    topicSet,
    ledger,
    fanout,
    dispatcher,
    canOpen: () => !closed && failure === undefined && !offline && ready && resetting === 0,
    stopped: () => closed || failure !== undefined,
    refresh,
    fail,
    track(run) {
      running.add(run);
      void run.finally(() => running.delete(run));
    },
  };
  const main = new MainStream(ctx, {
    promoted: () => catchups.start(),
    refused: dropRefused,
    caughtUp: () => catchups.mainCaughtUp(),
  });
  const catchups = new Catchups(ctx, { current: () => main.current, serverEpoch: () => main.serverEpoch });
  const subscribers = new Subscribers(ctx, catchups, { topicsChanged, ready: () => ready });
  const outbox = new Outbox({
    upstream,
    storage,
    clock,
    random,
    user,
    config,
    warn,
    headers: headersFor,
    online: () => (offline && !closed ? new Promise<void>((resolve) => onlineWaiters.push(resolve)) : Promise.resolve()),
  });

  // ---- start: load what the last engine left, then connect ----
  const loaded = (async () => {
    const gen = generation;
    let state: [CursorRecord[], OutboxRecord[]];
    try {
      state = await Promise.all([storage.loadCursors(user), storage.loadOutbox(user)]);
    } catch (e) {
      return fail({ code: "storage", message: `loading persisted state failed: ${String(e)}` });
    }
    if (closed) return;
    const wiped = gen !== generation; // reset() ran meanwhile: what we read is gone
    if (!wiped) positions.load(state[0].filter((r) => (ordered ? typeof r.cursor === "bigint" : typeof r.cursor === "string")));
    ready = true;
    if (!wiped) outbox.load(state[1]);
    subscribers.placePending();
    stopSleepWatch = watchSleep(clock, config, suspect);
    main.ensure();
    refresh();
  })();

  // ---- status ----
  function computeState(): State {
    if (closed) return "closed";
    if (failure !== undefined) return "failed";
    if (offline) return "offline";
    const current = main.current;
    if (current !== undefined) return current.allCaughtUp ? "live" : "catching-up";
    if (main.retrying) return "backoff";
    if (main.next === undefined && ready && resetting === 0 && topicSet.size === 0 && main.connection > 0) return "live";
    return "connecting";
  }

  function refresh(): void {
    const state = computeState();
    const current = main.current;
    const status: Status = {
      state,
      connection: main.connection,
      serverEpoch: main.serverEpoch,
      liveTopics: current === undefined ? [] : current.topics.filter((t) => current.caughtUp.has(t)),
      topics: current === undefined ? [] : [...current.topics],
    };
    const err = failure ?? main.lastError;
    if (err !== undefined) status.lastError = err;
    if (state === "backoff" && main.nextAttemptAt !== undefined) status.nextAttemptAt = main.nextAttemptAt;
    cell.set(status);
  }

  function fail(info: ErrorInfo): void {
    if (closed || failure !== undefined) return;
    failure = { ...info, at: clock.now() };
    warn(`onestream: engine failed: ${info.code}: ${info.message}`);
    stopEverything();
    outbox.stop(new FailedError(info));
    refresh();
  }

  /** Every stream and the timers that would open one: what close(), fail() and reset() share. */
  function stopStreams(): void {
    debounceCancel?.();
    debounceCancel = undefined;
    main.stop();
    catchups.stopAll();
  }

  function stopEverything(): void {
    stopStreams();
    stopSleepWatch?.();
    stopSleepWatch = undefined;
    endSleeps();
    wakeOnline();
  }

  // ---- topic changes ----
  let debounceCancel: (() => void) | undefined;
  function topicsChanged(): void {
    debounceCancel?.();
    debounceCancel = clock.setTimeout(() => {
      debounceCancel = undefined;
      main.ensure();
    }, config.topicDebounceMs);
  }

  /** The server refused `topics`: they leave the topic set; their subscribers get "denied". */
  function dropRefused(topics: string[], info: ErrorInfo): void {
    for (const [sub, lost] of fanout.deny(new Set(topics), info)) {
      topicSet.remove(lost);
      catchups.drop(sub, lost);
    }
    main.ensure();
    catchups.start();
    refresh();
  }

  /** After a flush: where delivery is, per topic (what "now" and a catch-up's start mean). */
  function trackDelivered(ops: readonly Op[]): void {
    for (const op of ops) {
      if (op.kind === "events") for (const [topic, p] of op.points) delivered.set(topic, p.cursor!);
      else if (op.kind === "reset") {
        if (op.resumeAfter === undefined) delivered.delete(op.topic);
        else delivered.set(op.topic, op.resumeAfter);
      }
    }
  }

  // ---- network hints and sleep/wake ----
  function hint(h: NetworkHint): void {
    if (closed) throw new ClosedError();
    if (!isNetworkHint(h)) throw new TypeError(`hint: unknown hint "${String(h)}"`);
    if (failure !== undefined) return;
    if (h === "offline") {
      if (offline) return;
      offline = true;
      main.stop();
      catchups.stopAll();
      outbox.hint(true);
      return refresh();
    }
    if (offline) {
      // Only the network coming back ends offline; a tab becoming visible says nothing about it.
      if (h !== "online") return;
      offline = false;
      wakeOnline();
      outbox.hint(false);
    } else {
      outbox.hint(false); // a publish waiting out its backoff goes now
      if (!main.retrying) return; // already connecting or connected: nothing to hurry
    }
    main.hurry();
    catchups.start();
    refresh();
  }

  function wakeOnline(): void {
    const waiters = onlineWaiters;
    onlineWaiters = [];
    for (const w of waiters) w();
  }

  function suspect(): void {
    if (closed || failure !== undefined || offline) return;
    warn("onestream: wall clock jumped (sleep/wake?); reopening the stream");
    main.suspect();
    refresh();
  }

  // ---- teardown ----
  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    if (closing !== undefined) throw new ClosedError();
    closed = true;
    closing = (async () => {
      stopEverything();
      dispatcher.stop();
      saver.stop(); // what subscribers acknowledged so far is still stored
      outbox.stop(new ClosedError());
      await Promise.allSettled([...running]);
      await saver.idle();
      refresh();
      cell.flush();
    })();
    return closing;
  }

  /**
   * Logout. Every stream stops first (no frame moves a position again), queued deliveries and
   * cursor saves are dropped (a late acknowledgement no longer counts) and awaited, then memory
   * and disk are wiped; a load still in flight will not bring the old state back. Then the stream
   * reopens for the subscribers still here, with no positions: live from now.
   */
  async function reset(): Promise<void> {
    if (closed) throw new ClosedError();
    generation++;
    resetting++;
    try {
      stopStreams();
      subscribers.endAll();
      dispatcher.discard();
      ledger.clear();
      saver.discard();
      endSleeps(); // a save waiting to retry gives up now
      outbox.wipe(new Error("publish discarded by reset() (logout)"));
      refresh();
      await saver.idle();
      positions.clear();
      delivered.clear();
      main.leave([]);
      await storage.wipe(user);
    } finally {
      resetting--;
      if (resetting === 0 && !closed) {
        main.hurry();
        catchups.start();
        refresh();
      }
    }
  }

  /**
   * Runs an outbox call once the outbox loaded. One made before that goes out after what the
   * last engine left, in call order (and a key already on disk is found there).
   */
  function afterLoad<T>(fn: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new ClosedError());
    if (failure !== undefined) return Promise.reject(new FailedError(failure));
    return ready ? fn() : loaded.then(fn);
  }

  return {
    subscribe(topics, sink, opts) {
      if (closed) throw new ClosedError();
      return subscribers.add(topics, sink, opts?.since ?? "stored");
    },
    publish: (topic, payload, opts) => afterLoad(() => outbox.publish(topic, payload, opts?.key)),
    durable: (key) => afterLoad(() => outbox.durable(key)),
    hint,
    status() {
      if (closed) throw new ClosedError();
      return cell.get();
    },
    watchStatus(cb) {
      if (closed) throw new ClosedError();
      return cell.watch(cb);
    },
    close,
    reset,
  };
}
