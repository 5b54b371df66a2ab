// Test helpers: a real gRPC-Web client (connect-web over Node's fetch) and a frame recorder that
// timestamps every frame of a Subscribe, so tests assert on order, gaps and the final error.
import { createClient, ConnectError, type Client } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { StreamService, type SubscribeResponse } from "../proto/gen/onestream/v1/stream_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SubscribeRequestSchema } from "../proto/gen/onestream/v1/stream_pb";

export type StreamClient = Client<typeof StreamService>;

export function streamClient(baseUrl: string): StreamClient {
  return createClient(StreamService, createGrpcWebTransport({ baseUrl, useBinaryFormat: true }));
}

export interface Recorded {
  frame: SubscribeResponse["frame"];
  at: number;
}

/** Records one Subscribe until it ends; `ended` resolves with its error (undefined = OK). */
export class Recorder {
  readonly frames: Recorded[] = [];
  readonly ended: Promise<ConnectError | undefined>;
  private readonly abort = new AbortController();
  private waiters: (() => void)[] = [];
  done = false;

  constructor(client: StreamClient, req: MessageInitShape<typeof SubscribeRequestSchema>, headers?: HeadersInit) {
    this.ended = (async () => {
      try {
        for await (const res of client.subscribe(req, { signal: this.abort.signal, headers })) {
          this.frames.push({ frame: res.frame, at: performance.now() });
          this.notify();
        }
        return undefined;
      } catch (err) {
        return ConnectError.from(err);
      } finally {
        this.done = true;
        this.notify();
      }
    })();
  }

  /** Resolves when `predicate` holds over the frames so far; rejects after `ms`. */
  async until(predicate: (frames: Recorded[]) => boolean, ms = 3000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!predicate(this.frames)) {
      if (this.done) throw new Error(`stream ended before the condition held (${this.describe()})`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out waiting (${this.describe()})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Every event's "topic:cursor" in arrival order. */
  events(): string[] {
    return this.frames.flatMap((f) =>
      f.frame.case === "events" ? f.frame.value.events.map((e) => `${e.topic}:${e.cursor}`) : [],
    );
  }

  kinds(): string[] {
    return this.frames.map((f) => f.frame.case ?? "none");
  }

  cancel(): void {
    this.abort.abort();
  }

  private describe(): string {
    return `frames: ${this.kinds().join(",")}`;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export async function adminPost(baseUrl: string, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${baseUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

export async function publishN(baseUrl: string, topic: string, count: number, payload = "p"): Promise<string[]> {
  const { status, json } = await adminPost(baseUrl, "/admin/publish", { topic, payload, count });
  if (status !== 200) throw new Error(`admin publish failed: ${status} ${JSON.stringify(json)}`);
  return json.cursors;
}
