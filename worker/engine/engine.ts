// The stream engine's state machine, in one place: which streams are open, why they end, when
// the next one starts, and what each subscriber is owed.
//
// There is at most one `current` stream (Hello received: its frames are delivered) and at most
// one `next` stream (opening). A reconnect is a `next` with no `current`; a topic change or a
// suspect stream (sleep/wake) is a `next` beside a healthy `current`, which is aborted only
// once `next` said Hello (make-before-break; overlap is dropped by cursor). History-only
// catch-up streams for subscribers with an old cursor run beside them, one per subscriber and
// at most maxCatchupStreams at once (the others queue). A topic the server refuses when it is
// added beside a healthy stream is dropped and its subscribers told ("denied"); the stream stays.
// Timing lives in backoff.ts and watchdog.ts, persistence in delivery.ts, the outbox in outbox.ts.
import { create } from "@bufbuild/protobuf";
import {
  ResetReason as WireResetReason,
  SubscribeRequestSchema,
  TopicRequestSchema,
  type Event as WireEvent,
  type SubscribeRequest,
  type SubscribeResponse,
} from "../../proto/gen/onestream/v1/stream_pb";
import { Backoff, throttleRemaining } from "./backoff";
import { type EngineConfig, idleTimeoutMs, resolveConfig } from "./config";
import { withDeadline } from "./deadline";
import { Positions } from "./cursors";
import { Fanout, GroupCommit, Subscriber } from "./delivery";
import { ClosedError, classify, type Classified, FailedError, ProtocolError, StaleError } from "./errors";
import { Outbox } from "./outbox";
import { StatusCell } from "./status";
import { sameTopics, TopicSet } from "./topics";
import type {
  CursorRecord,
  Delivery,
  Engine,
  EngineDeps,
  ErrorInfo,
  NetworkHint,
  OutboxRecord,
  ResetReason,
  Since,
  State,
  Status,
  StreamEvent,
  Subscription,
} from "./types";
import { subscribeProblem, isNetworkHint } from "../../contract/validate";
import { STALE, watchdog } from "./watchdog";

type Auth = "connect" | "refresh";

/** One Subscribe call. */
interface Conn {
  readonly ctrl: AbortController;
  /** We ended it on purpose (superseded, offline, close): its end is not an error. */
  cancelled: boolean;
  readonly topics: string[];
  readonly topicSet: Set<string>;
  readonly startedAt: number;
  readonly auth: Auth;
  openedAt?: number;
  /** From Hello; sets the idle timeout. */
  heartbeatMs?: number;
  epoch: string;
  readonly caughtUp: Set<string>;
  /** Topics requested under another epoch than Hello's: a reset is owed before their events. */
  readonly expectReset: Set<string>;
  /** Topics requested past any head to learn their position (see mainRequest). */
  readonly probes: Set<string>;
  /** Sleep/wake made us doubt it: replace it (make-before-break). */
  suspect: boolean;
  /** Set for a subscriber's history-only catch-up stream. */
  readonly catchup?: Catchup;
}

/** A subscriber whose cursor is older than the stream: its history comes on its own stream. */
interface Catchup {
  readonly sub: Subscriber;
  /** Per topic: the subscriber's position, advanced by the history it received. */
  readonly cursors: Map<string, bigint>;
  readonly backoff: Backoff;
  conn?: Conn;
  retryCancel?: () => void;
  auth: Auth;
}

type Outcome = { kind: "ok" } | { kind: "cancelled" } | { kind: "error"; error: unknown };

/** Largest uint64: a cursor no topic can have reached. */
const PAST_ANY_HEAD = 0xffff_ffff_ffff_ffffn;

/** Codes that, on a stream that only added topics, mean "not these topics", not "not you". */
const TOPIC_REFUSALS: ReadonlySet<string> = new Set(["permission_denied", "not_found", "invalid_argument"]);

const WIRE_RESET: Record<number, ResetReason> = {
  [WireResetReason.RETENTION]: "retention",
  [WireResetReason.EPOCH]: "epoch",
  [WireResetReason.AHEAD]: "ahead",
};

