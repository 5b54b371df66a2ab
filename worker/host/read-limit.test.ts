// The read limit: a hostile server declares a 1 GiB message and streams bytes as fast as it can.
// The worker must not buffer it: the oversized event is skipped with an explicit reset naming
// its topic and cursor, the other topics keep flowing, and memory stays bounded.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  EventBatchSchema,
  EventSchema,
  HelloSchema,
  SubscribeRequestSchema,
  SubscribeResponseSchema,
  type SubscribeRequest,
  type SubscribeResponse,
} from "../../proto/gen/onestream/v1/stream_pb";
import { onestreamV1 } from "../adapters/onestream-v1";
import { connectUpstream, rpcOver } from "../adapters/upstream";
import { createEngine } from "../engine/engine";
import { OversizedMessageError } from "../engine/errors";
import { MemoryStorage, Recorder } from "../testing";
import { createGrpcTransport } from "./grpc-transport";
import { limitReads } from "./read-limit";
import { realClock } from "./real-clock";

const GiB = 1024 ** 3;

function envelope(bytes: Uint8Array, declared = bytes.length, flags = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(declared, 1);
  return Buffer.concat([head, bytes]);
}

const frame = (f: SubscribeResponse["frame"]): Uint8Array => toBinary(SubscribeResponseSchema, create(SubscribeResponseSchema, { frame: f }));
const hello = () => frame({ case: "hello", value: create(HelloSchema, { epoch: "e1", heartbeatMs: 1_000 }) });
const batch = (...events: Array<[string, bigint, number?]>) =>
  frame({
    case: "events",
    value: create(EventBatchSchema, { events: events.map(([topic, cursor, size]) => create(EventSchema, { topic, cursor, payload: new Uint8Array(size ?? 4) })) }),
  });
const trailer = () => envelope(new TextEncoder().encode("grpc-status: 0\r\n"), undefined, 0x80);

describe("limitReads", () => {
  it("passes the messages before an oversized one, keeps its first bytes, and stops reading", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([...envelope(new Uint8Array([1, 2, 3])), ...envelope(new Uint8Array(70_000), GiB)]));
      },
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(1024 * 1024)); // the rest of the lie, endlessly
      },
    });
    const limited = limitReads(async () => new Response(body), 1024 * 1024);
    const reader = (await limited("http://x/")).body!.getReader();
    const first = await reader.read();
    expect([...first.value!]).toEqual([0, 0, 0, 0, 3, 1, 2, 3]);
    const err = await reader.read().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OversizedMessageError);
    expect((err as OversizedMessageError).bytes).toBe(GiB);
    expect((err as OversizedMessageError).prefix.length).toBe(64 * 1024);
    expect(pulled).toBeLessThan(3);
  });
});

describe("engine over the real transport against a server that lies about a message's size", () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it("skips the oversized event with an 'oversized' reset; other topics flow; memory stays bounded", async () => {
    const requests: SubscribeRequest[] = [];
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      requests.push(fromBinary(SubscribeRequestSchema, body.subarray(5)));
      res.writeHead(200, { "content-type": "application/grpc-web+proto" });
      if (requests.length === 1) {
        res.write(envelope(hello()));
        res.write(envelope(batch(["a", 1n], ["b", 1n])));
        // "a" #2 declares 1 GiB and is followed by as many bytes as the socket takes.
        res.write(envelope(batch(["a", 2n, 100_000]).subarray(0, 80_000), GiB));
        const junk = Buffer.alloc(1024 * 1024);
        for (let sent = 0; sent < 512 * 1024 * 1024 && !res.destroyed; sent += junk.length) {
          if (!res.write(junk)) await new Promise((r) => res.once("drain", r).once("close", r));
        }
        return res.end();
      }
      res.write(envelope(hello()));
      res.write(envelope(batch(["a", 3n], ["b", 2n])));
      res.write(envelope(frame({ case: "caughtUp", value: { $typeName: "onestream.v1.CaughtUp", topics: ["a", "b"] } as never })));
      res.write(trailer());
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const storage = new MemoryStorage();
    await storage.saveCursors("u", [
      { topic: "a", cursor: 0n, epoch: "e1" },
      { topic: "b", cursor: 0n, epoch: "e1" },
    ]);
    const warnings: string[] = [];
    const engine = createEngine(
      {
        upstream: connectUpstream(onestreamV1(), rpcOver(createGrpcTransport({ baseUrl: url, readMaxBytes: 1024 * 1024 }))),
        storage,
        clock: realClock,
        random: Math.random,
        user: "u",
        warn: (m) => warnings.push(m),
      },
      { backoffFloorMs: 50, backoffInitialMs: 50, topicDebounceMs: 0 },
    );
    const rssBefore = process.memoryUsage().rss;
    const rec = new Recorder();
    engine.subscribe(["a", "b"], rec.sink);
    const deadline = Date.now() + 10_000;
    while (rec.cursors().length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const grown = process.memoryUsage().rss - rssBefore;
    await engine.close();

    expect(rec.cursors("a")).toEqual([1, 3]);
    expect(rec.cursors("b")).toEqual([1, 2]);
    expect(rec.of("reset")).toEqual([{ kind: "reset", topic: "a", reason: "oversized", resumeAfter: 2n }]);
    expect(requests[1]!.topics.map((t) => [t.topic, t.after])).toEqual([
      ["a", 2n],
      ["b", 1n],
    ]);
    expect(grown).toBeLessThan(96 * 1024 * 1024); // buffering the lie would take 512 MiB
  });
});
