// One tab's event pipe: coalesces the deliveries of one task into a single postMessage (per-event
// messages cap fan-out at ~100 k ev/s, batches reach millions), counts what the tab has not
// acknowledged, and — when a frozen or slow tab falls a whole queue behind — stops sending to it
// instead of growing memory or stalling other tabs. While stopped it remembers, per subscription,
// which topics lost events and the cursor to resume each after (plus held resets and "live"s);
// the host resubscribes exactly those topics from those cursors. Repeats are possible (a resync
// resends nothing the tab lacks, but may resend what it has), so the client dedupes by cursor.
// A delivery's engine ack (which lets its cursor be stored) is called when the tab acknowledges
// the batch that carried it, unless the tab says its app failed on that subscription's part.
import type { Cursor, Delivery, Status, StreamEvent } from "../engine/types";
import type { AckMessage, BatchMessage, DataEndpoint } from "../../contract/protocol";

/** Events sent to a tab and not yet acknowledged before it is cut off; ~a few MB of typical events. */
export const DEFAULT_MAX_UNACKED_EVENTS = 50_000;
/** Ceiling of the above, only to catch garbage config. */
export const MAX_MAX_UNACKED_EVENTS = 5_000_000;
/** A batch is posted at once when it holds this many events, without waiting for the task to end. */
export const DEFAULT_MAX_BATCH_EVENTS = 1_000;
/** Ceiling of the above. */
export const MAX_MAX_BATCH_EVENTS = 100_000;

export interface PipeConfig {
  maxUnackedEvents: number;
  maxBatchEvents: number;
}

/** Per subscription: topic → cursor to resume after. */
type Positions = Map<string, Cursor>;

/** What a subscription needs after a cut-off (see `resumePoints`). */
export interface ResumePoint {
  /** Topics that lost deliveries → the cursor to resume each after. */
  after: Map<string, Cursor>;
  /**
   * Topics that lost deliveries before the tab got any of their events, with opaque cursors:
   * where to resume is not known (no cursor can be computed from the first lost one).
   */
  unknown: string[];
  /** Resets held while cut off, to deliver before the resumed stream. */
  resets: Delivery[];
  /** Topics reported live while cut off whose subscription runs on. */
  live: string[];
}

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let s = map.get(key);
  if (s === undefined) {
    s = new Set();
    map.set(key, s);
  }
  return s;
}

export class TabPipe {
  private queue: Array<[number, Delivery]> = [];
  /** Engine acks of the queued deliveries, by subscription. */
  private queueAcks: Array<[number, () => void]> = [];
  private queuedEvents = 0;
  private pendingStatus: Status | undefined;
  private scheduled = false;
  private seq = 0;
  /** Posted, unacknowledged batches: [seq, event count, engine acks by subscription], oldest first. */
  private inflight: Array<[number, number, Array<[number, () => void]>]> = [];
  private unacked = 0;
  private cutOff = false;
  private closed = false;
  private readonly positions = new Map<number, Positions>();
  /** Resets that happened while cut off, delivered on resync. */
  private readonly heldResets = new Map<number, Map<string, Delivery>>();
  /** Per subscription, topics reported live while cut off, reported on resync. */
  private readonly heldLive = new Map<number, Set<string>>();
  /** Per subscription, topics that lost deliveries while cut off: the ones to resubscribe. */
  private readonly lost = new Map<number, Set<string>>();
  private readonly onMessage = (ev: MessageEvent): void => this.receive(ev.data);

  constructor(
    private readonly endpoint: DataEndpoint,
    private readonly config: PipeConfig,
  ) {
    endpoint.addEventListener("message", this.onMessage);
    endpoint.start?.();
  }

  /** True from an overflow until `resumePoints` is taken for a resync. */
  get overflowed(): boolean {
    return this.cutOff;
  }

  /** Queues `d` for the tab; `ack` runs once the tab's app has processed it. */
  deliver(sub: number, d: Delivery, ack?: () => void): void {
    if (this.closed) return;
    if (d.kind === "events" && d.events.length === 0) return;
    if (!this.cutOff && d.kind === "events" && !this.fits(d.events.length)) this.cut();
    if (this.cutOff) {
      this.remember(sub, d);
      return;
    }
    if (d.kind === "events") {
      this.advance(sub, d.events);
      this.queuedEvents += d.events.length;
    } else if (d.kind === "reset") {
      this.setPosition(sub, d.topic, d.resumeAfter);
    }
    this.queue.push([sub, d]);
    if (ack !== undefined) this.queueAcks.push([sub, ack]);
    if (this.queuedEvents >= this.config.maxBatchEvents) this.flush();
    else this.later();
  }

  status(s: Status): void {
    if (this.closed) return;
    this.pendingStatus = s;
    this.later();
  }

