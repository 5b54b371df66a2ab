// The StreamService handlers. Subscribe sends Hello at once (connect-node holds the headers until
// the first message), then resets, history, one CaughtUp, then live events and heartbeats.
// A stream never holds events itself: it remembers the last cursor it sent per topic and reads
// the log after it whenever the topic had an append. Subscribing to appends before looking at
// the log, and always reading strictly after the last sent cursor, is what makes the hand-over
// from history to live free of gaps and duplicates. Before each frame the stream waits for room
// in its socket (streams.ts): a slow reader slows its own stream down, never the server's memory.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import {
  CaughtUpSchema,
  EventBatchSchema,
  HeartbeatSchema,
  HelloSchema,
  PublishResponseSchema,
  ResetReason,
  StreamService,
  SubscribeResponseSchema,
  TopicResetSchema,
  type Event,
  type PublishRequest,
  type PublishResponse,
  type SubscribeRequest,
  type SubscribeResponse,
  type TopicRequest,
} from "../proto/gen/onestream/v1/stream_pb";
import { topicProblem } from "../contract/topic";
import { authenticate, permit } from "./auth";
import type { FaultState } from "./faults";
import type { TopicLog } from "./log";
import { DEFAULT_HEARTBEAT_MS, type ServerConfig } from "./options";
import type { OpenStream, RawExchange, StreamRegistry } from "./streams";

/** Most events in one EventBatch frame. */
export const MAX_BATCH_EVENTS = 500;
/** A batch is closed once it reaches this size, or half the stream's buffer budget if smaller
 *  (a single larger event still goes alone). */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Upper bound of the wire bytes an event adds to a frame beyond its payload and topic. */
const EVENT_OVERHEAD_BYTES = 40;
/** Upper bound of a frame's own wire bytes (envelope, oneof tag and length). */
const FRAME_OVERHEAD_BYTES = 16;
/** Least time an ended stream's queued bytes get to reach a client before its socket is cut. */
const MIN_FLUSH_GRACE_MS = 250;
/** Longest idempotency key, in characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;
/** Reads per topic per wake-up before the stream lets its other topics have a turn. */
const READS_PER_TURN = 8;

/** Carries each call's raw Node exchange from the HTTP wrapper to the handlers (for faults). */
export const rawExchangeKey = createContextKey<RawExchange | undefined>(undefined, { description: "raw exchange" });

export interface ServiceDeps {
  config: ServerConfig;
  log: TopicLog;
  faults: FaultState;
  streams: StreamRegistry;
  counters: { publishes: number };
  /** True once close() began: new streams are refused with Unavailable. */
  closing(): boolean;
}

export function serviceRoutes(deps: ServiceDeps): (router: ConnectRouter) => void {
  return (router) =>
    router.service(StreamService, {
      subscribe: (req, ctx) => subscribe(deps, req, ctx),
      publish: (req, ctx) => publish(deps, req, ctx),
    });
}

interface Wanted {
  topic: string;
  after: bigint | undefined;
  epoch: string;
}

/** Validates and merges the requested topics: for a topic named twice the earliest position wins. */
export function mergeTopicRequests(requests: readonly TopicRequest[], maxTopics: number): Wanted[] {
  if (requests.length === 0) throw new ConnectError("subscribe needs at least one topic", Code.InvalidArgument);
  const merged = new Map<string, Wanted>();
  requests.forEach((r, i) => {
    const problem = topicProblem(r.topic);
    if (problem) throw new ConnectError(`topics[${i}]: ${problem}`, Code.InvalidArgument);
    const seen = merged.get(r.topic);
    const earlier = seen === undefined || (r.after !== undefined && (seen.after === undefined || r.after < seen.after));
    if (earlier) merged.set(r.topic, { topic: r.topic, after: r.after, epoch: r.epoch });
  });
  if (merged.size > maxTopics) {
    throw new ConnectError(`${merged.size} topics in one subscribe, over the limit of ${maxTopics}`, Code.InvalidArgument);
  }
  return [...merged.values()];
}

