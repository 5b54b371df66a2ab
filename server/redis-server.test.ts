// Two real server nodes on one real redis-server, through a real gRPC-Web client: a stream on one
// node gets what is published on the other (history, then live, no gap, no repeat); a client
// starting live learns the topic's epoch from its AHEAD reset; a FLUSHALL reaches an open stream
// as an EPOCH reset carrying the new epoch within one heartbeat, then the stream goes on; a cursor
// trimmed away resumes with RETENTION; a retried publish on the other node lands once; Redis
// down is Unavailable, not Internal.
import { Code } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ResetReason } from "../proto/gen/onestream/v1/stream_pb";
import { startServer, type RunningServer } from "./server";
import { Recorder, streamClient, type Recorded } from "./test-client";
import { redisAvailable, startRedis, type TestRedis } from "./test-redis";

const HEARTBEAT_MS = 400;
let redis: TestRedis;
const servers: RunningServer[] = [];
const recorders: Recorder[] = [];

beforeAll(async () => {
  redis = await startRedis();
}, 20_000);
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  for (const r of recorders.splice(0)) r.cancel();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await redis.command("FLUSHALL");
});

async function twoNodes(): Promise<[RunningServer, RunningServer]> {
  const made = await Promise.all(["n1", "n2"].map((nodeId) => startServer({ port: 0, heartbeatMs: HEARTBEAT_MS, admin: true, redis: { url: redis.url, nodeId } })));
  servers.push(...made);
  return made as [RunningServer, RunningServer];
}

const bytes = (text: string) => new TextEncoder().encode(text);
const events = (frames: Recorded[], topic: string) =>
  frames.flatMap((f) => (f.frame.case === "events" ? f.frame.value.events.filter((e) => e.topic === topic) : []));
const resets = (frames: Recorded[]) => frames.flatMap((f) => (f.frame.case === "reset" ? [f.frame.value] : []));

function record(server: RunningServer, topics: { topic: string; after?: bigint; epoch?: string }[]): Recorder {
  const r = new Recorder(streamClient(server.url), { topics });
  recorders.push(r);
  return r;
}

describe.skipIf(!redisAvailable())("two nodes on one Redis", () => {
  it("says which log it uses", async () => {
    const [n1] = await twoNodes();
    expect(n1.stats().log).toMatchObject({ kind: "redis", node: "n1" });
    expect(n1.stats().epoch).toBe("");
  });

  it("streams on one node what is published on the other: history, then live, each once", async () => {
    const [n1, n2] = await twoNodes();
    const pub = streamClient(n1.url);
    for (let i = 1; i <= 3; i++) await pub.publish({ topic: "room", payload: bytes(`${i}`) });
    const r = record(n2, [{ topic: "room", after: 1n }]);
    await r.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    for (let i = 4; i <= 6; i++) await pub.publish({ topic: "room", payload: bytes(`${i}`) });
    await r.until((f) => events(f, "room").length === 5);
    expect(events(r.frames, "room").map((e) => e.cursor)).toEqual([2n, 3n, 4n, 5n, 6n]);
    expect(resets(r.frames)).toEqual([]);
  });

  it("tells a client starting live the topic's head and epoch; a FLUSHALL then arrives as an EPOCH reset within a heartbeat", async () => {
    const [n1, n2] = await twoNodes();
    const pub = streamClient(n1.url);
    await pub.publish({ topic: "t", payload: bytes("before") });
    const r = record(n2, [{ topic: "t", after: 0xffff_ffff_ffff_ffffn }]);
    await r.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    const [ahead] = resets(r.frames);
    expect(ahead).toMatchObject({ reason: ResetReason.AHEAD, resumeAfter: 1n });
    expect(ahead!.epoch).not.toBe("");

    const flushedAt = performance.now();
    await redis.command("FLUSHALL");
    await r.until((f) => resets(f).length === 2, 3 * HEARTBEAT_MS + 2000);
    const epochReset = resets(r.frames)[1]!;
    expect(performance.now() - flushedAt).toBeLessThan(HEARTBEAT_MS + 1500);
    expect(epochReset).toMatchObject({ topic: "t", reason: ResetReason.EPOCH, resumeAfter: 0n });
    expect(epochReset.epoch).not.toBe(ahead!.epoch);

    await pub.publish({ topic: "t", payload: bytes("after") });
    await r.until((f) => events(f, "t").length === 1);
    expect(events(r.frames, "t").map((e) => e.cursor)).toEqual([1n]);

    // A resume with the old epoch is told too; with the new one it is not.
    const old = record(n1, [{ topic: "t", after: 1n, epoch: ahead!.epoch }]);
    await old.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    expect(resets(old.frames)).toMatchObject([{ reason: ResetReason.EPOCH, epoch: epochReset.epoch }]);
    const current = record(n1, [{ topic: "t", after: 1n, epoch: epochReset.epoch }]);
    await current.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    expect(resets(current.frames)).toEqual([]);
  });

  it("resumes a cursor trimmed away with RETENTION", async () => {
    const [n1, n2] = await twoNodes();
    const pub = streamClient(n1.url);
    for (let i = 0; i < 5; i++) await pub.publish({ topic: "trim", payload: bytes(`${i}`) });
    await redis.command("XTRIM", "{os:trim}:s", "MAXLEN", "2");
    const r = record(n2, [{ topic: "trim", after: 1n }]);
    await r.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    expect(resets(r.frames)).toMatchObject([{ reason: ResetReason.RETENTION, resumeAfter: 3n }]);
    expect(events(r.frames, "trim").map((e) => e.cursor)).toEqual([4n, 5n]);
  });

  it("answers Unavailable (which clients retry), not Internal, while Redis is down", async () => {
    const own = await startRedis();
    const node = await startServer({ port: 0, heartbeatMs: HEARTBEAT_MS, redis: { url: own.url } });
    servers.push(node);
    await own.stop();
    const publish = await streamClient(node.url).publish({ topic: "t", payload: bytes("x") }).catch((e: unknown) => e);
    expect(publish).toMatchObject({ code: Code.Unavailable });
    const r = record(node, [{ topic: "t", after: 0n }]);
    expect(await r.ended).toMatchObject({ code: Code.Unavailable });
  });

  it("lands a publish retried on the other node once", async () => {
    const [n1, n2] = await twoNodes();
    const first = await streamClient(n1.url).publish({ topic: "p", payload: bytes("x"), idempotencyKey: "k-1" });
    const retry = await streamClient(n2.url).publish({ topic: "p", payload: bytes("x"), idempotencyKey: "k-1" });
    expect(first).toMatchObject({ cursor: 1n, duplicate: false });
    expect(retry).toMatchObject({ cursor: 1n, duplicate: true });
    expect(n2.stats().publishes).toBe(0);
  });
});
