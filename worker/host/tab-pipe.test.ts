// TabPipe over a real MessageChannel: batching per task, acks, the per-tab bound, and the
// resume points after an overflow (nothing lost, nothing repeated).
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Delivery, StreamEvent } from "../engine/types";
import type { BatchMessage } from "../../contract/protocol";
import { TabPipe } from "./tab-pipe";

const ev = (topic: string, cursor: number): StreamEvent => ({
  topic,
  cursor: BigInt(cursor),
  payload: new Uint8Array([cursor & 255]),
  publishedAt: 0,
});

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

/** A pipe on port1 and a "tab" on port2 that records batches and (optionally) acks them. */
function setup(config = { maxUnackedEvents: 100, maxBatchEvents: 50 }) {
  const ch = new MessageChannel();
  channels.push(ch);
  const pipe = new TabPipe(ch.port1 as never, config);
  const batches: BatchMessage[] = [];
  let acking = true;
  /** Subscriptions whose app "failed" in the batches acked from now on. */
  let failing: number[] = [];
  ch.port2.addEventListener("message", (e: MessageEvent) => {
    const msg = e.data as BatchMessage;
    batches.push(msg);
    if (acking) ch.port2.postMessage(failing.length === 0 ? { t: "ack", seq: msg.seq } : { t: "ack", seq: msg.seq, failed: failing });
  });
  ch.port2.start();
  // Lets queued port messages (batches, then their acks) be delivered: a few macrotask turns, no timers.
  const settle = async () => {
    for (let i = 0; i < 4; i++) await new Promise<void>((r) => setImmediate(r));
  };
  return {
    pipe,
    batches,
    settle,
    freeze: () => (acking = false),
    fail: (subs: number[]) => (failing = subs),
  };
}

const eventsOf = (batches: BatchMessage[]) =>
  batches.flatMap((b) => b.deliveries.flatMap(([, d]) => (d.kind === "events" ? d.events : [])));