async function* subscribe(deps: ServiceDeps, req: SubscribeRequest, ctx: HandlerContext): AsyncGenerator<SubscribeResponse> {
  if (deps.closing()) throw new ConnectError("server is shutting down", Code.Unavailable);
  deps.faults.takeReject();
  const grant = authenticate(deps.config.auth, ctx.requestHeader.get("authorization") ?? undefined);
  const wanted = mergeTopicRequests(req.topics, deps.config.maxTopicsPerSubscribe);
  permit(grant.allowedPrefixes, wanted.map((w) => w.topic));

  const raw = ctx.values.get(rawExchangeKey);
  // A stream may be silent for long (heartbeats off, a wedge): the idle timeout is for other connections.
  raw?.req.socket.setTimeout(0);
  const stream = deps.streams.add(wanted.map((w) => w.topic), raw);
  stream.onRelease(deps.log.subscribe(stream.topics, (event) => stream.notify(event.topic, event.payload.length)));
  // Fires on a client abort, and also when the call completes normally.
  const onAbort = () => stream.end(new ConnectError("call ended", Code.Canceled));
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  stream.onRelease(() => ctx.signal.removeEventListener("abort", onAbort));
  const { maxBufferedBytes } = deps.config;
  try {
    let sentAt = performance.now();
    const frames = streamFrames(deps, stream, wanted, req.historyOnly, () => sentAt);
    for await (const frame of frames) {
      await deps.faults.passGate(stream);
      await stream.makeRoom(frameBytes(frame), maxBufferedBytes);
      yield frame;
      sentAt = performance.now();
    }
  } finally {
    stream.release();
    if (raw && stream.buffered() > 0) cutIfStuck(raw.res, flushGraceMs(deps.config.heartbeatMs));
  }
}

/** Ended with bytes still queued: a client that does not read them within `graceMs` is cut. */
function cutIfStuck(res: RawExchange["res"], graceMs: number): void {
  const timer = setTimeout(() => {
    if (!res.writableFinished) res.destroy();
  }, graceMs);
  timer.unref();
  res.once("close", () => clearTimeout(timer));
}

function flushGraceMs(heartbeatMs: number): number {
  return Math.max(heartbeatMs || DEFAULT_HEARTBEAT_MS, MIN_FLUSH_GRACE_MS);
}

async function* streamFrames(
  deps: ServiceDeps,
  stream: OpenStream,
  wanted: readonly Wanted[],
  historyOnly: boolean,
  lastSentAt: () => number,
): AsyncGenerator<SubscribeResponse> {
  const { log, config } = deps;
  const epoch = log.epoch();
  yield frame({
    case: "hello",
    value: create(HelloSchema, { epoch, heartbeatMs: config.heartbeatMs, serverTimeMs: BigInt(Date.now()) }),
  });

  // Where each topic starts, decided after subscribing to appends (see the file comment).
  const last = new Map<string, bigint>();
  const upTo = new Map<string, bigint>();
  for (const w of wanted) {
    const { head, earliest } = await log.bounds(w.topic);
    stream.check();
    upTo.set(w.topic, head);
    let after = w.after;
    if (after === undefined) {
      after = head;
    } else if (w.epoch !== "" && w.epoch !== epoch) {
      yield resetFrame(w.topic, ResetReason.EPOCH, 0n);
      after = earliest - 1n;
    } else if (after > head) {
      yield resetFrame(w.topic, ResetReason.AHEAD, head);
      after = head;
    } else if (after + 1n < earliest) {
      yield resetFrame(w.topic, ResetReason.RETENTION, earliest - 1n);
      after = earliest - 1n;
    }
    last.set(w.topic, after);
  }

  const batch = new BatchBuilder(Math.min(MAX_BATCH_BYTES, Math.floor(config.maxBufferedBytes / 2)));
  for (const w of wanted) yield* pump(log, stream, w.topic, last, batch, upTo.get(w.topic)!);
  if (!batch.empty) yield batch.take();
  yield frame({ case: "caughtUp", value: create(CaughtUpSchema, { topics: wanted.map((w) => w.topic) }) });
  if (historyOnly) return;

  for (;;) {
    stream.check();
    if (stream.dirty.size > 0) {
      const topics = [...stream.dirty];
      stream.dirty.clear();
      for (const topic of topics) yield* pump(log, stream, topic, last, batch);
      if (!batch.empty) yield batch.take();
      continue;
    }
    const idle = performance.now() - lastSentAt();
    if (config.heartbeatMs > 0 && idle >= config.heartbeatMs) {
      yield frame({ case: "heartbeat", value: create(HeartbeatSchema, { serverTimeMs: BigInt(Date.now()) }) });
      continue;
    }
    await stream.sleep(config.heartbeatMs > 0 ? config.heartbeatMs - idle : undefined);
  }
}

/**
 * Reads `topic` strictly after its last sent cursor into `batch`, yielding full batches. A gap
 * in the log (retention dropped events this stream had not sent) becomes a RETENTION reset
 * right before the events that follow it. With `upTo`, stops after that cursor (history).
 */
