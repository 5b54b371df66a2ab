// An Upstream scripted frame by frame, below any adapter: for engine behaviour that does not
// depend on a protocol (bookmarks, calls with no open frame, opaque cursors, resets from a
// call's error). Every open() becomes a FrameCall the test feeds.
import { Code, ConnectError } from "@connectrpc/connect";
import type { CallOptions, Cursor, CursorKind, Frame, OpenOptions, PublishInput, ResetFrame, TopicStart, Upstream, WireEvent } from "../engine/types";
import { Channel } from "./channel";

export class FrameCall {
  readonly channel: Channel<Frame>;

  constructor(
    readonly starts: readonly TopicStart[],
    readonly opts: OpenOptions,
  ) {
    this.channel = new Channel(opts.signal);
  }

  get aborted(): boolean {
    return this.opts.signal.aborted;
  }

  /** topic → cursor asked for ("now" when none). */
  get resume(): Record<string, Cursor | "now"> {
    return Object.fromEntries(this.starts.map((s) => [s.topic, s.after ?? "now"]));
  }

  send(...frames: Frame[]): void {
    for (const f of frames) this.channel.push(f);
  }

  fail(err: unknown = new ConnectError("network error", Code.Unknown)): void {
    this.channel.fail(err);
  }

  end(): void {
    this.channel.end();
  }
}

export interface ScriptedUpstreamOptions {
  cursors?: CursorKind;
  historyOnly?: boolean;
  heartbeatMs?: number;
  maxTopics?: number;
  resetsFor?: (error: unknown, topics: readonly TopicStart[]) => readonly ResetFrame[] | undefined;
  /** Answers publish(); absent: the upstream has no publish. */
  publish?: (input: PublishInput, opts: CallOptions) => Promise<{ cursor: Cursor | undefined }>;
}

export class ScriptedUpstream implements Upstream {
  readonly calls: FrameCall[] = [];
  readonly cursors: CursorKind;
  readonly historyOnly: boolean;
  readonly heartbeatMs?: number;
  readonly maxTopics?: number;
  readonly resetsFor?: Upstream["resetsFor"];
  readonly publish?: Upstream["publish"];

  constructor(opts: ScriptedUpstreamOptions = {}) {
    this.cursors = opts.cursors ?? "ordered";
    this.historyOnly = opts.historyOnly ?? false;
    if (opts.heartbeatMs !== undefined) this.heartbeatMs = opts.heartbeatMs;
    if (opts.maxTopics !== undefined) this.maxTopics = opts.maxTopics;
    if (opts.resetsFor !== undefined) this.resetsFor = opts.resetsFor;
    if (opts.publish !== undefined) this.publish = opts.publish;
  }

  get last(): FrameCall {
    const c = this.calls[this.calls.length - 1];
    if (c === undefined) throw new Error("ScriptedUpstream: no call yet");
    return c;
  }

  /** Calls not aborted by the engine and not ended. */
  get running(): FrameCall[] {
    return this.calls.filter((c) => !c.aborted && !c.channel.closed);
  }

  open(topics: readonly TopicStart[], opts: OpenOptions): AsyncIterable<Frame> {
    const call = new FrameCall(topics, opts);
    this.calls.push(call);
    return call.channel;
  }
}

/** Builders, so tests read like the frames they script. */
export const f = {
  open: (epoch?: string, heartbeatMs?: number): Frame => ({
    kind: "open",
    ...(epoch === undefined ? {} : { epoch }),
    ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
  }),
  events: (topic: string, ...cursors: Cursor[]): Frame => ({
    kind: "events",
    events: cursors.map((cursor): WireEvent => ({ topic, cursor, payload: new TextEncoder().encode(String(cursor)) })),
  }),
  progress: (topic: string, cursor: Cursor): Frame => ({ kind: "progress", topic, cursor }),
  caughtUp: (...topics: string[]): Frame => (topics.length === 0 ? { kind: "caught-up" } : { kind: "caught-up", topics }),
  heartbeat: (): Frame => ({ kind: "heartbeat" }),
  reset: (topic: string, reason: ResetFrame["reason"], resumeAfter?: Cursor): Frame => ({
    kind: "reset",
    topic,
    reason,
    ...(resumeAfter === undefined ? {} : { resumeAfter }),
  }),
};
