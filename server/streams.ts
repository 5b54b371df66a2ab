// The server's open Subscribe streams, each with what a fault or a shutdown needs to reach it:
// a way to wake its handler, a way to end it with a status, and its raw Node request/response
// (for faults that act below the protocol: dropping the socket, cutting a message in half).
import { Code, ConnectError } from "@connectrpc/connect";
import type { IncomingMessage, ServerResponse } from "node:http";

export interface RawExchange {
  req: IncomingMessage;
  res: ServerResponse;
}

export class OpenStream {
  /** Topics with appends this handler has not read yet. */
  readonly dirty = new Set<string>();
  /** Set once: the status the handler must end with at its next step. */
  failure: ConnectError | undefined;
  private wakeUp: (() => void) | undefined;
  private wakePending = false;

  constructor(readonly topics: readonly string[], readonly raw: RawExchange | undefined) {}

  /** An append to `topic`: wakes the handler after the current macrotask, so events
   *  appended in the same tick are read as one batch. */
  notify(topic: string): void {
    this.dirty.add(topic);
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
}

export class StreamRegistry {
  private readonly open = new Set<OpenStream>();
  private opened = 0;
  private drained: (() => void) | undefined;

  add(topics: readonly string[], raw: RawExchange | undefined): OpenStream {
    const stream = new OpenStream(topics, raw);
    this.open.add(stream);
    this.opened++;
    return stream;
  }

  remove(stream: OpenStream): void {
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
