// The data that crosses the tab/worker boundary: what the app receives, what it can ask for and
// the status it sees. Plain, structured-cloneable types; the engine, the host and the tab client
// all import them from here, so no side imports the other's internals for a type.

/** An event as the app sees it. */
export interface StreamEvent {
  topic: string;
  cursor: bigint;
  payload: Uint8Array;
  /** Server time of the publish, ms since the epoch. */
  publishedAt: number;
}

export type ResetReason = "retention" | "epoch" | "ahead";

/** What a subscriber receives, in order. */
export type Delivery =
  | { kind: "events"; events: StreamEvent[] }
  /** These topics sent all their history: what follows is live. */
  | { kind: "live"; topics: string[] }
  /** The subscriber's position in `topic` was lost; it must resync. Events continue after `resumeAfter`. */
  | { kind: "reset"; topic: string; reason: ResetReason; resumeAfter: bigint }
  /** This subscriber fell behind its bounded queue and was cut; it must resubscribe (host-level). */
  | { kind: "overflow"; topics: string[] }
  /**
   * The server refused these topics (permission_denied, not_found, invalid_argument) when they
   * were added beside a healthy stream: they left the stream, the rest keeps running. The
   * subscriber gets nothing more for them; subscribing again retries.
   */
  | { kind: "denied"; topics: string[]; error: ErrorInfo };

export type Since = "now" | "stored" | Record<string, bigint>;

export type State =
  | "connecting"
  | "catching-up"
  | "live"
  | "backoff"
  | "offline"
  | "closed"
  | "failed";

export interface ErrorInfo {
  /** Connect code name, e.g. "unavailable", "permission_denied", or "stale". */
  code: string;
  message: string;
}

export interface Status {
  state: State;
  /** Connection epoch: 0 before the first successful open, 1 on it, +1 on every reopen. */
  connection: number;
  /** Server epoch from the last Hello, "" before one. */
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

