// An in-memory onestream server behind the Transport interface: per-topic logs with cursors,
// retention, epochs, idempotent publish, heartbeats on the injected clock, and the faults the
// real network produces (drop, wedge, truncate, clean end, rejections, restart). Tests script
// failures against it and assert on what subscribers got; it is not a mock of the engine.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  PublishResponseSchema,
  ResetReason,
  type Event,
  type PublishRequest,
  type PublishResponse,
  type SubscribeRequest,
  type SubscribeResponse,
} from "../../proto/gen/onestream/v1/stream_pb";
import type { CallOptions, Clock } from "../engine/types";
import type { V1Transport } from "./v1-transport";
import { Channel } from "./channel";
import { event, frames } from "./frames";

export interface FakeServerOptions {
  clock: Clock;
  /** Advertised in Hello and sent this often; 0 = heartbeats off. Default 5 s. */
  heartbeatMs?: number;
  epoch?: string;
  /** Events per history frame. Default 100. */
  historyBatch?: number;
  /** When set, calls must carry `authorization: Bearer <token>`, else Unauthenticated. */
  token?: string;
  /**
   * Each topic has an epoch of its own (a log shared by several nodes): Hello carries none,
   * every TopicReset carries the topic's, and flush() loses one topic without the others.
   */
  topicEpochs?: boolean;
}

interface Log {
  /** Highest cursor no longer retained (0 = everything retained). */
  trimmed: bigint;
  events: Event[];
  /** The topic's own epoch (topicEpochs mode). */
  epoch: string;
}

interface OpenStream {
  readonly req: SubscribeRequest;
  readonly channel: Channel<SubscribeResponse>;
  readonly topics: Set<string>;
  wedged: boolean;
  stopHeartbeat?: () => void;
}

export class FakeServer {
  readonly transport: V1Transport;
  epoch: string;
  heartbeatMs: number;
  token: string | undefined;
  /** Every Subscribe request, in arrival order. */
  readonly requests: SubscribeRequest[] = [];
  /** Every Publish request that reached the server (including rejected ones). */
  readonly publishRequests: PublishRequest[] = [];
  private readonly clock: Clock;
  private readonly historyBatch: number;
  private readonly topicEpochs: boolean;
  private epochSeq = 0;
  private logs = new Map<string, Log>();
  private keys = new Map<string, bigint>();
  private readonly streams = new Set<OpenStream>();
  private subscribeFaults: unknown[] = [];
  private publishFaults: unknown[] = [];

  constructor(opts: FakeServerOptions) {
    this.clock = opts.clock;
    this.epoch = opts.epoch ?? "e1";
    this.heartbeatMs = opts.heartbeatMs ?? 5_000;
    this.historyBatch = opts.historyBatch ?? 100;
    this.token = opts.token;
    this.topicEpochs = opts.topicEpochs ?? false;
    this.transport = {
      subscribe: (req, o) => this.subscribe(req, o),
      publish: (req, o) => this.handlePublish(req, o),
    };
  }

  /** Streams open right now (wedged ones included). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Topics of each open stream, for make-before-break assertions. */
  streamTopics(): string[][] {
    return [...this.streams].map((s) => [...s.topics].sort());
  }

  head(topic: string): bigint {
    const log = this.logs.get(topic);
    return log === undefined ? 0n : log.trimmed + BigInt(log.events.length);
  }

  /** Server-side publish of `count` events (payload = cursor text unless given). Returns their cursors. */
  publish(topic: string, count = 1, payload?: Uint8Array): bigint[] {
    const log = this.log(topic);
    const added: Event[] = [];
    for (let i = 0; i < count; i++) {
      const cursor = log.trimmed + BigInt(log.events.length) + 1n;
      const ev = event(topic, cursor, payload, BigInt(Math.floor(this.clock.now())));
      log.events.push(ev);
      added.push(ev);
    }
    for (const s of this.streams) if (!s.wedged && s.topics.has(topic) && !s.req.historyOnly) s.channel.push(frames.batch(added));
    return added.map((e) => e.cursor);
  }

  /** Events of `topic` still retained, oldest first. */
  retained(topic: string): Event[] {
    return [...(this.logs.get(topic)?.events ?? [])];
  }

  // ---- faults ----

  /** Every open stream fails like a cut TCP connection (Unknown "network error" by default). */
  drop(err: unknown = new ConnectError("network error", Code.Unknown)): void {
    for (const s of [...this.streams]) {
      this.forget(s);
      s.channel.fail(err);
    }
  }

