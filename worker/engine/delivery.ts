// From accepted frames to subscribers: the fan-out, and the dispatcher that feeds it.
//
// Accepted frames become ops in one ordered queue, flushed on a microtask (never inside the call
// that queued: subscribe(), a frame handler), so control deliveries (reset, live) stay in order
// with events. Nothing waits for storage: each delivery carries an `ack` that the subscriber
// calls once its app is done with it, and that is what lets the cursor be stored (ledger.ts).
import type { Point } from "./ledger";
import type { Cursor, Delivery, ErrorInfo, ResetReason, StreamEvent } from "./types";

export type Op =
  /** `points`: per topic, the position the events reach (acknowledged with the delivery). */
  | { kind: "events"; events: StreamEvent<Cursor>[]; points: ReadonlyMap<string, Point> }
  | { kind: "reset"; topic: string; reason: ResetReason; resumeAfter: Cursor | undefined; point: Point }
  | { kind: "caught-up"; topics: string[] }
  /** A subscriber joined: tell it "live" in order if its topics already are. */
  | { kind: "joined"; sub: Subscriber }
  /** These topics left the stream: a subscriber joining them later waits for their next CaughtUp. */
  | { kind: "left"; topics: string[] };

/** Called by a subscriber once its app processed a delivery (see ledger.ts for what that allows). */
export type Ack = () => void;

/** Where a subscriber's deliveries go: the delivery, and its ack when it has one. */
export type Sink = (d: Delivery, ack?: Ack) => void;

export class Subscriber {
  active = true;
  /**
   * Deliver only what comes after these (since "now", a cursor map, a catch-up handover): for
   * ordered cursors, cursors above them; for opaque ones, what follows the event that has it.
   */
  floor: Map<string, Cursor> | undefined;
  /** Drop events of these topics until their CaughtUp (since "now" on a topic still catching up). */
  skipUntilLive: Set<string> | undefined;
  /** Topics of this subscriber that never were caught up yet; empty → it gets its one "live". */
  readonly waitingLive: Set<string>;
  liveSent = false;
  /** Set while a history-only catch-up runs: live deliveries wait here, with their acks. */
  buffer: Array<[Delivery, Ack | undefined]> | undefined;
  buffered = 0;
  /** Events of the current flush, sent as one delivery, and the positions they reach. */
  out: StreamEvent<Cursor>[] = [];
  outPoints = new Map<string, Point>();

  constructor(
    readonly id: number,
    /** Shrinks only when the server refuses some of them (Fanout.deny). */
    public topics: readonly string[],
    readonly sink: Sink,
    /** Ordered cursors compare; opaque ones only match (see `floor`). */
    readonly ordered: boolean,
  ) {
    this.waitingLive = new Set(topics);
  }

  /**
   * Whether a reset of `topic` concerns this subscriber. A retention reset only skips events up
   * to `resumeAfter`: one that wanted nothing up to there (its floor is at or past it, or it
   * waits for live) lost nothing. Any other reset (new epoch, server behind us) makes cursors
   * incomparable: the subscriber is told, and its floor goes.
   */
  takesReset(topic: string, reason: ResetReason, resumeAfter: Cursor | undefined): boolean {
    if (reason === "retention") {
      if (this.skipUntilLive?.has(topic) === true) return false;
      const f = this.floor?.get(topic);
      if (this.ordered && f !== undefined && resumeAfter !== undefined && (f as bigint) >= (resumeAfter as bigint)) return false;
    }
    this.floor?.delete(topic);
    return true;
  }

  admits(ev: StreamEvent<Cursor>): boolean {
    if (this.skipUntilLive?.has(ev.topic) === true) return false;
    const f = this.floor?.get(ev.topic);
    if (f === undefined) return true;
    if (this.ordered ? (ev.cursor as bigint) <= (f as bigint) : ev.cursor !== f) return false;
    // Past the floor once, past it forever: positions only grow (a reset clears floors).
    this.floor!.delete(ev.topic);
    if (this.floor!.size === 0) this.floor = undefined;
    return !this.ordered ? false : true; // an opaque floor is the last event it had: skip it too
  }
}

