// History for late joiners: a subscriber whose cursor is older than the stream's position gets
// the history it lacks on a call of its own (one per subscriber, at most maxCatchupStreams at
// once over HTTP/1.1's 6 connections per host; the others queue), while the live events meant for
// it wait in its buffer. When the history is done the buffer is handed over: exactly once, in
// order. A catch-up starts only once the main stream carries its topics, so history and live
// overlap and nothing falls between them.
//
// Ordered cursors line the two up by comparison. Opaque ones can only be matched: the buffer is
// let through after the event whose cursor is the history's last; if that event never shows up
// the subscriber is told ("resync") instead of being given a gap or a repeat.
import { Backoff } from "./backoff";
import { Call, runCall, type Auth, type Outcome } from "./call";
import type { EngineContext } from "./context";
import { classify, decide } from "./errors";
import type { Subscriber } from "./delivery";
import type { Cursor, Frame, StreamEvent } from "./types";

interface Catchup {
  readonly sub: Subscriber;
  /** Per topic: the subscriber's position, advanced by the history it received. */
  readonly cursors: Map<string, Cursor>;
  /** Per topic: what had been delivered when it joined (where its live buffer starts). */
  readonly joinedAt: Map<string, Cursor | undefined>;
  readonly backoff: Backoff;
  call?: Call;
  retryCancel?: () => void;
  auth: Auth;
  /** The history is complete; waiting for the main stream to line up (opaque cursors). */
  done: boolean;
}

export interface CatchupView {
  /** The main call, if open: catch-ups run only beside it. */
  current(): Call | undefined;
  /** Epoch for a topic with no position of its own. */
  serverEpoch(): string;
}