async function* pump(
  log: TopicLog,
  stream: OpenStream,
  topic: string,
  last: Map<string, bigint>,
  batch: BatchBuilder,
  upTo?: bigint,
): AsyncGenerator<SubscribeResponse> {
  for (let reads = 0; ; reads++) {
    if (reads === READS_PER_TURN && upTo === undefined) {
      stream.notify(topic); // more may be waiting: come back after the other topics
      return;
    }
    const after = last.get(topic)!;
    if (upTo !== undefined && after >= upTo) return;
    const events = await log.read(topic, after, MAX_BATCH_EVENTS);
    stream.check();
    const first = events[0];
    if (!first) return;
    if (first.cursor > after + 1n) {
      if (!batch.empty) yield batch.take();
      yield resetFrame(topic, ResetReason.RETENTION, first.cursor - 1n);
    }
    for (const event of events) {
      if (upTo !== undefined && event.cursor > upTo) break;
      if (batch.full) yield batch.take();
      batch.add(event);
      last.set(topic, event.cursor);
    }
    if (events.length < MAX_BATCH_EVENTS) return;
  }
}

class BatchBuilder {
  private events: Event[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get empty(): boolean {
    return this.events.length === 0;
  }

  get full(): boolean {
    return this.events.length >= MAX_BATCH_EVENTS || this.bytes >= this.maxBytes;
  }

  add(event: Event): void {
    this.events.push(event);
    this.bytes += eventBytes(event);
  }

  take(): SubscribeResponse {
    const events = this.events;
    this.events = [];
    this.bytes = 0;
    return frame({ case: "events", value: create(EventBatchSchema, { events }) });
  }
}

/** Upper bound of an event's wire bytes inside a batch (a UTF-16 unit is at most 3 UTF-8 bytes). */
function eventBytes(event: Event): number {
  return event.payload.length + event.topic.length * 3 + EVENT_OVERHEAD_BYTES;
}

/** Upper bound of a frame's wire bytes, for pacing (exact sizes would cost a second encode). */
export function frameBytes(response: SubscribeResponse): number {
  const f = response.frame;
  let body = EVENT_OVERHEAD_BYTES;
  if (f.case === "events") body = f.value.events.reduce((n, e) => n + eventBytes(e), 0);
  else if (f.case === "caughtUp") body = f.value.topics.reduce((n, t) => n + t.length * 3 + FRAME_OVERHEAD_BYTES, 0);
  else if (f.case === "reset") body += f.value.topic.length * 3;
  return body + FRAME_OVERHEAD_BYTES;
}

function frame(value: SubscribeResponse["frame"]): SubscribeResponse {
  return create(SubscribeResponseSchema, { frame: value });
}

function resetFrame(topic: string, reason: ResetReason, resumeAfter: bigint): SubscribeResponse {
  return frame({ case: "reset", value: create(TopicResetSchema, { topic, reason, resumeAfter }) });
}

async function publish(deps: ServiceDeps, req: PublishRequest, ctx: HandlerContext): Promise<PublishResponse> {
  const grant = authenticate(deps.config.auth, ctx.requestHeader.get("authorization") ?? undefined);
  const problem = payloadProblem(req.topic, req.payload.length, deps.config.maxPayloadBytes);
  if (problem) throw new ConnectError(problem, Code.InvalidArgument);
  if (req.idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new ConnectError(
      `idempotency key is ${req.idempotencyKey.length} characters, over the ${MAX_IDEMPOTENCY_KEY_LENGTH}-character limit`,
      Code.InvalidArgument,
    );
  }
  permit(grant.allowedPrefixes, [req.topic]);
  const key = req.idempotencyKey === "" ? undefined : { principal: grant.principal, key: req.idempotencyKey };
  const { event, duplicate } = await deps.log.append(req.topic, req.payload, key);
  if (!duplicate) deps.counters.publishes++;
  return create(PublishResponseSchema, { cursor: event.cursor, duplicate });
}

/** Why a publish of `payloadBytes` on `topic` is refused, or undefined (shared with /admin/publish). */
export function payloadProblem(topic: string, payloadBytes: number, maxPayloadBytes: number): string | undefined {
  const problem = topicProblem(topic);
  if (problem) return problem;
  if (payloadBytes > maxPayloadBytes) {
    return `payload is ${payloadBytes} bytes, over the ${maxPayloadBytes}-byte limit`;
  }
  return undefined;
}
