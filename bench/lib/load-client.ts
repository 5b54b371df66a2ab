// The server section's load client, in Node on loopback: many raw gRPC-Web Subscribe streams
// over node:http (one connection each, as browsers' HTTP/1.1 gives them), streams that decode
// events to time them, admin appends, and per-process RSS and CPU from /proc. No browser: the
// server section measures the server, not the client.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { SubscribeRequestSchema, SubscribeResponseSchema, type Event } from "../../proto/gen/onestream/v1/stream_pb";

const SUBSCRIBE_PATH = "/onestream.v1.StreamService/Subscribe";
/** One connection per stream, never pooled away or capped. */
const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

export interface HeldStream {
  /** Bytes received so far (Hello, heartbeats, events). */
  bytes: number;
  /** Still open (no end, no error). */
  open: boolean;
  close(): void;
}

function envelope(topics: readonly string[]): Buffer {
  const message = toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { topics: topics.map((topic) => ({ topic })) }));
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** A stream that sent nothing within this is counted as failed (and closed). */
const FIRST_BYTES_TIMEOUT_MS = 30_000;

/**
 * Opens one Subscribe; resolves at its first bytes (Hello), rejects when it errs, ends before
 * any byte or sends none in time. `onChunk` sees every chunk.
 */
function holdStream(baseUrl: string, topics: readonly string[], onChunk?: (chunk: Buffer) => void): Promise<HeldStream> {
  return new Promise((resolve, reject) => {
    const held: HeldStream = { bytes: 0, open: true, close: () => req.destroy() };
    const req = request(`${baseUrl}${SUBSCRIBE_PATH}`, {
      method: "POST",
      agent,
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
    });
    const fail = (why: string) => {
      held.open = false;
      clearTimeout(timer);
      req.destroy();
      reject(new Error(why));
    };
    const timer = setTimeout(() => fail("no first bytes in time"), FIRST_BYTES_TIMEOUT_MS);
    const gone = () => {
      held.open = false;
      if (held.bytes === 0) fail("ended before its first bytes");
    };
    req.on("error", (e) => fail((e as NodeJS.ErrnoException).code ?? e.message));
    req.on("response", (res) => {
      if (res.statusCode !== 200) fail(`HTTP ${res.statusCode}`);
      res.on("data", (chunk: Buffer) => {
        if (held.bytes === 0) {
          clearTimeout(timer);
          resolve(held);
        }
        held.bytes += chunk.length;
        onChunk?.(chunk);
      });
      res.on("end", gone);
      res.on("error", gone);
      res.on("aborted", gone);
    });
    req.end(envelope(topics));
  });
}

/**
 * Opens `n` streams, `parallel` at a time; `topicsOf(i)` names each one's topics. Those that
 * fail are counted by reason, not thrown: how many a node holds is the figure.
 */
export async function holdStreams(baseUrl: string, n: number, topicsOf: (i: number) => string[], parallel = 200): Promise<{ held: HeldStream[]; failed: Map<string, number> }> {
  const held: HeldStream[] = [];
  const failed = new Map<string, number>();
  for (let i = 0; i < n; i += parallel) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(parallel, n - i) }, (_, j) => holdStream(baseUrl, topicsOf(i + j))));
    for (const r of batch) {
      if (r.status === "fulfilled") held.push(r.value);
      else failed.set(String((r.reason as Error).message), (failed.get(String((r.reason as Error).message)) ?? 0) + 1);
    }
  }
  return { held, failed };
}

/** A stream that decodes its events and hands each to `onEvent` with the time it arrived. */
export async function eventStream(baseUrl: string, topics: readonly string[], onEvent: (event: Event, at: number) => void): Promise<HeldStream> {
  let pending: Buffer = Buffer.alloc(0);
  return holdStream(baseUrl, topics, (chunk) => {
    const at = performance.now();
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    while (offset + 5 <= pending.length) {
      const length = pending.readUInt32BE(offset + 1);
      if (offset + 5 + length > pending.length) break;
      if ((pending[offset]! & 0x80) === 0) {
        const frame = fromBinary(SubscribeResponseSchema, pending.subarray(offset + 5, offset + 5 + length)).frame;
        if (frame.case === "events") for (const ev of frame.value.events) onEvent(ev, at);
      }
      offset += 5 + length;
    }
    pending = pending.subarray(offset);
  });
}

/** POST /admin/publish; resolves once the server appended all `count`. */
export async function adminAppend(baseUrl: string, topic: string, payload: string, count: number): Promise<void> {
  const res = await fetch(`${baseUrl}/admin/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic, payload, count }),
  });
  if (!res.ok) throw new Error(`POST /admin/publish → HTTP ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

export interface ProcSample {
  rssBytes: number;
  /** User + system CPU time so far, ms. */
  cpuMs: number;
}

/** RSS and CPU time of process `pid` (Linux /proc). */
export async function procSample(pid: number): Promise<ProcSample> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssBytes: rssKb * 1024, cpuMs: (ticks * 1000) / 100 };
}