export interface FanoutHooks {
  warn: (message: string) => void;
  /** A subscriber processed up to `point`. */
  settle: (point: Point) => void;
  /** A catch-up buffer went over its bound: the engine cuts the subscriber. */
  overflow: (sub: Subscriber) => void;
  bufferLimit: number;
}

export class Fanout {
  /** Copy-on-write arrays: a subscriber cut mid-dispatch never disturbs the loop over them. */
  private readonly byTopic = new Map<string, Subscriber[]>();
  /**
   * Topics that reached CaughtUp at least once since they joined the stream. Kept while the
   * stream carries the topic, whoever subscribes to it: only a "left" op (the topic really left
   * the stream) clears it, since no new CaughtUp comes for a topic the stream never dropped.
   */
  readonly everLive = new Set<string>();

  constructor(private readonly hooks: FanoutHooks) {}

  add(sub: Subscriber): void {
    for (const t of sub.topics) this.byTopic.set(t, [...(this.byTopic.get(t) ?? []), sub]);
  }

  /** Every active subscriber (each once). */
  all(): Subscriber[] {
    return [...new Set([...this.byTopic.values()].flat())];
  }

  remove(sub: Subscriber): void {
    sub.active = false;
    for (const t of sub.topics) {
      const left = (this.byTopic.get(t) ?? []).filter((s) => s !== sub);
      if (left.length > 0) this.byTopic.set(t, left);
      else this.byTopic.delete(t);
    }
  }

  /**
   * The server refused `topics`: each subscriber to any of them loses those topics (a
   * subscriber left with none is inactive) and is told once with a "denied" delivery. Returns
   * the topics each subscriber lost, for the engine's refcounts.
   */
  deny(topics: ReadonlySet<string>, error: ErrorInfo): Map<Subscriber, string[]> {
    const lost = new Map<Subscriber, string[]>();
    for (const t of topics) {
      for (const sub of this.byTopic.get(t) ?? []) lost.set(sub, [...(lost.get(sub) ?? []), t]);
      this.byTopic.delete(t);
      this.everLive.delete(t);
    }
    for (const [sub, gone] of lost) {
      sub.topics = sub.topics.filter((t) => !topics.has(t));
      for (const t of gone) {
        sub.waitingLive.delete(t);
        sub.skipUntilLive?.delete(t);
        sub.floor?.delete(t);
      }
      this.sendDirect(sub, { kind: "denied", topics: gone, error });
      if (sub.topics.length === 0) sub.active = false;
      else this.maybeLive(sub);
    }
    return lost;
  }

  dispatch(ops: readonly Op[]): void {
    const touched: Subscriber[] = [];
    for (const op of ops) {
      switch (op.kind) {
        case "events": {
          let lastTopic: string | undefined;
          let subs: Subscriber[] | undefined;
          let point: Point | undefined;
          for (const ev of op.events) {
            if (ev.topic !== lastTopic) {
              lastTopic = ev.topic;
              subs = this.byTopic.get(ev.topic);
              point = op.points.get(ev.topic);
            }
            if (subs === undefined) continue;
            for (const sub of subs) {
              if ((sub.floor !== undefined || sub.skipUntilLive !== undefined) && !sub.admits(ev)) continue;
              if (sub.out.length === 0) touched.push(sub);
              sub.out.push(ev);
              if (point !== undefined) sub.outPoints.set(ev.topic, point);
            }
          }
          break;
        }
        case "reset":
          for (const sub of this.byTopic.get(op.topic) ?? []) {
            if (!sub.takesReset(op.topic, op.reason, op.resumeAfter)) continue;
            this.emit(sub);
            this.send(sub, { kind: "reset", topic: op.topic, reason: op.reason, resumeAfter: op.resumeAfter }, () => this.hooks.settle(op.point));
          }
          break;
        case "caught-up":
          for (const t of op.topics) {
            this.everLive.add(t);
            const subs = this.byTopic.get(t);
            if (subs === undefined) continue;
            for (const sub of subs) {
              sub.skipUntilLive?.delete(t);
              sub.waitingLive.delete(t);
              this.emit(sub);
              this.maybeLive(sub);
            }
          }
          break;
        case "joined":
          for (const t of op.sub.topics) if (this.everLive.has(t)) op.sub.waitingLive.delete(t);
          this.maybeLive(op.sub);
          break;
        case "left":
          for (const t of op.topics) this.everLive.delete(t);
          break;
      }
    }
    for (const sub of touched) this.emit(sub);
  }

