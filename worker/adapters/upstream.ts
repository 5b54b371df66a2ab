// Binds a StreamAdapter to an RPC transport and hands the engine an Upstream: calls go out
// through the transport, responses come back as checked frames. What an adapter returns is
// checked here, once, so a buggy adapter or a lying server cannot put a bad cursor into the
// engine's positions (a frame that fails the check is dropped with a warning).
import type { DescMessage, DescMethodServerStreaming, DescMethodUnary, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { topicProblem } from "../../contract/topic";
import { OversizedMessageError, ProtocolError, oversizedIn } from "../engine/errors";
import type { CallOptions, CursorKind, Frame, OpenOptions, ResetFrame, TopicStart, Upstream, WireEvent } from "../engine/types";
import type { AdapterCall, AnyAdapter } from "./adapter";
import { decodePrefix } from "./partial-message";

/** The two call shapes the engine needs, over whatever carries them (connect-web, or a test fake). */
export interface Rpc {
  serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    input: MessageInitShape<I>,
    opts: CallOptions,
  ): AsyncIterable<MessageShape<O>>;
  unary<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, input: MessageInitShape<I>, opts: CallOptions): Promise<MessageShape<O>>;
}

/** An Rpc over a connect-es Transport (e.g. createGrpcWebTransport). */
export function rpcOver(transport: Transport): Rpc {
  const clients = new Map<object, Record<string, (input: unknown, opts: CallOptions) => unknown>>();
  const fn = (method: DescMethodServerStreaming | DescMethodUnary) => {
    let client = clients.get(method.parent);
    if (client === undefined) {
      client = createClient(method.parent, transport) as unknown as Record<string, (input: unknown, opts: CallOptions) => unknown>;
      clients.set(method.parent, client);
    }
    return client[method.localName]!;
  };
  return {
    serverStream: (method, input, { signal, headers }) => fn(method)(input, { signal, headers }) as AsyncIterable<never>,
    unary: (method, input, { signal, headers }) => fn(method)(input, { signal, headers }) as Promise<never>,
  };
}

const RESET_REASONS: ReadonlySet<string> = new Set(["retention", "epoch", "ahead", "oversized", "resync"]);

export function connectUpstream(adapter: AnyAdapter, rpc: Rpc, warn: (message: string) => void = () => {}): Upstream {
  const kind = adapter.cursor;
  if (kind !== "ordered" && kind !== "opaque") throw new TypeError(`onestream adapter: cursor must be "ordered" or "opaque", got ${String(kind)}`);
  const publish = adapter.publish;
  return {
    cursors: kind,
    historyOnly: adapter.historyOnly === true,
    ...(adapter.maxTopics === undefined ? {} : { maxTopics: adapter.maxTopics }),
    ...(adapter.heartbeatMs === undefined ? {} : { heartbeatMs: adapter.heartbeatMs }),

    async *open(topics: readonly TopicStart[], opts: OpenOptions): AsyncIterable<Frame> {
      const call = { topics, historyOnly: opts.historyOnly, received: 0, warn };
      const request = adapter.request(topics, call);
      const framesOf = (response: MessageShape<DescMessage>): Frame[] => {
        const read = adapter.read(response, call);
        call.received++;
        if (read === undefined) return [{ kind: "heartbeat" }];
        const out: Frame[] = [];
        for (const frame of Array.isArray(read) ? (read as readonly Frame[]) : [read as Frame]) {
          const checked = checkFrame(frame, kind, warn);
          if (checked !== undefined) out.push(checked);
        }
        // Whatever it meant to the adapter (an ADD, a keep-alive it does not name), a response
        // proves the stream alive: the idle watchdog must hear of it.
        return out.length > 0 ? out : [{ kind: "heartbeat" }];
      };
      try {
        for await (const response of rpc.serverStream(adapter.method, request, opts)) yield* framesOf(response);
      } catch (e) {
        const oversized = oversizedIn(e);
        if (oversized === undefined) throw e;
        yield* skipOversized(oversized, framesOf(decodePrefix(adapter.method.output, oversized.prefix)));
        throw oversized;
      }
    },

    ...(adapter.resets === undefined
      ? {}
      : {
          resetsFor(error: unknown, topics: readonly TopicStart[]) {
            const call: AdapterCall = { topics, historyOnly: false, received: 0, warn };
            const resets = adapter.resets!(ConnectError.from(error), call);
            if (resets === undefined) return undefined;
            return resets.map((r) => checkFrame(r, kind, warn)).filter((r): r is ResetFrame => r?.kind === "reset");
          },
        }),

    ...(publish === undefined
      ? {}
      : {
          async publish(input, opts) {
            const headers = publish.keyHeader === undefined ? opts.headers : { ...opts.headers, [publish.keyHeader]: input.key };
            const response = await rpc.unary(publish.method, publish.request(input), { signal: opts.signal, headers });
            const cursor = publish.cursor?.(response);
            return { cursor: cursor !== undefined && validCursor(cursor, kind) ? cursor : undefined };
          },
        }),
  };
}

