// One node's view of the topics its streams follow in the Redis log: one subscriber connection
// for the whole node, one channel per topic (ref-counted: subscribed while a stream here wants
// it), the script's notices fanned out to the local listeners, and a short cache of each
// topic's newest events so that N streams reading the same new event cost one notice, not N
// round trips.
//
// The cache is only ever a contiguous run of events of one epoch, exactly as the notices came:
// a notice that does not follow the run (a gap, another epoch) starts a new run, and a read
// outside the run goes to Redis. So the cache can never make a stream skip or repeat an event;
// the stream itself always reads strictly after the last cursor it sent (service.ts).
//
// What a notice cannot tell (the subscriber connection dropped and notices were missed, the
// topic's data was flushed with nobody publishing) the node finds by looking: after every
// reconnect, and every `checkMs`, it asks each followed topic's epoch and head, and tells the
// listeners to read again when either moved without a notice.
import type { Event } from "../proto/gen/onestream/v1/stream_pb";
import { newEvent, type LogListener } from "./log";

/** Most events cached per followed topic. */
export const CACHE_EVENTS = 256;
/** Most payload bytes cached per followed topic. */
export const CACHE_BYTES = 1024 * 1024;
/** Most payload bytes cached over all topics: however many topics a node follows, this bounds it. */
export const CACHE_TOTAL_BYTES = 64 * 1024 * 1024;

interface Followed {
  readonly topic: string;
  readonly channel: string;
  readonly listeners: Set<LogListener>;
  /** Resolves once Redis confirmed the subscription. */
  ready: Promise<void>;
  /** Epoch and head as last seen (notice or check); "" until the first look. */
  epoch: string;
  head: bigint;
  /** A contiguous run of events of `epoch`, oldest first. */
  run: Event[];
  runBytes: number;
}

/** What the feed needs from the Redis connections. */
export interface FeedBackend {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** Epoch and head of `topic`, given what this node saw (see CHECK in redis-scripts.ts). */
  check(topic: string, seenEpoch: string, seenHead: bigint): Promise<{ epoch: string; head: bigint }>;
}

export class TopicFeed {
  private readonly followed = new Map<string, Followed>();
  private readonly byChannel = new Map<string, Followed>();
  private cachedBytes = 0;

  constructor(
    private readonly backend: FeedBackend,
    private readonly channelOf: (topic: string) => string,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.followed.size;
  }

  /** Events and bytes cached over all topics. */
  cached(): { events: number; bytes: number } {
    let events = 0;
    for (const f of this.followed.values()) events += f.run.length;
    return { events, bytes: this.cachedBytes };
  }

  heads(): Map<string, bigint> {
    const heads = new Map<string, bigint>();
    for (const f of this.followed.values()) if (f.head > 0n) heads.set(f.topic, f.head);
    return heads;
  }

  /** Adds `listener` to `topics`; resolves once every channel is subscribed. */
  async follow(topics: readonly string[], listener: LogListener): Promise<() => void> {
    const unique = [...new Set(topics)];
    const waits: Promise<void>[] = [];
    for (const topic of unique) {
      let f = this.followed.get(topic);
      if (!f) {
        const channel = this.channelOf(topic);
        f = { topic, channel, listeners: new Set(), ready: Promise.resolve(), epoch: "", head: 0n, run: [], runBytes: 0 };
        const started = f;
        f.ready = this.backend.subscribe(channel).then(() => this.look(started));
        this.followed.set(topic, f);
        this.byChannel.set(channel, f);
      }
      f.listeners.add(listener);
      waits.push(f.ready);
    }
    const stop = () => {
      for (const topic of unique) {
        const f = this.followed.get(topic);
        if (!f?.listeners.delete(listener) || f.listeners.size > 0) continue;
        this.clear(f);
        this.followed.delete(topic);
        this.byChannel.delete(f.channel);
        this.backend.unsubscribe(f.channel).catch(() => {}); // a dropped connection unsubscribed it anyway
      }
    };
    try {
      await Promise.all(waits);
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  /** A notice from the append script: "<epoch>\n<cursor>\n<at ms>\n<payload>". */
  notice(channel: string, message: Buffer): void {
    const f = this.byChannel.get(channel);
    if (!f) return;
    const a = message.indexOf(10);
    const b = message.indexOf(10, a + 1);
    const c = message.indexOf(10, b + 1);
    if (a < 0 || b < 0 || c < 0) return;
    const epoch = message.toString("latin1", 0, a);
    const cursor = BigInt(message.toString("latin1", a + 1, b));
    const event = newEvent(f.topic, cursor, new Uint8Array(message.subarray(c + 1)), BigInt(message.toString("latin1", b + 1, c)));
    const last = f.run[f.run.length - 1];
    const sameEpoch = epoch === f.epoch;
    if (sameEpoch && last !== undefined && cursor <= last.cursor) return; // seen
    if (!(sameEpoch && last !== undefined && cursor === last.cursor + 1n)) this.clear(f);
    f.run.push(event);
    f.runBytes += event.payload.length;
    this.cachedBytes += event.payload.length;
    if (!sameEpoch || cursor > f.head) f.head = cursor;
    f.epoch = epoch;
    while (f.run.length > CACHE_EVENTS || (f.runBytes > CACHE_BYTES && f.run.length > 1)) this.dropOldest(f);
    if (this.cachedBytes > CACHE_TOTAL_BYTES) this.clear(f); // over the node's budget: Redis answers this topic's reads
    for (const listener of f.listeners) listener.appended(event);
  }

  /**
   * Up to `limit` events after `after` from the cache, or undefined when the cache cannot
   * answer for sure (outside its run, or another epoch): read Redis then.
   */
  read(topic: string, after: bigint, limit: number): { epoch: string; events: Event[] } | undefined {
    const f = this.followed.get(topic);
    if (!f) return undefined;
    const oldest = this.now() - this.maxAgeMs;
    while (f.run.length > 0 && Number(f.run[0]!.publishedAtMs) < oldest) this.dropOldest(f);
    const first = f.run[0];
    const last = f.run[f.run.length - 1];
    if (!first || !last || f.head !== last.cursor || after < first.cursor - 1n || after > last.cursor) return undefined;
    const from = Number(after - first.cursor + 1n);
    return { epoch: f.epoch, events: f.run.slice(from, from + limit) };
  }

  /** Every followed topic: read again (the subscriber connection came back: notices were lost). */
  recheckAll(): void {
    for (const f of this.followed.values()) this.invalidate(f);
  }

  /** Looks at every followed topic once (the periodic check). */
  async lookAll(): Promise<void> {
    await Promise.all([...this.followed.values()].map((f) => this.look(f).catch(() => {})));
  }

  private async look(f: Followed): Promise<void> {
    const seen = { epoch: f.epoch, head: f.head };
    const now = await this.backend.check(f.topic, seen.epoch, seen.head);
    if (f.epoch !== seen.epoch || f.head !== seen.head) return; // a notice came meanwhile: it is newer
    if (now.epoch === f.epoch && now.head === f.head) return;
    const first = f.epoch === "";
    f.epoch = now.epoch;
    f.head = now.head;
    if (!first) this.invalidate(f);
  }

  private dropOldest(f: Followed): void {
    const bytes = f.run.shift()!.payload.length;
    f.runBytes -= bytes;
    this.cachedBytes -= bytes;
  }

  private clear(f: Followed): void {
    this.cachedBytes -= f.runBytes;
    f.run = [];
    f.runBytes = 0;
  }

  private invalidate(f: Followed): void {
    this.clear(f);
    for (const listener of f.listeners) listener.recheck(f.topic);
  }
}
