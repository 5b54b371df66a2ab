// The event log behind the server: per topic, cursor-numbered from 1 in each epoch, bounded by
// retention. `TopicLog` is the storage seam: a shared backend (Redis Streams) can serve several
// nodes behind it, which is why reads and writes are async, why the idempotency check lives in
// `append` (atomic with the write: a check outside it could lose an event between the two steps),
// and why retention is the backend's own business (the memory log prunes on append and on its own
// timer; the server never asks). `createMemoryLog` is the in-memory default. A log outlives a
// server: hand the same object to a second `startServer` to simulate a restart that kept its data.
import { create } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../proto/gen/onestream/v1/stream_pb";
import { ScopedKeys } from "./keys";
import { knob } from "./knobs";

/**
 * An Event as protobuf-es builds it (its messages are plain objects), without `create()`: that
 * fills defaults by reflection, ~1 µs an event on the hottest path of every log.
 */
export function newEvent(topic: string, cursor: bigint, payload: Uint8Array, publishedAtMs: bigint): Event {
  return { $typeName: EventSchema.typeName, topic, cursor, payload, publishedAtMs };
}

export interface AppendResult {
  event: Event;
  /** The idempotency key was seen before: `event` is the first append, nothing was written. */
  duplicate: boolean;
}

/** A publish's idempotency scope: a retry is a duplicate only when all three match. */
export interface IdempotencyKey {
  principal: string;
  key: string;
}

export interface TopicBounds {
  /** The topic's epoch: its cursors mean nothing under another. */
  epoch: string;
  /** Last cursor ever assigned in this epoch; 0 when the topic never had an event. */
  head: bigint;
  /** First retained cursor; head + 1 when nothing is retained. */
  earliest: bigint;
}

/** Retained events of one topic, read together with the epoch they belong to. */
export interface TopicSlice {
  epoch: string;
  events: Event[];
}

/** What a stream hears from the log about its topics. */
export interface LogListener {
  /** An event was appended (its payload size counts toward a slow stream's lag). */
  appended(event: Event): void;
  /**
   * Read `topic` again: its epoch may have changed (its data was lost) or notices may have been
   * missed (a shared log's notice connection dropped). Reading after the last sent cursor is
   * always safe, so this never loses or repeats an event.
   */
  recheck(topic: string): void;
}

/** What a log holds right now (a local view), for /admin/stats. */
export interface LogUsage {
  /** Which backend: "memory" for createMemoryLog, "redis" for createRedisLog. */
  kind: string;
  /** The node's id, for a log shared by several nodes. */
  node?: string;
  /** Topics with state (a head) in this epoch. */
  topics: number;
  /** Topics with at least one append listener. */
  listenedTopics: number;
  retainedEvents: number;
  /** Sum of the retained payloads' sizes. */
  retainedBytes: number;
  idempotencyKeys: number;
}

export interface TopicLog {
  /**
   * The epoch of every topic, changed by reset(): cursors from another epoch are meaningless.
   * "" when each topic has its own (see bounds() and read()): a shared log loses one topic's
   * data without another's.
   */
  epoch(): string;
  /**
   * Appends one event. With a key seen before for the same principal and topic, returns the
   * first event and writes nothing; the check and the write are one atomic step.
   */
  append(topic: string, payload: Uint8Array, idempotency?: IdempotencyKey): Promise<AppendResult>;
  /** Up to `limit` retained events of `topic` with cursor > `after`, in cursor order, and their epoch. */
  read(topic: string, after: bigint, limit: number): Promise<TopicSlice>;
  bounds(topic: string): Promise<TopicBounds>;
  /** Head cursor of every topic that ever had an event in this epoch (a local view). */
  heads(): ReadonlyMap<string, bigint>;
  /**
   * Tells `listener` about appends to `topics` (synchronously, for the memory log) from the
   * moment the returned promise resolves; its value unsubscribes.
   */
  subscribe(topics: readonly string[], listener: LogListener): Promise<() => void>;
  /** Forgets every event and key and starts a new epoch: a server that lost its data. */
  reset(): Promise<void>;
  usage(): LogUsage;
  /** Stops the backend's timers (and connections); the log must not be used afterwards. */
  close(): Promise<void>;
}

