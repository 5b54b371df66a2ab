// Fan-out (floors, resets, catch-up buffers, acknowledgements) and the dispatcher.
import { describe, expect, it } from "vitest";
import { Dispatcher, Fanout, type Op, Subscriber } from "./delivery";
import { Ledger } from "./ledger";
import { Recorder } from "../testing";
import type { StreamEvent } from "./types";

const ev = (topic: string, cursor: number): StreamEvent => ({ topic, cursor: BigInt(cursor), payload: new Uint8Array(), publishedAt: 0 });

function fanout(limit = 100) {
  const cut: Subscriber[] = [];
  const ledger = new Ledger(1_000, () => {});
  const f = new Fanout({ warn: () => {}, settle: (p) => ledger.ack(p), bufferLimit: limit, overflow: (s) => cut.push(s) });
  /** An events op whose points the ledger tracks, as the main stream makes them. */
  const events = (...evs: StreamEvent[]): Op => {
    const points = new Map<string, ReturnType<Ledger["record"]>>();
    for (const e of evs) points.set(e.topic, ledger.record(e.topic, e.cursor, "e", 1));
    return { kind: "events", events: evs, points };
  };
  const reset = (topic: string, reason: "epoch" | "retention", resumeAfter: bigint): Op => ({
    kind: "reset",
    topic,
    reason,
    resumeAfter,
    point: ledger.record(topic, resumeAfter, "e", 0),
  });
  return { f, cut, ledger, events, reset };
}

describe("Fanout", () => {
  it("gives each subscriber one events delivery per dispatch, only of its topics, in order", () => {
    const { f, events } = fanout();
    const ra = new Recorder();
    const rab = new Recorder();
    f.add(new Subscriber(1, ["a"], ra.sink, true));
    f.add(new Subscriber(2, ["a", "b"], rab.sink, true));
    f.dispatch([events(ev("a", 1), ev("b", 1), ev("a", 2)), events(ev("b", 2))]);
    expect(ra.deliveries).toEqual([{ kind: "events", events: [ev("a", 1), ev("a", 2)] }]);
    expect(rab.cursors()).toEqual([1, 1, 2, 2]);
    expect(rab.deliveries).toHaveLength(1);
  });

  it("keeps control deliveries in order with events, and says live once", () => {
    const { f, events, reset } = fanout();
    const r = new Recorder();
    const sub = new Subscriber(1, ["a", "b"], r.sink, true);
    f.add(sub);
    f.dispatch([
      events(ev("a", 1)),
      { kind: "caught-up", topics: ["a"] },
      events(ev("a", 2)),
      reset("b", "epoch", 0n),
      { kind: "caught-up", topics: ["b"] },
      { kind: "caught-up", topics: ["a", "b"] },
    ]);
    expect(r.kinds).toEqual(["events", "reset", "live"]);
    expect(r.cursors()).toEqual([1, 2]);
  });

  it("floors: a subscriber gets only cursors above its floor; a retention reset below the floor is not its business", () => {
    const { f, events, reset } = fanout();
    const r = new Recorder();
    const sub = new Subscriber(1, ["a"], r.sink, true);
    sub.floor = new Map([["a", 5n]]);
    f.add(sub);
    f.dispatch([reset("a", "retention", 3n), events(ev("a", 4), ev("a", 5), ev("a", 6))]);
    expect(r.deliveries).toEqual([{ kind: "events", events: [ev("a", 6)] }]);
    expect(sub.floor).toBeUndefined(); // passed once, gone
  });

  it("buffers during a catch-up, bounded, and replays on hand-over filtered by the new floor", () => {
    const { f, cut, events } = fanout(3);
    const r = new Recorder();
    const sub = new Subscriber(1, ["a"], r.sink, true);
    sub.buffer = [];
    f.add(sub);
    f.dispatch([events(ev("a", 4), ev("a", 5)), { kind: "caught-up", topics: ["a"] }]);
    expect(r.deliveries).toEqual([]);
    f.sendDirect(sub, { kind: "events", events: [ev("a", 2), ev("a", 3), ev("a", 4)] }); // its history
    sub.floor = new Map([["a", 4n]]);
    f.handOver(sub);
    expect(r.cursors()).toEqual([2, 3, 4, 5]);
    expect(r.kinds).toEqual(["events", "live"]);
    const other = new Subscriber(2, ["a"], () => {}, true);
    other.buffer = [];
    f.add(other);
    f.dispatch([events(ev("a", 6), ev("a", 7), ev("a", 8), ev("a", 9))]);
    expect(cut).toEqual([other]);
  });

  it("an acknowledged delivery settles its positions; the history of a catch-up settles nothing", () => {
    const { f, ledger, events } = fanout();
    const r = new Recorder({ ack: false });
    const sub = new Subscriber(1, ["a", "b"], r.sink, true);
    f.add(sub);
    f.dispatch([events(ev("a", 1), ev("b", 7)), events(ev("a", 2))]);
    expect(ledger.take()).toEqual({ records: [], forget: [] });
    r.ackAll();
    expect(ledger.take().records).toEqual([
      { topic: "a", cursor: 2n, epoch: "e" },
      { topic: "b", cursor: 7n, epoch: "e" },
    ]);
    f.sendDirect(sub, { kind: "events", events: [ev("a", 0)] });
    r.ackAll();
    expect(ledger.take().records).toEqual([]);
  });
});

describe("Dispatcher", () => {
  it("flushes what one task queued together, on a microtask, never inside the call that queued", async () => {
    const flushed: Op[][] = [];
    const d = new Dispatcher((ops) => flushed.push(ops));
    d.push({ kind: "caught-up", topics: ["a"] });
    d.push({ kind: "left", topics: ["b"] });
    expect(flushed).toEqual([]);
    await d.idle();
    expect(flushed).toEqual([[{ kind: "caught-up", topics: ["a"] }, { kind: "left", topics: ["b"] }]]);
  });

  it("stop() drops what is queued for good; discard() only what is queued now", async () => {
    const flushed: Op[][] = [];
    const d = new Dispatcher((ops) => flushed.push(ops));
    d.push({ kind: "left", topics: ["a"] });
    d.discard();
    d.push({ kind: "left", topics: ["b"] });
    await d.idle();
    expect(flushed).toEqual([[{ kind: "left", topics: ["b"] }]]);
    d.stop();
    d.push({ kind: "left", topics: ["c"] });
    await d.idle();
    expect(flushed).toHaveLength(1);
  });
});