  /**
   * Ends the cut-off: returns, per subscription that lost anything, the cursor to resume after
   * for each topic that lost deliveries (every other topic lost nothing: its subscription runs
   * on), the resets held meanwhile (to deliver before the resumed stream) and the "live" topics
   * held meanwhile whose subscription runs on (a resubscribed topic reports live again).
   */
  resumePoints(): Map<number, ResumePoint> {
    const out = new Map<number, ResumePoint>();
    const subs = new Set([...this.lost.keys(), ...this.heldResets.keys(), ...this.heldLive.keys()]);
    for (const sub of subs) {
      const lost = this.lost.get(sub) ?? new Set<string>();
      const pos = this.position(sub);
      const after = new Map<string, Cursor>();
      const unknown: string[] = [];
      for (const t of lost) {
        const at = pos.get(t);
        if (at === undefined) unknown.push(t);
        else after.set(t, at);
      }
      const live = [...(this.heldLive.get(sub) ?? [])].filter((t) => !lost.has(t));
      out.set(sub, { after, unknown, resets: [...(this.heldResets.get(sub)?.values() ?? [])], live });
    }
    this.heldResets.clear();
    this.heldLive.clear();
    this.lost.clear();
    this.cutOff = false;
    return out;
  }

  /** Per topic, the cursor of the last event sent to `sub` (or to resume after, when cut off). */
  positionsOf(sub: number): ReadonlyMap<string, Cursor> {
    return this.positions.get(sub) ?? new Map<string, Cursor>();
  }

  forget(sub: number): void {
    this.positions.delete(sub);
    this.heldResets.delete(sub);
    this.heldLive.delete(sub);
    this.lost.delete(sub);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queueAcks = [];
    this.inflight = [];
    this.endpoint.removeEventListener("message", this.onMessage);
    this.endpoint.close();
  }

  /** Always admits a delivery into an empty pipe, so one huge catch-up batch cannot loop forever. */
  private fits(n: number): boolean {
    const pending = this.unacked + this.queuedEvents;
    return pending === 0 || pending + n <= this.config.maxUnackedEvents;
  }

  private cut(): void {
    this.flush();
    this.cutOff = true;
    this.post({ t: "batch", seq: ++this.seq, deliveries: [], overflow: true }, 0, []);
  }

  private remember(sub: number, d: Delivery): void {
    if (d.kind === "events") {
      const pos = this.position(sub);
      const lost = setOf(this.lost, sub);
      for (const e of d.events) {
        if (lost.has(e.topic)) continue;
        lost.add(e.topic);
        // Resume after the last event sent, or (none sent yet) just before this first lost one.
        if (!pos.has(e.topic) && typeof e.cursor === "bigint") pos.set(e.topic, e.cursor - 1n);
      }
    } else if (d.kind === "reset") {
      this.setPosition(sub, d.topic, d.resumeAfter);
      setOf(this.lost, sub).add(d.topic);
      const held = this.heldResets.get(sub) ?? new Map<string, Delivery>();
      held.set(d.topic, d);
      this.heldResets.set(sub, held);
    } else if (d.kind === "live") {
      for (const t of d.topics) setOf(this.heldLive, sub).add(t);
    } else {
      // "overflow", "denied": rare, and the tab must act on them; they do not count against the bound.
      this.queue.push([sub, d]);
      this.later();
    }
  }

  /** A reset's position; none (resume "from now") forgets the topic's. */
  private setPosition(sub: number, topic: string, at: Cursor | undefined): void {
    if (at === undefined) this.position(sub).delete(topic);
    else this.position(sub).set(topic, at);
  }

  private advance(sub: number, events: StreamEvent<Cursor>[]): void {
    const pos = this.position(sub);
    for (const e of events) pos.set(e.topic, e.cursor);
  }

  private position(sub: number): Positions {
    let pos = this.positions.get(sub);
    if (pos === undefined) {
      pos = new Map();
      this.positions.set(sub, pos);
    }
    return pos;
  }

  private later(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Called bare: browsers throw "Illegal invocation" for a queueMicrotask called as a method.
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || (this.queue.length === 0 && this.pendingStatus === undefined)) return;
    const msg: BatchMessage = { t: "batch", seq: ++this.seq, deliveries: this.queue };
    if (this.pendingStatus !== undefined) msg.status = this.pendingStatus;
    const n = this.queuedEvents;
    const acks = this.queueAcks;
    this.queue = [];
    this.queueAcks = [];
    this.queuedEvents = 0;
    this.pendingStatus = undefined;
    this.post(msg, n, acks);
  }

  private post(msg: BatchMessage, events: number, acks: Array<[number, () => void]>): void {
    this.inflight.push([msg.seq, events, acks]);
    this.unacked += events;
    try {
      this.endpoint.postMessage(msg);
    } catch {
      // A closed endpoint: the tab is gone and its lock release will remove it.
    }
  }

  /**
   * The tab handled every batch up to `seq`; in batch `seq` its app failed (threw, rejected) on
   * the deliveries of the subscriptions in `failed`, whose engine acks are therefore not called.
   */
  ack(seq: number, failed: readonly number[] = []): void {
    while (this.inflight.length > 0 && this.inflight[0]![0] <= seq) {
      const [batch, events, acks] = this.inflight.shift()!;
      this.unacked -= events;
      for (const [sub, ack] of acks) if (batch !== seq || !failed.includes(sub)) ack();
    }
  }

  private receive(data: unknown): void {
    const ack = data as Partial<AckMessage> | null;
    if (ack === null || typeof ack !== "object" || ack.t !== "ack" || typeof ack.seq !== "number") return;
    const failed = Array.isArray(ack.failed) ? ack.failed.filter((n): n is number => typeof n === "number") : [];
    this.ack(ack.seq, failed);
  }
}
