// What the engine's parts share: the injected world, the config, and the state that more than
// one part reads (positions, the topic set, the fan-out). createEngine builds it once and hands
// the same object to the main stream, the catch-ups and the network watch, so each of them is
// a file of its own without a web of callbacks between them.
import type { Auth } from "./call";
import type { EngineConfig } from "./config";
import type { Positions } from "./cursors";
import type { Dispatcher, Fanout } from "./delivery";
import type { Ledger } from "./ledger";
import type { TopicSet } from "./topics";
import type { Clock, Cursor, ErrorInfo, Random, Upstream } from "./types";

export interface EngineContext {
  readonly config: EngineConfig;
  readonly clock: Clock;
  readonly random: Random;
  readonly upstream: Upstream;
  warn(message: string): void;
  /** `warn`, once per engine for each `key` (a lying server would say the same thing every call). */
  warnOnce(key: string, message: string): void;
  /** The app's auth headers for a call (never persisted). */
  headersFor(auth: Auth): Promise<Record<string, string>>;
  /** Per topic, where the stream is: the last cursor accepted (deduped against). */
  readonly positions: Positions;
  /** Per topic, the last cursor handed to subscribers (positions run ahead of it by what is queued). */
  readonly delivered: Map<string, Cursor>;
  /** Positions handed out and not yet acknowledged: what may be stored. */
  readonly ledger: Ledger;
  /** The union of every subscriber's topics: what the main stream should carry. */
  readonly topicSet: TopicSet;
  readonly fanout: Fanout;
  readonly dispatcher: Dispatcher;
  /** May a stream open now (not closed, failed, offline, loading or resetting)? */
  canOpen(): boolean;
  /** Closed or failed: nothing will ever open again. */
  stopped(): boolean;
  /** Recomputes the status and tells its watchers if it changed. */
  refresh(): void;
  /** Terminal: the engine stops for good with this error. */
  fail(info: ErrorInfo): void;
  /** Keeps a running call's promise, so close() can wait for every call to end. */
  track(run: Promise<void>): void;
}
