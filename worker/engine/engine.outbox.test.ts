// The durable outbox: stored before sent, sent in order, resolved once, survives restarts.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "../../contract/topic";
import { FakeClock, FakeServer, MemoryStorage, Recorder, startEngine } from "../testing";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("engine: outbox", () => {
  it("stores before sending, sends in order, resolves each with its cursor, removes the record", async () => {
    const h = startEngine();
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    const results = ["x", "y", "z"].map((s) => h.engine.publish("a", bytes(s)));
    await h.clock.advance(1);
    expect(h.storage.calls.addOutbox).toBe(3);
    expect(await Promise.all(results)).toEqual([{ cursor: 1n }, { cursor: 2n }, { cursor: 3n }]);
    await h.clock.advance(10);
    expect(rec.events.map((e) => text(e.payload))).toEqual(["x", "y", "z"]);
    expect(h.storage.outbox.get("alice")?.size ?? 0).toBe(0);
    const seqs = h.server.publishRequests.map((r) => r.idempotencyKey);
    expect(new Set(seqs).size).toBe(3);
  });

  it("validates: TypeError for a bad topic or payload, RangeError over the size limit; the rest goes on", async () => {
    const h = startEngine({ config: { maxPayloadBytes: 10 } });
    await expect(h.engine.publish("", bytes("x"))).rejects.toThrow(TypeError);
    await expect(h.engine.publish("a", "text" as unknown as Uint8Array)).rejects.toThrow(/Uint8Array/);
    await expect(h.engine.publish("a", new Uint8Array(11))).rejects.toThrow(RangeError);
    await expect(h.engine.publish("a", new Uint8Array(11))).rejects.toThrow(/11 bytes, over the 10-byte limit/);
    await expect(h.engine.publish("a", new Uint8Array(10))).resolves.toEqual({ cursor: 1n });
    expect(h.storage.calls.addOutbox).toBe(1);
    const big = startEngine({ config: { maxPayloadBytes: 1e12 } });
    expect(big.warnings.join()).toMatch(/clamped to 16777216/);
    expect(DEFAULT_MAX_PAYLOAD_BYTES * 16).toBe(16_777_216);
  });

  it("retries across failures with the same idempotency key; the server's dedupe makes it exactly once", async () => {
    const h = startEngine();
    h.server.rejectPublishes(new ConnectError("down", Code.Unavailable), new TypeError("Failed to fetch"));
    const p = h.engine.publish("a", bytes("once"));
    await h.clock.advance(10_000);
    expect(await p).toEqual({ cursor: 1n });
    const keys = h.server.publishRequests.map((r) => r.idempotencyKey);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(h.server.head("a")).toBe(1n);
  });

  it("a publish whose record cannot be stored rejects with the storage error and is never sent", async () => {
    const h = startEngine();
    h.storage.failNext("addOutbox", 1, new Error("quota exceeded"));
    const bad = h.engine.publish("a", bytes("1"));
    const good = h.engine.publish("a", bytes("2"));
    await expect(bad).rejects.toThrow("quota exceeded");
    await expect(good).resolves.toEqual({ cursor: 1n });
    expect(h.server.publishRequests.map((r) => text(r.payload))).toEqual(["2"]);
  });

  it("a permanent rejection rejects that publish with the server's error, removes it, and the next goes on", async () => {
    const h = startEngine();
    h.server.rejectPublishes(new ConnectError("nope", Code.PermissionDenied));
    const bad = h.engine.publish("a", bytes("1"));
    const good = h.engine.publish("a", bytes("2"));
    await expect(bad).rejects.toMatchObject({ code: Code.PermissionDenied });
    await expect(good).resolves.toEqual({ cursor: 1n });
    await h.clock.advance(1);
    expect(h.storage.outbox.get("alice")?.size ?? 0).toBe(0);
  });

  it("a worker restart loses no publish: the next engine sends what the last one left, first", async () => {
    const clock = new FakeClock();
    const server = new FakeServer({ clock });
    const storage = new MemoryStorage();
    const h1 = startEngine({ clock, server, storage });
    server.rejectPublishes(...Array.from({ length: 10 }, () => new ConnectError("down", Code.Unavailable)));
    const lost = h1.engine.publish("a", bytes("left behind"));
    await clock.advance(100);
    await h1.engine.close();
    await expect(lost).rejects.toThrow(/closed/);
    expect(storage.outbox.get("alice")?.size).toBe(1);
    const h2 = startEngine({ clock, server: new FakeServer({ clock }), storage });
    const after = h2.engine.publish("a", bytes("new"));
    await clock.advance(100);
    expect(h2.server.publishRequests.map((r) => text(r.payload))).toEqual(["left behind", "new"]);
    expect(await after).toEqual({ cursor: 2n });
    expect(storage.outbox.get("alice")?.size ?? 0).toBe(0);
  });

  it("a caller's key joins the record already queued under it, on this engine or the next: one event", async () => {
    const clock = new FakeClock();
    const server = new FakeServer({ clock });
    const storage = new MemoryStorage();
    const h1 = startEngine({ clock, server, storage });
    server.rejectPublishes(...Array.from({ length: 3 }, () => new ConnectError("down", Code.Unavailable)));
    const first = h1.engine.publish("a", bytes("once"), { key: "tab-key-1" });
    const again = h1.engine.publish("a", bytes("once"), { key: "tab-key-1" });
    await clock.advance(100);
    expect(h1.storage.calls.addOutbox).toBe(1);
    await h1.engine.close();
    await expect(first).rejects.toThrow(/closed/);
    await expect(again).rejects.toThrow(/closed/);

    // The next engine (a new leader) loads the record; the caller retries with the same key.
    const h2 = startEngine({ clock, server, storage });
    const retried = h2.engine.publish("a", bytes("once"), { key: "tab-key-1" });
    await clock.advance(60_000);
    expect(await retried).toEqual({ cursor: 1n });
    expect(h2.storage.calls.addOutbox).toBe(1); // the same MemoryStorage: no second record
    expect(server.head("a")).toBe(1n);
    expect(new Set(server.publishRequests.map((r) => r.idempotencyKey))).toEqual(new Set(["tab-key-1"]));

    // Acknowledged and gone from the outbox: the same key again is answered by the server's dedupe.
    expect(await h2.engine.publish("a", bytes("once"), { key: "tab-key-1" })).toEqual({ cursor: 1n });
    expect(server.head("a")).toBe(1n);
    await expect(h2.engine.publish("a", bytes("x"), { key: "" })).rejects.toThrow(/key must be a string of 1 to 256/);
  });

  it("offline: publishing waits for online, then goes out", async () => {
    const h = startEngine();
    h.engine.hint("offline");
    const p = h.engine.publish("a", bytes("later"));
    await h.clock.advance(60_000);
    expect(h.server.publishRequests).toHaveLength(0);
    expect(h.storage.outbox.get("alice")?.size).toBe(1); // durable meanwhile
    h.engine.hint("online");
    await h.clock.advance(10);
    expect(await p).toEqual({ cursor: 1n });
  });

  it("unauthenticated → refreshes headers once; twice → rejects that publish", async () => {
    let token = "old";
    const whys: string[] = [];
    const h = startEngine({
      serverOptions: { token: "new" },
      getHeaders: async (why) => {
        whys.push(why);
        if (why === "refresh") token = "new";
        return { authorization: `Bearer ${token}` };
      },
    });
    await expect(h.engine.publish("a", bytes("1"))).resolves.toEqual({ cursor: 1n });
    expect(whys).toContain("refresh");
    h.server.token = "newer";
    await expect(h.engine.publish("a", bytes("2"))).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  it("a publish that hangs is abandoned after publishTimeoutMs and retried", async () => {
    const h = startEngine({ config: { publishTimeoutMs: 5_000 } });
    const original = h.server.transport.publish;
    let calls = 0;
    h.server.transport.publish = (req, opts) => {
      calls++;
      if (calls === 1) return new Promise((_, reject) => opts.signal.addEventListener("abort", () => reject(new Error("aborted"))));
      return original(req, opts);
    };
    const p = h.engine.publish("a", bytes("slow"));
    await h.clock.advance(4_000);
    expect(calls).toBe(1);
    await h.clock.advance(10_000);
    expect(await p).toEqual({ cursor: 1n });
    expect(calls).toBe(2);
  });
});
