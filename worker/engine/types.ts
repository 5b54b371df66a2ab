// The engine's contract with the world. The engine is pure: everything that touches a real
// clock, network, disk or random source comes in through these interfaces, so the same code
// runs in a SharedWorker, a dedicated Worker, a page, or under vitest with fakes.
import type { Cursor, Delivery, NetworkHint, ResetReason, Since, Status } from "../../contract/types";

export type * from "../../contract/types";

/** Time, injected. `monotonic` never jumps; `now` is wall time and does (sleep, NTP). */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (Date.now()). */
  now(): number;
  /** Monotonic milliseconds (performance.now()). */
  monotonic(): number;
  /** Runs `fn` once after `ms`; the returned function cancels it (idempotent). */
  setTimeout(fn: () => void, ms: number): () => void;
}

/** Uniform in [0, 1). */
export type Random = () => number;

export interface CallOptions {
  signal: AbortSignal;
  headers: Record<string, string>;
}

// ---- the upstream: one server-streaming method, seen as frames ----
// The engine parses no wire format. An adapter (worker/adapters/) turns a user's RPC into this
// interface: it builds the request from topics and cursors and reads each response into frames.

/** "ordered": bigint cursors that grow per topic. "opaque": tokens compared for equality only. */
export type CursorKind = "ordered" | "opaque";

/** Where one topic of a call starts. */
export interface TopicStart {
  topic: string;
  /** Resume strictly after this position; undefined: live from now. */
  after?: Cursor;
  /** The epoch `after` was issued under, when the protocol has epochs ("" = unknown). */
  epoch?: string;
}

/** An event as read off the wire (before dedupe). */
export interface WireEvent {
  topic: string;
  cursor: Cursor;
  payload: Uint8Array;
  publishedAt?: number;
  meta?: Readonly<Record<string, string>>;
}

/** The position of `topic` was lost; events go on after `resumeAfter` (undefined: from now). */
export interface ResetFrame {
  kind: "reset";
  topic: string;
  reason: ResetReason;
  resumeAfter?: Cursor;
  /** The topic's epoch from now on (protocols with per-topic epochs). */
  epoch?: string;
}

/** What one response of the upstream means to the engine. */
export type Frame =
  /**
   * The call is accepted (optional: the first frame of any kind opens a call). It may say how
   * often the server promises a frame and which epoch its cursors belong to.
   */
  | { kind: "open"; heartbeatMs?: number; epoch?: string }
  | { kind: "events"; events: readonly WireEvent[] }
  /** A cursor advance with no event (a bookmark): keeps an idle topic inside retention. */
  | { kind: "progress"; topic: string; cursor: Cursor; epoch?: string }
  /** These topics (undefined: every topic of the call) sent their history: what follows is live. */
  | { kind: "caught-up"; topics?: readonly string[] }
  | { kind: "heartbeat" }
  | ResetFrame;

export interface OpenOptions extends CallOptions {
  /** Ask for history only: the server ends the call after it (if the upstream supports it). */
  historyOnly: boolean;
}

export interface PublishInput {
  topic: string;
  payload: Uint8Array;
  /** Idempotency key: the same key again must not write a second event. */
  key: string;
}

/** The wire, as the engine sees it. Errors are ConnectError (errors.ts classifies them). */
export interface Upstream {
  readonly cursors: CursorKind;
  /** True when a historyOnly call ends by itself after its history; else the engine ends it at caught-up. */
  readonly historyOnly: boolean;
  /** Most topics one call may carry; undefined: the engine's own limit. */
  readonly maxTopics?: number;
  /** Frame interval the protocol promises when no open frame says (ms); undefined: no promise. */
  readonly heartbeatMs?: number;
  open(topics: readonly TopicStart[], opts: OpenOptions): AsyncIterable<Frame>;
  /** A failed call that means "these positions are gone" (cursor too old): the resets to apply. */
  resetsFor?(error: unknown, topics: readonly TopicStart[]): readonly ResetFrame[] | undefined;
  /** Absent: the protocol has no publish; Engine.publish rejects. */
  publish?(input: PublishInput, opts: CallOptions): Promise<{ cursor: Cursor | undefined }>;
}

