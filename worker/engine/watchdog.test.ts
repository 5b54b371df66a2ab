// The idle watchdog on a hand-driven clock, including property (a).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Channel, FakeClock } from "../testing";
import { STALE, watchdog } from "./watchdog";

/** Fixed, so a run is reproducible; FC_SEED=<n> explores other cases. */
const FC_SEED = Number(process.env["FC_SEED"] ?? 20_261_122);

/** Reads `it` to its end in the background, recording what came out and when. */
function drain<T>(clock: FakeClock, gen: AsyncIterable<T>) {
  const out: { item: T; at: number }[] = [];
  let ended = false;
  void (async () => {
    for await (const item of gen) out.push({ item, at: clock.monotonic() });
    ended = true;
  })();
  return { out, ended: () => ended };
}

describe("watchdog", () => {
  it("passes items through and trips exactly at the idle timeout after the last one", async () => {
    const clock = new FakeClock();
    const src = new Channel<number>();
    let aborts = 0;
    const r = drain(clock, watchdog(src, { clock, idleMs: 1_000, onStale: () => aborts++ }));
    await clock.advance(900);
    src.push(1);
    await clock.advance(900);
    src.push(2);
    await clock.advance(999);
    expect(r.out.map((o) => o.item)).toEqual([1, 2]);
    expect(aborts).toBe(0);
    await clock.advance(1);
    expect(r.out.map((o) => o.item)).toEqual([1, 2, STALE]);
    expect(r.out[2]!.at).toBe(2_800);
    expect(aborts).toBe(1);
    expect(r.ended()).toBe(true);
    src.push(3); // fused: nothing after STALE
    await clock.advance(5_000);
    expect(r.out).toHaveLength(3);
    expect(clock.pending).toBe(0);
  });

  it("switches to the timeout an item asks for (Hello's heartbeat)", async () => {
    const clock = new FakeClock();
    const src = new Channel<string>();
    const r = drain(clock, watchdog(src, { clock, idleMs: 60_000, idleMsAfter: (s) => (s === "hello" ? 5_000 : undefined) }));
    src.push("hello");
    await clock.advance(4_999);
    expect(r.out.map((o) => o.item)).toEqual(["hello"]);
    await clock.advance(1);
    expect(r.out.map((o) => o.item)).toEqual(["hello", STALE]);
  });

  it("ends without STALE when the source ends, and passes its error through", async () => {
    const clock = new FakeClock();
    const a = new Channel<number>();
    const ra = drain(clock, watchdog(a, { clock, idleMs: 100 }));
    a.push(1);
    a.end();
    await clock.advance(1_000);
    expect(ra.out.map((o) => o.item)).toEqual([1]);
    expect(ra.ended()).toBe(true);
    expect(clock.pending).toBe(0);

    const b = new Channel<number>();
    b.fail(new Error("boom"));
    await expect(watchdog(b, { clock, idleMs: 100 }).next()).rejects.toThrow("boom");
  });

  it("ends at once on our abort, even when the source ignores the signal", async () => {
    const clock = new FakeClock();
    const ctrl = new AbortController();
    const deaf: AsyncIterable<number> = { [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }) };
    const r = drain(clock, watchdog(deaf, { clock, idleMs: 60_000, signal: ctrl.signal }));
    await clock.advance(10);
    ctrl.abort();
    await clock.advance(0);
    expect(r.ended()).toBe(true);
    expect(r.out).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it("property: every item in order, then exactly one STALE at the first long gap, then nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3_000 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 2_500 }),
        fc.boolean(),
        async (gaps, idleMs, endsCleanly) => {
          const clock = new FakeClock();
          const src = new Channel<number>();
          let aborts = 0;
          const r = drain(clock, watchdog(src, { clock, idleMs, onStale: () => aborts++ }));
          const firstLong = gaps.findIndex((g) => g >= idleMs);
          for (const [i, g] of gaps.entries()) {
            await clock.advance(g);
            src.push(i);
          }
          if (endsCleanly) src.end();
          await clock.advance(idleMs + 1);
          const items = r.out.map((o) => o.item);
          const passed = firstLong === -1 ? gaps.length : firstLong;
          const expected: (number | typeof STALE)[] = Array.from({ length: passed }, (_, i) => i);
          if (firstLong !== -1 || !endsCleanly) expected.push(STALE);
          expect(items).toEqual(expected);
          expect(aborts).toBe(expected.at(-1) === STALE ? 1 : 0);
          expect(r.ended()).toBe(true);
        },
      ),
      { numRuns: 60, seed: FC_SEED },
    );
  });
});
