// The default wire under every adapter: gRPC-Web over fetch (connect-web, binary format). Errors
// surface as ConnectError, whose code table engine/errors.ts classifies; nothing here retries.
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import type { Transport } from "@connectrpc/connect";

export interface GrpcTransportOptions {
  baseUrl: string;
  /** Defaults to globalThis.fetch (tests pass their own). */
  fetch?: typeof globalThis.fetch;
}

export function createGrpcTransport(options: GrpcTransportOptions): Transport {
  return createGrpcWebTransport({
    baseUrl: options.baseUrl,
    useBinaryFormat: true,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
}