describe("TabPipe", () => {
  it("runs a delivery's engine ack once the tab acknowledged its batch, unless its app failed on it", async () => {
    const { pipe, settle, fail, freeze } = setup();
    const acked: string[] = [];
    pipe.deliver(1, { kind: "events", events: [ev("a", 1)] }, () => acked.push("1:a1"));
    pipe.deliver(2, { kind: "events", events: [ev("b", 1)] }, () => acked.push("2:b1"));
    await settle();
    expect(acked).toEqual(["1:a1", "2:b1"]);
    fail([2]);
    pipe.deliver(1, { kind: "events", events: [ev("a", 2)] }, () => acked.push("1:a2"));
    pipe.deliver(2, { kind: "events", events: [ev("b", 2)] }, () => acked.push("2:b2"));
    await settle();
    expect(acked).toEqual(["1:a1", "2:b1", "1:a2"]);
    freeze();
    pipe.deliver(1, { kind: "events", events: [ev("a", 3)] }, () => acked.push("1:a3"));
    await settle();
    expect(acked).toHaveLength(3); // not acknowledged: not processed
  });

  it("never runs the ack of a delivery a cut-off tab did not get", async () => {
    const { pipe, settle, freeze } = setup({ maxUnackedEvents: 2, maxBatchEvents: 50 });
    freeze();
    let ran = 0;
    pipe.deliver(1, { kind: "events", events: [ev("a", 1), ev("a", 2)] }, () => ran++);
    await settle();
    pipe.deliver(1, { kind: "events", events: [ev("a", 3)] }, () => ran++); // over the bound: remembered, not sent
    await settle();
    pipe.ack(2);
    expect(ran).toBe(1);
  });

  it("coalesces the deliveries of one task into one message", async () => {
    const { pipe, batches, settle } = setup({ maxUnackedEvents: 100_000, maxBatchEvents: 100_000 });
    for (let i = 1; i <= 1000; i++) pipe.deliver(1, { kind: "events", events: [ev("a", i)] });
    await settle();
    expect(batches).toHaveLength(1);
    expect(eventsOf(batches).map((e) => Number(e.cursor))).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it("posts a batch early once it holds maxBatchEvents", async () => {
    const { pipe, batches, settle } = setup({ maxUnackedEvents: 100_000, maxBatchEvents: 10 });
    for (let i = 1; i <= 25; i++) pipe.deliver(1, { kind: "events", events: [ev("a", i)] });
    await settle();
    expect(batches.map((b) => eventsOf([b]).length)).toEqual([10, 10, 5]);
  });

  it("carries the latest status with the batch", async () => {
    const { pipe, batches, settle } = setup();
    pipe.status({ state: "connecting", connection: 0, serverEpoch: "", liveTopics: [], topics: [] });
    pipe.status({ state: "live", connection: 1, serverEpoch: "e", liveTopics: ["a"], topics: ["a"] });
    await settle();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.status?.state).toBe("live");
  });

  it("keeps delivering to a tab that acks, however much flows", async () => {
    const { pipe, batches, settle } = setup({ maxUnackedEvents: 100, maxBatchEvents: 50 });
    for (let round = 0; round < 20; round++) {
      for (let i = 1; i <= 60; i++) pipe.deliver(1, { kind: "events", events: [ev("a", round * 60 + i)] });
      await settle();
    }
    expect(batches.some((b) => b.overflow)).toBe(false);
    expect(eventsOf(batches)).toHaveLength(1200);
  });

  it("cuts a tab that stops acking, then resumes exactly where delivery stopped", async () => {
    const { pipe, batches, settle, freeze } = setup({ maxUnackedEvents: 100, maxBatchEvents: 50 });
    freeze();
    for (let i = 1; i <= 300; i++) pipe.deliver(7, { kind: "events", events: [ev("a", i), ev("b", i)] });
    await settle();
    expect(pipe.overflowed).toBe(true);
    expect(batches.filter((b) => b.overflow)).toHaveLength(1);
    const delivered = eventsOf(batches);
    expect(delivered.length).toBeLessThanOrEqual(100);
    const points = pipe.resumePoints().get(7)!;
    // Every topic resumes right after the last event the tab was sent.
    for (const topic of ["a", "b"]) {
      const last = delivered.filter((e) => e.topic === topic).at(-1)!.cursor;
      expect(points.after.get(topic)).toBe(last);
    }
    expect(pipe.overflowed).toBe(false);
  });

  it("resumes a topic that had nothing delivered from just before its first dropped event; one that lost nothing runs on", async () => {
    const { pipe, settle, freeze } = setup({ maxUnackedEvents: 10, maxBatchEvents: 5 });
    freeze();
    for (let i = 1; i <= 10; i++) pipe.deliver(1, { kind: "events", events: [ev("a", i)] });
    pipe.deliver(1, { kind: "events", events: [ev("b", 40)] });
    pipe.deliver(1, { kind: "reset", topic: "c", reason: "retention", resumeAfter: 90n });
    pipe.deliver(1, { kind: "events", events: [ev("b", 41)] });
    await settle();
    const points = pipe.resumePoints().get(1)!;
    expect(points.after.has("a")).toBe(false); // all 10 were sent before the cut
    expect(points.after.get("b")).toBe(39n);
    expect(points.after.get("c")).toBe(90n);
    expect(points.resets).toEqual([{ kind: "reset", topic: "c", reason: "retention", resumeAfter: 90n }]);
  });

  it("holds a live report made while cut off for the topics whose subscription runs on; passes overflow and denied through", async () => {
    const { pipe, batches, settle, freeze } = setup({ maxUnackedEvents: 10, maxBatchEvents: 5 });
    freeze();
    for (let i = 1; i <= 10; i++) pipe.deliver(1, { kind: "events", events: [ev("a", i)] });
    pipe.deliver(1, { kind: "events", events: [ev("t", 1)] }); // cut here: t lost this one
    pipe.deliver(1, { kind: "live", topics: ["t", "q"] });
    pipe.deliver(2, { kind: "denied", topics: ["x"], error: { code: "permission_denied", message: "no" } });
    pipe.deliver(3, { kind: "overflow", topics: ["y"] });
    await settle();
    const control = batches.flatMap((b) => b.deliveries).filter(([, d]) => d.kind !== "events");
    expect(control.map(([sub, d]) => [sub, d.kind])).toEqual([[2, "denied"], [3, "overflow"]]);
    const point = pipe.resumePoints().get(1)!;
    expect([...point.after]).toEqual([["t", 0n]]);
    expect(point.live).toEqual(["q"]); // t is resubscribed and reports live again itself
  });

  it("always admits one delivery into an empty pipe, even one larger than the bound", async () => {
    const { pipe, batches, settle, freeze } = setup({ maxUnackedEvents: 10, maxBatchEvents: 5 });
    freeze();
    pipe.deliver(1, { kind: "events", events: Array.from({ length: 50 }, (_, i) => ev("a", i + 1)) });
    await settle();
    expect(pipe.overflowed).toBe(false);
    expect(eventsOf(batches)).toHaveLength(50);
  });

  it("property: sent events + resume points cover every event exactly once, in order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 30 }),
        async (steps, bound) => {
          const { pipe, batches, settle, freeze } = setup({ maxUnackedEvents: bound, maxBatchEvents: 4 });
          freeze();
          const next = new Map<string, number>();
          const all: StreamEvent[] = [];
          for (const [topic, n] of steps) {
            const events: StreamEvent[] = [];
            for (let k = 0; k < n; k++) {
              const c = (next.get(topic) ?? 0) + 1;
              next.set(topic, c);
              events.push(ev(topic, c));
            }
            all.push(...events);
            pipe.deliver(1, { kind: "events", events } satisfies Delivery);
          }
          await settle();
          const sent = eventsOf(batches);
          const after = pipe.resumePoints().get(1)?.after ?? new Map<string, bigint>();
          for (const topic of ["a", "b", "c"]) {
            const got = sent.filter((e) => e.topic === topic).map((e) => e.cursor);
            const want = all.filter((e) => e.topic === topic).map((e) => e.cursor);
            // What was sent is a prefix of the topic's events; the resume point is its end, and
            // only a topic that lost events has one.
            expect(got).toEqual(want.slice(0, got.length));
            if (got.length < want.length) expect(after.get(topic)).toBe(got.at(-1) ?? want[0]! - 1n);
            else expect(after.has(topic)).toBe(false);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
