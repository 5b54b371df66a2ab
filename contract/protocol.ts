// The contract between a tab and whatever serves it (the SharedWorker, or the leader tab in the
// fallback): names, the control API called over comlink, and the plain-object messages of the
// data channel. Both sides import this file and nothing else of each other.
import type { Cursor, Delivery, NetworkHint, Since, Status } from "./types";

/**
 * Bumped on any incompatible change of this file. Old tabs and new workers must not mix.
 * v2: a tab may connect again (`attempt`) and hosts name their life lock (`hostLock`).
 */
export const PROTOCOL_VERSION = 2;

/** Default client name; tabs with the same name share one worker (or one leader). */
export const DEFAULT_NAME = "default";

/** The SharedWorker's name carries the protocol version, so a deploy gets a fresh worker. */
export function workerName(name: string, version: number = PROTOCOL_VERSION): string {
  return `onestream/v${version}/${name}`;
}

/** The Web Lock a tab holds for its whole life; the host's request for it is granted when the tab is gone. */
export function tabLockName(tabId: string): string {
  return `onestream-tab-${tabId}`;
}

/**
 * The Web Lock a host (a SharedWorker, a leader's dedicated worker) holds for its whole life; a
 * tab's request for it is granted when that host is gone. `id` is unique per host instance.
 */
export function hostLockName(id: string): string {
  return `onestream-host-${id}`;
}

/** The Web Lock whose holder is the leader tab in the fallback. */
export function leaderLockName(name: string): string {
  return `onestream-leader-v${PROTOCOL_VERSION}-${name}`;
}

/** Anything that carries structured-cloneable messages both ways: a MessagePort or a BroadcastChannel. */
export interface DataEndpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (ev: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (ev: MessageEvent) => void): void;
  close(): void;
  start?: () => void;
}

export type AuthWhy = "connect" | "refresh";
export type GetAuth = (why: AuthWhy) => Promise<Record<string, string>>;

export interface InitRequest {
  protocol: number;
  tabId: string;
  /** Key of persisted state; one engine per user in the host. */
  user: string;
  /** Server base URL; used when the worker was not given one (see worker/index.ts). */
  baseUrl?: string;
  /**
   * Counts this tab's connections (1, 2, …). A host that gets the same tab again keeps the
   * newest: a later attempt replaces the older connection, an older one arriving late is refused.
   */
  attempt?: number;
}

export interface InitResponse {
  protocol: number;
  /** The base URL the host's stream actually uses. */
  baseUrl: string;
  /**
   * The host's life lock (see hostLockName): a tab that waits for it learns when the host died.
   * Absent when the host holds none (Web Locks failed there).
   */
  hostLock?: string;
}

/**
 * What a tab subscribes. `since` as in the engine; when it is a cursor record, the topics it
 * does not name start from `otherwise` (default "stored").
 */
export interface SubscribeSpec {
  topics: string[];
  since?: Since;
  otherwise?: "now" | "stored";
}

/** The control API a host exposes per tab (over comlink). Every method rejects clearly on bad input. */
export interface ControlApi {
  /** First call. The tab must hold its tab lock already. Rejects with VersionMismatchError on skew. */
  init(req: InitRequest, data: DataEndpoint, auth?: GetAuth): Promise<InitResponse>;
  /** `sub` is the tab's own id for this subscription; deliveries come tagged with it. */
  subscribe(sub: number, spec: SubscribeSpec): Promise<void>;
  unsubscribe(sub: number): Promise<void>;
  /**
   * After an overflow notice: acknowledges every batch up to `ackedSeq` (acks travel on the data
   * port, which is not ordered with this one), then resubscribes every subscription of this tab
   * from where its delivery stopped.
   */
  resync(ackedSeq: number): Promise<void>;
  /** `key`: the tab's idempotency key, the same on a retry after its leader changed. */
  publish(topic: string, payload: Uint8Array, key: string): Promise<{ cursor: Cursor | undefined }>;
  /** Resolves once the publish with `key` is committed to durable storage (the outbox). */
  durable(key: string): Promise<void>;
  hint(h: NetworkHint): Promise<void>;
  /** Logout: wipes this user's cursors and outbox. */
  reset(): Promise<void>;
  /** Removes this tab; later calls reject with ClosedError. */
  close(): Promise<void>;
}

/** Host → tab, on the data endpoint: everything that happened since the last batch, in order. */
export interface BatchMessage {
  t: "batch";
  /** Acknowledge with `{ t: "ack", seq }` once handled. */
  seq: number;
  deliveries: Array<[sub: number, delivery: Delivery]>;
  /** The latest engine status, when it changed since the last batch. */
  status?: Status;
  /**
   * This tab fell behind its bounded queue: deliveries stopped (nothing after the last one
   * sent is lost); the tab must call `resync()` to resume.
   */
  overflow?: true;
}

/**
 * Tab → host, on the data endpoint: batch `seq` (and every one before it) was handled, and its
 * events processed by the app (the host may now let their cursors be stored), except for the
 * subscriptions in `failed`, whose callback threw or whose promise rejected.
 */
export interface AckMessage {
  t: "ack";
  seq: number;
  failed?: number[];
}
