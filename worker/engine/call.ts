// One upstream call, main or catch-up: it asks for headers, opens the call, runs every frame
// through the idle watchdog and hands it on, and ends with one Outcome. Whatever happens, the
// fetch is aborted at the end (a wedged call must not keep one of the browser's 6 HTTP/1.1
// connections). The state machines that decide what a call is for live in main-stream.ts and
// catchup.ts; this file only knows how one call runs.
import type { EngineContext } from "./context";
import { clampHeartbeat, idleTimeoutMs } from "./config";
import { ProtocolError, StaleError, StalledError } from "./errors";
import type { Frame, TopicStart } from "./types";
import { STALE, watchdog } from "./watchdog";

/** Which headers to ask for: the usual ones, or fresh ones after Unauthenticated. */
export type Auth = "connect" | "refresh";

export type Outcome = { kind: "ok" } | { kind: "cancelled" } | { kind: "error"; error: unknown };

export class Call {
  readonly ctrl = new AbortController();
  /** We ended it on purpose (superseded, offline, close): its end is not an error. */
  cancelled = false;
  readonly topics: readonly string[];
  readonly topicSet: ReadonlySet<string>;
  /** Monotonic ms of the first frame: the call is open (the server accepted it). */
  openedAt: number | undefined;
  /** Promised frame interval, from the open frame or the protocol; sets the idle timeout. */
  heartbeatMs: number | undefined;
  /** Epoch from the open frame ("" when the protocol has none). */
  epoch = "";
  readonly caughtUp = new Set<string>();
  /** Sleep/wake made us doubt it: replace it (make-before-break). */
  suspect = false;
  /** Every topic caught up at some point: the server was demonstrably working (backoff health). */
  reachedLive = false;
  /** Why we ended it ourselves with an error (a stalled catch-up), if we did. */
  failure: Error | undefined;

  constructor(
    readonly starts: readonly TopicStart[],
    readonly startedAt: number,
    readonly auth: Auth,
    readonly historyOnly: boolean,
  ) {
    this.topics = starts.map((s) => s.topic);
    this.topicSet = new Set(this.topics);
  }

  get open(): boolean {
    return this.openedAt !== undefined;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.ctrl.abort();
  }

  /** Ends it with `error` (the outcome is that error, not a cancellation). */
  fail(error: Error): void {
    this.failure ??= error;
    this.ctrl.abort();
  }

  get allCaughtUp(): boolean {
    return this.topics.every((t) => this.caughtUp.has(t));
  }
}

/**
 * Runs `call` to its end. `onFrame` sees every frame after the call opened (the open frame
 * itself too); it may throw to fail the call. `onOpen` runs once, at the first frame.
 */
export async function runCall(
  ctx: EngineContext,
  call: Call,
  handlers: { onOpen: () => void; onFrame: (frame: Frame) => void },
): Promise<Outcome> {
  const { config, clock, upstream } = ctx;
  const heartbeat = (f: Frame): number | undefined =>
    clampHeartbeat(f.kind === "open" && f.heartbeatMs !== undefined ? f.heartbeatMs : upstream.heartbeatMs, (m) => ctx.warnOnce("heartbeat", m));
  const stall = new StallWatch(ctx, call);
  try {
    const headers = await ctx.headersFor(call.auth);
    if (call.cancelled) return { kind: "cancelled" };
    const frames = watchdog(upstream.open(call.starts, { signal: call.ctrl.signal, headers, historyOnly: call.historyOnly }), {
      clock,
      idleMs: idleTimeoutMs(config, undefined),
      idleMsAfter: (f) => (call.open ? undefined : idleTimeoutMs(config, heartbeat(f))),
      onStale: () => call.ctrl.abort(),
      signal: call.ctrl.signal,
    });
    for await (const item of frames) {
      if (call.cancelled) break;
      if (item === STALE) throw new StaleError(idleTimeoutMs(config, call.heartbeatMs));
      if (!call.open) {
        call.openedAt = clock.monotonic();
        if (item.kind === "open") call.epoch = item.epoch ?? "";
        call.heartbeatMs = heartbeat(item);
        handlers.onOpen();
        if (call.cancelled) break;
      } else if (item.kind === "open") {
        throw new ProtocolError("second open frame on one call");
      }
      handlers.onFrame(item);
      stall.saw(item);
    }
    if (call.cancelled) return { kind: "cancelled" };
    if (call.failure !== undefined) return { kind: "error", error: call.failure };
    if (!call.open) throw new ProtocolError("stream ended before its first frame");
    return { kind: "ok" };
  } catch (error) {
    if (call.cancelled) return { kind: "cancelled" };
    return { kind: "error", error: call.failure ?? error };
  } finally {
    stall.stop();
    call.ctrl.abort(); // frees the fetch whatever happened (a no-op after a clean end)
  }
}

/**
 * While a call catches up, some frame that moves it on (events, a bookmark, a reset, a caught-up
 * marker) must come every catchupStallMs; heartbeats alone keep a stream alive, not a catch-up.
 */
class StallWatch {
  private cancel: (() => void) | undefined;
  private lastProgress = 0;

  constructor(
    private readonly ctx: EngineContext,
    private readonly call: Call,
  ) {}

  saw(frame: Frame): void {
    if (this.call.reachedLive) return; // a call's topics and caught-up set only grow: live stays live
    if (this.call.allCaughtUp) {
      this.call.reachedLive = true;
      return this.stop();
    }
    if (frame.kind === "heartbeat" && this.cancel !== undefined) return;
    // One timer per stall period, not one per frame (as the watchdog does): a frame only moves
    // the deadline, and the timer re-arms for what is left of it.
    this.lastProgress = this.ctx.clock.monotonic();
    this.cancel ??= this.arm(this.ctx.config.catchupStallMs);
  }

  private arm(ms: number): () => void {
    return this.ctx.clock.setTimeout(() => {
      const stallMs = this.ctx.config.catchupStallMs;
      const left = this.lastProgress + stallMs - this.ctx.clock.monotonic();
      this.cancel = left > 0 ? this.arm(left) : undefined;
      if (left <= 0) this.call.fail(new StalledError(stallMs));
    }, ms);
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}
