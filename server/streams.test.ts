// Streams and clients that stop reading, against a real server: a vanished client's stream is
// reclaimed within a heartbeat even while its socket was full; a connected client that falls
// behind is ended with ResourceExhausted after the frames it had, then cut if it never reads;
// memory per stream stays bounded; a client that keeps reading is never ended, however long the
// history. Memory figures are live ArrayBuffers after a forced GC (test-memory.ts).
import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryLog, startServer, type RunningServer, type ServerOptions, type TopicLog } from "./server";
import { MiB, settledMemory } from "./test-memory";
import { StreamRegistry, type RawExchange } from "./streams";
import { parseGrpcWeb, rawSubscribe, Recorder, streamClient, type RawSubscriber } from "./test-client";

const servers: RunningServer[] = [];
const subscribers: RawSubscriber[] = [];
const recorders: Recorder[] = [];

afterEach(async () => {
  for (const s of subscribers.splice(0)) s.vanish();
  for (const r of recorders.splice(0)) r.cancel();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function serve(opts: ServerOptions): Promise<{ server: RunningServer; log: TopicLog }> {
  const log = opts.log ?? createMemoryLog({ maxEvents: 2000 });
  const server = await startServer({ port: 0, ...opts, log });
  servers.push(server);
  return { server, log };
}

async function subscribe(server: RunningServer, n: number, topic = "t"): Promise<RawSubscriber[]> {
  const subs = await Promise.all(Array.from({ length: n }, () => rawSubscribe(server.url, [topic])));
  subscribers.push(...subs);
  return subs;
}

/** Bursts of `perTick` events of one shared 64 KiB payload, each burst in one tick, `ticks`
 *  times or until `done()`; returns the bursts sent. */
async function flood(log: TopicLog, ticks: number, perTick: number, done: () => boolean = () => false): Promise<number> {
  const payload = new Uint8Array(64 * 1024);
  for (let t = 0; t < ticks; t++) {
    if (done()) return t;
    for (let i = 0; i < perTick; i++) await log.append("t", payload);
    await sleep(20);
  }
  return ticks;
}

async function waitFor(what: string, ms: number, check: () => boolean): Promise<number> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
  return performance.now() - start;
}

describe("clients that stop reading", () => {
  it("reclaims the stream of a client that vanished while its socket was full, within one heartbeat", async () => {
    const heartbeatMs = 500;
    // A budget far above the flood: the streams stall on their full sockets but are not ended.
    const { server, log } = await serve({ heartbeatMs, maxBufferedBytes: 64 * MiB });
    const before = await settledMemory();
    const subs = await subscribe(server, 2);
    await flood(log, 4, 64); // 16 MiB per stream: more than the kernel's socket buffers hold
    expect(server.stats().activeStreams).toBe(2);

    for (const s of subs) s.vanish();
    // Before the fix the handlers waited forever for a 'drain': the streams and their buffers, for good.
    const took = await waitFor("streams reclaimed", heartbeatMs + 3000, () => server.stats().activeStreams === 0);
    expect(took).toBeLessThan(heartbeatMs + 1500);
    expect(server.stats().log.listenedTopics).toBe(0);
    const after = await settledMemory();
    expect(after.buffers - before.buffers).toBeLessThan(8 * MiB);
  });

  it("ends readers that fall behind while their topics grow, holding a bounded queue each, and cuts them if they never read", async () => {
    const limit = MiB;
    const { server, log } = await serve({ heartbeatMs: 1000, maxBufferedBytes: limit });
    const before = await settledMemory();
    await subscribe(server, 4);
    // 4 MiB bursts (frames as large as a batch may be) until every stream was ended.
    const bursts = await flood(log, 40, 64, () => server.stats().activeStreams === 0);
    expect(server.stats().activeStreams).toBe(0);
    expect(bursts).toBeLessThan(40);
    const held = await settledMemory();
    // Queue ≤ the limit plus one frame of ≤ limit/2 per stream. Before the fix each stuck stream
    // held its 4 MiB frame twice over, for good.
    expect(held.buffers - before.buffers).toBeLessThan(4 * (limit + limit / 2) + 4 * MiB);

    // Still not reading: cut after the grace (one heartbeat), which frees the queued bytes.
    await waitFor("connections cut", 3000, () => server.stats().connections === 0);
    const after = await settledMemory();
    expect(after.buffers - before.buffers).toBeLessThan(4 * MiB);
  });

  it("gives a reader that fell behind its frames, then ResourceExhausted naming the limit", async () => {
    const { server, log } = await serve({ heartbeatMs: 10_000, maxBufferedBytes: 64 * 1024 });
    const [sub] = await subscribe(server, 1);
    await flood(log, 40, 16, () => server.stats().activeStreams === 0);
    expect(server.stats().activeStreams).toBe(0);

    const { body, cut } = await sub!.readAll();
    expect(cut).toBe(false);
    const { messages, trailer } = parseGrpcWeb(body);
    expect(trailer).toMatch(new RegExp(`grpc-status: ?${Code.ResourceExhausted}\\b`));
    expect(decodeURIComponent(/grpc-message: ?(.*)/.exec(trailer!)![1]!.trim())).toMatch(
      /^the client fell \d+ bytes behind, over the 65536-byte limit; subscribe again from your cursors$/,
    );
    // What it got is a clean prefix: it resumes from the last cursor it has.
    const cursors = messages.flatMap((m) => (m.frame.case === "events" ? m.frame.value.events.map((e) => Number(e.cursor)) : []));
    expect(cursors.length).toBeGreaterThan(0);
    expect(cursors).toEqual(cursors.map((_, i) => cursors[0]! + i));
  });

  it("never ends a reader that keeps reading, however far its history exceeds the limit", async () => {
    const log = createMemoryLog({ maxEvents: 5000 });
    const { server } = await serve({ maxBufferedBytes: 64 * 1024, log });
    const payload = new Uint8Array(2048);
    for (let i = 0; i < 2500; i++) await log.append("h", payload); // 5 MB of history: 80 × the limit
    const r = new Recorder(streamClient(server.url), { topics: [{ topic: "h", after: 0n }], historyOnly: true });
    recorders.push(r);
    expect(await r.ended).toBeUndefined();
    expect(r.events()).toHaveLength(2500);
  });
});

describe("the reaper", () => {
  it("releases a stream whose response closed even when its handler never got to run", () => {
    const registry = new StreamRegistry();
    const closed = { res: { destroyed: true, closed: true } } as unknown as RawExchange;
    const open = { res: { destroyed: false, closed: false } } as unknown as RawExchange;
    const gone = registry.add(["t"], closed);
    registry.add(["u"], open);
    let unhooked = 0;
    gone.onRelease(() => unhooked++);
    expect(registry.reapGone()).toBe(1);
    expect(unhooked).toBe(1);
    expect(registry.subscribedTopics()).toEqual(["u"]);
    expect(gone.failure?.code).toBe(Code.Canceled);
    expect(registry.reapGone()).toBe(0);
  });
});
