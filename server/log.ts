// The event log behind the server: per topic, cursor-numbered from 1 in each epoch, bounded by
// retention. `TopicLog` is the storage seam (a Redis Streams backend could serve several nodes
// behind it: that is why reads and writes are async and idempotency lives here, atomic with the
// append); `createMemoryLog` is the in-memory default. A log outlives a server: hand the same
// object to a second `startServer` to simulate a restart that kept its data.
import { create } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../proto/gen/onestream/v1/stream_pb";
import { BoundedKeys } from "./keys";
import { knob } from "./knobs";

export interface AppendResult {
  event: Event;
  /** The idempotency key was seen before: `event` is the first append, nothing was written. */
  duplicate: boolean;
}

export interface TopicBounds {
  /** Last cursor ever assigned in this epoch; 0 when the topic never had an event. */
  head: bigint;
  /** First retained cursor; head + 1 when nothing is retained. */
  earliest: bigint;
}

export interface TopicLog {
  /** Changes on reset(): cursors from another epoch are meaningless. */
  epoch(): string;
  /** Appends one event. With a key seen before, returns the first event and writes nothing. */
  append(topic: string, payload: Uint8Array, idempotencyKey?: string): Promise<AppendResult>;
  /** Up to `limit` retained events of `topic` with cursor > `after`, in cursor order. */
  read(topic: string, after: bigint, limit: number): Promise<Event[]>;
  bounds(topic: string): Promise<TopicBounds>;
  /** Head cursor of every topic that ever had an event in this epoch (a local view). */
  heads(): ReadonlyMap<string, bigint>;
  /** Calls `onAppend` after each append to one of `topics` (synchronously, for the memory log). */
  subscribe(topics: readonly string[], onAppend: (event: Event) => void): () => void;
  /** Forgets every event and key and starts a new epoch: a server that lost its data. */
  reset(): Promise<void>;
}

/** Events kept per topic by default. */
export const DEFAULT_RETENTION_EVENTS = 10_000;
/** Ceiling on retained events per topic (to catch garbage, not a tuning target). */
export const MAX_RETENTION_EVENTS = 10_000_000;
/** Age after which events are dropped by default: one day. */
export const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Ceiling on retention age: 30 days. */
export const MAX_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** Idempotency keys remembered (the oldest is forgotten first). */
export const DEFAULT_MAX_KEYS = 100_000;
/** Ceiling on remembered idempotency keys. */
export const MAX_KEYS = 10_000_000;

export interface MemoryLogOptions {
  maxEvents?: number;
  maxAgeMs?: number;
  maxKeys?: number;
  /** Wall clock for published_at and age-based retention; injectable for tests. */
  now?: () => number;
  /** Epoch id factory; random by default. */
  newEpoch?: () => string;
}

interface TopicState {
  head: bigint;
  /** Retained events live at events[start..]; the prefix is dropped lazily, in chunks. */
  events: Event[];
  start: number;
  listeners: Set<(event: Event) => void>;
}

// Compacting the retained array only once its dropped prefix is large keeps pruning O(1) amortized.
const COMPACT_AFTER = 1024;

export function createMemoryLog(opts: MemoryLogOptions = {}): TopicLog {
  const warnings: string[] = [];
  const maxEvents = knob("retention.maxEvents", opts.maxEvents,
    { fallback: DEFAULT_RETENTION_EVENTS, min: 1, max: MAX_RETENTION_EVENTS }, warnings);
  const maxAgeMs = knob("retention.maxAgeMs", opts.maxAgeMs,
    { fallback: DEFAULT_RETENTION_MS, min: 1, max: MAX_RETENTION_MS }, warnings);
  const maxKeys = knob("maxKeys", opts.maxKeys, { fallback: DEFAULT_MAX_KEYS, min: 1, max: MAX_KEYS }, warnings);
  for (const warning of warnings) console.warn(`onestream log: ${warning}`);
  const now = opts.now ?? Date.now;
  const newEpoch = opts.newEpoch ?? (() => crypto.randomUUID());

  let epoch = newEpoch();
  let topics = new Map<string, TopicState>();
  const keys = new BoundedKeys(maxKeys);

  function state(topic: string): TopicState {
    let s = topics.get(topic);
    if (!s) {
      s = { head: 0n, events: [], start: 0, listeners: new Set() };
      topics.set(topic, s);
    }
    return s;
  }

  function prune(s: TopicState): void {
    const oldest = now() - maxAgeMs;
    while (s.start < s.events.length) {
      const first = s.events[s.start]!;
      const tooMany = s.events.length - s.start > maxEvents;
      if (!tooMany && Number(first.publishedAtMs) >= oldest) break;
      s.start++;
    }
    if (s.start >= COMPACT_AFTER && s.start * 2 >= s.events.length) {
      s.events = s.events.slice(s.start);
      s.start = 0;
    }
  }

  function earliest(s: TopicState): bigint {
    const first = s.events[s.start];
    return first ? first.cursor : s.head + 1n;
  }

  return {
    epoch: () => epoch,

    async append(topic, payload, idempotencyKey) {
      if (idempotencyKey) {
        const seen = keys.get(idempotencyKey);
        if (seen) {
          const s = topics.get(seen.topic);
          const kept = s && seen.cursor >= earliest(s) ? s.events[s.start + Number(seen.cursor - earliest(s))] : undefined;
          // An expired first event still answers with its cursor, which is all Publish returns.
          const event = kept ?? create(EventSchema, { topic: seen.topic, cursor: seen.cursor });
          return { event, duplicate: true };
        }
      }
      const s = state(topic);
      s.head += 1n;
      const event = create(EventSchema, { topic, cursor: s.head, payload, publishedAtMs: BigInt(now()) });
      s.events.push(event);
      prune(s);
      if (idempotencyKey) keys.remember(idempotencyKey, { topic, cursor: event.cursor });
      for (const listener of s.listeners) listener(event);
      return { event, duplicate: false };
    },

    async read(topic, after, limit) {
      const s = topics.get(topic);
      if (!s || limit <= 0) return [];
      prune(s);
      const first = earliest(s);
      const from = after < first ? 0 : Number(after + 1n - first);
      const begin = s.start + from;
      return s.events.slice(begin, begin + limit);
    },

    async bounds(topic) {
      const s = topics.get(topic);
      if (!s) return { head: 0n, earliest: 1n };
      prune(s);
      return { head: s.head, earliest: earliest(s) };
    },

    heads() {
      const heads = new Map<string, bigint>();
      for (const [topic, s] of topics) if (s.head > 0n) heads.set(topic, s.head);
      return heads;
    },

    subscribe(names, onAppend) {
      const subscribed = names.map((topic) => state(topic));
      for (const s of subscribed) s.listeners.add(onAppend);
      return () => {
        for (const s of subscribed) s.listeners.delete(onAppend);
      };
    },

    async reset() {
      epoch = newEpoch();
      keys.clear();
      // Subscribers of the old epoch stay attached to their topics' fresh state.
      const next = new Map<string, TopicState>();
      for (const [topic, s] of topics) {
        if (s.listeners.size > 0) next.set(topic, { head: 0n, events: [], start: 0, listeners: s.listeners });
      }
      topics = next;
    },
  };
}