/**
 * The frames read from an oversized message's first bytes: its complete events go through, the
 * last one (the one the limit cut) becomes an explicit "oversized" reset after its cursor, so the
 * reopened call skips it and every other topic carries on. Without an event to blame, nothing.
 */
function* skipOversized(err: OversizedMessageError, frames: Frame[]): Generator<Frame> {
  let blamed: WireEvent | undefined;
  for (let i = frames.length - 1; i >= 0 && blamed === undefined; i--) {
    const f = frames[i]!;
    if (f.kind !== "events") continue;
    blamed = f.events[f.events.length - 1]!;
    frames[i] = { kind: "events", events: f.events.slice(0, -1) };
  }
  if (blamed === undefined) return;
  for (const f of frames) if (f.kind !== "events" || f.events.length > 0) yield f;
  err.message = `${err.message}: the event of "${blamed.topic}" at cursor ${String(blamed.cursor)} was skipped`;
  yield { kind: "reset", topic: blamed.topic, reason: "oversized", resumeAfter: blamed.cursor };
}

function validCursor(c: unknown, kind: CursorKind): boolean {
  return kind === "ordered" ? typeof c === "bigint" && c >= 0n : typeof c === "string" && c.length > 0;
}

/** The frame as the engine may trust it, or undefined (with a warning) when it breaks the contract. */
function checkFrame(frame: Frame, kind: CursorKind, warn: (message: string) => void): Frame | undefined {
  if (frame === null || typeof frame !== "object") throw new ProtocolError(`adapter returned ${String(frame)} instead of a frame`);
  const bad = (why: string): undefined => {
    warn(`onestream: dropped a "${frame.kind}" frame: ${why}`);
    return undefined;
  };
  switch (frame.kind) {
    case "open":
    case "heartbeat":
      return frame;
    case "caught-up":
      if (frame.topics !== undefined && !frame.topics.every((t) => typeof t === "string")) return bad("topics must be strings");
      return frame;
    case "progress":
      if (topicProblem(frame.topic) !== undefined) return bad(`bad topic ${JSON.stringify(frame.topic)}`);
      if (!validCursor(frame.cursor, kind)) return bad(`cursor ${String(frame.cursor)} is not ${kind}`);
      return frame;
    case "reset":
      if (topicProblem(frame.topic) !== undefined) return bad(`bad topic ${JSON.stringify(frame.topic)}`);
      if (!RESET_REASONS.has(frame.reason)) return bad(`unknown reason ${String(frame.reason)}`);
      if (frame.resumeAfter !== undefined && !validCursor(frame.resumeAfter, kind)) return bad(`cursor ${String(frame.resumeAfter)} is not ${kind}`);
      return frame;
    case "events": {
      const events = frame.events.filter((e: WireEvent) => topicProblem(e.topic) === undefined && validCursor(e.cursor, kind) && e.payload instanceof Uint8Array);
      if (events.length < frame.events.length) warn(`onestream: dropped ${frame.events.length - events.length} event(s) with a bad topic, cursor or payload`);
      return events.length === 0 ? undefined : events.length === frame.events.length ? frame : { kind: "events", events };
    }
    default:
      return bad("unknown frame kind");
  }
}
