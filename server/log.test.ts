// The in-memory TopicLog: cursors, retention by count and by age (fake clock), idempotency with
// bounded memory, reset, and a property test of read() against a simple model.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createMemoryLog } from "./log";

const bytes = (text: string) => new TextEncoder().encode(text);

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

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

  it("answers a repeated idempotency key with the first event, forgetting the oldest keys", async () => {
    const log = createMemoryLog({ maxKeys: 2 });
    const first = await log.append("a", bytes("1"), "k1");
    const again = await log.append("a", bytes("other"), "k1");
    expect(again).toEqual({ event: first.event, duplicate: true });
    await log.append("a", bytes("2"), "k2");
    await log.append("a", bytes("3"), "k3"); // k1 is forgotten now
    expect((await log.append("a", bytes("1"), "k1")).duplicate).toBe(false);
    expect((await log.append("a", bytes("3"), "k3")).event.cursor).toBe(3n);
    expect(log.heads().get("a")).toBe(4n);
  });

  it("notifies subscribers of their topics only, and reset starts a new epoch", async () => {
    const epochs = ["e1", "e2"];
    const log = createMemoryLog({ newEpoch: () => epochs.shift()! });
    const seen: string[] = [];
    const stop = log.subscribe(["a"], (e) => seen.push(`${e.topic}:${e.cursor}`));
    await log.append("a", bytes(""), "k");
    await log.append("b", bytes(""));
    expect(log.epoch()).toBe("e1");
    await log.reset();
    expect(log.epoch()).toBe("e2");
    expect(log.heads().size).toBe(0);
    expect((await log.append("a", bytes(""), "k")).duplicate).toBe(false);
    stop();
    await log.append("a", bytes(""));
    expect(seen).toEqual(["a:1", "a:1"]);
  });

  it("rejects garbage retention settings", () => {
    expect(() => createMemoryLog({ maxEvents: -1 })).toThrow(RangeError);
    expect(() => createMemoryLog({ maxAgeMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });

  it("read() returns exactly the retained events after the cursor, contiguous and in order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.oneof(
          fc.record({ op: fc.constant("append" as const), topic: fc.constantFrom("a", "b") }),
          fc.record({ op: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 400 }) }),
          fc.record({ op: fc.constant("read" as const), topic: fc.constantFrom("a", "b"), after: fc.integer({ min: 0, max: 60 }), limit: fc.integer({ min: 1, max: 30 }) }),
        ), { maxLength: 80 }),
        async (maxEvents, ops) => {
          const clock = fakeClock();
          const log = createMemoryLog({ maxEvents, maxAgeMs: 1000, now: clock.now });
          const model = new Map<string, { cursor: bigint; at: number }[]>();
          for (const op of ops) {
            if (op.op === "tick") clock.advance(op.ms);
            else if (op.op === "append") {
              const list = model.get(op.topic) ?? [];
              list.push({ cursor: BigInt(list.length + 1), at: clock.now() });
              model.set(op.topic, list);
              await log.append(op.topic, bytes(""));
            } else {
              const all = model.get(op.topic) ?? [];
              const retained = all.slice(-maxEvents).filter((e) => e.at >= clock.now() - 1000);
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
