// Fan-out (floors, resets, catch-up buffers) and the group commit (save before dispatch, backpressure).
import { describe, expect, it } from "vitest";
import { Fanout, GroupCommit, type Op, Subscriber } from "./delivery";
import { Recorder } from "../testing";
import type { CursorRecord, StreamEvent } from "./types";

const ev = (topic: string, cursor: number): StreamEvent => ({ topic, cursor: BigInt(cursor), payload: new Uint8Array(), publishedAt: 0 });

function fanout(limit = 100) {
  const cut: Subscriber[] = [];
  const f = new Fanout({ warn: () => {}, bufferLimit: limit, overflow: (s) => cut.push(s) });
  return { f, cut };
}

describe("Fanout", () => {
  it("gives each subscriber one events delivery per dispatch, only of its topics, in order", () => {
    const { f } = fanout();
    const ra = new Recorder();
    const rab = new Recorder();
    f.add(new Subscriber(1, ["a"], ra.sink, true));
    f.add(new Subscriber(2, ["a", "b"], rab.sink, true));
    f.dispatch([{ kind: "events", events: [ev("a", 1), ev("b", 1), ev("a", 2)] }, { kind: "events", events: [ev("b", 2)] }]);
    expect(ra.deliveries).toEqual([{ kind: "events", events: [ev("a", 1), ev("a", 2)] }]);
    expect(rab.cursors()).toEqual([1, 1, 2, 2]);
    expect(rab.deliveries).toHaveLength(1);
  });

  it("keeps control deliveries in order with events, and says live once", () => {
    const { f } = fanout();
    const r = new Recorder();
    const sub = new Subscriber(1, ["a", "b"], r.sink, true);
    f.add(sub);
    const ops: Op[] = [
      { kind: "events", events: [ev("a", 1)] },
      { kind: "caught-up", topics: ["a"] },
      { kind: "events", events: [ev("a", 2)] },
      { kind: "reset", topic: "b", reason: "epoch", resumeAfter: 0n },
      { kind: "caught-up", topics: ["b"] },
      { kind: "caught-up", topics: ["a", "b"] },
    ];
    f.dispatch(ops);
    expect(r.kinds).toEqual(["events", "reset", "live"]);
    expect(r.cursors()).toEqual([1, 2]);
  });

  it("floors: a subscriber gets only cursors above its floor; a retention reset below the floor is not its business", () => {
    const { f } = fanout();
    const r = new Recorder();
    const sub = new Subscriber(1, ["a"], r.sink, true);
    sub.floor = new Map([["a", 5n]]);
    f.add(sub);
    f.dispatch([
      { kind: "reset", topic: "a", reason: "retention", resumeAfter: 3n },
      { kind: "events", events: [ev("a", 4), ev("a", 5), ev("a", 6)] },
    ]);
    expect(r.deliveries).toEqual([{ kind: "events", events: [ev("a", 6)] }]);
    expect(sub.floor).toBeUndefined(); // passed once, gone
  });

  it("buffers during a catch-up, bounded, and replays on hand-over filtered by the new floor", () => {
    const { f, cut } = fanout(3);
    const r = new Recorder();
    const sub = new Subscriber(1, ["a"], r.sink, true);
    sub.buffer = [];
    f.add(sub);
    f.dispatch([{ kind: "events", events: [ev("a", 4), ev("a", 5)] }, { kind: "caught-up", topics: ["a"] }]);
    expect(r.deliveries).toEqual([]);
    f.sendDirect(sub, { kind: "events", events: [ev("a", 2), ev("a", 3), ev("a", 4)] }); // its history
    sub.floor = new Map([["a", 4n]]);
    f.handOver(sub);
    expect(r.cursors()).toEqual([2, 3, 4, 5]);
    expect(r.kinds).toEqual(["events", "live"]);
    const other = new Subscriber(2, ["a"], () => {}, true);
    other.buffer = [];
    f.add(other);
    f.dispatch([{ kind: "events", events: [ev("a", 6), ev("a", 7), ev("a", 8), ev("a", 9)] }]);
    expect(cut).toEqual([other]);
  });
});

describe("GroupCommit", () => {
  function commit(maxQueuedEvents = 1_000) {
    const saves: CursorRecord[][] = [];
    const dispatched: Op[][] = [];
    let release: (() => void) | undefined;
    let dirty: CursorRecord[] = [];
    const gc = new GroupCommit({
      takeDirty: () => {
        const d = dirty;
        dirty = [];
        return d;
      },
      save: (records) => {
        saves.push(records);
        return new Promise<void>((resolve) => (release = resolve));
      },
      dispatch: (ops) => dispatched.push(ops),
      sleep: async () => {},
      warn: () => {},
      retryMs: 10,
      maxQueuedEvents,
    });
    return {
      gc,
      saves,
      dispatched,
      setDirty: (d: CursorRecord[]) => (dirty = d),
      release: async () => {
        release?.();
        await new Promise((r) => setImmediate(r));
      },
    };
  }

  it("never dispatches before the save; what queues meanwhile goes in one next save", async () => {
    const c = commit();
    c.setDirty([{ topic: "a", cursor: 1n, epoch: "e" }]);
    c.gc.push({ kind: "events", events: [ev("a", 1)] }, 1);
    await new Promise((r) => setImmediate(r));
    expect(c.saves).toHaveLength(1);
    for (let i = 2; i <= 10; i++) {
      c.setDirty([{ topic: "a", cursor: BigInt(i), epoch: "e" }]);
      c.gc.push({ kind: "events", events: [ev("a", i)] }, 1);
    }
    expect(c.dispatched).toHaveLength(0);
    await c.release();
    expect(c.dispatched).toHaveLength(1);
    expect(c.saves).toHaveLength(2);
    await c.release();
    expect(c.dispatched[1]).toHaveLength(9);
  });

  it("backpressure: full() when too much is queued; room() resolves once a flush takes it", async () => {
    const c = commit(5);
    c.setDirty([{ topic: "a", cursor: 1n, epoch: "e" }]);
    c.gc.push({ kind: "events", events: [ev("a", 1)] }, 1);
    await new Promise((r) => setImmediate(r)); // first save in flight
    c.gc.push({ kind: "events", events: [] }, 5);
    expect(c.gc.full).toBe(true);
    let roomy = false;
    void c.gc.room().then(() => (roomy = true));
    await new Promise((r) => setImmediate(r));
    expect(roomy).toBe(false);
    await c.release();
    expect(roomy).toBe(true);
  });

  it("stop(): a save in flight is still delivered, what is queued behind it is dropped", async () => {
    const c = commit();
    c.setDirty([{ topic: "a", cursor: 1n, epoch: "e" }]);
    c.gc.push({ kind: "events", events: [ev("a", 1)] }, 1);
    await new Promise((r) => setImmediate(r));
    c.gc.push({ kind: "events", events: [ev("a", 2)] }, 1);
    c.gc.stop();
    await c.release();
    await c.gc.idle();
    expect(c.dispatched).toEqual([[{ kind: "events", events: [ev("a", 1)] }]]);
  });
});