  /** Every open stream ends in the middle of a message. */
  truncate(): void {
    this.drop(new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument));
  }

  /** Every open stream ends cleanly (status OK). */
  endStreams(): void {
    for (const s of [...this.streams]) {
      this.forget(s);
      s.channel.end();
    }
  }

  /** Every open stream goes silent (no events, no heartbeats) but stays open: a dead proxy. */
  wedge(): void {
    for (const s of this.streams) {
      s.wedged = true;
      s.stopHeartbeat?.();
    }
  }

  /** The next Subscribe calls fail with these errors, one each, before Hello. */
  rejectSubscribes(...errors: unknown[]): void {
    this.subscribeFaults.push(...errors);
  }

  /** The next Publish calls fail with these errors, one each. */
  rejectPublishes(...errors: unknown[]): void {
    this.publishFaults.push(...errors);
  }

  /** The server lost its log: new epoch, empty topics; open streams fail with Unavailable. */
  restart(epoch = `${this.epoch}'`): void {
    this.epoch = epoch;
    this.logs = new Map();
    this.keys = new Map();
    this.drop(new ConnectError("server restarting", Code.Unavailable));
  }

  /** The epoch `topic`'s cursors belong to (the server's, unless topicEpochs). */
  topicEpoch(topic: string): string {
    return this.topicEpochs ? this.log(topic).epoch : this.epoch;
  }

  /**
   * topicEpochs: `topic` lost its data (a FLUSHALL, a shared log restarted): a new epoch, cursors
   * from 1 again. Open streams keep going, with an EPOCH reset for that topic.
   */
  flush(...topics: string[]): void {
    for (const topic of topics) {
      const epoch = this.newEpoch(topic);
      this.logs.set(topic, { trimmed: 0n, events: [], epoch });
      for (const s of this.streams) {
        if (!s.wedged && s.topics.has(topic) && !s.req.historyOnly) s.channel.push(frames.reset(topic, ResetReason.EPOCH, 0n, epoch));
      }
    }
  }

  /** Retention: events with cursor ≤ `through` are gone. */
  trim(topic: string, through: bigint): void {
    const log = this.log(topic);
    const n = Number(through - log.trimmed);
    if (n <= 0) return;
    log.events.splice(0, n);
    log.trimmed = through;
  }

  /** Sends already-sent events of `topic` with cursor > `after` again on open streams (a benign duplicate). */
  resend(topic: string, after: bigint): void {
    const again = this.retained(topic).filter((e) => e.cursor > after);
    for (const s of this.streams) if (!s.wedged && s.topics.has(topic) && again.length > 0) s.channel.push(frames.batch(again));
  }

  /** Pushes any frame on every open stream: for lying-server tests. */
  sendRaw(frame: SubscribeResponse): void {
    for (const s of this.streams) if (!s.wedged) s.channel.push(frame);
  }

  // ---- the two RPCs ----

  private subscribe(req: SubscribeRequest, opts: CallOptions): AsyncIterable<SubscribeResponse> {
    this.requests.push(req);
    const channel = new Channel<SubscribeResponse>(opts.signal);
    const denied = this.authProblem(opts.headers);
    const fault = denied ?? this.subscribeFaults.shift();
    if (fault !== undefined) {
      channel.fail(fault);
      return channel;
    }
    const s: OpenStream = { req, channel, topics: new Set(req.topics.map((t) => t.topic)), wedged: false };
    this.streams.add(s);
    opts.signal.addEventListener("abort", () => this.forget(s), { once: true });
    channel.push(frames.hello(this.topicEpochs ? "" : this.epoch, this.heartbeatMs, BigInt(Math.floor(this.clock.now()))));
    for (const tr of req.topics) {
      if (tr.after === undefined) continue; // live from now
      const log = this.log(tr.topic);
      const head = log.trimmed + BigInt(log.events.length);
      const epoch = this.topicEpoch(tr.topic);
      const told = this.topicEpochs ? epoch : ""; // a one-epoch server's resets name none (Hello's)
      let after = tr.after;
      if (tr.epoch !== "" && tr.epoch !== epoch) {
        after = log.trimmed;
        channel.push(frames.reset(tr.topic, ResetReason.EPOCH, after, told));
      } else if (after > head) {
        after = head;
        channel.push(frames.reset(tr.topic, ResetReason.AHEAD, after, told));
      } else if (after < log.trimmed) {
        after = log.trimmed;
        channel.push(frames.reset(tr.topic, ResetReason.RETENTION, after, told));
      }
      const history = log.events.slice(Number(after - log.trimmed));
      for (let i = 0; i < history.length; i += this.historyBatch) channel.push(frames.batch(history.slice(i, i + this.historyBatch)));
    }
    channel.push(frames.caughtUp(...req.topics.map((t) => t.topic)));
    if (req.historyOnly) {
      this.forget(s);
      channel.end();
      return channel;
    }
    if (this.heartbeatMs > 0) {
      const beat = (): void => {
        if (s.wedged || !this.streams.has(s)) return;
        s.channel.push(frames.heartbeat(BigInt(Math.floor(this.clock.now()))));
        s.stopHeartbeat = this.clock.setTimeout(beat, this.heartbeatMs);
      };
      s.stopHeartbeat = this.clock.setTimeout(beat, this.heartbeatMs);
    }
    return channel;
  }

  private async handlePublish(req: PublishRequest, opts: CallOptions): Promise<PublishResponse> {
    this.publishRequests.push(req);
    await Promise.resolve();
    if (opts.signal.aborted) throw new ConnectError("the operation was aborted", Code.Canceled);
    const fault = this.authProblem(opts.headers) ?? this.publishFaults.shift();
    if (fault !== undefined) throw fault;
    const seen = this.keys.get(req.idempotencyKey);
    if (seen !== undefined) return create(PublishResponseSchema, { cursor: seen, duplicate: true });
    const [cursor] = this.publish(req.topic, 1, req.payload);
    this.keys.set(req.idempotencyKey, cursor!);
    return create(PublishResponseSchema, { cursor: cursor!, duplicate: false });
  }

  private authProblem(headers: Record<string, string>): ConnectError | undefined {
    if (this.token === undefined) return undefined;
    if (headers["authorization"] === `Bearer ${this.token}`) return undefined;
    return new ConnectError("bad or missing token", Code.Unauthenticated);
  }

  private forget(s: OpenStream): void {
    s.stopHeartbeat?.();
    this.streams.delete(s);
  }

  private log(topic: string): Log {
    let log = this.logs.get(topic);
    if (log === undefined) this.logs.set(topic, (log = { trimmed: 0n, events: [], epoch: this.newEpoch(topic) }));
    return log;
  }

  private newEpoch(topic: string): string {
    return `${topic}@${++this.epochSeq}`;
  }
}
