// The main stream: the one call that carries every topic the subscribers want, and why it
// ends, when the next one starts, and what each of its frames does to the positions.
//
// There is at most one `current` call (open: its frames are delivered) and at most one `next`
// (opening). A reconnect is a `next` with no `current`; a topic change or a suspect call
// (sleep/wake) is a `next` beside a healthy `current`, which is aborted only once `next` opened
// (make-before-break). The overlap is dropped by cursor for ordered cursors; for opaque ones,
// which cannot be compared, `current`'s frames are held while `next` opens and dropped when it
// does (it replays them from the same positions), or let through if it fails.
import { Backoff, throttleRemaining } from "./backoff";
import { Call, runCall, type Auth, type Outcome } from "./call";
import type { EngineContext } from "./context";
import { classify, decide } from "./errors";
import type { Point } from "./ledger";
import { sameTopics } from "./topics";
import type { Cursor, ErrorInfo, Frame, ResetFrame, StreamEvent, TopicStart, WireEvent } from "./types";

/** Codes that, on a stream that only added topics, mean "not these topics", not "not you". */
const TOPIC_REFUSALS: ReadonlySet<string> = new Set(["permission_denied", "not_found", "invalid_argument"]);

export interface MainStreamHooks {
  /** A call became `current`: catch-ups waiting for its topics may start. */
  promoted(): void;
  /** The server refused `topics` added beside a healthy stream; they must leave the topic set. */
  refused(topics: string[], info: ErrorInfo): void;
  /** These topics caught up on the main stream. */
  caughtUp(topics: readonly string[]): void;
}

export class MainStream {
  current: Call | undefined;
  next: Call | undefined;
  /** Connection epoch: +1 on every call that opens. */
  connection = 0;
  serverEpoch = "";
  lastError: ErrorInfo | undefined;
  nextAttemptAt: number | undefined;
  private authMode: Auth = "connect";
  private retryCancel: (() => void) | undefined;
  private readonly backoff: Backoff;
  /** Topics of the last call that opened: what the fan-out's everLive is about. */
  private streamTopics: readonly string[] = [];
  /** Opaque cursors: frames of `current` held while `next` opens (see the file comment). */
  private held: Array<[Call, Frame]> = [];

  constructor(
    private readonly ctx: EngineContext,
    private readonly hooks: MainStreamHooks,
  ) {
    this.backoff = new Backoff(ctx.config, ctx.random);
  }

  get retrying(): boolean {
    return this.retryCancel !== undefined;
  }

  /** Brings the calls in line with the topic set; the one place a main call starts. */
  ensure(): void {
    if (!this.ctx.canOpen() || this.retrying) return;
    const desired = this.ctx.topicSet.list();
    if (desired.length === 0) {
      this.stop();
      this.leave([]);
      this.ctx.refresh();
      return;
    }
    if (this.next !== undefined) {
      if (sameTopics(this.next.topics, desired)) return;
      this.drop(this.next);
    }
    if (this.current !== undefined && !this.current.suspect && sameTopics(this.current.topics, desired)) return;
    this.next = this.open(desired);
    this.ctx.refresh();
  }

  /** Cancels every call and the retry timer. */
  stop(): void {
    this.cancelRetry();
    this.current?.cancel();
    this.next?.cancel();
    this.current = this.next = undefined;
    this.held = [];
  }

  /** Sleep/wake: the call may be dead without knowing it; replace it. */
  suspect(): void {
    this.backoff.reset();
    if (this.current !== undefined) this.current.suspect = true;
    this.cancelRetry();
    this.ensure();
  }

  /** A hint that the network may be back: retry now instead of waiting out the backoff. */
  hurry(): void {
    this.cancelRetry();
    this.backoff.reset();
    this.ensure();
  }

  /** The stream carries `topics` now: the ones it dropped are no longer live for a newcomer. */
  leave(topics: readonly string[]): void {
    const gone = this.streamTopics.filter((t) => !topics.includes(t));
    this.streamTopics = topics;
    if (gone.length > 0) this.ctx.dispatcher.push({ kind: "left", topics: gone });
  }

  private open(topics: string[]): Call {
    const starts: TopicStart[] = topics.map((topic) => {
      const p = this.ctx.positions.get(topic);
      return p === undefined ? { topic } : { topic, after: p.cursor, epoch: p.epoch };
    });
    const call = new Call(starts, this.ctx.clock.monotonic(), this.authMode, false);
    const run = runCall(this.ctx, call, {
      onOpen: () => this.promote(call),
      onFrame: (f) => this.frame(call, f),
    }).then((outcome) => this.ended(call, outcome));
    this.ctx.track(run);
    return call;
  }

  private drop(call: Call): void {
    call.cancel();
    if (this.next === call) this.next = undefined;
    this.releaseHeld();
  }