export function createEngine(deps: EngineDeps, configIn?: Partial<EngineConfig>): Engine {
  const { transport, storage, clock, random, user } = deps;
  const warn = (m: string): void => deps.warn?.(m);
  const config = resolveConfig(configIn, warn);
  /** The app's auth headers; one that never answers is a retryable DeadlineExceeded, not a hang. */
  const headersFor = async (why: Auth): Promise<Record<string, string>> =>
    deps.getHeaders === undefined ? {} : ((await withDeadline(deps.getHeaders(why), config.preHelloIdleMs, clock, "getHeaders")) ?? {});
  /**
   * Pending sleep()s, each as the function that ends it at once (timer cancelled, promise
   * resolved): close() and reset() end them, so nothing of ours outlives the engine and no
   * awaiter (the group commit's save retry) is left hanging. Sleepers re-check why they woke.
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
  let current: Conn | undefined;
  let next: Conn | undefined;
  let connection = 0;
  let serverEpoch = "";
  let lastError: ErrorInfo | undefined;
  let authMode: Auth = "connect";
  let retryCancel: (() => void) | undefined;
  let nextAttemptAt: number | undefined;
  let debounceCancel: (() => void) | undefined;
  let sleepCheckCancel: (() => void) | undefined;
  let onlineWaiters: (() => void)[] = [];
  let subIds = 0;
  /** Bumped by reset(): a load that was in flight then must not bring wiped state back. */
  let generation = 0;
  /** reset()s in progress: no stream opens until the wipe is done. */
  let resetting = 0;
  /** Topics of the last stream that said Hello: what the fan-out's everLive is about. */
  let streamTopics: readonly string[] = [];
  /** Cleared if a server ignores the AHEAD probe (see mainRequest): then plain "live" requests. */
  let probeWorks = true;
  const running = new Set<Promise<void>>();
  const pendingActivation: [Subscriber, Since][] = [];
  const catchups = new Map<Subscriber, Catchup>();

  const topicSet = new TopicSet();
  const positions = new Positions();
  /** Per topic, the last cursor handed to subscribers (positions run ahead of it by what is queued). */
  const delivered = new Map<string, bigint>();
  const backoff = new Backoff(config, random);
  const cell = new StatusCell(
    { state: "connecting", connection: 0, serverEpoch: "", liveTopics: [], topics: [] },
    (e) => warn(`onestream: a status watcher threw: ${String(e)}`),
  );
  const fanout = new Fanout({ warn, bufferLimit: config.catchupBufferEvents, overflow: cutOverflowed });
  const commit = new GroupCommit({
    takeDirty: () => positions.takeDirty(),
    save: (records) => storage.saveCursors(user, records),
    dispatch: (ops, saved) => {
      fanout.dispatch(ops);
      for (const r of saved) delivered.set(r.topic, r.cursor);
    },
    sleep,
    warn,
    retryMs: config.storageRetryMs,
    maxQueuedEvents: config.maxQueuedEvents,
  });
  const outbox = new Outbox({
    transport,
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
    if (!wiped) positions.load(state[0]);
    ready = true;
    if (!wiped) outbox.load(state[1]);
    for (const [sub, since] of pendingActivation.splice(0)) if (sub.active) activate(sub, since);
    scheduleSleepCheck(clock.now(), clock.monotonic());
    ensure();
    refresh();
  })();

  // ---- status ----
  function computeState(): State {
    if (closed) return "closed";
    if (failure !== undefined) return "failed";
    if (offline) return "offline";
    if (current !== undefined) return current.topics.every((t) => current!.caughtUp.has(t)) ? "live" : "catching-up";
    if (retryCancel !== undefined) return "backoff";
    if (next === undefined && ready && resetting === 0 && topicSet.size === 0 && connection > 0) return "live";
    return "connecting";
  }

  function refresh(): void {
    const state = computeState();
    const status: Status = {
      state,
      connection,
      serverEpoch,
      liveTopics: current === undefined ? [] : current.topics.filter((t) => current!.caughtUp.has(t)),
      topics: current?.topics ?? [],
    };
    const err = failure ?? lastError;
    if (err !== undefined) status.lastError = err;
    if (state === "backoff" && nextAttemptAt !== undefined) status.nextAttemptAt = nextAttemptAt;
    cell.set(status);
  }

  // ---- the main stream ----
  /** Brings the streams in line with the topic set; the one place a main stream starts. */
  function ensure(): void {
    if (closed || failure !== undefined || offline || !ready || resetting > 0 || retryCancel !== undefined) return;
    const desired = topicSet.list();
    if (desired.length === 0) {
      cancel(next);
      cancel(current);
      next = current = undefined;
      leaveStream([]);
      refresh();
      return;
    }
    if (next !== undefined) {
      if (sameTopics(next.topics, desired)) return;
      cancel(next);
      next = undefined;
    }
    if (current !== undefined && !current.suspect && sameTopics(current.topics, desired)) return;
    next = open(desired, authMode);
    refresh();
  }

  function open(topics: string[], auth: Auth, catchup?: Catchup): Conn {
    const conn: Conn = {
      ctrl: new AbortController(),
      cancelled: false,
      topics,
      topicSet: new Set(topics),
      startedAt: clock.monotonic(),
      auth,
      epoch: "",
      caughtUp: new Set(),
      expectReset: new Set(),
      probes: new Set(),
      suspect: false,
      ...(catchup === undefined ? {} : { catchup }),
    };
    const req = catchup === undefined ? mainRequest(conn) : historyRequest(catchup);
    const run = runConn(conn, req).then((outcome) => ended(conn, outcome));
    running.add(run);
    void run.finally(() => running.delete(run));
    return conn;
  }

  /**
   * Every topic resumes from its position. A topic without one ("live from now") is requested
   * past any possible head instead: the server answers with an AHEAD reset naming its head,
   * which we keep silently as the topic's position. Without that anchor, events published
   * while we reconnect, before the topic's first event, would be lost.
   */
  function mainRequest(conn: Conn): SubscribeRequest {
    return create(SubscribeRequestSchema, {
      topics: conn.topics.map((topic) => {
        const p = positions.get(topic);
        if (p !== undefined) return create(TopicRequestSchema, { topic, after: p.cursor, epoch: p.epoch });
        if (!probeWorks) return create(TopicRequestSchema, { topic });
        conn.probes.add(topic);
        return create(TopicRequestSchema, { topic, after: PAST_ANY_HEAD, epoch: "" });
      }),
    });
  }

  function historyRequest(c: Catchup): SubscribeRequest {
    return create(SubscribeRequestSchema, {
      historyOnly: true,
      topics: [...c.cursors].map(([topic, after]) =>
        create(TopicRequestSchema, { topic, after, epoch: positions.get(topic)?.epoch ?? serverEpoch }),
      ),
    });
  }

  /** The stream now carries `topics`: the ones it dropped are no longer live for a newcomer. */
  function leaveStream(topics: readonly string[]): void {
    const gone = streamTopics.filter((t) => !topics.includes(t));
    streamTopics = topics;
    if (gone.length > 0) commit.push({ kind: "left", topics: gone });
  }

  function cancel(conn: Conn | undefined): void {
    if (conn === undefined || conn.cancelled) return;
    conn.cancelled = true;
    conn.ctrl.abort();
  }

  async function runConn(conn: Conn, req: SubscribeRequest): Promise<Outcome> {
    try {
      const headers = await headersFor(conn.auth);
      if (conn.cancelled) return { kind: "cancelled" };
      const frames = watchdog(transport.subscribe(req, { signal: conn.ctrl.signal, headers }), {
        clock,
        idleMs: idleTimeoutMs(config, undefined),
        idleMsAfter: (f) => (f.frame.case === "hello" ? idleTimeoutMs(config, f.frame.value.heartbeatMs) : undefined),
        onStale: () => conn.ctrl.abort(),
        signal: conn.ctrl.signal,
      });
      for await (const item of frames) {
        if (conn.cancelled) break;
        if (item === STALE) throw new StaleError(idleTimeoutMs(config, conn.heartbeatMs));
        if (conn.catchup === undefined) onMainFrame(conn, item);
        else onHistoryFrame(conn, conn.catchup, item);
        if (commit.full) await commit.room();
      }
      if (conn.cancelled) return { kind: "cancelled" };
      if (conn.openedAt === undefined) throw new ProtocolError("stream ended before Hello");
      return { kind: "ok" };
    } catch (error) {
      return conn.cancelled ? { kind: "cancelled" } : { kind: "error", error };
    } finally {
      conn.ctrl.abort(); // frees the fetch whatever happened (a no-op after a clean end)
    }
  }

  function hello(conn: Conn, f: SubscribeResponse & { frame: { case: "hello" } }): void {
    if (conn.openedAt !== undefined) throw new ProtocolError("second Hello on one stream");
    const h = f.frame.value;
    conn.openedAt = clock.monotonic();
    conn.epoch = h.epoch;
    conn.heartbeatMs = h.heartbeatMs;
  }

  function onMainFrame(conn: Conn, f: SubscribeResponse): void {
    const { frame } = f;
    if (frame.case === "hello") {
      hello(conn, f as SubscribeResponse & { frame: { case: "hello" } });
      for (const t of conn.topics) {
        const p = positions.get(t);
        if (p !== undefined && p.epoch !== "" && p.epoch !== conn.epoch) conn.expectReset.add(t);
      }
      promote(conn);
      return;
    }
    if (conn.openedAt === undefined) throw new ProtocolError(`"${frame.case ?? "unknown"}" frame before Hello`);
    switch (frame.case) {
      case "events":
        ingest(conn, frame.value.events);
        return;
      case "heartbeat":
        return;
      case "caughtUp": {
        const topics = frame.value.topics.filter((t) => conn.topicSet.has(t));
        if (topics.some((t) => conn.probes.has(t))) {
          // The server did not answer the probe with a reset: it would never send these topics.
          warn("onestream: server ignored a cursor past the head (no AHEAD reset); using plain live requests");
          probeWorks = false;
          throw new ProtocolError("no AHEAD reset for a topic requested past its head");
        }
        if (topics.length < frame.value.topics.length) warn("onestream: CaughtUp names a topic this stream did not ask for; ignored");
        for (const t of topics) conn.caughtUp.add(t);
        if (topics.length > 0) commit.push({ kind: "caught-up", topics });
        refresh();
        return;
      }
      case "reset": {
        const { topic, reason, resumeAfter } = frame.value;
        if (!conn.topicSet.has(topic)) return warn(`onestream: TopicReset for "${topic}", not in this stream; ignored`);
        const p = positions.get(topic);
        if (reason === WireResetReason.RETENTION && p !== undefined && p.epoch === conn.epoch && resumeAfter <= p.cursor) {
          // A replacement asked from an older position while the current stream moved on: the
          // trimmed events are ones we already have. Moving back would repeat them.
          conn.expectReset.delete(topic);
          return;
        }
        conn.expectReset.delete(topic);
        positions.reset(topic, resumeAfter, conn.epoch, conn);
        if (conn.probes.delete(topic)) return; // the answer to our probe: now we know where "now" is
        commit.push({ kind: "reset", topic, reason: WIRE_RESET[reason] ?? "retention", resumeAfter });
        return;
      }
      default:
        warn("onestream: unknown frame from the server; ignored (newer server?)");
    }
  }

  /**
   * The hot path: dedupe by cursor, advance positions, queue for persist-then-deliver. What a
   * lying server sends is dropped and counted, one warning per frame (not one per event).
   */
  function ingest(conn: Conn, events: WireEvent[]): void {
    const out: StreamEvent[] = [];
    let foreign = 0;
    let backwards = 0;
    let zero = 0;
    for (const ev of events) {
      const { topic, cursor } = ev;
      if (!conn.topicSet.has(topic)) {
        foreign++;
        continue;
      }
      if (cursor < 1n) {
        zero++;
        continue;
      }
      if (conn.expectReset.size > 0 && conn.expectReset.delete(topic)) {
        // New server epoch but no TopicReset: say so instead of silently dropping or mixing.
        warn(`onestream: server epoch changed without a TopicReset for "${topic}"; resetting it`);
        if (out.length > 0) commit.push({ kind: "events", events: out.splice(0) }, 0);
        positions.reset(topic, cursor - 1n, conn.epoch, conn);
        commit.push({ kind: "reset", topic, reason: "epoch", resumeAfter: cursor - 1n });
      }
      const p = positions.get(topic);
      if (p !== undefined && cursor <= p.cursor) {
        if (p.by === conn) backwards++; // from another stream it is the make-before-break overlap
        continue;
      }
      positions.advance(topic, cursor, conn.epoch, conn);
      out.push({ topic, cursor, payload: ev.payload, publishedAt: Number(ev.publishedAtMs) });
    }
    if (out.length > 0) commit.push({ kind: "events", events: out }, out.length);
    if (foreign > 0) warn(`onestream: ${foreign} event(s) for topics this stream did not ask for; dropped`);
    if (backwards > 0) warn(`onestream: ${backwards} event(s) whose cursor does not increase on one stream; dropped`);
    if (zero > 0) warn(`onestream: ${zero} event(s) with cursor 0; dropped`);
  }

  /** `conn` said Hello: it becomes the stream, the one it replaces is aborted (make-before-break). */
  function promote(conn: Conn): void {
    if (conn !== next) return cancel(conn);
    const old = current;
    current = conn;
    next = undefined;
    cancel(old);
    // A topic the old stream had caught up was never interrupted (same epoch, not suspect):
    // it stays live while the new stream replays the overlap.
    if (old !== undefined && !old.suspect && old.epoch === conn.epoch) {
      for (const t of old.caughtUp) if (conn.topicSet.has(t) && !conn.expectReset.has(t)) conn.caughtUp.add(t);
    }
    leaveStream(conn.topics);
    connection++;
    serverEpoch = conn.epoch;
    authMode = "connect";
    startCatchups();
    refresh();
  }

  function ended(conn: Conn, outcome: Outcome): void {
    if (conn.catchup !== undefined) {
      catchupEnded(conn.catchup, conn, outcome);
      return startCatchups(); // its slot is free
    }
    if (current === conn) current = undefined;
    else if (next === conn) next = undefined;
    else return; // superseded, cancelled: nothing to do
    if (outcome.kind === "error" && current !== undefined && !closed && failure === undefined && refusedTopics(conn, outcome.error)) {
      return;
    }
    if (closed || failure !== undefined || outcome.kind === "cancelled") return refresh();
    const now = clock.monotonic();
    const healthyMs = conn.openedAt === undefined ? 0 : now - conn.openedAt;
    if (outcome.kind === "ok") {
      // A clean end (deploy, max stream age): come back after a little jitter, never in a tight loop.
      if (next !== undefined) return refresh();
      return retryIn(Math.max(random() * config.cleanEndJitterMs, throttleRemaining(config.backoffFloorMs, conn.startedAt, now)));
    }
    const c = classify(outcome.error);
    lastError = c.info;
    const verdict = verdictFor(c, conn.auth);
    if (verdict === "terminal") return fail(c.info);
    if (verdict === "refresh") authMode = "refresh";
    if (next !== undefined) return refresh(); // a replacement is already opening: it is the retry
    if (verdict === "refresh") return retryIn(0);
    retryIn(backoff.next(conn.startedAt, now, { slow: c.verdict === "retry-slow", healthyMs }));
  }

  /**
   * A replacement that added topics beside a healthy `current` was refused for good: the server
   * refuses those topics, not the user. They leave the topic set, their subscribers get
   * "denied", and the engine carries on with the rest. True when handled so.
   */
  function refusedTopics(conn: Conn, error: unknown): boolean {
    const c = classify(error);
    if (c.verdict !== "terminal" || !TOPIC_REFUSALS.has(c.info.code)) return false;
    const added = conn.topics.filter((t) => !current!.topicSet.has(t) && topicSet.has(t));
    if (added.length === 0) return false;
    warn(`onestream: the server refused topic(s) ${added.join(", ")}: ${c.info.code}: ${c.info.message}; dropped`);
    for (const [sub, lost] of fanout.deny(new Set(added), c.info)) {
      topicSet.remove(lost);
      const cu = catchups.get(sub);
      if (cu === undefined) continue;
      for (const t of lost) cu.cursors.delete(t);
      if (!sub.active || cu.cursors.size === 0) stopCatchup(cu);
      if (sub.active && cu.cursors.size === 0) handOver(cu);
    }
    ensure();
    startCatchups();
    refresh();
    return true;
  }

  function verdictFor(c: Classified, auth: Auth): "terminal" | "refresh" | "retry" {
    if (c.verdict === "terminal") return "terminal";
    if (c.verdict === "refresh-auth") return auth === "refresh" ? "terminal" : "refresh";
    return "retry";
  }

  function retryIn(ms: number): void {
    retryCancel?.();
    nextAttemptAt = clock.now() + ms;
    retryCancel = clock.setTimeout(() => {
      retryCancel = undefined;
      nextAttemptAt = undefined;
      ensure();
      refresh();
    }, ms);
    refresh();
  }

  function cancelRetry(): void {
    retryCancel?.();
    retryCancel = undefined;
    nextAttemptAt = undefined;
  }

  function fail(info: ErrorInfo): void {
    if (closed || failure !== undefined) return;
    failure = info;
    warn(`onestream: engine failed: ${info.code}: ${info.message}`);
    stopEverything();
    outbox.stop(new FailedError(info));
    refresh();
  }

  /** Every stream and the timers that would open one: what close(), fail() and reset() share. */
  function stopStreams(): void {
    cancelRetry();
    debounceCancel?.();
    debounceCancel = undefined;
    cancel(current);
    cancel(next);
    current = next = undefined;
    for (const c of catchups.values()) stopCatchup(c);
  }

  function stopEverything(): void {
    stopStreams();
    sleepCheckCancel?.();
    sleepCheckCancel = undefined;
    endSleeps();
    wakeOnline();
  }

  // ---- topic changes ----
  function topicsChanged(): void {
    debounceCancel?.();
    debounceCancel = clock.setTimeout(() => {
      debounceCancel = undefined;
      ensure();
    }, config.topicDebounceMs);
  }

  // ---- subscribers ----
  function subscribe(topics: string[], sink: (d: Delivery) => void, opts?: { since?: Since }): Subscription {
    if (closed) throw new ClosedError();
    const since = opts?.since ?? "stored";
    const problem = subscribeProblem(topics, since);
    if (problem !== undefined) throw new TypeError(`subscribe: ${problem}`);
    if (typeof sink !== "function") throw new TypeError("subscribe: sink must be a function");
    const unique = [...new Set(topics)];
    const added = topicSet.countNew(unique);
    if (topicSet.size + added > config.maxStreamTopics) {
      throw new RangeError(`subscribe: the stream would carry ${topicSet.size + added} topics, over the limit of ${config.maxStreamTopics}`);
    }
    const sub = new Subscriber(++subIds, unique, sink);
    fanout.add(sub);
    if (topicSet.add(sub.topics)) topicsChanged();
    if (ready) activate(sub, since);
    else pendingActivation.push([sub, since]);
    let done = false;
    return {
      unsubscribe() {
        if (done) return;
        done = true;
        unsubscribe(sub);
      },
    };
  }

  function activate(sub: Subscriber, since: Since): void {
    const history = new Map<string, bigint>();
    for (const t of sub.topics) {
      const p = positions.get(t)?.cursor;
      if (since === "now") {
        // Live already: from what was handed over, not from what was accepted, so the events
        // still queued behind a save reach it too (a resync with "now" must not lose them).
        const d = delivered.get(t);
        if (!fanout.everLive.has(t)) (sub.skipUntilLive ??= new Set()).add(t);
        else if (d !== undefined) (sub.floor ??= new Map()).set(t, d);
      } else if (since !== "stored") {
        const c = since[t];
        if (c === undefined) continue; // no cursor for this topic: "stored"
        if (p !== undefined && c >= p) (sub.floor ??= new Map()).set(t, c);
        else history.set(t, c);
      }
    }
    if (history.size > 0) {
      sub.buffer = [];
      catchups.set(sub, { sub, cursors: history, backoff: new Backoff(config, random), auth: "connect" });
      startCatchups();
    }
    commit.push({ kind: "joined", sub });
  }

  function unsubscribe(sub: Subscriber): void {
    if (!sub.active) return;
    fanout.remove(sub);
    const c = catchups.get(sub);
    if (c !== undefined) stopCatchup(c);
    if (closed) return;
    if (topicSet.remove(sub.topics).length > 0) topicsChanged();
  }

  function cutOverflowed(sub: Subscriber): void {
    warn(`onestream: subscriber ${sub.id} fell more than ${config.catchupBufferEvents} events behind during catch-up; cut`);
    const topics = [...sub.topics];
    fanout.sendDirect(sub, { kind: "overflow", topics });
    unsubscribe(sub);
  }

  // ---- history catch-up ----
  /**
   * Starts the catch-ups whose topics the main stream carries (so history and live overlap),
   * oldest first, while fewer than maxCatchupStreams run; the rest start as those end.
   */
  function startCatchups(): void {
    if (closed || failure !== undefined || offline || resetting > 0 || current === undefined) return;
    let running = 0;
    for (const c of catchups.values()) if (c.conn !== undefined) running++;
    for (const c of catchups.values()) {
      if (running >= config.maxCatchupStreams) return;
      if (c.conn !== undefined || c.retryCancel !== undefined) continue;
      if (![...c.cursors.keys()].every((t) => current!.topicSet.has(t))) continue;
      c.conn = open([...c.cursors.keys()].sort(), c.auth, c);
      running++;
    }
  }

  function stopCatchup(c: Catchup): void {
    c.retryCancel?.();
    c.retryCancel = undefined;
    cancel(c.conn);
    c.conn = undefined;
    if (!c.sub.active || closed) catchups.delete(c.sub);
  }

  function onHistoryFrame(conn: Conn, c: Catchup, f: SubscribeResponse): void {
    const { frame } = f;
    if (frame.case === "hello") return hello(conn, f as SubscribeResponse & { frame: { case: "hello" } });
    if (conn.openedAt === undefined) throw new ProtocolError(`"${frame.case ?? "unknown"}" frame before Hello`);
    switch (frame.case) {
      case "events": {
        const out: StreamEvent[] = [];
        for (const ev of frame.value.events) {
          const at = c.cursors.get(ev.topic);
          if (at === undefined || ev.cursor <= at) continue;
          c.cursors.set(ev.topic, ev.cursor);
          out.push({ topic: ev.topic, cursor: ev.cursor, payload: ev.payload, publishedAt: Number(ev.publishedAtMs) });
        }
        if (out.length > 0) fanout.sendDirect(c.sub, { kind: "events", events: out });
        return;
      }
      case "reset": {
        const { topic, reason, resumeAfter } = frame.value;
        if (!c.cursors.has(topic)) return;
        c.cursors.set(topic, resumeAfter);
        fanout.sendDirect(c.sub, { kind: "reset", topic, reason: WIRE_RESET[reason] ?? "retention", resumeAfter });
        return;
      }
      case "caughtUp":
        for (const t of frame.value.topics) conn.caughtUp.add(t);
        return;
      case "heartbeat":
        return;
      default:
        warn("onestream: unknown frame from the server; ignored (newer server?)");
    }
  }

  function catchupEnded(c: Catchup, conn: Conn, outcome: Outcome): void {
    if (c.conn !== conn) return;
    c.conn = undefined;
    if (closed || failure !== undefined || outcome.kind === "cancelled" || !c.sub.active) return;
    const complete = outcome.kind === "ok" && [...c.cursors.keys()].every((t) => conn.caughtUp.has(t));
    if (complete) return handOver(c);
    const cl = outcome.kind === "error" ? classify(outcome.error) : undefined;
    const verdict = cl === undefined ? "retry" : verdictFor(cl, c.auth);
    if (verdict === "terminal") {
      warn(`onestream: catch-up for subscriber ${c.sub.id} failed: ${cl?.info.code}: ${cl?.info.message}`);
      return giveUpHistory(c);
    }
    c.auth = verdict === "refresh" ? "refresh" : "connect";
    const healthyMs = conn.openedAt === undefined ? 0 : clock.monotonic() - conn.openedAt;
    const delay = verdict === "refresh" ? 0 : c.backoff.next(conn.startedAt, clock.monotonic(), { healthyMs, slow: cl?.verdict === "retry-slow" });
    c.retryCancel = clock.setTimeout(() => {
      c.retryCancel = undefined;
      startCatchups();
    }, delay);
  }

  /**
   * The missing history cannot be had: the subscriber gets a reset saying where its events
   * continue (just before the first live event buffered for it, else the last one delivered),
   * then the live stream. Nothing at or below that point reaches it afterwards.
   */
  function giveUpHistory(c: Catchup): void {
    const firstBuffered = new Map<string, bigint>();
    for (const d of c.sub.buffer ?? []) {
      if (d.kind !== "events") continue;
      for (const ev of d.events) if (!firstBuffered.has(ev.topic)) firstBuffered.set(ev.topic, ev.cursor);
    }
    for (const [topic, at] of c.cursors) {
      const first = firstBuffered.get(topic);
      const resumeAfter = first !== undefined ? first - 1n : (delivered.get(topic) ?? at);
      if (resumeAfter <= at) continue; // no gap after all
      fanout.sendDirect(c.sub, { kind: "reset", topic, reason: "retention", resumeAfter });
      c.cursors.set(topic, resumeAfter);
    }
    handOver(c);
  }

  function handOver(c: Catchup): void {
    catchups.delete(c.sub);
    const floor = (c.sub.floor ??= new Map());
    for (const [t, at] of c.cursors) floor.set(t, at);
    fanout.handOver(c.sub);
  }

  // ---- network hints and sleep/wake ----
  function hint(h: NetworkHint): void {
    if (closed) throw new ClosedError();
    if (!isNetworkHint(h)) throw new TypeError(`hint: unknown hint "${String(h)}"`);
    if (failure !== undefined) return;
    if (h === "offline") {
      if (offline) return;
      offline = true;
      cancelRetry();
      cancel(current);
      cancel(next);
      current = next = undefined;
      for (const c of catchups.values()) stopCatchup(c);
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
      if (retryCancel === undefined) return; // already connecting or connected: nothing to hurry
    }
    cancelRetry();
    backoff.reset();
    ensure();
    startCatchups();
    refresh();
  }

  function wakeOnline(): void {
    const waiters = onlineWaiters;
    onlineWaiters = [];
    for (const w of waiters) w();
  }

  /** A wall clock that ran ahead of the monotonic one means we slept: the stream is suspect. */
  function scheduleSleepCheck(lastWall: number, lastMono: number): void {
    sleepCheckCancel = clock.setTimeout(() => {
      const wall = clock.now();
      const mono = clock.monotonic();
      if (wall - lastWall - (mono - lastMono) > config.sleepJumpMs) suspect();
      scheduleSleepCheck(wall, mono);
    }, config.sleepCheckMs);
  }

  function suspect(): void {
    if (closed || failure !== undefined || offline) return;
    warn("onestream: wall clock jumped (sleep/wake?); reopening the stream");
    backoff.reset();
    if (current !== undefined) current.suspect = true;
    cancelRetry();
    ensure();
    refresh();
  }

  // ---- teardown ----
  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    if (closing !== undefined) throw new ClosedError();
    closed = true;
    closing = (async () => {
      stopEverything();
      commit.stop();
      outbox.stop(new ClosedError());
      await Promise.allSettled([...running]);
      await commit.idle();
      refresh();
      cell.flush();
    })();
    return closing;
  }

  /**
   * Logout. Every stream stops first (no frame moves a position again), queued and retrying
   * cursor saves are dropped and awaited, then memory and disk are wiped; a load still in
   * flight will not bring the old state back. Then the stream reopens for the subscribers
   * still here, with no positions: live from now.
   */
  async function reset(): Promise<void> {
    if (closed) throw new ClosedError();
    generation++;
    resetting++;
    try {
      stopStreams();
      commit.discard();
      endSleeps(); // a save waiting to retry gives up now
      outbox.wipe(new Error("publish discarded by reset() (logout)"));
      refresh();
      await commit.idle();
      positions.clear();
      delivered.clear();
      leaveStream([]);
      await storage.wipe(user);
    } finally {
      resetting--;
      if (resetting === 0 && !closed) {
        backoff.reset();
        ensure();
        startCatchups();
        refresh();
      }
    }
  }

  function publish(topic: string, payload: Uint8Array, opts?: { key?: string }): Promise<{ cursor: bigint }> {
    if (closed) return Promise.reject(new ClosedError());
    if (failure !== undefined) return Promise.reject(new FailedError(failure));
    if (ready) return outbox.publish(topic, payload, opts?.key);
    // Made before the outbox loaded: goes out after what the last engine left, in call order
    // (and a key already on disk is found there).
    return loaded.then(() => outbox.publish(topic, payload, opts?.key));
  }

  return {
    subscribe,
    publish,
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
