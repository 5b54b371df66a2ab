// Test helpers: a real gRPC-Web client (connect-web over Node's fetch), a frame recorder that
// timestamps every frame of a Subscribe, so tests assert on order, gaps and the final error, and
// a raw subscriber that stops reading (a slow or vanished client) with a parser for what it got.
import { createClient, ConnectError, type Client } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import {
  StreamService,
  SubscribeRequestSchema,
  SubscribeResponseSchema,
  type SubscribeResponse,
} from "../proto/gen/onestream/v1/stream_pb";

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

export async function adminPost(
  baseUrl: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

export async function publishN(baseUrl: string, topic: string, count: number, payload = "p"): Promise<string[]> {
  const { status, json } = await adminPost(baseUrl, "/admin/publish", { topic, payload, count });
  if (status !== 200) throw new Error(`admin publish failed: ${status} ${JSON.stringify(json)}`);
  return json.cursors;
}

/** A Subscribe over plain node:http whose response body is left unread until `readAll()`. */
export interface RawSubscriber {
  req: ClientRequest;
  res: IncomingMessage;
  /** Reads the rest of the body (resuming it), until the server ends or cuts the response. */
  readAll(): Promise<{ body: Buffer; cut: boolean }>;
  /** Gone without a word: the socket is destroyed. */
  vanish(): void;
  /** Resolves when the connection closes, whoever closed it (reads nothing). */
  closed: Promise<void>;
}

/** Opens a gRPC-Web Subscribe that reads nothing (the socket fills up) until told to. */
export function rawSubscribe(baseUrl: string, topics: string[]): Promise<RawSubscriber> {
  const message = toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { topics: topics.map((topic) => ({ topic })) }));
  const envelope = Buffer.alloc(5 + message.length);
  envelope.writeUInt32BE(message.length, 1);
  envelope.set(message, 5);
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}/onestream.v1.StreamService/Subscribe`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
    });
    req.on("error", reject);
    const closed = new Promise<void>((done) => req.once("socket", (socket) => socket.once("close", () => done())));
    req.on("response", (res) => {
      res.pause();
      resolve({
        req,
        res,
        closed,
        vanish: () => req.destroy(),
        readAll: () =>
          new Promise((done) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.once("end", () => done({ body: Buffer.concat(chunks), cut: false }));
            res.once("error", () => done({ body: Buffer.concat(chunks), cut: true }));
            res.once("aborted", () => done({ body: Buffer.concat(chunks), cut: true }));
            res.resume();
          }),
      });
    });
    req.end(envelope);
  });
}

/** Splits a gRPC-Web body into its messages and its trailer (the frame flagged 0x80). */
export function parseGrpcWeb(body: Buffer): { messages: SubscribeResponse[]; trailer: string | undefined } {
  const messages: SubscribeResponse[] = [];
  let trailer: string | undefined;
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    const data = body.subarray(at + 5, at + 5 + length);
    if (body[at]! & 0x80) trailer = data.toString("utf8");
    else messages.push(fromBinary(SubscribeResponseSchema, data));
    at += 5 + length;
  }
  return { messages, trailer };
}