/** Events kept per topic by default. */
export const DEFAULT_RETENTION_EVENTS = 10_000;
/** Ceiling on retained events per topic (to catch garbage, not a tuning target). */
export const MAX_RETENTION_EVENTS = 10_000_000;
/** Age after which events are dropped by default: one day. */
export const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Ceiling on retention age: 30 days. */
export const MAX_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** Idempotency keys remembered per principal (its oldest is forgotten first). */
export const DEFAULT_KEYS_PER_PRINCIPAL = 10_000;
/** Ceiling on keys per principal. */
export const MAX_KEYS_PER_PRINCIPAL = 1_000_000;
/** Age after which an idempotency key is forgotten by default: one day. */
export const DEFAULT_KEY_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Ceiling on key age: 30 days. */
export const MAX_KEY_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;
/** Longest pause between two sweeps of expired events and keys. */
export const MAX_SWEEP_INTERVAL_MS = 60_000;
/** Shortest pause between two sweeps (a tiny retention age must not spin the timer). */
const MIN_SWEEP_INTERVAL_MS = 10;

/** Runs `fn` every `ms` until the returned stop function is called. */
export type Every = (ms: number, fn: () => void) => () => void;

export interface MemoryLogOptions {
  maxEvents?: number;
  maxAgeMs?: number;
  /** Idempotency keys remembered per principal. */
  maxKeysPerPrincipal?: number;
  /** Age after which an idempotency key is forgotten. */
  keyMaxAgeMs?: number;
  /** Wall clock for published_at, retention and key age; injectable for tests. */
  now?: () => number;
  /** The sweep timer; an unref'd setInterval by default, injectable for tests. */
  every?: Every;
  /** Epoch id factory; random by default. */
  newEpoch?: () => string;
}

interface TopicState {
  head: bigint;
  /** Retained events live at events[start..]; dropped slots are cleared at once (their payloads
   *  are freed) and the array is compacted only once its empty prefix is large. */
  events: (Event | undefined)[];
  start: number;
}

// Compacting the array only once its empty prefix is large keeps pruning O(1) amortized.
const COMPACT_AFTER = 1024;

/** Retention and idempotency limits, the same for every backend. */
export interface LogLimits {
  maxEvents: number;
  maxAgeMs: number;
  maxKeysPerPrincipal: number;
  keyMaxAgeMs: number;
}

/** Resolves a backend's limits: defaults, and out-of-range values clamped with a line in `warnings`. */
export function logLimits(opts: MemoryLogOptions, warnings: string[]): LogLimits {
  return {
    maxEvents: knob("retention.maxEvents", opts.maxEvents, { fallback: DEFAULT_RETENTION_EVENTS, min: 1, max: MAX_RETENTION_EVENTS }, warnings),
    maxAgeMs: knob("retention.maxAgeMs", opts.maxAgeMs, { fallback: DEFAULT_RETENTION_MS, min: 1, max: MAX_RETENTION_MS }, warnings),
    maxKeysPerPrincipal: knob("idempotency.maxKeysPerPrincipal", opts.maxKeysPerPrincipal,
      { fallback: DEFAULT_KEYS_PER_PRINCIPAL, min: 1, max: MAX_KEYS_PER_PRINCIPAL }, warnings),
    keyMaxAgeMs: knob("idempotency.maxAgeMs", opts.keyMaxAgeMs, { fallback: DEFAULT_KEY_MAX_AGE_MS, min: 1, max: MAX_KEY_MAX_AGE_MS }, warnings),
  };
}

const unrefInterval: Every = (ms, fn) => {
  const timer = setInterval(fn, ms);
  timer.unref();
  return () => clearInterval(timer);
};

