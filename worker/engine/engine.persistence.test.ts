// Engine scenarios about what is stored and when: cursors stored only once a subscriber
// acknowledged them, group commit off the delivery path, crashes that repeat but never skip,
// resets, logout, and the dedupe of what servers send twice.
import { describe, expect, it } from "vitest";
import { FakeClock, FakeServer, MemoryStorage, Recorder, startEngine } from "../testing";

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