  /** Ends a catch-up: live deliveries buffered meanwhile go out, filtered by the new floors. */
  handOver(sub: Subscriber): void {
    const buffered = sub.buffer ?? [];
    sub.buffer = undefined;
    sub.buffered = 0;
    for (const [d, ack] of buffered) {
      if (d.kind === "events") {
        const events = d.events.filter((ev) => sub.admits(ev));
        if (events.length > 0) this.send(sub, { kind: "events", events }, ack);
      } else if (d.kind !== "reset" || sub.takesReset(d.topic, d.reason, d.resumeAfter)) this.send(sub, d, ack);
    }
    for (const t of sub.topics) if (this.everLive.has(t)) sub.waitingLive.delete(t);
    this.maybeLive(sub);
  }

  /** Straight to the sink, bypassing a catch-up buffer (the catch-up's own history). */
  sendDirect(sub: Subscriber, d: Delivery, ack?: Ack): void {
    if (!sub.active) return;
    try {
      sub.sink(d, ack);
    } catch (e) {
      this.hooks.warn(`onestream: a subscriber's sink threw: ${String(e)}`);
    }
  }

  private maybeLive(sub: Subscriber): void {
    if (sub.liveSent || sub.buffer !== undefined || sub.waitingLive.size > 0) return;
    sub.liveSent = true;
    this.send(sub, { kind: "live", topics: [...sub.topics] });
  }

  private emit(sub: Subscriber): void {
    if (sub.out.length === 0) return;
    const events = sub.out;
    const points = [...sub.outPoints.values()];
    sub.out = [];
    sub.outPoints = new Map();
    this.send(sub, { kind: "events", events }, points.length === 0 ? undefined : () => {
      for (const p of points) this.hooks.settle(p);
    });
  }

  private send(sub: Subscriber, d: Delivery, ack?: Ack): void {
    if (!sub.active) return;
    if (sub.buffer === undefined) return this.sendDirect(sub, d, ack);
    sub.buffer.push([d, ack]);
    if (d.kind === "events") sub.buffered += d.events.length;
    if (sub.buffered > this.hooks.bufferLimit) this.hooks.overflow(sub);
  }
}


/**
 * The ordered queue between the frame readers and the fan-out: pushes within one task are
 * flushed together on a microtask.
 */
export class Dispatcher {
  private queue: Op[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly dispatch: (ops: Op[]) => void) {}

  push(op: Op): void {
    if (this.stopped) return;
    this.queue.push(op);
    this.running ??= this.run();
  }

  /** Settles when nothing is queued. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Drops what is queued for good (close). */
  stop(): void {
    this.stopped = true;
    this.queue = [];
  }

  /** Logout: drops what is queued; keeps running for what is pushed afterwards. */
  discard(): void {
    this.queue = [];
  }

  private async run(): Promise<void> {
    try {
      await Promise.resolve();
      while (this.queue.length > 0 && !this.stopped) {
        const ops = this.queue;
        this.queue = [];
        this.dispatch(ops);
      }
    } finally {
      this.running = undefined;
    }
  }
}
