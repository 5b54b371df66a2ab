// The in-memory TopicLog: cursors, retention by count and by age (fake clock and timer), memory
// that retention frees at once, idempotency scoped by principal and topic with per-principal
// bounds and an age limit, no state for topics nobody published to, reset, and a property test
// of read() against a simple model.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createMemoryLog, type Every } from "./log";
import { MiB, settledMemory } from "./test-memory";

const bytes = (text: string) => new TextEncoder().encode(text);

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** A sweep timer driven by hand: `tick()` runs what a real interval would have run. */
function manualTimer() {
  const fns: (() => void)[] = [];
  const every: Every = (_ms, fn) => {
    fns.push(fn);
    return () => fns.splice(fns.indexOf(fn), 1);
  };
  return { every, tick: () => fns.forEach((fn) => fn()), get running() { return fns.length; } };
}

const A = (key: string) => ({ principal: "alice", key });
const B = (key: string) => ({ principal: "bob", key });

describe("memory log", () => {
  it("numbers each topic from 1 and reads strictly after a cursor", async () => {
    const log = createMemoryLog();
    for (const t of ["a", "a", "b", "a"]) await log.append(t, bytes(t));
    expect((await log.read("a", 1n, 10)).map((e) => e.cursor)).toEqual([2n, 3n]);
    expect((await log.read("a", 0n, 2)).map((e) => e.cursor)).toEqual([1n, 2n]);
    expect(await log.read("a", 3n, 10)).toEqual([]);
    expect(await log.read("nope", 0n, 10)).toEqual([]);
    expect(await log.bounds("b")).toEqual({ head: 1n, earliest: 1n });
    expect(await log.bounds("nope")).toEqual({ head: 0n, earliest: 1n });
    expect(log.heads()).toEqual(new Map([["a", 3n], ["b", 1n]]));
  });

  it("keeps at most maxEvents per topic", async () => {
    const log = createMemoryLog({ maxEvents: 3 });
    for (let i = 0; i < 5; i++) await log.append("a", bytes(`${i}`));
    expect(await log.bounds("a")).toEqual({ head: 5n, earliest: 3n });
    expect((await log.read("a", 0n, 10)).map((e) => e.cursor)).toEqual([3n, 4n, 5n]);
    expect(log.usage()).toMatchObject({ retainedEvents: 3, retainedBytes: 3 });
  });

  it("drops events older than maxAgeMs, measured with the injected clock", async () => {
    const clock = fakeClock();
    const log = createMemoryLog({ maxAgeMs: 1000, now: clock.now });
    await log.append("a", bytes("old"));
    clock.advance(600);
    await log.append("a", bytes("new"));
    clock.advance(500);
    expect(await log.bounds("a")).toEqual({ head: 2n, earliest: 2n });
    clock.advance(1000);
    expect(await log.bounds("a")).toEqual({ head: 2n, earliest: 3n });
    expect(await log.read("a", 0n, 10)).toEqual([]);
    const { event } = await log.append("a", bytes("x"));
    expect(event.cursor).toBe(3n);
    expect(event.publishedAtMs).toBe(BigInt(clock.now()));
  });

  it("prunes aged events on its own timer, without the topic being touched", async () => {
    const clock = fakeClock();
    const timer = manualTimer();
    const log = createMemoryLog({ maxAgeMs: 1000, now: clock.now, every: timer.every });
    await log.append("a", bytes("12345"));
    await log.append("b", bytes("678"));
    timer.tick();
    expect(log.usage()).toMatchObject({ retainedEvents: 2, retainedBytes: 8 });
    clock.advance(1001);
    timer.tick();
    expect(log.usage()).toMatchObject({ topics: 2, retainedEvents: 0, retainedBytes: 0 });
    expect(log.heads()).toEqual(new Map([["a", 1n], ["b", 1n]])); // heads stay: cursors never repeat
    await log.close();
    expect(timer.running).toBe(0);
  });

  it("frees dropped payloads at once: retention 1 × 1000 appends of 100 KB holds about one", async () => {
    const log = createMemoryLog({ maxEvents: 1 });
    const before = await settledMemory();
    for (let i = 0; i < 1000; i++) await log.append("a", new Uint8Array(100_000));
    const after = await settledMemory();
    // Before the fix every dropped event stayed referenced until 1024 piled up: +95 MB.
    expect(after.buffers - before.buffers).toBeLessThan(2 * 100_000 + 4 * MiB);
    expect(log.usage()).toMatchObject({ retainedEvents: 1, retainedBytes: 100_000 });
  });

  it("frees aged payloads on its timer: 100 × 1 MB with a 200 ms age are gone soon after", async () => {
    const log = createMemoryLog({ maxAgeMs: 200 });
    const before = await settledMemory();
    for (let i = 0; i < 100; i++) await log.append("a", new Uint8Array(MiB));
    const deadline = performance.now() + 3000;
    let after = await settledMemory();
    while (after.buffers - before.buffers >= 4 * MiB && performance.now() < deadline) after = await settledMemory();
    // Before the fix nothing was pruned until the topic was touched again: +100 MB.
    expect(after.buffers - before.buffers).toBeLessThan(4 * MiB);
    expect(log.usage().retainedEvents).toBe(0);
    await log.close();
  });

  it("scopes idempotency keys by principal and topic: a duplicate needs all three to match", async () => {
    const log = createMemoryLog();
    const first = await log.append("a/x", bytes("1"), A("k"));
    expect(await log.append("a/x", bytes("other"), A("k"))).toEqual({ event: first.event, duplicate: true });
    const bobSameKey = await log.append("b/y", bytes("bob"), B("k"));
    expect(bobSameKey.duplicate).toBe(false);
    expect(bobSameKey.event.cursor).toBe(1n);
    expect((await log.append("a/x", bytes("bob"), B("k"))).duplicate).toBe(false);
    expect((await log.append("a/z", bytes("alice elsewhere"), A("k"))).duplicate).toBe(false);
    expect((await log.append("a/x", bytes("no key"))).duplicate).toBe(false);
    expect(log.heads()).toEqual(new Map([["a/x", 3n], ["b/y", 1n], ["a/z", 1n]]));
  });

  it("bounds keys per principal: one principal's flood never evicts another's key", async () => {
    const log = createMemoryLog({ maxKeysPerPrincipal: 100 });
    await log.append("t", bytes("victim"), A("mine"));
    for (let i = 0; i < 1000; i++) await log.append("t", bytes(""), B(`flood-${i}`));
    expect(await log.append("t", bytes("retry"), A("mine"))).toMatchObject({ duplicate: true, event: { cursor: 1n } });
    expect(log.usage().idempotencyKeys).toBe(101);
    // Within one principal the oldest goes first.
    expect((await log.append("t", bytes(""), B("flood-0"))).duplicate).toBe(false);
    expect((await log.append("t", bytes(""), B("flood-999"))).duplicate).toBe(true);
  });

  it("forgets keys after their age limit, and the sweep frees them", async () => {
    const clock = fakeClock();
    const timer = manualTimer();
    const log = createMemoryLog({ keyMaxAgeMs: 1000, now: clock.now, every: timer.every });
    await log.append("t", bytes(""), A("k1"));
    clock.advance(999);
    expect((await log.append("t", bytes(""), A("k1"))).duplicate).toBe(true);
    await log.append("t", bytes(""), B("k2"));
    clock.advance(1);
    expect((await log.append("t", bytes(""), A("k1"))).duplicate).toBe(false); // expired: appends again
    clock.advance(1000);
    timer.tick();
    expect(log.usage().idempotencyKeys).toBe(0);
  });

  it("keeps the first cursor for a duplicate whose event retention already dropped", async () => {
    const log = createMemoryLog({ maxEvents: 1 });
    await log.append("t", bytes("1"), A("k"));
    await log.append("t", bytes("2"));
    expect(await log.append("t", bytes("1"), A("k"))).toMatchObject({ duplicate: true, event: { topic: "t", cursor: 1n } });
  });

  it("leaves no state for topics nobody published to once their listeners are gone", async () => {
    const log = createMemoryLog();
    const before = await settledMemory();
    for (let round = 0; round < 400; round++) {
      const names = Array.from({ length: 256 }, (_, i) => `never/${round}/${i}`);
      log.subscribe(names, () => {})();
    }
    const after = await settledMemory();
    // Before the fix each of these 102 400 topics kept a state object: tens of MB.
    expect(after.heap - before.heap).toBeLessThan(4 * MiB);
    expect(log.usage()).toMatchObject({ topics: 0, listenedTopics: 0 });
  });

  it("notifies subscribers of their topics only, and reset starts a new epoch", async () => {
    const epochs = ["e1", "e2"];
    const log = createMemoryLog({ newEpoch: () => epochs.shift()! });
    const seen: string[] = [];
    const stop = log.subscribe(["a", "a"], (e) => seen.push(`${e.topic}:${e.cursor}`));
    await log.append("a", bytes(""), A("k"));
    await log.append("b", bytes(""));
    expect(log.epoch()).toBe("e1");
    await log.reset();
    expect(log.epoch()).toBe("e2");
    expect(log.heads().size).toBe(0);
    expect((await log.append("a", bytes(""), A("k"))).duplicate).toBe(false);
    stop();
    await log.append("a", bytes(""));
    expect(seen).toEqual(["a:1", "a:1"]);
    expect(log.usage()).toMatchObject({ listenedTopics: 0, retainedEvents: 2 });
  });

  it("rejects garbage retention and key settings", () => {
    expect(() => createMemoryLog({ maxEvents: -1 })).toThrow(RangeError);
    expect(() => createMemoryLog({ maxAgeMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => createMemoryLog({ maxKeysPerPrincipal: 1.5 })).toThrow(RangeError);
    expect(() => createMemoryLog({ keyMaxAgeMs: Number.NaN })).toThrow(RangeError);
  });

  it("read() returns exactly the retained events after the cursor, contiguous and in order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.oneof(
          fc.record({ op: fc.constant("append" as const), topic: fc.constantFrom("a", "b") }),
          fc.record({ op: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 400 }) }),
          fc.record({ op: fc.constant("sweep" as const) }),
          fc.record({ op: fc.constant("read" as const), topic: fc.constantFrom("a", "b"), after: fc.integer({ min: 0, max: 60 }), limit: fc.integer({ min: 1, max: 30 }) }),
        ), { maxLength: 80 }),
        async (maxEvents, ops) => {
          const clock = fakeClock();
          const timer = manualTimer();
          const log = createMemoryLog({ maxEvents, maxAgeMs: 1000, now: clock.now, every: timer.every });
          const model = new Map<string, { cursor: bigint; at: number }[]>();
          const retainedOf = (topic: string) =>
            (model.get(topic) ?? []).slice(-maxEvents).filter((e) => e.at >= clock.now() - 1000);
          for (const op of ops) {
            if (op.op === "tick") clock.advance(op.ms);
            else if (op.op === "sweep") {
              timer.tick();
              const retained = ["a", "b"].reduce((n, t) => n + retainedOf(t).length, 0);
              expect(log.usage().retainedEvents).toBe(retained);
            } else if (op.op === "append") {
              const list = model.get(op.topic) ?? [];
              list.push({ cursor: BigInt(list.length + 1), at: clock.now() });
              model.set(op.topic, list);
              await log.append(op.topic, bytes(""));
            } else {
              const all = model.get(op.topic) ?? [];
              const retained = retainedOf(op.topic);
              const expected = retained.filter((e) => e.cursor > BigInt(op.after)).slice(0, op.limit).map((e) => e.cursor);
              const got = (await log.read(op.topic, BigInt(op.after), op.limit)).map((e) => e.cursor);
              expect(got).toEqual(expected);
              const { head, earliest } = await log.bounds(op.topic);
              expect(head).toBe(BigInt(all.length));
              expect(earliest).toBe(retained[0]?.cursor ?? head + 1n);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
