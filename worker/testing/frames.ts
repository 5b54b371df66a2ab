// Builders for SubscribeResponse frames, so tests read like the protocol they script.
import { create } from "@bufbuild/protobuf";
import {
  CaughtUpSchema,
  EventBatchSchema,
  EventSchema,
  HeartbeatSchema,
  HelloSchema,
  ResetReason,
  SubscribeResponseSchema,
  TopicResetSchema,
  type Event,
  type SubscribeResponse,
} from "../../proto/gen/onestream/v1/stream_pb";

export const frames = {
  hello(epoch = "e1", heartbeatMs = 5_000, serverTimeMs = 0n): SubscribeResponse {
    return create(SubscribeResponseSchema, { frame: { case: "hello", value: create(HelloSchema, { epoch, heartbeatMs, serverTimeMs }) } });
  },
  /** One batch; each cursor becomes an event of `topic` whose payload is the cursor's decimal text. */
  events(topic: string, ...cursors: (number | bigint)[]): SubscribeResponse {
    return frames.batch(cursors.map((c) => event(topic, BigInt(c))));
  },
  batch(events: Event[]): SubscribeResponse {
    return create(SubscribeResponseSchema, { frame: { case: "events", value: create(EventBatchSchema, { events }) } });
  },
  heartbeat(serverTimeMs = 0n): SubscribeResponse {
    return create(SubscribeResponseSchema, { frame: { case: "heartbeat", value: create(HeartbeatSchema, { serverTimeMs }) } });
  },
  caughtUp(...topics: string[]): SubscribeResponse {
    return create(SubscribeResponseSchema, { frame: { case: "caughtUp", value: create(CaughtUpSchema, { topics }) } });
  },
  /** `epoch`: the topic's epoch from now on (servers with per-topic epochs; "" = Hello's). */
  reset(topic: string, reason: ResetReason, resumeAfter: bigint | number, epoch = ""): SubscribeResponse {
    return create(SubscribeResponseSchema, {
      frame: { case: "reset", value: create(TopicResetSchema, { topic, reason, resumeAfter: BigInt(resumeAfter), epoch }) },
    });
  },
  /** A frame whose oneof case this client does not know (what a newer server's frame decodes to). */
  unknown(): SubscribeResponse {
    return create(SubscribeResponseSchema, {});
  },
};

const encoder = new TextEncoder();

export function event(topic: string, cursor: bigint, payload?: Uint8Array, publishedAtMs = 0n): Event {
  return create(EventSchema, { topic, cursor, payload: payload ?? encoder.encode(String(cursor)), publishedAtMs });
}
