// Engine scenarios about what subscribers get: persistence order, dedupe, resets, topic
// changes (make-before-break), `since`, and servers that lie.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { event, FakeClock, FakeServer, frames, MemoryStorage, Recorder, ResetReason, ScriptedTransport, startEngine, startLiveOnScript } from "../testing";
import type { Delivery } from "./types";

describe("engine: persistence and dedupe", () => {
  it("stores a cursor only once a subscriber acknowledged it, one transaction per save", async () => {
    const h = startEngine();
    const rec = new Recorder({ ack: false });
    h.engine.subscribe(["a"], rec.sink);
    await h.clock.advance(10);
    expect(h.storage.cursorOf("alice", "a")).toBe(0n); // where "now" was: a position with no event, stored at once
    const savesBefore = h.storage.calls.saveCursors;
    h.server.publish("a", 50); // one frame
    await h.clock.advance(10);
    expect(rec.cursors("a")).toHaveLength(50); // delivered at once, nothing waits for storage
    expect(h.storage.cursorOf("alice", "a")).toBe(0n);
    expect(h.storage.calls.saveCursors - savesBefore).toBe(0);
    rec.ackAll();
    await h.clock.advance(1);
    expect(h.storage.cursorOf("alice", "a")).toBe(50n);
    expect(h.storage.calls.saveCursors - savesBefore).toBe(1);
  });

  it("group commit: acknowledgements that arrive while a save is in flight go out in the next single save", async () => {
    const h = startEngine();
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    await h.clock.advance(10);
    const release = h.storage.holdSaves();
    h.server.publish("a");
    await h.clock.advance(1);
    const saves = h.storage.calls.saveCursors;
    for (let i = 0; i < 20; i++) h.server.publish("a", 10); // 20 frames while the first save waits
    await h.clock.advance(1);
    expect(rec.cursors("a")).toHaveLength(201); // delivery never waits for a save
    release();
    await h.clock.advance(1);
    expect(h.storage.calls.saveCursors - saves).toBe(1); // the 20 frames: one more transaction
    expect(h.storage.cursorOf("alice", "a")).toBe(201n);
  });

  it("a failing save is retried with what settled since; delivery goes on meanwhile", async () => {
    const h = startEngine();
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    await h.clock.advance(10);
    h.storage.failNext("saveCursors", 2);
    h.server.publish("a", 3);
    await h.clock.advance(10);
    expect(rec.cursors("a")).toEqual([1, 2, 3]);
    h.server.publish("a", 2);
    await h.clock.advance(2_100);
    expect(h.storage.cursorOf("alice", "a")).toBe(5n);
    expect(h.warnings.filter((w) => /saving cursors failed/.test(w))).toHaveLength(2);
  });

  it("close(): what was acknowledged is stored; what was only delivered is not (it comes again)", async () => {
    const h = startEngine();
    const rec = new Recorder({ ack: false });
    h.engine.subscribe(["a"], rec.sink);
    await h.clock.advance(10);
    h.server.publish("a", 2);
    await h.clock.advance(1);
    rec.ackAll();
    h.server.publish("a", 3);
    await h.clock.advance(1);
    expect(rec.cursors("a")).toEqual([1, 2, 3, 4, 5]);
    await h.engine.close();
    expect(h.storage.cursorOf("alice", "a")).toBe(2n);
  });

  it("a crash between delivery and save: the next engine delivers again from the last acknowledgement, never skips", async () => {
    const clock = new FakeClock();
    const server = new FakeServer({ clock });
    const storage = new MemoryStorage();
    const h1 = startEngine({ clock, server, storage });
    const rec1 = new Recorder({ ack: false });
    h1.engine.subscribe(["a"], rec1.sink);
    await clock.advance(10);
    server.publish("a", 3);
    await clock.advance(1);
    rec1.ackAll(); // the app processed 1..3
    server.publish("a", 4); // 4..7 handed over, the app never finished them: then the crash
    await clock.advance(1);
    expect(rec1.cursors("a")).toEqual([1, 2, 3, 4, 5, 6, 7]);
    server.drop(); // the dead engine's stream goes with it (no close(): a crash saves nothing more)
    const h2 = startEngine({ clock, server, storage });
    const rec2 = new Recorder();
    h2.engine.subscribe(["a"], rec2.sink, { since: "stored" });
    await clock.advance(50);
    expect(rec2.cursors("a")).toEqual([4, 5, 6, 7]); // a repeat of what was not acknowledged, no gap
  });

  it("one subscriber that never acknowledges does not hold back the cursor the others acknowledged", async () => {
    const h = startEngine();
    const hung = new Recorder({ ack: false });
    const fine = new Recorder();
    h.engine.subscribe(["a"], hung.sink);
    h.engine.subscribe(["a"], fine.sink);
    await h.clock.advance(10);
    h.server.publish("a", 4);
    await h.clock.advance(2);
    expect(h.storage.cursorOf("alice", "a")).toBe(4n);
  });

  it("a subscriber's ack of an older delivery never moves the stored cursor back", async () => {
    const h = startEngine();
    const slow = new Recorder({ ack: false });
    const fast = new Recorder();
    h.engine.subscribe(["a"], slow.sink);
    h.engine.subscribe(["a"], fast.sink);
    await h.clock.advance(10);
    h.server.publish("a", 2);
    await h.clock.advance(2);
    h.server.publish("a", 2);
    await h.clock.advance(2);
    expect(h.storage.cursorOf("alice", "a")).toBe(4n);
    slow.unacked[0]!(); // the slow one finishes its first delivery only now
    await h.clock.advance(2);
    expect(h.storage.cursorOf("alice", "a")).toBe(4n);
  });

  it("a new engine on the same storage resumes from the stored cursor (since 'stored')", async () => {
    const clock = new FakeClock();
    const server = new FakeServer({ clock });
    const storage = new MemoryStorage();
    const h1 = startEngine({ clock, server, storage });
    const r1 = new Recorder();
    h1.engine.subscribe(["a"], r1.sink);
    await clock.advance(10);
    server.publish("a", 4);
    await clock.advance(10);
    await h1.engine.close();
    server.publish("a", 3);
    const h2 = startEngine({ clock, server, storage });
    const r2 = new Recorder();
    h2.engine.subscribe(["a"], r2.sink);
    await clock.advance(50);
    expect(r1.cursors("a")).toEqual([1, 2, 3, 4]);
    expect(r2.cursors("a")).toEqual([5, 6, 7]);
    expect(r2.kinds).toEqual(["events", "live"]);
  });

  it("a topic never seen starts live from now, and keeps its place across a reconnect before its first event", async () => {
    const h = startEngine();
    h.server.publish("a", 5); // history the subscriber does not want
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    await h.clock.advance(10);
    expect(rec.kinds).toEqual(["live"]);
    h.server.drop();
    h.server.publish("a", 2); // during the reconnect delay
    await h.clock.advance(3_000);
    expect(rec.cursors("a")).toEqual([6, 7]);
    expect(rec.of("reset")).toEqual([]);
  });

  it("drops duplicates silently (server re-sends, overlap)", async () => {
    const h = startEngine();
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    await h.clock.advance(10);
    h.server.publish("a", 5);
    h.server.resend("a", 2n);
    h.server.publish("a", 1);
    await h.clock.advance(10);
    expect(rec.cursors("a")).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("retention: a cursor older than the server keeps becomes an explicit reset", async () => {
    const clock = new FakeClock();
    const server = new FakeServer({ clock });
    const storage = new MemoryStorage();
    await storage.saveCursors("alice", [{ topic: "a", cursor: 2n, epoch: "e1" }]);
    server.publish("a", 10);
    server.trim("a", 6n);
    const h = startEngine({ clock, server, storage });
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    await clock.advance(10);
    expect(rec.deliveries[0]).toEqual({ kind: "reset", topic: "a", reason: "retention", resumeAfter: 6n });
    expect(rec.cursors("a")).toEqual([7, 8, 9, 10]);
    expect(rec.kinds).toEqual(["reset", "events", "live"]);
  });

  it("epoch: the server lost its log; the reset is explicit and the new epoch's events follow", async () => {
    const h = startEngine();
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    await h.clock.advance(10);
    h.server.publish("a", 3);
    await h.clock.advance(10);
    h.server.restart("e2");
    h.server.publish("a", 2);
    await h.clock.advance(3_000);
    expect(rec.of("reset")).toEqual([{ kind: "reset", topic: "a", reason: "epoch", resumeAfter: 0n }]);
    expect(rec.cursors("a")).toEqual([1, 2, 3, 1, 2]);
    expect(h.engine.status()).toMatchObject({ serverEpoch: "e2", state: "live" });
    expect(h.storage.cursors.get("alice")?.get("a")).toEqual({ topic: "a", cursor: 2n, epoch: "e2" });
  });

  it("a throwing sink does not stop the others", async () => {
    const h = startEngine();
    const rec = new Recorder();
    h.engine.subscribe(["a"], () => {
      throw new Error("app bug");
    });
    h.engine.subscribe(["a"], rec.sink);
    await h.clock.advance(10);
    h.server.publish("a", 2);
    await h.clock.advance(10);
    expect(rec.cursors("a")).toEqual([1, 2]);
    expect(h.warnings.some((w) => /sink threw/.test(w))).toBe(true);
  });

  it("reset() (logout) wipes this user's cursors and outbox and forgets positions", async () => {
    const h = startEngine();
    h.engine.subscribe(["a"], new Recorder().sink);
    await h.clock.advance(10);
    h.server.publish("a", 2);
    h.server.rejectPublishes(new Error("net"));
    const p = h.engine.publish("a", new Uint8Array([1]));
    await h.clock.advance(10);
    expect(h.storage.cursorOf("alice", "a")).toBe(2n);
    await h.engine.reset();
    await expect(p).rejects.toThrow(/reset\(\)/);
    expect(h.storage.cursors.get("alice")).toBeUndefined();
    expect(h.storage.outbox.get("alice")).toBeUndefined();
    expect(h.storage.calls.wipe).toBe(1);
  });
});

describe("engine: topic changes", () => {
  it("make-before-break: the old stream is aborted only after the new one said Hello; overlap deduped", async () => {
    const { clock, t, rec: ra, ...h } = await startLiveOnScript();
    const rb = new Recorder();
    h.engine.subscribe(["b"], rb.sink);
    await clock.advance(25); // past the debounce
    expect(t.calls).toHaveLength(2);
    const [old, fresh] = t.calls as [typeof t.last, typeof t.last];
    expect(fresh.resume).toEqual({ a: 0n, b: 18446744073709551615n });
    old.send(frames.events("a", 1, 2)); // still flowing while the new one opens
    await clock.advance(1);
    expect(old.aborted).toBe(false);
    fresh.send(frames.hello());
    await clock.advance(1);
    expect(old.aborted).toBe(true);
    fresh.send(frames.reset("b", ResetReason.AHEAD, 7), frames.events("a", 1, 2, 3), frames.caughtUp("a", "b"), frames.events("b", 8));
    await clock.advance(1);
    expect(ra.cursors("a")).toEqual([1, 2, 3]);
    expect(rb.cursors("b")).toEqual([8]);
    expect(rb.kinds).toEqual(["live", "events"]);
    expect(h.engine.status()).toMatchObject({ state: "live", connection: 2, topics: ["a", "b"] });
    expect(h.warnings).toEqual([]);
  });

  it("no event is lost while topics come and go (fake server, publishing throughout)", async () => {
    const h = startEngine();
    const ra = new Recorder();
    h.engine.subscribe(["a"], ra.sink);
    await h.clock.advance(10);
    let published = 0;
    const subs = [];
    for (let i = 0; i < 10; i++) {
      h.server.publish("a", 3);
      published += 3;
      subs.push(h.engine.subscribe([`t${i}`], () => {}));
      await h.clock.advance(7);
      h.server.publish("a", 2);
      published += 2;
      if (i % 2 === 1) subs.shift()!.unsubscribe();
      await h.clock.advance(13);
    }
    await h.clock.advance(100);
    expect(ra.cursors("a")).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    expect(h.server.openStreams).toBe(1);
    expect(h.server.streamTopics()[0]).toEqual(["a", "t5", "t6", "t7", "t8", "t9"]);
  });

  it("the last subscriber of a topic leaving takes the topic out of the stream", async () => {
    const h = startEngine();
    h.engine.subscribe(["a"], () => {});
    const s1 = h.engine.subscribe(["b"], () => {});
    const s2 = h.engine.subscribe(["b"], () => {});
    await h.clock.advance(30);
    expect(h.server.streamTopics()).toEqual([["a", "b"]]);
    s1.unsubscribe();
    s1.unsubscribe();
    await h.clock.advance(30);
    expect(h.server.streamTopics()).toEqual([["a", "b"]]);
    s2.unsubscribe();
    await h.clock.advance(30);
    expect(h.server.streamTopics()).toEqual([["a"]]);
    expect(h.engine.status().topics).toEqual(["a"]);
  });

  it("rejects bad subscriptions synchronously with a TypeError and keeps running", async () => {
    const h = startEngine();
    expect(() => h.engine.subscribe([], () => {})).toThrow(TypeError);
    expect(() => h.engine.subscribe([""], () => {})).toThrow(/must not be empty/);
    expect(() => h.engine.subscribe(["x".repeat(300)], () => {})).toThrow(/over the 256-byte limit/);
    expect(() => h.engine.subscribe(["a\n"], () => {})).toThrow(/control characters/);
    expect(() => h.engine.subscribe(["a"], () => {}, { since: { b: 1n } })).toThrow(/not one of the topics/);
    expect(() => h.engine.subscribe(["a"], () => {}, { since: { a: 1 as unknown as bigint } })).toThrow(/bigint/);
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    await h.clock.advance(10);
    expect(rec.kinds).toEqual(["live"]);
  });

  it("refuses (RangeError) a subscription that would take the stream over its topic limit", async () => {
    const h = startEngine({ config: { maxStreamTopics: 3 } });
    h.engine.subscribe(["a", "b"], () => {});
    h.engine.subscribe(["b", "c"], () => {}); // b is already in: 3 topics
    expect(() => h.engine.subscribe(["c", "d"], () => {})).toThrow(/4 topics, over the limit of 3/);
    await h.clock.advance(30);
    expect(h.server.streamTopics()).toEqual([["a", "b", "c"]]);
    expect(h.engine.status().state).toBe("live");
  });
});

describe("engine: since", () => {
  async function withHistory(config = {}) {
    const clock = new FakeClock();
    const server = new FakeServer({ clock });
    const storage = new MemoryStorage();
    await storage.saveCursors("alice", [{ topic: "a", cursor: 3n, epoch: "e1" }]);
    server.publish("a", 8);
    return startEngine({ clock, server, storage, config });
  }

  it("'now' skips everything before the subscriber joined", async () => {
    const h = await withHistory();
    const stored = new Recorder();
    const now = new Recorder();
    h.engine.subscribe(["a"], stored.sink);
    h.engine.subscribe(["a"], now.sink, { since: "now" });
    await h.clock.advance(10);
    h.server.publish("a", 2);
    await h.clock.advance(10);
    expect(stored.cursors("a")).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(now.cursors("a")).toEqual([9, 10]);
    const late = new Recorder();
    h.engine.subscribe(["a"], late.sink, { since: "now" });
    h.server.publish("a");
    await h.clock.advance(10);
    expect(late.cursors("a")).toEqual([11]);
    expect(late.kinds).toEqual(["live", "events"]);
  });

  it("a cursor older than the stream: history on its own bounded stream, live buffered, handed over once, in order", async () => {
    const h = await withHistory();
    const main = new Recorder();
    h.engine.subscribe(["a"], main.sink);
    await h.clock.advance(10);
    expect(main.cursors("a")).toEqual([4, 5, 6, 7, 8]);
    const old = new Recorder();
    h.engine.subscribe(["a"], old.sink, { since: { a: 1n } });
    h.server.publish("a", 2); // live while the catch-up runs
    await h.clock.advance(10);
    h.server.publish("a");
    await h.clock.advance(10);
    expect(old.cursors("a")).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(old.kinds).toEqual(["events", "live", "events"]);
    expect(h.server.requests.some((r) => r.historyOnly && r.topics[0]!.after === 1n)).toBe(true);
    expect(main.cursors("a")).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(h.storage.cursorOf("alice", "a")).toBe(11n); // a catch-up never moves the stored cursor
  });

  it("a catch-up the server refuses for good: an explicit reset to where live resumes, then live, no duplicates", async () => {
    const h = await withHistory();
    const main = new Recorder();
    h.engine.subscribe(["a"], main.sink);
    await h.clock.advance(10);
    h.server.rejectSubscribes(new ConnectError("history is not yours", Code.PermissionDenied));
    const old = new Recorder();
    h.engine.subscribe(["a"], old.sink, { since: { a: 1n } });
    h.server.publish("a", 2);
    await h.clock.advance(10);
    h.server.publish("a");
    await h.clock.advance(10);
    expect(old.deliveries[0]).toEqual({ kind: "reset", topic: "a", reason: "retention", resumeAfter: 8n });
    expect(old.cursors("a")).toEqual([9, 10, 11]);
    expect(old.kinds).toEqual(["reset", "live", "events"]);
    expect(h.engine.status().state).toBe("live"); // only that subscriber was affected
    expect(main.cursors("a")).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it("a cursor at or ahead of the stream joins live after it", async () => {
    const h = await withHistory();
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(10);
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink, { since: { a: 9n } });
    h.server.publish("a", 3);
    await h.clock.advance(10);
    expect(rec.cursors("a")).toEqual([10, 11]);
  });

  it("a catch-up that falls too far behind is cut with an overflow delivery", async () => {
    const h = await withHistory({ catchupBufferEvents: 5 });
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(10);
    // the history-only stream keeps failing, so live events pile up in the subscriber's buffer
    h.server.rejectSubscribes(...Array.from({ length: 5 }, () => new Error("net")));
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink, { since: { a: 0n } });
    await h.clock.advance(10);
    h.server.publish("a", 6);
    await h.clock.advance(10);
    expect(rec.deliveries).toEqual([{ kind: "overflow", topics: ["a"] } satisfies Delivery]);
    h.server.publish("a", 5);
    await h.clock.advance(30_000);
    expect(rec.deliveries).toHaveLength(1);
    expect(h.warnings.join("\n")).toMatch(/fell more than 5 events behind/);
  });
});

describe("engine: servers that lie", () => {
  async function scripted() {
    const clock = new FakeClock();
    const t = new ScriptedTransport();
    const h = startEngine({ clock, transport: t });
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    await clock.advance(1);
    return { ...h, t, rec };
  }

  it("warns and drops: an event for a topic not asked for, a cursor that does not increase, an unknown frame", async () => {
    const h = await scripted();
    h.t.last.accept();
    h.t.last.send(frames.events("zzz", 1), frames.events("a", 1, 2), frames.events("a", 2, 1, 3), frames.unknown(), frames.events("a", 0));
    await h.clock.advance(1);
    expect(h.rec.cursors("a")).toEqual([1, 2, 3]);
    const w = h.warnings.join("\n");
    expect(w).toMatch(/1 event\(s\) for topics this stream did not ask for/);
    expect(w).toMatch(/2 event\(s\) whose cursor does not increase/);
    expect(w).toMatch(/unknown frame/);
    expect(w).toMatch(/cursor 0/);
    h.t.last.send(frames.batch(Array.from({ length: 1000 }, (_, i) => event("zzz", BigInt(i + 1)))));
    await h.clock.advance(1);
    expect(h.warnings.filter((x) => /1000 event\(s\) for topics/.test(x))).toHaveLength(1); // one line, not 1000
    expect(h.t.calls).toHaveLength(1); // none of that is worth a reconnect
  });

  it("a frame before Hello is a protocol error: reconnect", async () => {
    const h = await scripted();
    h.t.last.send(frames.events("a", 1));
    await h.clock.advance(3_000);
    expect(h.t.calls).toHaveLength(2);
    expect(h.t.calls[0]!.aborted).toBe(true);
    expect(h.engine.status().lastError).toMatchObject({ code: "protocol" });
  });

  it("a new epoch without a TopicReset still yields an explicit reset", async () => {
    const clock = new FakeClock();
    const t = new ScriptedTransport();
    const storage = new MemoryStorage();
    await storage.saveCursors("alice", [{ topic: "a", cursor: 50n, epoch: "old" }]);
    const h = startEngine({ clock, transport: t, storage });
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    await clock.advance(1);
    expect(t.last.resume).toEqual({ a: 50n });
    t.last.send(frames.hello("new"), frames.events("a", 1, 2), frames.caughtUp("a"));
    await clock.advance(1);
    expect(rec.deliveries[0]).toEqual({ kind: "reset", topic: "a", reason: "epoch", resumeAfter: 0n });
    expect(rec.cursors("a")).toEqual([1, 2]);
  });

  it("a server that ignores the AHEAD probe is detected and asked for plain live instead", async () => {
    const h = await scripted();
    h.t.last.send(frames.hello(), frames.caughtUp("a"));
    await h.clock.advance(3_000);
    expect(h.t.calls).toHaveLength(2);
    expect(h.t.last.resume).toEqual({ a: "live" });
    expect(h.warnings.join("\n")).toMatch(/no AHEAD reset/);
  });
});
