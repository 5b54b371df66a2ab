// Every fault kind, seen from a real gRPC-Web client: the error codes FIELD-NOTES lists.
import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { parseFault } from "./faults";
import { startServer, type RunningServer } from "./server";
import { adminPost, publishN, Recorder, streamClient } from "./test-client";

const servers: RunningServer[] = [];
const recorders: Recorder[] = [];

async function serve(heartbeatMs = 10_000) {
  const server = await startServer({ port: 0, faults: true, heartbeatMs });
  servers.push(server);
  const client = streamClient(server.url);
  const open = (topic = "a") => {
    const r = new Recorder(client, { topics: [{ topic }] });
    recorders.push(r);
    return r;
  };
  const fault = async (body: unknown) => {
    const { status, json } = await adminPost(server.url, "/admin/fault", body);
    expect(status).toBe(200);
    expect(json.ok).toBe(true);
    return json;
  };
  return { server, open, fault };
}

const live = (r: Recorder) => r.until((f) => f.some((x) => x.frame.case === "caughtUp"));

afterEach(async () => {
  for (const r of recorders.splice(0)) r.cancel();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("faults", () => {
  it("drop: the client sees Unknown caused by a TypeError", async () => {
    const { open, fault } = await serve();
    const r = open();
    await live(r);
    expect((await fault({ kind: "drop" })).streams).toBe(1);
    const err = await r.ended;
    expect(err?.code).toBe(Code.Unknown);
    expect(err?.cause).toBeInstanceOf(TypeError);
  });

  it("truncate: the client sees InvalidArgument 'protocol error: incomplete envelope'", async () => {
    const { open, fault } = await serve();
    const r = open();
    await live(r);
    await fault({ kind: "truncate" });
    const err = await r.ended;
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toContain("protocol error: incomplete envelope");
  });

  it("error: open streams end with the named status; other fault kinds need no stream", async () => {
    const { open, fault } = await serve();
    const [a, b] = [open("a"), open("b")];
    await Promise.all([live(a), live(b)]);
    expect((await fault({ kind: "error", code: "unavailable" })).streams).toBe(2);
    expect((await a.ended)?.code).toBe(Code.Unavailable);
    expect((await b.ended)?.code).toBe(Code.Unavailable);
    const c = open();
    await live(c);
    await fault({ kind: "error", code: "resource_exhausted" });
    expect((await c.ended)?.code).toBe(Code.ResourceExhausted);
  });

  it("reject: the next n subscribes fail with the code, then they succeed", async () => {
    const { open, fault } = await serve();
    await fault({ kind: "reject", code: "unavailable", count: 3 });
    for (let i = 0; i < 3; i++) expect((await open().ended)?.code).toBe(Code.Unavailable);
    const ok = open();
    await live(ok);
    expect(ok.kinds()[0]).toBe("hello");
  });

  it("wedge: nothing at all for more than 3 heartbeats, then heal: frames and events flow again", async () => {
    const { server, open, fault } = await serve(50);
    const r = open();
    await live(r);
    await fault({ kind: "wedge" });
    const wedgedAt = performance.now();
    const fresh = open();
    await publishN(server.url, "a", 3);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(r.frames.filter((f) => f.at > wedgedAt + 5)).toEqual([]);
    expect(fresh.frames).toEqual([]);
    expect(r.done || fresh.done).toBe(false);

    await fault({ kind: "heal" });
    await r.until(() => r.events().length === 3);
    expect(r.events()).toEqual(["a:1", "a:2", "a:3"]);
    await fresh.until((f) => f.some((x) => x.frame.case === "heartbeat"));
    expect(fresh.kinds().slice(0, 2)).toEqual(["hello", "caughtUp"]);
  });

  it("new-epoch forgets the log", async () => {
    const { server, fault } = await serve();
    await publishN(server.url, "a", 2);
    const before = server.stats().epoch;
    const reply = await fault({ kind: "new-epoch" });
    expect(reply.epoch).toBe(server.stats().epoch);
    expect(reply.epoch).not.toBe(before);
    expect(server.stats().topics).toEqual({});
    expect(await publishN(server.url, "a", 1)).toEqual(["1"]);
  });

  it("rejects bad fault bodies with 400 and a message; 404 without the faults option", async () => {
    const { server } = await serve();
    for (const body of [{ kind: "nope" }, { kind: "error", code: "ok" }, { kind: "reject", code: "unavailable", count: 0 }, 7]) {
      const { status, json } = await adminPost(server.url, "/admin/fault", body);
      expect(status).toBe(400);
      expect(json.error).toMatch(/\w/);
    }
    const bad = await fetch(`${server.url}/admin/fault`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(bad.status).toBe(400);
    const plain = await startServer({ port: 0 });
    servers.push(plain);
    expect((await fetch(`${plain.url}/admin/fault`, { method: "POST", body: '{"kind":"drop"}' })).status).toBe(404);
  });
});

describe("parseFault", () => {
  it("reads codes in snake_case and defaults count to 1", () => {
    expect(parseFault({ kind: "reject", code: "permission_denied" })).toEqual({
      kind: "reject",
      code: Code.PermissionDenied,
      count: 1,
    });
    expect(() => parseFault({ kind: "error", code: "Unavailable" })).toThrow(RangeError);
    expect(() => parseFault(null)).toThrow(RangeError);
  });
});
