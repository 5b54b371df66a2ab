// The default adapter: onestream's own protocol (proto/onestream/v1/stream.proto), one adapter
// among others. Hello opens the call with the server's epoch and heartbeat; TopicReset, events,
// CaughtUp and Heartbeat map one to one onto engine frames.
//
// Two things here are this protocol's own, not the engine's:
// - "Live from now" is asked as a cursor past any head: the server answers with an AHEAD reset
//   naming its head, which becomes the topic's first position (a progress frame). Without that
//   anchor, events published while we reconnect, before the topic's first event, would be lost.
//   A server that ignores the probe is detected once; plain live requests are used after that.
// - A Hello with another epoch than a topic was requested under owes a TopicReset before that
//   topic's events; a server that forgets it gets one made up for it (never a silent mix).
import {
  ResetReason as WireReason,
  StreamService,
  type Event,
  type SubscribeResponse,
} from "../../proto/gen/onestream/v1/stream_pb";
import { ProtocolError } from "../engine/errors";
import type { ResetReason } from "../../contract/types";
import { defineAdapter, type AdapterCall, type AnyAdapter, type FrameOf } from "./adapter";

/** Largest uint64: a cursor no topic can have reached. */
const PAST_ANY_HEAD = 0xffff_ffff_ffff_ffffn;

const REASONS: Record<number, ResetReason> = {
  [WireReason.RETENTION]: "retention",
  [WireReason.EPOCH]: "epoch",
  [WireReason.AHEAD]: "ahead",
};

/** Per call: probes not answered yet, topics owed a reset (see the file comment). */
interface CallState {
  probes: Set<string>;
  owed: Set<string>;
}

export function onestreamV1(): AnyAdapter {
  /** Cleared once a server ignores the probe. */
  let probeWorks = true;
  const calls = new WeakMap<AdapterCall, CallState>();
  const stateOf = (call: AdapterCall): CallState => {
    let s = calls.get(call);
    if (s === undefined) {
      s = { probes: new Set(), owed: new Set() };
      calls.set(call, s);
    }
    return s;
  };

  function read(res: SubscribeResponse, call: AdapterCall<bigint>): FrameOf<bigint> | FrameOf<bigint>[] | undefined {
    const { frame } = res;
    const state = stateOf(call);
    if (call.received === 0 && frame.case !== "hello") throw new ProtocolError(`"${frame.case ?? "unknown"}" frame before Hello`);
    switch (frame.case) {
      case "hello": {
        if (call.received > 0) throw new ProtocolError("second Hello on one stream");
        const { epoch, heartbeatMs } = frame.value;
        for (const t of call.topics) if (t.epoch !== undefined && t.epoch !== "" && t.epoch !== epoch) state.owed.add(t.topic);
        return { kind: "open", epoch, heartbeatMs };
      }
      case "events": {
        const out: FrameOf<bigint>[] = [];
        let run: Event[] = [];
        for (const ev of frame.value.events) {
          if (state.owed.delete(ev.topic) && ev.cursor > 0n) {
            call.warn(`onestream: server epoch changed without a TopicReset for "${ev.topic}"; resetting it`);
            if (run.length > 0) out.push(eventsFrame(run));
            run = [];
            out.push({ kind: "reset", topic: ev.topic, reason: "epoch", resumeAfter: ev.cursor - 1n });
          }
          run.push(ev);
        }
        if (run.length > 0) out.push(eventsFrame(run));
        return out;
      }
      case "heartbeat":
        return { kind: "heartbeat" };
      case "caughtUp": {
        if (frame.value.topics.some((t) => state.probes.has(t))) {
          // The server did not answer the probe with a reset: it would never send these topics.
          call.warn("onestream: server ignored a cursor past the head (no AHEAD reset); using plain live requests");
          probeWorks = false;
          throw new ProtocolError("no AHEAD reset for a topic requested past its head");
        }
        return { kind: "caught-up", topics: frame.value.topics };
      }
      case "reset": {
        const { topic, reason, resumeAfter } = frame.value;
        state.owed.delete(topic);
        if (state.probes.delete(topic)) return { kind: "progress", topic, cursor: resumeAfter }; // now we know where "now" is
        return { kind: "reset", topic, reason: REASONS[reason] ?? "retention", resumeAfter };
      }
      default:
        call.warn("onestream: unknown frame from the server; ignored (newer server?)");
        return undefined;
    }
  }

  return defineAdapter({
    method: StreamService.method.subscribe,
    cursor: "ordered",
    historyOnly: true,
    request: (topics, call) => ({
      historyOnly: call.historyOnly,
      topics: topics.map(({ topic, after, epoch }) => {
        if (after !== undefined) return { topic, after, epoch: epoch ?? "" };
        if (!probeWorks) return { topic };
        stateOf(call).probes.add(topic);
        return { topic, after: PAST_ANY_HEAD, epoch: "" };
      }),
    }),
    read,
    publish: {
      method: StreamService.method.publish,
      request: ({ topic, payload, key }) => ({ topic, payload, idempotencyKey: key }),
      cursor: (res) => res.cursor,
    },
  });
}

function eventsFrame(events: readonly Event[]): FrameOf<bigint> {
  return {
    kind: "events",
    events: events.map((ev) => ({ topic: ev.topic, cursor: ev.cursor, payload: ev.payload, publishedAt: Number(ev.publishedAtMs) })),
  };
}
