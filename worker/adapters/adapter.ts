// Bring your own stream: what an app declares so that onestream can share, resume and watch ONE
// server-streaming method of its own .proto. The adapter is pure (no I/O): it builds the request
// from topics and cursors, reads each response into frames, and says which call errors mean
// "this cursor is gone". worker/adapters/upstream.ts binds it to a transport for the engine.
//
// The systems users run share this shape: Kubernetes/etcd watch (resource version, BOOKMARK,
// 410 Gone), Firestore listen (resume token, CURRENT, RESET), Centrifugo (offset + epoch).
import type { DescMessage, DescMethodServerStreaming, DescMethodUnary, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import type { Cursor } from "../../contract/types";
import type { CursorKind, Frame, PublishInput, ResetFrame, TopicStart, WireEvent } from "../engine/types";

export type { Cursor, CursorKind, Frame, PublishInput, ResetFrame, TopicStart };

/** The cursor type of a kind: bigint for "ordered", string for "opaque". */
export type CursorOf<K extends CursorKind> = K extends "ordered" ? bigint : string;

/** Where a topic starts, with the adapter's cursor type. */
export type Start<C extends Cursor = Cursor> = Omit<TopicStart, "after"> & { after?: C };

/** A reset with the adapter's cursor type. */
export type ResetFrameOf<C extends Cursor = Cursor> = Omit<ResetFrame, "resumeAfter"> & { resumeAfter?: C };

/**
 * A frame with the adapter's cursor type, so the compiler catches a bigint from an opaque
 * adapter (connectUpstream still checks every frame at run time).
 */
export type FrameOf<C extends Cursor = Cursor> =
  | Exclude<Frame, { kind: "events" | "progress" | "reset" }>
  | { kind: "events"; events: readonly (Omit<WireEvent, "cursor"> & { cursor: C })[] }
  | { kind: "progress"; topic: string; cursor: C; epoch?: string }
  | ResetFrameOf<C>;

/** One call, as the adapter's `read` and `resets` see it. */
export interface AdapterCall<C extends Cursor = Cursor> {
  /** What was asked for, topic by topic. */
  readonly topics: readonly Start<C>[];
  readonly historyOnly: boolean;
  /** Responses read on this call before the current one (0 while reading the first). */
  readonly received: number;
  /** One console line; the engine keeps running. */
  warn(message: string): void;
}

/** The optional publish side: one unary method of the app's service. */
export interface PublishAdapter<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage, C extends Cursor = Cursor> {
  readonly method: DescMethodUnary<I, O>;
  /** Builds the request; put `key` in a field here, or name a header in `keyHeader`, or both. */
  request(input: PublishInput): MessageInitShape<I>;
  /** Header that carries the idempotency key, e.g. "idempotency-key". */
  readonly keyHeader?: string;
  /** The cursor the server assigned, when its response says. */
  cursor?(response: MessageShape<O>): C | undefined;
}

export interface StreamAdapter<
  I extends DescMessage = DescMessage,
  O extends DescMessage = DescMessage,
  PI extends DescMessage = DescMessage,
  PO extends DescMessage = DescMessage,
  K extends CursorKind = CursorKind,
> {
  /** The server-streaming method, e.g. `WatchService.method.watch` from the generated code. */
  readonly method: DescMethodServerStreaming<I, O>;
  /**
   * "ordered": cursors are bigints that grow per topic (duplicates are dropped by comparison).
   * "opaque": cursors are strings compared for equality only (resume tokens).
   */
  readonly cursor: K;
  /** The request for these topics (`call.historyOnly` is set only when `historyOnly` below is true). */
  request(topics: readonly Start<CursorOf<K>>[], call: AdapterCall<CursorOf<K>>): MessageInitShape<I>;
  /**
   * One response → frames (none, one, or several in order). Throw for a protocol violation. A
   * response read into no frame still tells the idle watchdog the stream is alive.
   */
  read(response: MessageShape<O>, call: AdapterCall<CursorOf<K>>): FrameOf<CursorOf<K>> | readonly FrameOf<CursorOf<K>>[] | undefined;
  /**
   * True when the server ends a `historyOnly` call after the history. Otherwise a late joiner's
   * catch-up is an ordinary call that the engine ends at its caught-up marker.
   */
  readonly historyOnly?: boolean;
  /** Most topics one call can carry (e.g. 1 for a watch on one key prefix). */
  readonly maxTopics?: number;
  /**
   * The server promises a frame (event, bookmark, heartbeat) at least this often. Only for
   * protocols whose open frame does not say; without either the idle timeout is the engine's
   * `preHelloIdleMs` (60 s by default): a dead stream behind a proxy is noticed that late.
   */
  readonly heartbeatMs?: number;
  /**
   * A failed call that means "this position is gone" (a too-old resource version, compacted
   * history): the resets to apply. The engine tells the subscribers and reopens at once.
   */
  resets?(error: ConnectError, call: AdapterCall<CursorOf<K>>): readonly ResetFrameOf<CursorOf<K>>[] | undefined;
  readonly publish?: PublishAdapter<PI, PO, CursorOf<K>>;
}

/** An adapter of any messages and cursors: what serve() and the engine take. */
export type AnyAdapter = StreamAdapter<any, any, any, any, CursorKind>;

/**
 * Identity, for type inference: `defineAdapter({ method: Svc.method.watch, request, read })`
 * checks `request` and `read` against that method's own message types.
 */
export function defineAdapter<
  I extends DescMessage,
  O extends DescMessage,
  PI extends DescMessage = DescMessage,
  PO extends DescMessage = DescMessage,
  K extends CursorKind = CursorKind,
>(adapter: StreamAdapter<I, O, PI, PO, K>): StreamAdapter<I, O, PI, PO, K> {
  return adapter;
}
