// The server as a whole: auth, graceful close, restart keeping its log, /admin endpoints, CORS
// and the CLI process.
import { Code, ConnectError } from "@connectrpc/connect";
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryLog } from "./log";
import { startServer, tokenPolicy, type RunningServer } from "./server";
import { adminPost, publishN, Recorder, streamClient } from "./test-client";
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { StreamService } from "../proto/gen/onestream/v1/stream_pb";

const servers: RunningServer[] = [];
const recorders: Recorder[] = [];

afterEach(async () => {
  for (const r of recorders.splice(0)) r.cancel();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(opts: Parameters<typeof startServer>[0] = {}) {
  const server = await startServer({ port: 0, admin: true, ...opts });
  servers.push(server);
  return server;
}

function record(...args: ConstructorParameters<typeof Recorder>): Recorder {
  const r = new Recorder(...args);
  recorders.push(r);
  return r;
}

const live = (r: Recorder) => r.until((f) => f.some((x) => x.frame.case === "caughtUp"));

describe("auth", () => {
  it("answers Unauthenticated without a known token and PermissionDenied outside the prefixes", async () => {
    const server = await serve({ auth: tokenPolicy({ tok1: ["room/", "news"], tok2: [] }) });
    const client = streamClient(server.url);
    const code = async (topics: string[], authorization?: string) =>
      (await record(client, { topics: topics.map((topic) => ({ topic })), historyOnly: true },
        authorization ? { authorization } : undefined).ended)?.code;
    expect(await code(["room/1"])).toBe(Code.Unauthenticated);
    expect(await code(["room/1"], "Bearer nope")).toBe(Code.Unauthenticated);
    expect(await code(["room/1"], "tok1")).toBe(Code.Unauthenticated);
    expect(await code(["room/1", "secret"], "Bearer tok1")).toBe(Code.PermissionDenied);
    expect(await code(["room/1"], "Bearer tok2")).toBe(Code.PermissionDenied);
    expect(await code(["room/1", "news"], "Bearer tok1")).toBeUndefined();

    const publish = (topic: string, authorization?: string) =>
      client.publish({ topic, payload: new Uint8Array() }, { headers: authorization ? { authorization } : {} })
        .then(() => undefined, (e) => ConnectError.from(e).code);
    expect(await publish("room/1")).toBe(Code.Unauthenticated);
    expect(await publish("secret", "Bearer tok1")).toBe(Code.PermissionDenied);
    expect(await publish("room/1", "Bearer tok1")).toBeUndefined();
    expect(server.stats().topics).toEqual({ "room/1": "1" });
  });
});

describe("auth scopes", () => {
  it("matches a prefix at a segment boundary: 'a' grants a and a/…, never ab/…", async () => {
    const server = await serve({ auth: tokenPolicy({ ta: ["a"], tr: ["room/"], all: [""] }) });
    const client = streamClient(server.url);
    const code = async (topic: string, token: string) =>
      (await record(client, { topics: [{ topic }], historyOnly: true }, { authorization: `Bearer ${token}` }).ended)?.code;
    expect(await code("ab/secret", "ta")).toBe(Code.PermissionDenied);
    expect(await code("abc", "ta")).toBe(Code.PermissionDenied);
    expect(await code("a", "ta")).toBeUndefined();
    expect(await code("a/x", "ta")).toBeUndefined();
    expect(await code("room/1", "tr")).toBeUndefined();
    expect(await code("roomy/1", "tr")).toBe(Code.PermissionDenied);
    expect(await code("anything/at/all", "all")).toBeUndefined();
    const publish = (topic: string) =>
      client.publish({ topic, payload: new Uint8Array() }, { headers: { authorization: "Bearer ta" } })
        .then(() => undefined, (e) => ConnectError.from(e).code);
    expect(await publish("ab/secret")).toBe(Code.PermissionDenied);
  });

  it("scopes idempotency keys by caller and topic: another caller's key never swallows an event", async () => {
    const server = await serve({
      auth: tokenPolicy({ alice: ["a/", "shared/"], bob: ["b/", "shared/"] }),
      idempotency: { maxKeysPerPrincipal: 20 },
    });
    const client = streamClient(server.url);
    const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    const payload = new TextEncoder().encode("x");
    const first = await client.publish({ topic: "a/x", payload, idempotencyKey: "k" }, as("alice"));
    // Bob with Alice's key: on his own topic, and on a topic both may use.
    const bob = await client.publish({ topic: "b/y", payload, idempotencyKey: "k" }, as("bob"));
    const bobShared = await client.publish({ topic: "shared/z", payload, idempotencyKey: "k" }, as("bob"));
    const aliceShared = await client.publish({ topic: "shared/z", payload, idempotencyKey: "k" }, as("alice"));
    expect([bob.duplicate, bobShared.duplicate, aliceShared.duplicate]).toEqual([false, false, false]);
    expect([bob.cursor, bobShared.cursor, aliceShared.cursor]).toEqual([1n, 1n, 2n]);
    // Bob floods far more keys than a principal keeps: Alice's retry is still recognised.
    for (let i = 0; i < 60; i++) await client.publish({ topic: "b/y", payload, idempotencyKey: `flood-${i}` }, as("bob"));
    const retry = await client.publish({ topic: "a/x", payload, idempotencyKey: "k" }, as("alice"));
    expect([retry.cursor, retry.duplicate]).toEqual([first.cursor, true]);
    expect(server.stats().topics).toEqual({ "a/x": "1", "b/y": "61", "shared/z": "2" });
  });
});

describe("close", () => {
  it("ends open streams with Unavailable, and a restart on the same port keeps the log", async () => {
    const log = createMemoryLog();
    const first = await startServer({ port: 0, log, heartbeatMs: 0, admin: true });
    const client = streamClient(first.url);
    await publishN(first.url, "a", 3);
    const r = record(client, { topics: [{ topic: "a" }] });
    await live(r);
    const closing = performance.now();
    await first.close();
    expect(performance.now() - closing).toBeLessThan(1000);
    expect((await r.ended)?.code).toBe(Code.Unavailable);

    // A keep-alive socket the old server just closed may still sit in the client's pool for a
    // moment (the stream's response ended cleanly, then the socket was cut): a real client only
    // reconnects after a backoff, so give the client that moment.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await serve({ port: first.port, log });
    expect(second.url).toBe(first.url);
    expect(second.stats().epoch).toBe(first.stats().epoch);
    const resumed = record(client, { topics: [{ topic: "a", after: 1n, epoch: log.epoch() }], historyOnly: true });
    expect(await resumed.ended).toBeUndefined();
    expect(resumed.events()).toEqual(["a:2", "a:3"]);
  });
});

describe("admin", () => {
  it("GET /admin/stats has the documented shape", async () => {
    const server = await serve();
    await publishN(server.url, "b", 2);
    await publishN(server.url, "a", 1, "x");
    const r = record(streamClient(server.url), { topics: [{ topic: "z" }, { topic: "a" }] });
    await live(r);
    const stats = await (await fetch(`${server.url}/admin/stats`)).json();
    expect(stats).toEqual({
      activeStreams: 1,
      totalStreams: 1,
      publishes: 3,
      epoch: server.stats().epoch,
      topics: { a: "1", b: "2" },
      subscribedTopics: ["a", "z"],
      connections: expect.any(Number),
      log: { kind: "memory", topics: 2, listenedTopics: 2, retainedEvents: 3, retainedBytes: 7, idempotencyKeys: 0 },
    });
    expect(stats.connections).toBeGreaterThanOrEqual(1);
    expect({ ...server.stats(), connections: 0 }).toEqual({ ...stats, connections: 0 });
  });

  it("POST /admin/publish numbers payloads and validates its body", async () => {
    const server = await serve({ maxPayloadBytes: 8 });
    expect(await publishN(server.url, "a", 3, "p")).toEqual(["1", "2", "3"]);
    const r = record(streamClient(server.url), { topics: [{ topic: "a", after: 0n }], historyOnly: true });
    await r.ended;
    const payloads = r.frames.flatMap((f) =>
      f.frame.case === "events" ? f.frame.value.events.map((e) => new TextDecoder().decode(e.payload)) : []);
    expect(payloads).toEqual(["p#1", "p#2", "p#3"]);
    for (const body of [{ topic: "" }, { topic: "a", count: 0 }, { topic: "a", payload: "123456789" }, { payload: "x" }]) {
      expect((await adminPost(server.url, "/admin/publish", body)).status).toBe(400);
    }
    expect((await fetch(`${server.url}/admin/publish`)).status).toBe(405);
  });

  it("answers CORS preflights and exposes the gRPC-Web trailers to other origins", async () => {
    const server = await serve();
    const pre = await fetch(`${server.url}/onestream.v1.StreamService/Subscribe`, {
      method: "OPTIONS",
      headers: { origin: "http://page.test", "access-control-request-method": "POST" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("http://page.test");
    expect(pre.headers.get("access-control-allow-headers")).toMatch(/x-grpc-web/i);
    expect(pre.headers.get("access-control-allow-headers")).toMatch(/authorization/i);
    expect(Number(pre.headers.get("access-control-max-age"))).toBeGreaterThan(0);

    const headers: Record<string, string> = {};
    const client = createClient(StreamService, createGrpcWebTransport({
      baseUrl: server.url,
      useBinaryFormat: true,
      fetch: async (input, init) => {
        const res = await fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), origin: "http://page.test" } });
        res.headers.forEach((v, k) => (headers[k] = v));
        return res;
      },
    }));
    const r = record(client, { topics: [{ topic: "a" }], historyOnly: true });
    expect(await r.ended).toBeUndefined();
    expect(headers["access-control-allow-origin"]).toBe("http://page.test");
    expect(headers["access-control-expose-headers"]).toMatch(/grpc-status/i);
    expect(headers["x-accel-buffering"]).toBe("no");
  });

  it("rejects garbage options and clamps extremes", async () => {
    await expect(startServer({ port: 0, heartbeatMs: Number.NaN })).rejects.toThrow(RangeError);
    await expect(startServer({ port: 0, heartbeatMs: -5 })).rejects.toThrow(RangeError);
    await expect(startServer({ port: 70_000 })).rejects.toThrow(RangeError);
    const server = await serve({ heartbeatMs: 1 });
    const r = record(streamClient(server.url), { topics: [{ topic: "a" }], historyOnly: true });
    await r.ended;
    expect(r.frames[0]!.frame.case === "hello" && r.frames[0]!.frame.value.heartbeatMs).toBe(10);
  });
});

describe("cli", () => {
  function run(args: string[]): { out: Promise<string>; code: Promise<number | null>; kill: () => void } {
    const child = spawn(process.execPath, ["--import", "tsx", "server/cli.ts", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const listening = new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (/listening on .*\n/.test(out)) resolve(out);
      });
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      child.on("exit", () => resolve(out));
      child.on("error", reject);
    });
    const code = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    return { out: listening, code, kill: () => child.kill("SIGTERM") };
  }

  it("prints its URL, serves, and exits 0 on SIGTERM", async () => {
    const proc = run(["--port", "0", "--heartbeat-ms", "1000", "--faults", "--auth-tokens", "t=a,b;u="]);
    const out = await proc.out;
    const url = /^onestream server listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out)?.[1];
    expect(url).toBeDefined();
    expect((await fetch(`${url}/admin/stats`)).status).toBe(200);
    expect(await proc.out).toContain(`admin endpoints and faults on ${url}/admin/ for loopback callers`);
    proc.kill();
    expect(await proc.code).toBe(0);
  });

  it("exits 2 with a message on a bad flag", async () => {
    const procs = [["--port", "abc"], ["--bogus"]].map(run);
    for (const proc of procs) {
      expect(await proc.code).toBe(2);
      expect(await proc.out).toMatch(/^onestream server: .+/);
    }
  });
});
