// The lowest-level fake: every Subscribe call becomes a ScriptedCall the test feeds frame by
// frame (or fails, or ends), to script exactly what a misbehaving server would send.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  PublishResponseSchema,
  ResetReason,
  type PublishRequest,
  type PublishResponse,
  type SubscribeRequest,
  type SubscribeResponse,
} from "../../proto/gen/onestream/v1/stream_pb";
import type { CallOptions } from "../engine/types";
import type { V1Transport } from "./v1-transport";
import { Channel } from "./channel";
import { frames } from "./frames";

export class ScriptedCall {
  readonly channel: Channel<SubscribeResponse>;

  constructor(
    readonly req: SubscribeRequest,
    readonly opts: CallOptions,
  ) {
    this.channel = new Channel(opts.signal);
  }

  get aborted(): boolean {
    return this.opts.signal.aborted;
  }

  /** The requested topics as { topic: after } ("live" when after is absent). */
  get resume(): Record<string, bigint | "live"> {
    return Object.fromEntries(this.req.topics.map((t) => [t.topic, t.after ?? "live"]));
  }

  /**
   * Answers like a well-behaved server with nothing to replay: Hello, an AHEAD reset naming the
   * head (`heads[topic]`, default 0) for each topic the engine asked for past any head (how it
   * learns where "now" is), then CaughtUp for every topic.
   */
  accept(epoch = "e1", heads: Record<string, bigint> = {}, heartbeatMs = 5_000): void {
    this.send(frames.hello(epoch, heartbeatMs));
    for (const t of this.req.topics) {
      if (t.after !== undefined && t.after > (heads[t.topic] ?? 0n)) this.send(frames.reset(t.topic, ResetReason.AHEAD, heads[t.topic] ?? 0n));
    }
    this.send(frames.caughtUp(...this.req.topics.map((t) => t.topic)));
  }

  send(...fs: SubscribeResponse[]): void {
    for (const f of fs) this.channel.push(f);
  }

  fail(err: unknown = new ConnectError("network error", Code.Unknown)): void {
    this.channel.fail(err);
  }

  end(): void {
    this.channel.end();
  }
}

export class ScriptedTransport implements V1Transport {
  readonly calls: ScriptedCall[] = [];
  /** Answers publish(); the default acknowledges with increasing cursors. */
  onPublish: (req: PublishRequest, opts: CallOptions) => Promise<PublishResponse>;
  private cursor = 0n;

  constructor() {
    this.onPublish = async () => create(PublishResponseSchema, { cursor: ++this.cursor });
  }

  get last(): ScriptedCall {
    const c = this.calls[this.calls.length - 1];
    if (c === undefined) throw new Error("ScriptedTransport: no subscribe call yet");
    return c;
  }

  /** Calls not aborted by the client. */
  get open(): ScriptedCall[] {
    return this.calls.filter((c) => !c.aborted && !c.channel.closed);
  }

  subscribe(req: SubscribeRequest, opts: CallOptions): AsyncIterable<SubscribeResponse> {
    const call = new ScriptedCall(req, opts);
    this.calls.push(call);
    return call.channel;
  }

  publish(req: PublishRequest, opts: CallOptions): Promise<PublishResponse> {
    return this.onPublish(req, opts);
  }
}
