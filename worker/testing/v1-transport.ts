// The fakes speak onestream.v1 messages (what the reference server speaks); the engine speaks
// frames. This bridge puts the real v1 adapter between them, so engine tests drive the engine
// and the default adapter together, exactly as serve() wires them.
import { create } from "@bufbuild/protobuf";
import {
  PublishRequestSchema,
  SubscribeRequestSchema,
  type PublishRequest,
  type PublishResponse,
  type SubscribeRequest,
  type SubscribeResponse,
} from "../../proto/gen/onestream/v1/stream_pb";
import { onestreamV1 } from "../adapters/onestream-v1";
import { connectUpstream, type Rpc } from "../adapters/upstream";
import type { CallOptions, Upstream } from "../engine/types";

/** onestream.v1's two RPCs, message in, message out. */
export interface V1Transport {
  subscribe(req: SubscribeRequest, opts: CallOptions): AsyncIterable<SubscribeResponse>;
  publish(req: PublishRequest, opts: CallOptions): Promise<PublishResponse>;
}

export function v1Rpc(t: V1Transport): Rpc {
  return {
    serverStream: (method, input, opts) => {
      if (method.name !== "Subscribe") throw new Error(`fake transport: no server-streaming method ${method.name}`);
      return t.subscribe(create(SubscribeRequestSchema, input as never), opts) as never;
    },
    unary: (method, input, opts) => {
      if (method.name !== "Publish") throw new Error(`fake transport: no unary method ${method.name}`);
      return t.publish(create(PublishRequestSchema, input as never), opts) as never;
    },
  };
}

/** The engine's Upstream over a fake v1 transport, through the real v1 adapter. */
export function v1Upstream(t: V1Transport, warn?: (message: string) => void): Upstream {
  return connectUpstream(onestreamV1(), v1Rpc(t), warn);
}
