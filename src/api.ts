// The tab side's public API, as an app sees it: the options of createClient, the client it
// returns, its status and its handles. The implementation is client.ts.
import type { Cursor, Status, StreamEvent } from "../contract/types";
import type { AuthWhy } from "../contract/protocol";
import type { Locks } from "../worker/host/locks";
import type { Host } from "../worker/host/worker-host";
import type { ServeOptions } from "../worker/index";
import type { HintSources } from "./hints";
import type { DedicatedWorkerFactory } from "./leader-hosts";
import type { Connector, Role, WorkerFactory } from "./link";
import type { SubscribeOptions } from "./subscription";

export interface ClientOptions {
  /**
   * The worker script: a factory `(name) => new SharedWorker(new URL("…", import.meta.url),
   * { type: "module", name })` (the form bundlers understand) or its URL. Unused in leader mode.
   */
  worker?: string | URL | WorkerFactory;
  /**
   * Where SharedWorker is missing, the leader tab runs the engine in a dedicated Worker made by
   * this factory: `(name) => new Worker(new URL("./worker.ts", import.meta.url), { type: "module",
   * name })`, the same worker file (bundlers only rewrite this literal pattern). Unneeded when
   * `worker` is a URL. Without one, or where it cannot start, the leader runs the engine in-page.
   */
  dedicatedWorker?: DedicatedWorkerFactory;
  /** Tabs with the same name share one worker or one leader. Default "default". */
  name?: string;
  /**
   * Key of persisted state (cursors, outbox): the signed-in user's id. Required with `getAuth`
   * (two users' state must never mix). Default "anonymous" for apps without sign-in.
   */
  user?: string;
  /** Server base URL. Default: this page's origin. A worker built with a fixed baseUrl ignores it. */
  baseUrl?: string;
  /**
   * "auto" (default): SharedWorker where it exists, else leader election. "leader": always
   * leader election. "none": SharedWorker only; where it is missing the client fails with UnsupportedError.
   */
  fallback?: "auto" | "leader" | "none";
  /** Auth headers, asked on every (re)connect and after Unauthenticated. Never persisted. */
  getAuth?: (why?: AuthWhy) => Promise<Record<string, string>>;
  /** Host and engine config of the in-page host when this tab leads the fallback without a dedicated worker. */
  serve?: ServeOptions;
}

export interface ClientStatus extends Status {
  /** How this tab is served right now. */
  role: Role;
  /** True between an overflow (this tab fell behind) and the end of its resync. */
  resyncing: boolean;
}

export interface SubscriptionHandle {
  /** Topics of this subscription that are live (caught up). */
  readonly live: ReadonlySet<string>;
  /** Idempotent. */
  unsubscribe(): void;
}

/**
 * One tab's client. `C` is the cursor type of the stream's adapter: bigint for onestream.v1 and
 * other protocols whose cursors grow, string for opaque resume tokens.
 */
export interface Client<C extends Cursor = bigint> {
  readonly status: ClientStatus;
  /** Level-triggered: `cb` gets the status at once, then whenever it changes. Returns unwatch. */
  onStatus(cb: (s: ClientStatus) => void): () => void;
  /** Resolves once connected and the protocol versions match; rejects with the failure otherwise. */
  readonly ready: Promise<void>;
  /**
   * `onEvents` may return a promise (e.g. it writes the events to the app's own storage): the
   * next batch waits for it, and the events count as processed — their cursor may be stored —
   * only once it resolves. A callback that throws or rejects does not acknowledge its events.
   */
  subscribe(topics: string[], onEvents: (events: StreamEvent<C>[]) => unknown, opts?: SubscribeOptions<C>): SubscriptionHandle;
  /**
   * Resolves once the server acknowledged the event. Its `durable` resolves as soon as the
   * publish is committed to the worker's outbox (IndexedDB): from then on it is sent, exactly once,
   * even if every tab closes. Before that, closing the last tab can lose it.
   */
  publish(topic: string, payload: Uint8Array): Publishing<C>;
  /**
   * Logout: ends every subscription of this user in every tab (each gets an EndedError in its
   * onError), wipes the user's cursors and outbox (pending publishes reject), and stores nothing
   * again until the app subscribes again.
   */
  reset(): Promise<void>;
  /** Releases everything; afterwards every call rejects with ClosedError. */
  close(): Promise<void>;
}

/** A publish in progress: the server's answer, and the moment it became durable. */
export type Publishing<C extends Cursor = bigint> = Promise<{ cursor: C | undefined }> & { readonly durable: Promise<void> };

/** What tests (and unusual hosts) may inject; browsers need none of it. */
export interface ClientEnv {
  locks?: Locks;
  /** Replaces the choice between SharedWorker and the fallback. */
  connector?: Connector;
  /** Builds the in-page host when this tab leads the fallback (default: real bindings). */
  createLeaderHost?: () => Host | Promise<Host>;
  BroadcastChannel?: typeof BroadcastChannel;
  /** Where page events come from; false: forward none. */
  hints?: HintSources | false;
}
