// Who the engine delivers to, and from where each one starts. A subscriber's `since` decides it:
// "now" joins at what was last handed over; "stored" at the topic's position; a cursor map
// either joins live (the cursor is at or past the position: a floor drops what it has) or gets
// the history it lacks on a catch-up call (catchup.ts). The union of every subscriber's topics
// is what the main stream carries; the last subscriber of a topic leaving takes it out.
import type { Catchups } from "./catchup";
import type { EngineContext } from "./context";
import { Subscriber, type Sink } from "./delivery";
import type { Cursor, Since, Subscription } from "./types";
import { subscribeProblem } from "../../contract/validate";

export interface SubscribersHooks {
  /** The topic set changed: the main stream should follow (debounced). */
  topicsChanged(): void;
  /** Persisted positions are loaded: new subscribers can be placed at once. */
  ready(): boolean;
}

export class Subscribers {
  private ids = 0;
  /** Subscribed before the persisted positions were loaded: placed once they are. */
  private pending: [Subscriber, Since][] = [];

  constructor(
    private readonly ctx: EngineContext,
    private readonly catchups: Catchups,
    private readonly hooks: SubscribersHooks,
  ) {}

  private get ordered(): boolean {
    return this.ctx.upstream.cursors === "ordered";
  }

  /** Validates and adds one; throws TypeError / RangeError (synchronously) for a bad call. */
  add(topics: string[], sink: Sink, since: Since): Subscription {
    const { ctx } = this;
    const problem = subscribeProblem(topics, since);
    if (problem !== undefined) throw new TypeError(`subscribe: ${problem}`);
    if (typeof sink !== "function") throw new TypeError("subscribe: sink must be a function");
    if (typeof since === "object" && Object.values(since).some((c) => (this.ordered ? typeof c !== "bigint" : typeof c !== "string"))) {
      throw new TypeError(`subscribe: this stream's cursors are ${this.ordered ? "bigints" : "opaque strings"}`);
    }
    const unique = [...new Set(topics)];
    const added = ctx.topicSet.countNew(unique);
    if (ctx.topicSet.size + added > ctx.config.maxStreamTopics) {
      throw new RangeError(`subscribe: the stream would carry ${ctx.topicSet.size + added} topics, over the limit of ${ctx.config.maxStreamTopics}`);
    }
    const sub = new Subscriber(++this.ids, unique, sink, this.ordered);
    ctx.fanout.add(sub);
    if (ctx.topicSet.add(sub.topics)) this.hooks.topicsChanged();
    if (this.hooks.ready()) this.place(sub, since);
    else this.pending.push([sub, since]);
    let done = false;
    return {
      unsubscribe: () => {
        if (done) return;
        done = true;
        this.remove(sub);
      },
    };
  }

  /** The positions are loaded: place everyone who subscribed meanwhile. */
  placePending(): void {
    for (const [sub, since] of this.pending.splice(0)) if (sub.active) this.place(sub, since);
  }

  remove(sub: Subscriber): void {
    if (!sub.active) return;
    this.ctx.fanout.remove(sub);
    this.catchups.stop(sub);
    if (this.ctx.stopped()) return;
    if (this.ctx.topicSet.remove(sub.topics).length > 0) this.hooks.topicsChanged();
  }

  /** A catch-up buffer went over its bound: the subscriber is told and removed (it resubscribes). */
  cutOverflowed(sub: Subscriber): void {
    this.ctx.warn(`onestream: subscriber ${sub.id} fell more than ${this.ctx.config.catchupBufferEvents} events behind during catch-up; cut`);
    this.ctx.fanout.sendDirect(sub, { kind: "overflow", topics: [...sub.topics] });
    this.remove(sub);
  }

  /** Logout: every subscriber is told its subscription is over, and removed. */
  endAll(): void {
    const everyone = [...this.ctx.fanout.all(), ...this.pending.splice(0).map(([sub]) => sub)];
    for (const sub of everyone) {
      this.ctx.fanout.sendDirect(sub, { kind: "ended", reason: "reset" });
      this.remove(sub);
    }
  }

  private place(sub: Subscriber, since: Since): void {
    const { positions, delivered, fanout } = this.ctx;
    const ordered = this.ordered;
    const history = new Map<string, Cursor>();
    for (const t of sub.topics) {
      const p = positions.get(t)?.cursor;
      if (since === "now") {
        // Live already: from what was handed over, not from what was accepted, so the events
        // still queued for the next flush reach it too (a resync with "now" must not lose them).
        const d = delivered.get(t);
        if (!fanout.everLive.has(t)) (sub.skipUntilLive ??= new Set()).add(t);
        else if (d !== undefined && ordered) (sub.floor ??= new Map()).set(t, d);
      } else if (since !== "stored") {
        const c = since[t];
        if (c === undefined) continue; // no cursor for this topic: "stored"
        if (ordered) {
          if (p !== undefined && (c as bigint) >= (p as bigint)) (sub.floor ??= new Map()).set(t, c);
          else history.set(t, c);
        } else if (c === delivered.get(t)) {
          continue; // joins exactly where delivery is
        } else if (c === p) {
          (sub.floor ??= new Map()).set(t, c); // the events up to it are queued: skip through it
        } else history.set(t, c);
      }
    }
    if (history.size > 0) this.catchups.add(sub, history);
    this.ctx.dispatcher.push({ kind: "joined", sub });
  }
}