export function createMemoryLog(opts: MemoryLogOptions = {}): TopicLog {
  const warnings: string[] = [];
  const { maxEvents, maxAgeMs, maxKeysPerPrincipal, keyMaxAgeMs } = logLimits(opts, warnings);
  for (const warning of warnings) console.warn(`onestream log: ${warning}`);
  const now = opts.now ?? Date.now;
  const newEpoch = opts.newEpoch ?? (() => crypto.randomUUID());

  let epoch = newEpoch();
  let topics = new Map<string, TopicState>();
  /** Topics that retain at least one event: the only ones the sweep visits. */
  let retaining = new Set<string>();
  const totals = { events: 0, bytes: 0 };
  // Kept apart from the topics' state: a topic nobody published to and nobody listens to
  // leaves nothing behind.
  const listeners = new Map<string, Set<LogListener>>();
  const keys = new ScopedKeys({ maxPerPrincipal: maxKeysPerPrincipal, maxAgeMs: keyMaxAgeMs, now });

  function dropFirst(s: TopicState): void {
    const first = s.events[s.start]!;
    s.events[s.start] = undefined;
    s.start++;
    totals.events--;
    totals.bytes -= first.payload.length;
  }

  function prune(topic: string, s: TopicState): void {
    const oldest = now() - maxAgeMs;
    while (s.start < s.events.length) {
      const first = s.events[s.start]!;
      const tooMany = s.events.length - s.start > maxEvents;
      if (!tooMany && Number(first.publishedAtMs) >= oldest) break;
      dropFirst(s);
    }
    if (s.start === s.events.length) {
      s.events = [];
      s.start = 0;
      retaining.delete(topic);
    } else if (s.start >= COMPACT_AFTER && s.start * 2 >= s.events.length) {
      s.events = s.events.slice(s.start);
      s.start = 0;
    }
  }

  function earliest(s: TopicState): bigint {
    const first = s.events[s.start];
    return first ? first.cursor : s.head + 1n;
  }

  /** The event a remembered key points at, or a stand-in with its cursor once it expired. */
  function firstEvent(topic: string, cursor: bigint): Event {
    const s = topics.get(topic);
    const kept = s && cursor >= earliest(s) ? s.events[s.start + Number(cursor - earliest(s))] : undefined;
    // An expired first event still answers with its cursor, which is all Publish returns.
    return kept ?? create(EventSchema, { topic, cursor });
  }

  const sweepEvery = Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(MIN_SWEEP_INTERVAL_MS, Math.floor(Math.min(maxAgeMs, keyMaxAgeMs) / 4)));
  const stopSweeping = (opts.every ?? unrefInterval)(sweepEvery, () => {
    for (const topic of retaining) prune(topic, topics.get(topic)!);
    keys.sweep();
  });

  return {
    epoch: () => epoch,

    async append(topic, payload, idempotency) {
      if (idempotency) {
        const seen = keys.get(idempotency.principal, topic, idempotency.key);
        if (seen) return { event: firstEvent(topic, seen.cursor), duplicate: true };
      }
      let s = topics.get(topic);
      if (!s) {
        s = { head: 0n, events: [], start: 0 };
        topics.set(topic, s);
      }
      s.head += 1n;
      const event = newEvent(topic, s.head, payload, BigInt(now()));
      s.events.push(event);
      retaining.add(topic);
      totals.events++;
      totals.bytes += payload.length;
      prune(topic, s);
      if (idempotency) keys.remember(idempotency.principal, topic, idempotency.key, event.cursor);
      for (const listener of listeners.get(topic) ?? []) listener.appended(event);
      return { event, duplicate: false };
    },

    async read(topic, after, limit) {
      const s = topics.get(topic);
      if (!s || limit <= 0) return { epoch, events: [] };
      prune(topic, s);
      const first = earliest(s);
      const from = after < first ? 0 : Number(after + 1n - first);
      const begin = s.start + from;
      return { epoch, events: s.events.slice(begin, begin + limit) as Event[] };
    },

    async bounds(topic) {
      const s = topics.get(topic);
      if (!s) return { epoch, head: 0n, earliest: 1n };
      prune(topic, s);
      return { epoch, head: s.head, earliest: earliest(s) };
    },

    heads() {
      const heads = new Map<string, bigint>();
      for (const [topic, s] of topics) heads.set(topic, s.head);
      return heads;
    },

    async subscribe(names, listener) {
      const unique = [...new Set(names)];
      for (const topic of unique) {
        let set = listeners.get(topic);
        if (!set) {
          set = new Set();
          listeners.set(topic, set);
        }
        set.add(listener);
      }
      return () => {
        for (const topic of unique) {
          const set = listeners.get(topic);
          if (set?.delete(listener) && set.size === 0) listeners.delete(topic);
        }
      };
    },

    async reset() {
      epoch = newEpoch();
      keys.clear();
      // Listeners stay: they belong to topic names, which outlive the epoch.
      topics = new Map();
      retaining = new Set();
      totals.events = 0;
      totals.bytes = 0;
    },

    usage: () => ({
      kind: "memory",
      topics: topics.size,
      listenedTopics: listeners.size,
      retainedEvents: totals.events,
      retainedBytes: totals.bytes,
      idempotencyKeys: keys.size,
    }),

    async close() {
      stopSweeping();
    },
  };
}
