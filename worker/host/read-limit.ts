// A read limit for gRPC-Web responses. connect-web reads each length-prefixed message whole
// before decoding it, so one envelope that declares 1 GiB grows the worker by 1 GiB before
// anything can object (the watchdog only notices silence). This fetch wrapper watches the
// envelope headers as the bytes stream in: a message over the limit is not buffered; its first
// bytes are kept (enough to tell whose event it was) and the response fails with
// OversizedMessageError, so memory stays bounded whatever the server declares.
//
// Written here rather than taken from npm: connect-web has no read limit of its own, and the
// gRPC-Web framing is 5 bytes (flags, big-endian length) that no small library parses for us.

import { OversizedMessageError } from "../engine/errors";

/** Bytes of an oversized message kept to find out what it was (topic and cursor come first). */
export const OVERSIZED_PREFIX_BYTES = 64 * 1024;

/** `fetch`, with every response body checked envelope by envelope against `limit` bytes. */
export function limitReads(fetchFn: typeof globalThis.fetch, limit: number): typeof globalThis.fetch {
  return async (input, init) => {
    const res = await fetchFn(input, init);
    if (res.body === null) return res;
    return new Response(guard(res.body, limit, init?.signal ?? undefined), { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

function guard(body: ReadableStream<Uint8Array>, limit: number, signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  // Our reader holds the body: on the caller's abort it must let go of it at once, or the
  // connection can outlive the call (the server then keeps streaming into a dead call).
  signal?.addEventListener("abort", () => void reader.cancel(signal.reason).catch(() => {}), { once: true });
  /** Bytes left of the current envelope's message, once its header is read. */
  let remaining = 0;
  const header = new Uint8Array(5);
  let headerFill = 0;
  /** Raised at the next pull, after the messages before the oversized one went out. */
  let failure: OversizedMessageError | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (failure !== undefined) return controller.error(failure);
      const { done, value } = await reader.read();
      if (done) return controller.close();
      let i = 0;
      /** Where the envelope whose header is being read starts in `value` (0 if in an earlier chunk). */
      let start = 0;
      while (i < value.length) {
        if (remaining > 0) {
          const n = Math.min(remaining, value.length - i);
          remaining -= n;
          i += n;
          continue;
        }
        if (headerFill === 0) start = i;
        header[headerFill++] = value[i++]!;
        if (headerFill < 5) continue;
        headerFill = 0;
        const length = new DataView(header.buffer).getUint32(1);
        if (length > limit) {
          const prefix = await keepPrefix(reader, value.subarray(i), Math.min(length, OVERSIZED_PREFIX_BYTES));
          void reader.cancel().catch(() => {});
          failure = new OversizedMessageError(length, limit, prefix);
          if (start === 0) return controller.error(failure);
          return controller.enqueue(value.subarray(0, start)); // the whole messages before it first
        }
        remaining = length;
      }
      controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** The first `want` bytes of a message whose first bytes are `start`, reading on as needed. */
async function keepPrefix(reader: ReadableStreamDefaultReader<Uint8Array>, start: Uint8Array, want: number): Promise<Uint8Array> {
  const out = new Uint8Array(want);
  let filled = Math.min(want, start.length);
  out.set(start.subarray(0, filled));
  while (filled < want) {
    const { done, value } = await reader.read();
    if (done) break;
    const n = Math.min(want - filled, value.length);
    out.set(value.subarray(0, n), filled);
    filled += n;
  }
  return out.subarray(0, filled);
}