/** Last delivered position of one topic for one user. */
export interface CursorRecord {
  topic: string;
  cursor: Cursor;
  /** Epoch the cursor was issued under ("" when the protocol has none). */
  epoch: string;
}

/** A publish waiting for the server's acknowledgement. Never holds a token. */
export interface OutboxRecord {
  /** Idempotency key, sent to the server; also the record's identity. */
  key: string;
  topic: string;
  payload: Uint8Array;
  /** Insertion order: sends go out in this order. */
  seq: number;
  createdAt: number;
}

/** Durable state, keyed by user. Every method is one transaction. */
export interface Storage {
  loadCursors(user: string): Promise<CursorRecord[]>;
  /**
   * Writes a whole batch in one transaction: `records` put, the cursors of `forget` deleted (a
   * reset left those topics with no position). Called with cursors a subscriber acknowledged.
   */
  saveCursors(user: string, records: CursorRecord[], forget?: string[]): Promise<void>;
  loadOutbox(user: string): Promise<OutboxRecord[]>;
  addOutbox(user: string, record: OutboxRecord): Promise<void>;
  removeOutbox(user: string, key: string): Promise<void>;
  /** Logout: removes every cursor and outbox record of `user`. */
  wipe(user: string): Promise<void>;
}

export interface Subscription {
  /** Idempotent. When the last subscriber of a topic leaves, the topic leaves the stream. */
  unsubscribe(): void;
}

/** Everything the engine needs from its host. */
export interface EngineDeps {
  upstream: Upstream;
  storage: Storage;
  clock: Clock;
  random: Random;
  /** Key for persisted state (cursors, outbox). Wiped by reset(). */
  user: string;
  /** Auth headers, asked on every (re)connect and once more after Unauthenticated. Never persisted. */
  getHeaders?: (why: "connect" | "refresh") => Promise<Record<string, string>>;
  /** Bad frames, clamped config and other things worth a console line; the engine keeps running. */
  warn?: (message: string) => void;
}

export interface Engine {
  /**
   * Adds a subscriber. Throws a TypeError (synchronously) for an empty list or a bad topic.
   * `since` defaults to "stored": resume from the persisted cursor, or live from now for a
   * topic never seen. A cursor older than the stream's position is caught up on a bounded
   * history-only second stream, then handed over to live: exactly once, in order. A topic the
   * server refuses (permission, not found, bad argument) while the stream is up leaves the
   * stream with a "denied" delivery; the subscription goes on with its other topics.
   */
  subscribe(topics: string[], sink: (d: Delivery, ack?: () => void) => void, opts?: { since?: Since }): Subscription;
  /**
   * Durable publish: stored in the outbox first, sent in order, resolved once acknowledged.
   * `key` (optional) is the idempotency key: a caller that lost its answer (its leader tab
   * changed) publishes again with the same key and waits on the same record, never a second one.
   */
  publish(topic: string, payload: Uint8Array, opts?: { key?: string }): Promise<{ cursor: Cursor | undefined }>;
  /** Resolves once the publish with `key` is in durable storage (see Outbox.durable). */
  durable(key: string): Promise<void>;
  hint(h: NetworkHint): void;
  /** The status now. */
  status(): Status;
  /**
   * Level-triggered watch: `cb` gets the current status at once, then whenever it differs from
   * the last one it got (changes between two calls collapse). Returns the unwatch function.
   */
  watchStatus(cb: (s: Status) => void): () => void;
  /** Teardown in one place. Afterwards every call rejects/throws a ClosedError; status ends "closed". */
  close(): Promise<void>;
  /**
   * Logout: every subscriber gets an "ended" delivery and is removed (the stream closes), this
   * user's cursors and outbox are wiped (pending publishes reject), and every position in memory
   * is forgotten, including saves still queued or waiting to retry. Nothing is stored again
   * until someone subscribes again. Resolves once wiped.
   */
  reset(): Promise<void>;
}
