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
import type { CursorKind, Frame, PublishInput, ResetFrame, TopicStart } from "../engine/types";

export type { Cursor, CursorKind, Frame, PublishInput, ResetFrame, TopicStart };

/** One call, as the adapter's `read` and `resets` see it. */
export interface AdapterCall {
  /** What was asked for, topic by topic. */
  readonly topics: readonly TopicStart[];
  readonly historyOnly: boolean;
  /** Responses read on this call before the current one (0 while reading the first). */
  readonly received: number;
  /** One console line; the engine keeps running. */
  warn(message: string): void;
}

/** The optional publish side: one unary method of the app's service. */
export interface PublishAdapter<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> {
  readonly method: DescMethodUnary<I, O>;
  /** Builds the request; put `key` in a field here, or name a header in `keyHeader`, or both. */
  request(input: PublishInput): MessageInitShape<I>;
  /** Header that carries the idempotency key, e.g. "idempotency-key". */
  readonly keyHeader?: string;
  /** The cursor the server assigned, when its response says. */
  cursor?(response: MessageShape<O>): Cursor | undefined;
}

export interface StreamAdapter<
  I extends DescMessage = DescMessage,
  O extends DescMessage = DescMessage,
  PI extends DescMessage = DescMessage,
  PO extends DescMessage = DescMessage,
> {
  /** The server-streaming method, e.g. `WatchService.method.watch` from the generated code. */
  readonly method: DescMethodServerStreaming<I, O>;
  /**
   * "ordered": cursors are bigints that grow per topic (duplicates are dropped by comparison).
   * "opaque": cursors are strings compared for equality only (resume tokens).
   */
  readonly cursor: CursorKind;
  /** The request for these topics (`call.historyOnly` is set only when `historyOnly` below is true). */
  request(topics: readonly TopicStart[], call: AdapterCall): MessageInitShape<I>;
  /** One response → frames (none, one, or several in order). Throw for a protocol violation. */
  read(response: MessageShape<O>, call: AdapterCall): Frame | readonly Frame[] | undefined;
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
  resets?(error: ConnectError, call: AdapterCall): readonly ResetFrame[] | undefined;
  readonly publish?: PublishAdapter<PI, PO>;
}

/** An adapter of any messages: what serve() and the engine take. */
export type AnyAdapter = StreamAdapter<any, any, any, any>;

/**
 * Identity, for type inference: `defineAdapter({ method: Svc.method.watch, request, read })`
 * checks `request` and `read` against that method's own message types.
 */
export function defineAdapter<I extends DescMessage, O extends DescMessage, PI extends DescMessage = DescMessage, PO extends DescMessage = DescMessage>(
  adapter: StreamAdapter<I, O, PI, PO>,
): StreamAdapter<I, O, PI, PO> {
  return adapter;
}
