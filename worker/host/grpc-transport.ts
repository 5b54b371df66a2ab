// The default wire under every adapter: gRPC-Web over fetch (connect-web, binary format), with a
// read limit on every response message (read-limit.ts). Errors surface as ConnectError, whose
// code table engine/errors.ts classifies; nothing here retries.
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import type { Transport } from "@connectrpc/connect";
import { limitReads } from "./read-limit";

/** Largest response message read by default: 16 MiB, the reference server's highest payload limit. */
export const DEFAULT_READ_MAX_BYTES = 16 * 1024 * 1024;
/** Bounds of readMaxBytes (clamped): below 64 KiB ordinary frames would not fit; above 256 MiB is no limit. */
export const MIN_READ_MAX_BYTES = 64 * 1024;
export const MAX_READ_MAX_BYTES = 256 * 1024 * 1024;

export interface GrpcTransportOptions {
  baseUrl: string;
  /** Defaults to globalThis.fetch (tests pass their own). */
  fetch?: typeof globalThis.fetch;
  /** Largest response message; a larger one is skipped with an explicit "oversized" reset. */
  readMaxBytes?: number;
}

export function createGrpcTransport(options: GrpcTransportOptions): Transport {
  const fetchFn = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  return createGrpcWebTransport({
    baseUrl: options.baseUrl,
    useBinaryFormat: true,
    fetch: limitReads(fetchFn, options.readMaxBytes ?? DEFAULT_READ_MAX_BYTES),
  });
}
