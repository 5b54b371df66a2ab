// The server's open Subscribe streams, each with what a fault, a shutdown or a slow client needs
// to reach it: a way to wake its handler, a way to end it with a status, its raw Node
// request/response (faults act below the protocol: dropping the socket, cutting a message), and
// its send pacing.
// Pacing is why a stream can always be reclaimed. connect-node waits for 'drain' after a write
// the socket did not take at once, and a socket whose client vanished never drains: the handler
// would hang there for good, holding its buffers. So the server's sockets accept far more than a
// stream ever queues (server.ts), and the stream itself waits for room before each frame, in a
// wait that an abort, a shutdown or a fault can interrupt. A client that stops reading while its
// topics keep growing falls behind by more than `maxBufferedBytes` and is ended with
// ResourceExhausted: it resumes from its cursor, reading the log at its own pace.
import { Code, ConnectError } from "@connectrpc/connect";
import type { IncomingMessage, ServerResponse } from "node:http";

export interface RawExchange {
  req: IncomingMessage;
  res: ServerResponse;
}

/** How often a stream waiting for room looks at its socket again, besides the flush barrier. */
const STALL_POLL_MS = 100;
const EMPTY = Buffer.alloc(0);

export class OpenStream {
  /** Topics with appends this handler has not read yet. */
  readonly dirty = new Set<string>();
  /** Set once: the status the handler must end with at its next step. */
  failure: ConnectError | undefined;
  private wakeUp: (() => void) | undefined;
  private wakePending = false;
  /** Bytes appended to this stream's topics since it began waiting for room; undefined when not waiting. */
  private stalledBytes: number | undefined;
  private readonly releasers: (() => void)[] = [];
  private released = false;
  private flushing = false;

  constructor(readonly topics: readonly string[], readonly raw: RawExchange | undefined) {}

  /** An append of `bytes` to `topic`: wakes the handler after the current macrotask, so events
   *  appended in the same tick are read as one batch. */
  notify(topic: string, bytes = 0): void {
    this.dirty.add(topic);
    if (this.stalledBytes !== undefined) this.stalledBytes += bytes;
    this.wake();
  }

  /** Ends the stream with `error` (the first reason wins). */
  end(error: ConnectError): void {
    this.failure ??= error;
    this.wake();
  }

  /** Throws the failure, if any: call after every await. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  wake(): void {
    if (!this.wakeUp || this.wakePending) return;
    this.wakePending = true;
    setImmediate(() => {
      this.wakePending = false;
      this.wakeUp?.();
    });
  }

  /** Resolves at the next wake(), or after `ms` (no limit when undefined). */
  sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, Math.max(0, ms));
      this.wakeUp = done;
    });
  }

  /** Bytes written to the response that the kernel has not taken yet. */
  buffered(): number {
    const res = this.raw?.res;
    if (!res || res.destroyed || res.writableEnded) return 0;
    return res.writableLength;
  }

  /**
   * Waits until a frame of `bytes` fits: nothing is queued, or the queue plus the frame stays
   * within `limit`. Throws the stream's failure, or ResourceExhausted once the stream is behind
   * by more than `limit` (queued bytes + appends to its topics while it waited).
   */
  async makeRoom(bytes: number, limit: number): Promise<void> {
    for (;;) {
      this.check();
      const queued = this.buffered();
      if (queued === 0 || queued + bytes <= limit) break;
      this.stalledBytes ??= 0;
      const behind = queued + this.stalledBytes;
      if (behind > limit) {
        this.end(new ConnectError(
          `the client fell ${behind} bytes behind, over the ${limit}-byte limit; subscribe again from your cursors`,
          Code.ResourceExhausted,
        ));
        continue;
      }
      this.wakeWhenFlushed();
      await this.sleep(STALL_POLL_MS);
    }
    this.stalledBytes = undefined;
  }

  /**
   * Wakes the handler once everything queued so far has reached the kernel: an empty write to
   * the socket completes after the writes before it (it adds no byte to the response).
   */
  private wakeWhenFlushed(): void {
    const socket = this.raw?.res.socket;
    if (this.flushing || !socket || socket.destroyed || socket.writableEnded) return;
    this.flushing = true;
    socket.write(EMPTY, () => {
      this.flushing = false;
      this.wake();
    });
  }

  /** Runs `fn` once, when the stream is released. */
  onRelease(fn: () => void): void {
    if (this.released) fn();
    else this.releasers.push(fn);
  }

  /** Unhooks the stream from everything that references it (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.failure ??= new ConnectError("stream released", Code.Canceled);
    for (const fn of this.releasers.splice(0)) fn();
    this.wake();
  }

  /** The client is gone: its response was closed. */
  get clientGone(): boolean {
    const res = this.raw?.res;
    return res !== undefined && (res.destroyed || res.closed);
  }
}

export class StreamRegistry {
  private readonly open = new Set<OpenStream>();
  private opened = 0;
  private drained: (() => void) | undefined;

  add(topics: readonly string[], raw: RawExchange | undefined): OpenStream {
    const stream = new OpenStream(topics, raw);
    this.open.add(stream);
    this.opened++;
    stream.onRelease(() => this.remove(stream));
    return stream;
  }

  private remove(stream: OpenStream): void {
    this.open.delete(stream);
    if (this.open.size === 0) this.drained?.();
  }

  get active(): number {
    return this.open.size;
  }

  get total(): number {
    return this.opened;
  }

  all(): OpenStream[] {
    return [...this.open];
  }

  /** Union of the topics of the open streams, sorted. */
  subscribedTopics(): string[] {
    const topics = new Set<string>();
    for (const stream of this.open) for (const topic of stream.topics) topics.add(topic);
    return [...topics].sort();
  }

  endAll(message: string, code: Code): number {
    for (const stream of this.open) stream.end(new ConnectError(message, code));
    return this.open.size;
  }

  wakeAll(): void {
    for (const stream of this.open) stream.wake();
  }

  /**
   * Releases every stream whose client is gone. Its handler normally does this itself within
   * milliseconds of the abort; this is the backstop for one stuck where no abort reaches it.
   */
  reapGone(): number {
    let reaped = 0;
    for (const stream of this.open) {
      if (!stream.clientGone) continue;
      stream.release();
      reaped++;
    }
    return reaped;
  }

  /** Resolves once no stream is open. */
  whenDrained(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.drained;
      this.drained = () => {
        this.drained = undefined;
        previous?.();
        resolve();
      };
    });
  }
}
