// What every TopicLog promises, as one suite that runs against each backend (log.test.ts: the
// memory log; redis-log.test.ts: the Redis log on a real redis-server): cursors from 1 per topic
// and epoch, strict reads after a cursor, retention by count and age (injected clock),
// idempotency scoped by principal and topic with a bound and an age limit, notices to
// subscribers, reset to a new epoch, garbage settings refused, and read() against a model.
import fc from "fast-check";
import { afterEach, expect, it } from "vitest";
import type { MemoryLogOptions, TopicLog } from "./log";

export type LogOptions = Omit<MemoryLogOptions, "every">;

export interface LogHarness {
  log: TopicLog;
  /** Runs the backend's retention sweep, if it has one on a timer. */
  sweep?(): void;
}

export const bytes = (text: string) => new TextEncoder().encode(text);

export function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** Polls `check` until true (notices of a shared log arrive asynchronously). */
export async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const A = (key: string) => ({ principal: "alice", key });
const B = (key: string) => ({ principal: "bob", key });

const cursors = async (log: TopicLog, topic: string, after: bigint, limit: number) =>
  (await log.read(topic, after, limit)).events.map((e) => e.cursor);

export function logContract(make: (opts: LogOptions) => Promise<LogHarness>, settings: { propertyRuns: number }): void {
  const open: TopicLog[] = [];
  const start = async (opts: LogOptions = {}) => {
    const h = await make(opts);
    open.push(h.log);
    return h;
  };
  const logOf = async (opts: LogOptions = {}) => (await start(opts)).log;
  afterEach(async () => {
    await Promise.all(open.splice(0).map((log) => log.close()));
  });

  it("numbers each topic from 1 and reads strictly after a cursor, under the topic's epoch", async () => {
    const log = await logOf();
    for (const t of ["a", "a", "b", "a"]) await log.append(t, bytes(t));
    expect(await cursors(log, "a", 1n, 10)).toEqual([2n, 3n]);
    expect(await cursors(log, "a", 0n, 2)).toEqual([1n, 2n]);
    expect(await cursors(log, "a", 3n, 10)).toEqual([]);
    expect(await cursors(log, "nope", 0n, 10)).toEqual([]);
    const [first] = (await log.read("a", 0n, 1)).events;
    expect(first).toMatchObject({ topic: "a", cursor: 1n, payload: bytes("a") });
    const b = await log.bounds("b");
    expect(b).toMatchObject({ head: 1n, earliest: 1n });
    expect(b.epoch).not.toBe("");
    expect((await log.read("b", 0n, 1)).epoch).toBe(b.epoch);
    expect(await log.bounds("nope")).toMatchObject({ head: 0n, earliest: 1n });
  });

  it("keeps at most maxEvents per topic", async () => {
    const log = await logOf({ maxEvents: 3 });
    for (let i = 0; i < 5; i++) await log.append("a", bytes(`${i}`));
    expect(await log.bounds("a")).toMatchObject({ head: 5n, earliest: 3n });
    expect(await cursors(log, "a", 0n, 10)).toEqual([3n, 4n, 5n]);
  });

  it("drops events older than maxAgeMs, measured with the injected clock", async () => {
    const clock = fakeClock();
    const log = await logOf({ maxAgeMs: 60_000, now: clock.now });
    await log.append("a", bytes("old"));
    clock.advance(36_000);
    await log.append("a", bytes("new"));
    clock.advance(30_000);
    expect(await log.bounds("a")).toMatchObject({ head: 2n, earliest: 2n });
    clock.advance(60_000);
    expect(await log.bounds("a")).toMatchObject({ head: 2n, earliest: 3n });
    expect(await cursors(log, "a", 0n, 10)).toEqual([]);
    const { event } = await log.append("a", bytes("x"));
    expect(event.cursor).toBe(3n);
    expect(event.publishedAtMs).toBe(BigInt(clock.now()));
  });

  it("scopes idempotency keys by principal and topic: a duplicate needs all three to match", async () => {
    const log = await logOf();
    const first = await log.append("a/x", bytes("1"), A("k"));
    const again = await log.append("a/x", bytes("other"), A("k"));
    expect(again.duplicate).toBe(true);
    expect(again.event).toMatchObject({ topic: "a/x", cursor: 1n, payload: bytes("1"), publishedAtMs: first.event.publishedAtMs });
    const bobSameKey = await log.append("b/y", bytes("bob"), B("k"));
    expect(bobSameKey.duplicate).toBe(false);
    expect(bobSameKey.event.cursor).toBe(1n);
    expect((await log.append("a/x", bytes("bob"), B("k"))).duplicate).toBe(false);
    expect((await log.append("a/z", bytes("alice elsewhere"), A("k"))).duplicate).toBe(false);
    expect((await log.append("a/x", bytes("no key"))).duplicate).toBe(false);
    expect((await log.bounds("a/x")).head).toBe(3n);
    expect((await log.bounds("a/z")).head).toBe(1n);
  });

  it("bounds keys per principal: one principal's flood never evicts another's key", async () => {
    const log = await logOf({ maxKeysPerPrincipal: 100 });
    await log.append("t", bytes("victim"), A("mine"));
    for (let i = 0; i < 300; i++) await log.append("t", bytes(""), B(`flood-${i}`));
    expect(await log.append("t", bytes("retry"), A("mine"))).toMatchObject({ duplicate: true, event: { cursor: 1n } });
    // Within one principal the oldest goes first.
    expect((await log.append("t", bytes(""), B("flood-0"))).duplicate).toBe(false);
    expect((await log.append("t", bytes(""), B("flood-299"))).duplicate).toBe(true);
  });

  it("forgets keys after their age limit", async () => {
    const clock = fakeClock();
    const log = await logOf({ keyMaxAgeMs: 60_000, now: clock.now });
    await log.append("t", bytes(""), A("k1"));
    clock.advance(59_999);
    expect((await log.append("t", bytes(""), A("k1"))).duplicate).toBe(true);
    clock.advance(1);
    expect((await log.append("t", bytes(""), A("k1"))).duplicate).toBe(false); // expired: appends again
  });

  it("keeps the first cursor for a duplicate whose event retention already dropped", async () => {
    const log = await logOf({ maxEvents: 1 });
    await log.append("t", bytes("1"), A("k"));
    await log.append("t", bytes("2"));
    expect(await log.append("t", bytes("1"), A("k"))).toMatchObject({ duplicate: true, event: { topic: "t", cursor: 1n } });
  });

  it("tells subscribers about their topics only, with the payload", async () => {
    const log = await logOf();
    const seen: string[] = [];
    const stop = await log.subscribe(["a", "a"], { appended: (e) => seen.push(`${e.topic}:${e.cursor}:${e.payload.length}`), recheck: () => {} });
    await log.append("a", bytes("xyz"));
    await log.append("b", bytes(""));
    await log.append("a", bytes(""));
    await until("two notices", () => seen.length >= 2);
    stop();
    await log.append("a", bytes(""));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(["a:1:3", "a:2:0"]);
    expect(log.usage().listenedTopics).toBe(0);
  });

  it("reset starts a new epoch: events and keys are forgotten", async () => {
    const epochs = ["e1", "e2", "e3", "e4"];
    const log = await logOf({ newEpoch: () => epochs.shift() ?? "later" });
    await log.append("a", bytes(""), A("k"));
    const before = (await log.bounds("a")).epoch;
    await log.reset();
    const after = await log.bounds("a");
    expect(after.epoch).not.toBe(before);
    expect(after).toMatchObject({ head: 0n, earliest: 1n });
    expect(await log.append("a", bytes(""), A("k"))).toMatchObject({ duplicate: false, event: { cursor: 1n } });
  });

  it("rejects garbage retention and key settings", async () => {
    for (const bad of [{ maxEvents: -1 }, { maxAgeMs: Number.POSITIVE_INFINITY }, { maxKeysPerPrincipal: 1.5 }, { keyMaxAgeMs: Number.NaN }]) {
      await expect(start(bad)).rejects.toThrow(RangeError);
    }
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
          const { log, sweep } = await start({ maxEvents, maxAgeMs: 1000, now: clock.now });
          try {
            const model = new Map<string, { cursor: bigint; at: number }[]>();
            const retainedOf = (topic: string) =>
              (model.get(topic) ?? []).slice(-maxEvents).filter((e) => e.at >= clock.now() - 1000);
            for (const op of ops) {
              if (op.op === "tick") clock.advance(op.ms);
              else if (op.op === "sweep") {
                if (!sweep) continue;
                sweep();
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
                expect(await cursors(log, op.topic, BigInt(op.after), op.limit)).toEqual(expected);
                const { head, earliest } = await log.bounds(op.topic);
                expect(head).toBe(BigInt(all.length));
                expect(earliest).toBe(retained[0]?.cursor ?? head + 1n);
              }
            }
          } finally {
            open.splice(open.indexOf(log), 1);
            await log.close();
          }
        },
      ),
      { numRuns: settings.propertyRuns },
    );
  });
}
