// Subscribe and Publish against a real server on a random port, through a real gRPC-Web client.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { ResetReason, StreamService } from "../proto/gen/onestream/v1/stream_pb";
import { startServer, type RunningServer, type ServerOptions } from "./server";
import { adminPost, publishN, Recorder, streamClient } from "./test-client";

const servers: RunningServer[] = [];
const recorders: Recorder[] = [];

async function serve(opts: ServerOptions = {}) {
  const server = await startServer({ port: 0, admin: true, ...opts });
  servers.push(server);
  return { server, client: streamClient(server.url) };
}

function record(...args: ConstructorParameters<typeof Recorder>): Recorder {
  const r = new Recorder(...args);
  recorders.push(r);
  return r;
}

afterEach(async () => {
  for (const r of recorders.splice(0)) r.cancel();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const bytes = (text: string) => new TextEncoder().encode(text);

describe("subscribe", () => {
  it("sends Hello first, then history after the cursor, one CaughtUp, then live", async () => {
    const { server, client } = await serve();
    await publishN(server.url, "a", 5);
    await publishN(server.url, "b", 2);
    const r = record(client, { topics: [{ topic: "a", after: 2n }, { topic: "b", after: 0n }, { topic: "c", after: 0n }] });
    await r.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    const hello = r.frames[0]!.frame;
    expect(hello.case).toBe("hello");
    if (hello.case === "hello") {
      expect(hello.value.epoch).toBe(server.stats().epoch);
      expect(hello.value.heartbeatMs).toBe(10_000);
    }
    expect(r.events()).toEqual(["a:3", "a:4", "a:5", "b:1", "b:2"]);
    const caughtUp = r.frames.at(-1)!.frame;
    expect(caughtUp.case === "caughtUp" && caughtUp.value.topics).toEqual(["a", "b", "c"]);

    await publishN(server.url, "a", 2);
    await publishN(server.url, "c", 1);
    await r.until(() => r.events().length === 8);
    expect(r.events().slice(5)).toEqual(["a:6", "a:7", "c:1"]);
    expect(r.kinds().filter((k) => k === "caughtUp")).toHaveLength(1);
  });

  it("starts live from now when no cursor is given", async () => {
    const { server, client } = await serve();
    await publishN(server.url, "a", 3);
    const r = record(client, { topics: [{ topic: "a" }] });
    await r.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    await publishN(server.url, "a", 1);
    await r.until(() => r.events().length === 1);
    expect(r.events()).toEqual(["a:4"]);
  });

  it("coalesces events appended in one tick into one batch", async () => {
    const { server, client } = await serve();
    const r = record(client, { topics: [{ topic: "a" }] });
    await r.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    await publishN(server.url, "a", 300);
    await r.until(() => r.events().length === 300);
    expect(r.kinds().filter((k) => k === "events")).toHaveLength(1);
  });

  it("loses and repeats nothing when events arrive while history is being sent", async () => {
    const { server, client } = await serve();
    await publishN(server.url, "a", 1200);
    const r = record(client, { topics: [{ topic: "a", after: 0n }] });
    const writers = Promise.all([publishN(server.url, "a", 700), publishN(server.url, "a", 300)]);
    await writers;
    await r.until(() => r.events().length >= 2200);
    expect(r.events()).toEqual(Array.from({ length: 2200 }, (_, i) => `a:${i + 1}`));
    const sizes = r.frames.flatMap((f) => (f.frame.case === "events" ? [f.frame.value.events.length] : []));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(500);
  });

  it("ends history_only streams with OK right after CaughtUp", async () => {
    const { server, client } = await serve();
    await publishN(server.url, "a", 3);
    const r = record(client, { topics: [{ topic: "a", after: 1n }], historyOnly: true });
    expect(await r.ended).toBeUndefined();
    expect(r.kinds()).toEqual(["hello", "events", "caughtUp"]);
    expect(r.events()).toEqual(["a:2", "a:3"]);
  });

  it("serves the Connect protocol too", async () => {
    const { server } = await serve();
    await publishN(server.url, "a", 2);
    const connect = createClient(StreamService, createConnectTransport({ baseUrl: server.url, useBinaryFormat: true }));
    const r = record(connect, { topics: [{ topic: "a", after: 0n }], historyOnly: true });
    expect(await r.ended).toBeUndefined();
    expect(r.events()).toEqual(["a:1", "a:2"]);
    expect((await connect.publish({ topic: "a", payload: bytes("c") })).cursor).toBe(3n);
  });

  it("merges a topic named twice, keeping the earliest position", async () => {
    const { server, client } = await serve();
    await publishN(server.url, "a", 3);
    const r = record(client, { topics: [{ topic: "a" }, { topic: "a", after: 1n }, { topic: "a", after: 2n }], historyOnly: true });
    await r.ended;
    expect(r.events()).toEqual(["a:2", "a:3"]);
  });

  it("sends a heartbeat whenever nothing else was sent for one interval", async () => {
    const { client } = await serve({ heartbeatMs: 50 });
    const r = record(client, { topics: [{ topic: "a" }] });
    await r.until((f) => f.filter((x) => x.frame.case === "heartbeat").length >= 5);
    const hello = r.frames[0]!.frame;
    expect(hello.case === "hello" && hello.value.heartbeatMs).toBe(50);
    // Receipt times jitter on a loaded machine (a late frame makes the next gap look short), so
    // the spacing is checked on average, with a generous ceiling per gap.
    const gaps = r.frames.slice(1).map((f, i) => f.at - r.frames[i]!.at).slice(1);
    const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
    expect(mean).toBeGreaterThan(40);
    expect(mean).toBeLessThan(200);
    for (const gap of gaps) expect(gap).toBeLessThan(400);
  });

  it("sends no heartbeats when they are off (heartbeatMs 0)", async () => {
    const { client } = await serve({ heartbeatMs: 0 });
    const r = record(client, { topics: [{ topic: "a" }] });
    await r.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(r.kinds()).toEqual(["hello", "caughtUp"]);
  });
});

describe("resets", () => {
  it("resets with RETENTION when the cursor is older than what is retained", async () => {
    const { server, client } = await serve({ retention: { maxEvents: 5 } });
    await publishN(server.url, "a", 10);
    const r = record(client, { topics: [{ topic: "a", after: 2n }], historyOnly: true });
    await r.ended;
    const reset = r.frames[1]!.frame;
    expect(reset.case).toBe("reset");
    if (reset.case === "reset") {
      expect(reset.value).toMatchObject({ topic: "a", reason: ResetReason.RETENTION, resumeAfter: 5n });
    }
    expect(r.events()).toEqual(["a:6", "a:7", "a:8", "a:9", "a:10"]);
  });

  it("resets with RETENTION mid-stream when retention drops events the stream had not sent", async () => {
    const { server, client } = await serve({ retention: { maxEvents: 5 } });
    const r = record(client, { topics: [{ topic: "a" }] });
    await r.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    await publishN(server.url, "a", 20); // one tick: the stream wakes after all 20 appends
    await r.until(() => r.events().length === 5);
    expect(r.kinds().slice(2)).toEqual(["reset", "events"]);
    const reset = r.frames[2]!.frame;
    expect(reset.case === "reset" && reset.value).toMatchObject({ reason: ResetReason.RETENTION, resumeAfter: 15n });
    expect(r.events()).toEqual(["a:16", "a:17", "a:18", "a:19", "a:20"]);
  });

  it("resets with AHEAD when the cursor is past the head, then goes live", async () => {
    const { server, client } = await serve();
    await publishN(server.url, "a", 3);
    const r = record(client, { topics: [{ topic: "a", after: 100n }] });
    await r.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    const reset = r.frames[1]!.frame;
    expect(reset.case === "reset" && reset.value).toMatchObject({ reason: ResetReason.AHEAD, resumeAfter: 3n });
    await publishN(server.url, "a", 1);
    await r.until(() => r.events().length === 1);
    expect(r.events()).toEqual(["a:4"]);
  });

  it("after a new epoch: open streams end Unavailable, old cursors get an EPOCH reset", async () => {
    const { server, client } = await serve({ faults: true });
    await publishN(server.url, "a", 4);
    const oldEpoch = server.stats().epoch;
    const open = record(client, { topics: [{ topic: "a" }] });
    await open.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    const { json: body } = await adminPost(server.url, "/admin/fault", { kind: "new-epoch" });
    expect(body.ok).toBe(true);
    expect(body.epoch).not.toBe(oldEpoch);
    expect((await open.ended)?.code).toBe(Code.Unavailable);

    await publishN(server.url, "a", 2);
    const r = record(client, { topics: [{ topic: "a", after: 4n, epoch: oldEpoch }], historyOnly: true });
    await r.ended;
    const reset = r.frames[1]!.frame;
    expect(reset.case === "reset" && reset.value).toMatchObject({ topic: "a", reason: ResetReason.EPOCH, resumeAfter: 0n });
    expect(r.events()).toEqual(["a:1", "a:2"]);
  });
});

describe("publish", () => {
  it("returns the first cursor for a repeated idempotency key and writes nothing", async () => {
    const { server, client } = await serve();
    const first = await client.publish({ topic: "a", payload: bytes("x"), idempotencyKey: "k1" });
    const again = await client.publish({ topic: "a", payload: bytes("x"), idempotencyKey: "k1" });
    const other = await client.publish({ topic: "a", payload: bytes("y"), idempotencyKey: "k2" });
    const noKey1 = await client.publish({ topic: "a", payload: bytes("z") });
    const noKey2 = await client.publish({ topic: "a", payload: bytes("z") });
    expect([first.cursor, first.duplicate]).toEqual([1n, false]);
    expect([again.cursor, again.duplicate]).toEqual([1n, true]);
    expect([other.cursor, noKey1.cursor, noKey2.cursor]).toEqual([2n, 3n, 4n]);
    expect(server.stats().topics).toEqual({ a: "4" });
    expect(server.stats().publishes).toBe(4);
  });

  it("rejects bad topics and payloads with InvalidArgument while another stream keeps flowing", async () => {
    const { client } = await serve({ maxPayloadBytes: 10, maxTopicsPerSubscribe: 2 });
    const good = record(client, { topics: [{ topic: "ok" }] });
    await good.until((f) => f.some((x) => x.frame.case === "caughtUp"));

    const publishError = async (topic: string, payload: Uint8Array) =>
      client.publish({ topic, payload }).then(() => undefined, (e) => ConnectError.from(e));
    const tooBig = await publishError("ok", new Uint8Array(11));
    expect(tooBig?.code).toBe(Code.InvalidArgument);
    expect(tooBig?.rawMessage).toBe("payload is 11 bytes, over the 10-byte limit");
    const empty = await publishError("", bytes("x"));
    expect(empty?.code).toBe(Code.InvalidArgument);
    expect(empty?.rawMessage).toBe("topic must not be empty");
    expect((await publishError("bad\u0001", bytes("x")))?.code).toBe(Code.InvalidArgument);

    const subscribeError = async (topics: { topic: string }[]) => (await record(client, { topics }).ended)?.code;
    expect(await subscribeError([])).toBe(Code.InvalidArgument);
    expect(await subscribeError([{ topic: "x".repeat(257) }])).toBe(Code.InvalidArgument);
    expect(await subscribeError([{ topic: "a" }, { topic: "b" }, { topic: "c" }])).toBe(Code.InvalidArgument);

    await client.publish({ topic: "ok", payload: bytes("fine") });
    await good.until(() => good.events().length === 1);
    expect(good.done).toBe(false);
  });

  it("refuses topics with bidi controls, zero-width characters or line separators, with the shared words", async () => {
    const { client } = await serve();
    for (const [topic, words] of [
      ["invoice/\u202Efdp", "bidirectional controls (U+202E)"],
      ["ad\u200Bmin", "zero-width characters (U+200B)"],
      ["a\u2028b", "line or paragraph separators (U+2028)"],
    ]) {
      const sub = await record(client, { topics: [{ topic: topic! }] }).ended;
      expect(sub?.code).toBe(Code.InvalidArgument);
      expect(sub?.rawMessage).toBe(`topics[0]: topic must not contain ${words}`);
      const pub = await client.publish({ topic: topic!, payload: bytes("x") }).then(() => undefined, (e) => ConnectError.from(e));
      expect(pub?.rawMessage).toBe(`topic must not contain ${words}`);
    }
  });
});

describe("topic state", () => {
  it("keeps nothing for never-published topics once their subscribers are gone", async () => {
    const { server, client } = await serve({ maxTopicsPerSubscribe: 256 });
    for (let round = 0; round < 20; round++) {
      const topics = Array.from({ length: 256 }, (_, i) => ({ topic: `empty/${round}/${i}`, after: 0n }));
      expect(await record(client, { topics, historyOnly: true }).ended).toBeUndefined();
    }
    // Before the fix each of these 5 120 topics kept a state object for good, and stats did not show it.
    expect(server.stats().log).toMatchObject({ topics: 0, listenedTopics: 0, retainedEvents: 0 });
    expect(server.stats().topics).toEqual({});
  });
});
