// What the engine does about each failure, as ONE table (the connect-es code is the contract).
// The callers check their own AbortSignal before asking: our own abort is never an error.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Auth } from "./call";
import type { ErrorInfo } from "./types";

/**
 * - retry: transient; back off and reopen.
 * - retry-slow: the server is shedding load, or a proxy answered with a bare HTTP error; back off
 *   with the longer floor.
 * - refresh-auth: ask getHeaders("refresh") and try once more; a second one is terminal.
 * - terminal: retrying cannot help; the engine (or that one publish) fails.
 */
export type Verdict = "retry" | "retry-slow" | "refresh-auth" | "terminal";

const VERDICTS: Record<Code, Verdict> = {
  [Code.Canceled]: "retry", // only reaches here when we did not cancel (a proxy, the browser)
  [Code.Unknown]: "retry", // network TypeError, "missing trailer", refused connection
  [Code.InvalidArgument]: "terminal", // except "protocol error: …", see classify()
  [Code.DeadlineExceeded]: "retry",
  [Code.NotFound]: "terminal",
  [Code.AlreadyExists]: "terminal",
  [Code.PermissionDenied]: "terminal",
  [Code.ResourceExhausted]: "retry-slow",
  [Code.FailedPrecondition]: "terminal",
  [Code.Aborted]: "retry",
  [Code.OutOfRange]: "terminal",
  [Code.Unimplemented]: "terminal",
  [Code.Internal]: "retry",
  [Code.Unavailable]: "retry",
  [Code.DataLoss]: "terminal",
  [Code.Unauthenticated]: "refresh-auth",
};

/** connect-es reports a stream cut in the middle of a message as InvalidArgument with this prefix. */
const TRANSPORT_PROTOCOL_ERROR = "protocol error";

/**
 * connect-es turns an HTTP error status with no gRPC status (a proxy, a load balancer, a deploy in
 * progress) into a code by the HTTP status (404 → Unimplemented, 403 → PermissionDenied) and the
 * message "HTTP <status>". Only the server's own gRPC status is final; these are retried.
 */
const HTTP_ONLY = /^HTTP (\d{3})$/;

/** Thrown into a stream by the idle watchdog: no frame for `idleMs`. */
export class StaleError extends Error {
  override readonly name = "StaleError";
  constructor(readonly idleMs: number) {
    super(`no frame for ${idleMs} ms (server heartbeats stopped)`);
  }
}

/** A call still catching up sent no history, bookmark or caught-up marker for too long. */
export class StalledError extends Error {
  override readonly name = "StalledError";
  constructor(readonly stallMs: number) {
    super(`catching up made no progress for ${stallMs} ms (no events, no caught-up marker)`);
  }
}

/**
 * A response message over the transport's read limit (worker/host/read-limit.ts): not read, only
 * its first bytes kept so the adapter layer can tell whose event it was and skip it explicitly.
 */
export class OversizedMessageError extends Error {
  override readonly name = "OversizedMessageError";
  constructor(
    /** What the envelope declared. */
    readonly bytes: number,
    readonly limit: number,
    /** The message's first bytes. */
    readonly prefix: Uint8Array,
  ) {
    super(`a message of ${bytes} bytes is over the read limit of ${limit} bytes`);
  }
}

/** Finds an OversizedMessageError behind the wrappers a transport put around it. */
export function oversizedIn(err: unknown): OversizedMessageError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof OversizedMessageError) return e;
  }
  return undefined;
}

/** The server broke the protocol in a way that poisons the whole stream (e.g. no Hello first). */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

export { ClosedError } from "../../contract/errors";

/** The engine stopped for good after a terminal error; pending publishes reject with this. */
export class FailedError extends Error {
  override readonly name = "FailedError";
  constructor(readonly info: ErrorInfo) {
    super(`onestream engine failed: ${info.code}: ${info.message}`);
  }
}

export interface Classified {
  verdict: Verdict;
  info: ErrorInfo;
}

/** "PermissionDenied" → "permission_denied" */
export function codeName(code: Code): string {
  return (Code[code] ?? "unknown").replace(/[A-Z]/g, (m, i: number) => (i > 0 ? "_" : "") + m.toLowerCase());
}

export function classify(err: unknown): Classified {
  if (err instanceof StaleError) return { verdict: "retry", info: { code: "stale", message: err.message } };
  if (err instanceof ProtocolError) return { verdict: "retry", info: { code: "protocol", message: err.message } };
  if (err instanceof StalledError) return { verdict: "retry", info: { code: "stalled", message: err.message } };
  const oversized = oversizedIn(err);
  if (oversized !== undefined) return { verdict: "retry", info: { code: "oversized", message: oversized.message } };
  const ce = ConnectError.from(err);
  const http = HTTP_ONLY.exec(ce.rawMessage);
  if (http !== null && ce.metadata.get("grpc-status") === null) {
    // An auth proxy's 401 still means "fresh credentials"; anything else from a proxy: wait, retry.
    const verdict: Verdict = ce.code === Code.Unauthenticated ? "refresh-auth" : "retry-slow";
    return { verdict, info: { code: `http_${http[1]}`, message: `${ce.rawMessage} with no gRPC status (a proxy or load balancer answered)` } };
  }
  let verdict = VERDICTS[ce.code] ?? "retry";
  if (ce.code === Code.InvalidArgument && ce.rawMessage.startsWith(TRANSPORT_PROTOCOL_ERROR)) verdict = "retry";
  return { verdict, info: { code: codeName(ce.code), message: ce.rawMessage } };
}

/** What to do about a failed call that asked with `auth`: a second Unauthenticated is terminal. */
export function decide(c: Classified, auth: Auth): "terminal" | "refresh" | "retry" {
  if (c.verdict === "terminal") return "terminal";
  if (c.verdict === "refresh-auth") return auth === "refresh" ? "terminal" : "refresh";
  return "retry";
}
