// Errors a tab can see, one class per meaning. Errors cross the tab/worker boundary through
// comlink, which keeps only `name` and `message`, so `reviveError` turns them back into these
// classes by name on the tab side.

/**
 * The client, the tab's connection or the engine behind it was closed; nothing more can be done
 * with it. One class for all three, so `instanceof ClosedError` always holds.
 */
export class ClosedError extends Error {
  override readonly name = "ClosedError";
  constructor(what = "engine") {
    super(`onestream ${what} is closed`);
  }
}

/** The server refused these topics of a subscription (e.g. permission_denied); its other topics keep flowing. */
export class DeniedError extends Error {
  override name = "DeniedError";
  constructor(
    readonly topics: string[],
    /** Connect code name, e.g. "permission_denied". */
    readonly code: string,
    serverMessage: string,
  ) {
    super(`onestream: the server refused ${topics.join(", ")}: ${code}: ${serverMessage}`);
  }
}

/** reset() (logout) ended this subscription; subscribe again to start over from now. */
export class EndedError extends Error {
  override name = "EndedError";
}

/** The tab and the worker speak different protocol versions (a deploy left an old tab or worker). */
export class VersionMismatchError extends Error {
  override name = "VersionMismatchError";
}

/** Neither SharedWorker nor the requested fallback is available in this browser. */
export class UnsupportedError extends Error {
  override name = "UnsupportedError";
}

/**
 * The host that served this call went away before answering: the leader tab changed, or the
 * shared worker died and a new one took over. For a publish: the engine stores it in the durable
 * outbox before sending, so it may still be delivered by the next host (the client retries it
 * under the same idempotency key).
 */
export class LeaderChangedError extends Error {
  override name = "LeaderChangedError";
}

const byName: Record<string, new (message: string) => Error> = {
  ClosedError,
  EndedError,
  VersionMismatchError,
  UnsupportedError,
  LeaderChangedError,
  TypeError,
  RangeError,
};

/** Rebuilds an error that crossed a structured-clone boundary into its class, by name. */
export function reviveError(e: unknown): Error {
  if (!(e instanceof Error) && !(typeof e === "object" && e !== null && "message" in e)) {
    return new Error(String(e));
  }
  const { name, message } = e as { name?: unknown; message?: unknown };
  const Kind = typeof name === "string" ? byName[name] : undefined;
  if (Kind === undefined) return e instanceof Error ? e : new Error(String(message));
  if (e instanceof Kind) return e;
  const out = new Kind(String(message));
  out.message = String(message); // ClosedError builds its own message from its argument
  return out;
}