export class Catchups {
  private readonly all = new Map<Subscriber, Catchup>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly main: CatchupView,
  ) {}

  has(sub: Subscriber): boolean {
    return this.all.has(sub);
  }

  /** `sub` lacks the history after `history` (topic → cursor): fetch it, buffer its live meanwhile. */
  add(sub: Subscriber, history: Map<string, Cursor>): void {
    sub.buffer = [];
    const joinedAt = new Map<string, Cursor | undefined>();
    for (const t of history.keys()) joinedAt.set(t, this.ctx.delivered.get(t));
    this.all.set(sub, { sub, cursors: history, joinedAt, backoff: new Backoff(this.ctx.config, this.ctx.random), auth: "connect", done: false });
    this.start();
  }

  /**
   * Starts the catch-ups whose topics the main call carries, oldest first, while fewer than
   * maxCatchupStreams run; the rest start as those end.
   */
  start(): void {
    const current = this.main.current();
    if (!this.ctx.canOpen() || current === undefined) return;
    let running = 0;
    for (const c of this.all.values()) if (c.call !== undefined) running++;
    for (const c of this.all.values()) {
      if (running >= this.ctx.config.maxCatchupStreams) return;
      if (c.call !== undefined || c.retryCancel !== undefined || c.done) continue;
      if (![...c.cursors.keys()].every((t) => current.topicSet.has(t))) continue;
      c.call = this.open(c);
      running++;
    }
  }

  stop(sub: Subscriber): void {
    const c = this.all.get(sub);
    if (c !== undefined) this.halt(c);
  }

  stopAll(): void {
    for (const c of this.all.values()) this.halt(c);
  }

  /** The server refused some of `sub`'s topics: its catch-up goes on without them. */
  drop(sub: Subscriber, topics: readonly string[]): void {
    const c = this.all.get(sub);
    if (c === undefined) return;
    for (const t of topics) {
      c.cursors.delete(t);
      c.joinedAt.delete(t);
    }
    if (!sub.active || c.cursors.size === 0) this.halt(c);
    if (sub.active && c.cursors.size === 0) this.handOver(c);
  }

  /** The main stream caught these topics up: a catch-up waiting to line up may now decide. */
  mainCaughtUp(): void {
    for (const c of [...this.all.values()]) if (c.done) this.handOver(c);
  }

  private halt(c: Catchup): void {
    c.retryCancel?.();
    c.retryCancel = undefined;
    c.call?.cancel();
    c.call = undefined;
    if (!c.sub.active || this.ctx.stopped()) this.all.delete(c.sub);
  }

  private open(c: Catchup): Call {
    const { ctx } = this;
    const starts = [...c.cursors]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([topic, after]) => ({ topic, after, epoch: ctx.positions.get(topic)?.epoch ?? this.main.serverEpoch() }));
    const call = new Call(starts, ctx.clock.monotonic(), c.auth, true);
    const run = runCall(ctx, call, {
      onOpen: () => {},
      onFrame: (f) => this.frame(c, call, f),
    }).then((outcome) => {
      this.ended(c, call, outcome);
      this.start(); // its slot is free
    });
    ctx.track(run);
    return call;
  }

  private frame(c: Catchup, call: Call, f: Frame): void {
    switch (f.kind) {
      case "events": {
        const ordered = this.ctx.upstream.cursors === "ordered";
        const out: StreamEvent<Cursor>[] = [];
        for (const ev of f.events) {
          const at = c.cursors.get(ev.topic);
          if (at === undefined || (ordered ? (ev.cursor as bigint) <= (at as bigint) : ev.cursor === at)) continue;
          c.cursors.set(ev.topic, ev.cursor);
          const e: StreamEvent<Cursor> = { topic: ev.topic, cursor: ev.cursor, payload: ev.payload, publishedAt: ev.publishedAt ?? 0 };
          if (ev.meta !== undefined) e.meta = ev.meta;
          out.push(e);
        }
        if (out.length > 0) this.ctx.fanout.sendDirect(c.sub, { kind: "events", events: out });
        return;
      }
      case "reset": {
        if (!c.cursors.has(f.topic)) return;
        if (f.resumeAfter !== undefined) c.cursors.set(f.topic, f.resumeAfter);
        this.ctx.fanout.sendDirect(c.sub, { kind: "reset", topic: f.topic, reason: f.reason, resumeAfter: f.resumeAfter });
        return;
      }
      case "caught-up":
        for (const t of f.topics ?? call.topics) call.caughtUp.add(t);
        // A server with no history-only calls: we end the call ourselves once it has caught up.
        if (!this.ctx.upstream.historyOnly && [...c.cursors.keys()].every((t) => call.caughtUp.has(t))) {
          c.done = true;
          call.cancel();
        }
        return;
      default:
        return; // open, heartbeat, progress: nothing for a history call
    }
  }

  private ended(c: Catchup, call: Call, outcome: Outcome): void {
    if (c.call !== call) return;
    c.call = undefined;
    const { ctx } = this;
    if (ctx.stopped() || !c.sub.active) return;
    if (c.done || (outcome.kind === "ok" && [...c.cursors.keys()].every((t) => call.caughtUp.has(t)))) {
      c.done = true;
      return this.handOver(c);
    }
    if (outcome.kind === "cancelled") return;
    const cl = outcome.kind === "error" ? classify(outcome.error) : undefined;
    const verdict = cl === undefined ? "retry" : decide(cl, c.auth);
    if (verdict === "terminal") {
      ctx.warn(`onestream: catch-up for subscriber ${c.sub.id} failed: ${cl?.info.code}: ${cl?.info.message}`);
      return this.giveUp(c);
    }
    c.auth = verdict === "refresh" ? "refresh" : "connect";
    const healthyMs = call.openedAt === undefined ? 0 : ctx.clock.monotonic() - call.openedAt;
    const delay = verdict === "refresh" ? 0 : c.backoff.next(call.startedAt, ctx.clock.monotonic(), { healthyMs, slow: cl?.verdict === "retry-slow" });
    c.retryCancel = ctx.clock.setTimeout(() => {
      c.retryCancel = undefined;
      this.start();
    }, delay);
  }

  /**
   * The missing history cannot be had: the subscriber gets a reset saying where its events
   * continue (just before the first live event buffered for it, else the last one delivered),
   * then the live stream. Nothing at or below that point reaches it afterwards.
   */
  private giveUp(c: Catchup): void {
    const ordered = this.ctx.upstream.cursors === "ordered";
    const firstBuffered = new Map<string, Cursor>();
    for (const [d] of c.sub.buffer ?? []) {
      if (d.kind !== "events") continue;
      for (const ev of d.events) if (!firstBuffered.has(ev.topic)) firstBuffered.set(ev.topic, ev.cursor);
    }
    for (const [topic, at] of c.cursors) {
      if (!ordered) {
        this.ctx.fanout.sendDirect(c.sub, { kind: "reset", topic, reason: "retention", resumeAfter: c.joinedAt.get(topic) });
        c.cursors.delete(topic);
        continue;
      }
      const first = firstBuffered.get(topic) as bigint | undefined;
      const resumeAfter = first !== undefined ? first - 1n : ((this.ctx.delivered.get(topic) ?? at) as bigint);
      if (resumeAfter <= (at as bigint)) continue; // no gap after all
      this.ctx.fanout.sendDirect(c.sub, { kind: "reset", topic, reason: "retention", resumeAfter });
      c.cursors.set(topic, resumeAfter);
    }
    c.done = true;
    this.handOver(c);
  }

  /** History done: the buffered live goes out after what the history delivered. */
  private handOver(c: Catchup): void {
    const floor = (c.sub.floor ??= new Map());
    if (this.ctx.upstream.cursors === "ordered") {
      for (const [t, at] of c.cursors) floor.set(t, at);
    } else if (!this.lineUp(c, floor)) {
      return; // the main stream has not caught up to where the history ended: wait for it
    }
    this.all.delete(c.sub);
    this.ctx.fanout.handOver(c.sub);
  }

  /**
   * Opaque cursors: per topic, the history's last cursor must be where the live buffer starts
   * (nothing to skip) or inside the buffer (skip through it). Neither, while the main stream
   * still replays that topic: wait (false). Neither once it is live: the subscriber is told.
   */
  private lineUp(c: Catchup, floor: Map<string, Cursor>): boolean {
    const current = this.main.current();
    const buffered = new Set<Cursor>();
    for (const [d] of c.sub.buffer ?? []) if (d.kind === "events") for (const ev of d.events) buffered.add(ev.cursor);
    const unmatched: string[] = [];
    for (const [t, last] of c.cursors) {
      if (last === c.joinedAt.get(t)) continue;
      if (buffered.has(last)) floor.set(t, last);
      else unmatched.push(t);
    }
    if (unmatched.some((t) => current === undefined || !current.caughtUp.has(t))) return false;
    for (const t of unmatched) {
      this.ctx.warn(`onestream: the history of "${t}" did not line up with the live stream; the subscriber must resync`);
      this.ctx.fanout.sendDirect(c.sub, { kind: "reset", topic: t, reason: "resync", resumeAfter: c.joinedAt.get(t) });
    }
    return true;
  }
}
