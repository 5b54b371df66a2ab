// The engine's Transport as gRPC-Web over fetch (connect-web, binary format). Errors surface
// as ConnectError, whose code table errors.ts classifies; nothing here retries.
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { StreamService } from "../../proto/gen/onestream/v1/stream_pb";
import type { Transport } from "../engine/types";

export interface GrpcTransportOptions {
  baseUrl: string;
  /** Defaults to globalThis.fetch (tests pass their own). */
  fetch?: typeof globalThis.fetch;
}

export function createGrpcTransport(options: GrpcTransportOptions): Transport {
  const client = createClient(
    StreamService,
    createGrpcWebTransport({
      baseUrl: options.baseUrl,
      useBinaryFormat: true,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    }),
  );
  return {
    subscribe: (req, { signal, headers }) => client.subscribe(req, { signal, headers }),
    publish: (req, { signal, headers }) => client.publish(req, { signal, headers }),
  };
}
