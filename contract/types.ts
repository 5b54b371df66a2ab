// The data that crosses the tab/worker boundary: what the app receives, what it can ask for and
// the status it sees. Plain, structured-cloneable types; the engine, the host and the tab client
// all import them from here, so no side imports the other's internals for a type.

/**
 * A position in a topic. `bigint` for protocols whose cursors grow (onestream.v1, Kubernetes
 * resource versions, etcd revisions, offsets); `string` for opaque resume tokens that can only be
 * compared for equality (Firestore-style). Which one a stream uses is its adapter's choice.
 */
export type Cursor = bigint | string;

/** An event as the app sees it. */
export interface StreamEvent<C extends Cursor = bigint> {
  topic: string;
  cursor: C;
  payload: Uint8Array;
  /** Server time of the publish, ms since the epoch; 0 when the protocol does not say. */
  publishedAt: number;
  /** Whatever else the adapter read from the wire for the app (e.g. a key, an operation). */
  meta?: Readonly<Record<string, string>>;
}

/**
 * Why a position was lost. retention: the server no longer has the events after it; epoch: the
 * server lost its log (cursors restarted); ahead: the cursor is past the server's head; oversized:
 * one event was over the read limit and was skipped; resync: a replay could not be lined up with
 * the live stream (opaque cursors only).
 */
export type ResetReason = "retention" | "epoch" | "ahead" | "oversized" | "resync";

/** What a subscriber receives, in order. */
export type Delivery<C extends Cursor = Cursor> =
  | { kind: "events"; events: StreamEvent<C>[] }
  /** These topics sent all their history: what follows is live. */
  | { kind: "live"; topics: string[] }
  /** The subscriber's position in `topic` was lost; it must resync. Events continue after `resumeAfter`. */
  | { kind: "reset"; topic: string; reason: ResetReason; resumeAfter: C | undefined }
  /** This subscriber fell behind its bounded queue and was cut; it must resubscribe (host-level). */
  | { kind: "overflow"; topics: string[] }
  /**
   * The server refused these topics (permission_denied, not_found, invalid_argument) when they
   * were added beside a healthy stream: they left the stream, the rest keeps running. The
   * subscriber gets nothing more for them; subscribing again retries.
   */
  | { kind: "denied"; topics: string[]; error: ErrorInfo }
  /** The subscription is over: reset() (logout) ended every subscription of the user. */
  | { kind: "ended"; reason: "reset" };

/** Where a subscription starts: live from now, from the stored cursors, or after these cursors. */
export type Since<C extends Cursor = Cursor> = "now" | "stored" | Record<string, C>;

export type State =
  | "connecting"
  | "catching-up"
  | "live"
  | "backoff"
  | "offline"
  | "closed"
  | "failed";

export interface ErrorInfo {
  /** Connect code name, e.g. "unavailable", "permission_denied", "stale", or http_<status>. */
  code: string;
  message: string;
  /** Wall-clock ms when it happened (status errors carry it). */
  at?: number;
}

export interface Status {
  state: State;
  /** Connection epoch: 0 before the first successful open, 1 on it, +1 on every reopen. */
  connection: number;
  /** Server epoch from the stream's opening frame, "" before one (or when the protocol has none). */
  serverEpoch: string;
  /** Last error that caused a reconnect or the failure. */
  lastError?: ErrorInfo;
  /** Wall-clock ms of the next attempt while in backoff. */
  nextAttemptAt?: number;
  /** Topics currently in the stream that are live (caught up). */
  liveTopics: string[];
  /** Topics currently in the stream. */
  topics: string[];
}

export type NetworkHint = "online" | "offline" | "pageshow" | "resume" | "visible";

