// What a hostile or careless client sends is refused with a clear status and leaves memory flat:
// malformed envelopes, a 4 GiB length prefix, a gzip bomb, a 100 MiB body, bad protobuf, 20 KB of
// headers, a cursor of 2^64 − 1. (The server's sockets accept large writes for stream pacing;
// none of this may turn that into buffering what a client sends.)
import { request, type ClientRequest } from "node:http";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { ResetReason } from "../proto/gen/onestream/v1/stream_pb";
import { startServer, type RunningServer } from "./server";
import { Recorder, streamClient } from "./test-client";
import { MiB, settledMemory } from "./test-memory";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const GRPC_WEB = { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" };
const PUBLISH = "/onestream.v1.StreamService/Publish";

function envelope(flags: number, length: number, data: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + data.length);
  out[0] = flags;
  out.writeUInt32BE(length, 1);
  out.set(data, 5);
  return out;
}

/** POSTs `body` (or lets `write` stream one); resolves with the HTTP status and the grpc-status trailer. */
function post(server: RunningServer, headers: Record<string, string>, body: Buffer | ((req: ClientRequest) => void)) {
  return new Promise<{ http: number; grpc: number | undefined }>((resolve, reject) => {
    const req = request(`${server.url}${PUBLISH}`, { method: "POST", headers }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString("latin1")));
      res.on("end", () => {
        const grpc = /grpc-status:\s*(\d+)/.exec(text)?.[1];
        resolve({ http: res.statusCode ?? 0, grpc: grpc === undefined ? undefined : Number(grpc) });
      });
    });
    req.on("error", reject);
    if (typeof body === "function") body(req);
    else req.end(body);
  });
}

describe("hostile input", () => {
  it("is refused with a status and leaves memory flat", async () => {
    const server = await startServer({ port: 0 });
    servers.push(server);
    const before = await settledMemory();
    expect((await post(server, GRPC_WEB, envelope(0, 0xffffffff, new Uint8Array(10)))).grpc).toBe(8); // ResourceExhausted
    expect((await post(server, GRPC_WEB, Buffer.from([1, 2]))).grpc).toBe(3); // InvalidArgument: incomplete envelope
    // Bad protobuf: connect answers Internal ("parse binary: premature EOF"); refused all the same.
    expect((await post(server, GRPC_WEB, envelope(0, 5, new Uint8Array([255, 255, 255, 255, 255])))).grpc).toBeGreaterThan(0);
    const bomb = gzipSync(Buffer.alloc(64 * MiB));
    expect((await post(server, { ...GRPC_WEB, "grpc-encoding": "gzip" }, envelope(1, bomb.length, bomb))).grpc).toBe(8);
    const huge = await post(server, GRPC_WEB, (req) => {
      const chunk = Buffer.alloc(MiB);
      let sent = 0;
      const write = (): void => {
        while (sent < 100) {
          sent++;
          if (!req.write(chunk)) return void req.once("drain", write);
        }
        req.end();
      };
      write();
    });
    expect(huge.grpc).toBeGreaterThan(0);
    expect((await post(server, { ...GRPC_WEB, "x-big": "a".repeat(20_000) }, envelope(0, 0, new Uint8Array()))).http).toBe(431);
    const after = await settledMemory();
    expect(after.buffers - before.buffers).toBeLessThan(16 * MiB);
    expect(after.heap - before.heap).toBeLessThan(16 * MiB);
  });

  it("answers a cursor of 2^64 − 1 with an AHEAD reset, and a wrong epoch with EPOCH", async () => {
    const server = await startServer({ port: 0 });
    servers.push(server);
    const client = streamClient(server.url);
    const max = 2n ** 64n - 1n;
    const ahead = new Recorder(client, { topics: [{ topic: "a", after: max }], historyOnly: true });
    expect(await ahead.ended).toBeUndefined();
    const reset = ahead.frames[1]!.frame;
    expect(reset.case === "reset" && reset.value).toMatchObject({ reason: ResetReason.AHEAD, resumeAfter: 0n });
    const wrong = new Recorder(client, { topics: [{ topic: "a", after: 3n, epoch: "not-this-one" }], historyOnly: true });
    expect(await wrong.ended).toBeUndefined();
    const epoch = wrong.frames[1]!.frame;
    expect(epoch.case === "reset" && epoch.value).toMatchObject({ reason: ResetReason.EPOCH, resumeAfter: 0n });
  });
});
