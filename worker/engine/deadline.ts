// A bound on awaiting something the engine does not control (the app's getHeaders): a promise
// that never settles must become a retryable error, not a stream that is silently never opened.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Clock } from "./types";

/** Settles like `p`, or rejects with DeadlineExceeded (retryable) after `ms` on `clock`. */
export function withDeadline<T>(p: Promise<T>, ms: number, clock: Clock, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.setTimeout(() => reject(new ConnectError(`${what} did not answer within ${ms} ms`, Code.DeadlineExceeded)), ms);
    p.then(
      (v) => {
        cancel();
        resolve(v);
      },
      (e: unknown) => {
        cancel();
        reject(e);
      },
    );
  });
}
