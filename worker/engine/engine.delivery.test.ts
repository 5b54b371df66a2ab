// Engine scenarios about what subscribers get: topic changes (make-before-break), `since`, and
// servers that lie. What is stored and when: engine.persistence.test.ts.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { event, FakeClock, FakeServer, frames, MemoryStorage, Recorder, ResetReason, ScriptedTransport, startEngine, startLiveOnScript } from "../testing";
import type { Delivery } from "./types";

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