  /** `call` opened: it becomes the stream, the one it replaces is aborted (make-before-break). */
  private promote(call: Call): void {
    if (call !== this.next) return call.cancel();
    const old = this.current;
    this.current = call;
    this.next = undefined;
    old?.cancel();
    this.held = []; // `call` resumes from the positions `old`'s held frames would have moved
    // A topic the old call had caught up was never interrupted (same epoch, not suspect): it
    // stays live while the new call replays the overlap.
    if (old !== undefined && !old.suspect && old.epoch === call.epoch) {
      for (const t of old.caughtUp) if (call.topicSet.has(t)) call.caughtUp.add(t);
    }
    this.leave(call.topics);
    this.connection++;
    this.serverEpoch = call.epoch;
    this.authMode = "connect";
    this.hooks.promoted();
    this.ctx.refresh();
  }

  private frame(call: Call, f: Frame): void {
    if (call !== this.current) return; // a `next` that is being dropped
    if (this.ctx.upstream.cursors === "opaque" && this.next !== undefined && f.kind !== "heartbeat") {
      this.held.push([call, f]);
      return;
    }
    this.apply(call, f);
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const [call, f] of held) if (call === this.current) this.apply(call, f);
  }

  private apply(call: Call, f: Frame): void {
    switch (f.kind) {
      case "open":
      case "heartbeat":
        return;
      case "events":
        return this.ingest(call, f.events);
      case "progress": {
        if (!call.topicSet.has(f.topic)) return this.ctx.warn(`onestream: progress for "${f.topic}", not in this stream; ignored`);
        const p = this.ctx.positions.get(f.topic);
        const ordered = this.ctx.upstream.cursors === "ordered";
        if (p !== undefined && (ordered ? (f.cursor as bigint) <= (p.cursor as bigint) : f.cursor === p.cursor)) return;
        const epoch = f.epoch ?? p?.epoch ?? call.epoch;
        this.ctx.positions.reset(f.topic, f.cursor, epoch, call);
        // Stored like an event's cursor (once everything before it is acknowledged): a restarted
        // worker must resume from here too, or a quiet topic's stored position ages out of the
        // server's history while bookmarks kept it in.
        this.ctx.ledger.recordSilent(f.topic, f.cursor, epoch);
        return;
      }
      case "caught-up": {
        const named = f.topics ?? call.topics;
        const topics = named.filter((t) => call.topicSet.has(t));
        if (topics.length < named.length) this.ctx.warn("onestream: caught-up names a topic this stream did not ask for; ignored");
        for (const t of topics) call.caughtUp.add(t);
        if (topics.length > 0) {
          this.ctx.dispatcher.push({ kind: "caught-up", topics });
          this.hooks.caughtUp(topics);
        }
        this.ctx.refresh();
        return;
      }
      case "reset":
        if (!call.topicSet.has(f.topic)) return this.ctx.warn(`onestream: reset for "${f.topic}", not in this stream; ignored`);
        return this.reset(call, f);
    }
  }

  private reset(call: Call, f: ResetFrame): void {
    const { positions } = this.ctx;
    const p = positions.get(f.topic);
    const epoch = f.epoch ?? call.epoch;
    if (
      this.ctx.upstream.cursors === "ordered" &&
      f.reason === "retention" &&
      p !== undefined &&
      p.epoch === epoch &&
      f.resumeAfter !== undefined &&
      (f.resumeAfter as bigint) <= (p.cursor as bigint)
    ) {
      // A replacement asked from an older position while the current call moved on: the trimmed
      // events are ones we already have. Moving back would repeat them.
      return;
    }
    if (f.resumeAfter === undefined) positions.forget(f.topic);
    else positions.reset(f.topic, f.resumeAfter, epoch, call);
    const point = this.ctx.ledger.record(f.topic, f.resumeAfter, epoch, 0);
    this.ctx.dispatcher.push({ kind: "reset", topic: f.topic, reason: f.reason, resumeAfter: f.resumeAfter, point });
  }

  /**
   * The hot path: dedupe by cursor, advance positions, queue for delivery. What a lying server
   * sends is dropped and counted, one warning per frame (not one per event).
   */
  private ingest(call: Call, events: readonly WireEvent[]): void {
    const { positions } = this.ctx;
    const ordered = this.ctx.upstream.cursors === "ordered";
    const out: StreamEvent<Cursor>[] = [];
    // Per topic, the newest cursor this frame reaches and how many events get there: the ledger's points.
    const reach = new Map<string, { cursor: Cursor; n: number }>();
    let foreign = 0;
    let backwards = 0;
    let zero = 0;
    for (const ev of events) {
      const { topic, cursor } = ev;
      if (!call.topicSet.has(topic)) {
        foreign++;
        continue;
      }
      if (ordered && (cursor as bigint) < 1n) {
        zero++;
        continue;
      }
      const p = positions.get(topic);
      if (p !== undefined && (ordered ? (cursor as bigint) <= (p.cursor as bigint) : cursor === p.cursor)) {
        if (p.by === call) backwards++; // from another call it is the make-before-break overlap
        continue;
      }
      positions.advance(topic, cursor, call.epoch, call);
      const r = reach.get(topic);
      if (r === undefined) reach.set(topic, { cursor, n: 1 });
      else {
        r.cursor = cursor;
        r.n++;
      }
      const e: StreamEvent<Cursor> = { topic, cursor, payload: ev.payload, publishedAt: ev.publishedAt ?? 0 };
      if (ev.meta !== undefined) e.meta = ev.meta;
      out.push(e);
    }
    if (out.length > 0) {
      const points = new Map<string, Point>();
      for (const [topic, r] of reach) points.set(topic, this.ctx.ledger.record(topic, r.cursor, positions.get(topic)?.epoch ?? "", r.n)); // a topic may have its own epoch
      this.ctx.dispatcher.push({ kind: "events", events: out, points });
    }
    if (foreign > 0) this.ctx.warn(`onestream: ${foreign} event(s) for topics this stream did not ask for; dropped`);
    if (backwards > 0) this.ctx.warn(`onestream: ${backwards} event(s) whose cursor does not increase on one stream; dropped`);
    if (zero > 0) this.ctx.warn(`onestream: ${zero} event(s) with cursor 0; dropped`);
  }

  private ended(call: Call, outcome: Outcome): void {
    if (this.current === call) this.current = undefined;
    else if (this.next === call) {
      this.next = undefined;
      this.releaseHeld(); // the replacement failed: what `current` sent meanwhile counts after all
    } else return; // superseded, cancelled: nothing to do
    const { ctx } = this;
    if (outcome.kind === "error" && this.current !== undefined && ctx.canOpen() && this.refused(call, outcome.error)) return;
    if (!ctx.canOpen() || outcome.kind === "cancelled") return ctx.refresh();
    const now = ctx.clock.monotonic();
    // A call that caught up proved the server works: its failure starts the backoff afresh (the
    // floor and the jitter still pace it), so a server that is back is used within seconds.
    const healthyMs = call.reachedLive ? Infinity : call.openedAt === undefined ? 0 : now - call.openedAt;
    if (outcome.kind === "ok") {
      // A clean end (deploy, max stream age): come back after a little jitter, never in a tight loop.
      if (this.next !== undefined) return ctx.refresh();
      return this.retryIn(Math.max(ctx.random() * ctx.config.cleanEndJitterMs, throttleRemaining(ctx.config.backoffFloorMs, call.startedAt, now)));
    }
    const resets = ctx.upstream.resetsFor?.(outcome.error, call.starts);
    if (resets !== undefined && resets.length > 0) {
      // The server says these positions are gone: tell the subscribers, reopen from the new ones.
      for (const r of resets) if (call.topicSet.has(r.topic)) this.reset(call, r);
      if (this.next !== undefined) return ctx.refresh();
      return this.retryIn(throttleRemaining(ctx.config.backoffFloorMs, call.startedAt, now));
    }
    const c = classify(outcome.error);
    this.lastError = { ...c.info, at: ctx.clock.now() };
    const verdict = decide(c, call.auth);
    if (verdict === "terminal") return ctx.fail(c.info);
    if (verdict === "refresh") this.authMode = "refresh";
    if (this.next !== undefined) return ctx.refresh(); // a replacement is already opening: it is the retry
    if (verdict === "refresh") return this.retryIn(0);
    this.retryIn(this.backoff.next(call.startedAt, now, { slow: c.verdict === "retry-slow", healthyMs }));
  }

  /**
   * A replacement that added topics beside a healthy `current` was refused for good: the server
   * refuses those topics, not the user. True when handled so (the hook drops them).
   */
  private refused(call: Call, error: unknown): boolean {
    const c = classify(error);
    if (c.verdict !== "terminal" || !TOPIC_REFUSALS.has(c.info.code)) return false;
    const added = call.topics.filter((t) => !this.current!.topicSet.has(t) && this.ctx.topicSet.has(t));
    if (added.length === 0) return false;
    this.ctx.warn(`onestream: the server refused topic(s) ${added.join(", ")}: ${c.info.code}: ${c.info.message}; dropped`);
    this.hooks.refused(added, c.info);
    return true;
  }

  private retryIn(ms: number): void {
    const { clock } = this.ctx;
    this.retryCancel?.();
    this.nextAttemptAt = clock.now() + ms;
    this.retryCancel = clock.setTimeout(() => {
      this.retryCancel = undefined;
      this.nextAttemptAt = undefined;
      this.ensure();
      this.ctx.refresh();
    }, ms);
    this.ctx.refresh();
  }

  private cancelRetry(): void {
    this.retryCancel?.();
    this.retryCancel = undefined;
    this.nextAttemptAt = undefined;
  }
}
