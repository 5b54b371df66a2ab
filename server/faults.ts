// Server-side faults on demand, for tests of the client's recovery: the failures a real network
// or a real server produces (a dropped connection, a silent stream, a message cut in half, an
// error status, a refused call, a server that lost its data), triggered by POST /admin/fault.
import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import type { TopicLog } from "./log";
import type { OpenStream, RawExchange, StreamRegistry } from "./streams";

export type Fault =
  | { kind: "drop" }
  | { kind: "wedge" }
  | { kind: "heal" }
  | { kind: "truncate" }
  | { kind: "error"; code: Code }
  | { kind: "reject"; code: Code; count: number }
  | { kind: "new-epoch" };

/** Ceiling on `count` of a reject fault (to catch garbage). */
export const MAX_REJECT_COUNT = 1_000_000;

/** Parses a fault body; throws a RangeError with a message fit for a 400 reply. */
export function parseFault(body: unknown): Fault {
  if (typeof body !== "object" || body === null) throw new RangeError("fault body must be a JSON object");
  const { kind, code, count } = body as Record<string, unknown>;
  switch (kind) {
    case "drop":
    case "wedge":
    case "heal":
    case "truncate":
    case "new-epoch":
      return { kind };
    case "error":
      return { kind, code: parseCode(code) };
    case "reject": {
      const n = count ?? 1;
      if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_REJECT_COUNT) {
        throw new RangeError(`count must be an integer in 1..${MAX_REJECT_COUNT}, got ${JSON.stringify(count)}`);
      }
      return { kind, code: parseCode(code), count: n };
    }
    default:
      throw new RangeError(
        `unknown fault kind ${JSON.stringify(kind)}; expected drop, wedge, heal, truncate, error, reject or new-epoch`,
      );
  }
}

function parseCode(code: unknown): Code {
  const parsed = typeof code === "string" ? codeFromString(code) : undefined;
  if (parsed === undefined) {
    throw new RangeError(`code must be a gRPC code name in snake_case other than "ok", e.g. "unavailable"; got ${JSON.stringify(code)}`);
  }
  return parsed;
}

/** What the stream handlers consult: whether streams are wedged, and pending rejections. */
export class FaultState {
  wedged = false;
  private rejects: { code: Code; left: number } | undefined;

  /** Throws if the next subscribe is to be rejected (consuming one rejection). */
  takeReject(): void {
    if (!this.rejects) return;
    const { code } = this.rejects;
    if (--this.rejects.left <= 0) this.rejects = undefined;
    throw new ConnectError("fault: subscribe rejected", code);
  }

  /** Waits while wedged; a stream ended meanwhile (shutdown, another fault) throws its status. */
  async passGate(stream: OpenStream): Promise<void> {
    while (this.wedged) {
      stream.check();
      await stream.sleep();
    }
    stream.check();
  }

  /** Applies a fault to the open streams; the reply's details. */
  async apply(fault: Fault, streams: StreamRegistry, log: TopicLog): Promise<Record<string, unknown>> {
    switch (fault.kind) {
      case "drop": {
        const open = streams.all();
        for (const stream of open) stream.raw?.res.socket?.destroy();
        return { streams: open.length };
      }
      case "wedge":
        this.wedged = true;
        return { streams: streams.active };
      case "heal":
        this.wedged = false;
        streams.wakeAll();
        return { streams: streams.active };
      case "truncate": {
        const open = streams.all();
        for (const stream of open) if (stream.raw) truncate(stream.raw);
        return { streams: open.length };
      }
      case "error":
        return { streams: streams.endAll("fault: stream ended by the server", fault.code) };
      case "reject":
        this.rejects = { code: fault.code, left: fault.count };
        return { rejecting: fault.count };
      case "new-epoch": {
        await log.reset();
        // A server that lost its data also lost its connections: cursors on the open streams
        // would otherwise jump backwards under the new epoch.
        const ended = streams.endAll("server lost its log (new epoch)", Code.Unavailable);
        return { epoch: log.epoch(), streams: ended };
      }
    }
  }
}

/**
 * Ends a response in the middle of a message: an envelope header announcing 16 bytes, 3 of
 * them, then a clean end. From then on the protocol handler's writes are swallowed, so it can
 * finish its bookkeeping without writing after the end.
 */
function truncate({ req, res }: RawExchange): void {
  if (res.writableEnded) return;
  if (!res.headersSent) {
    res.writeHead(200, { "content-type": req.headers["content-type"] ?? "application/grpc-web+proto" });
  }
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  res.write = ((_chunk: unknown, encodingOrDone?: unknown, done?: unknown) => {
    const callback = typeof encodingOrDone === "function" ? encodingOrDone : done;
    if (typeof callback === "function") process.nextTick(callback as () => void);
    return true;
  }) as typeof res.write;
  res.end = (() => res) as typeof res.end;
  res.writeHead = (() => res) as typeof res.writeHead;
  res.addTrailers = () => {};
  write(Buffer.from([0, 0, 0, 0, 16, 1, 2, 3]));
  end();
}
