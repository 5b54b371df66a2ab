// The reconnect timing policy: pacing, growth, reset, and property (c) against garbage config.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Backoff, backoffInterval, throttleRemaining, type BackoffPolicy } from "./backoff";
import { DEFAULT_CONFIG, resolveConfig } from "./config";
import { seededRandom } from "../testing";

/** Fixed, so a run is reproducible; FC_SEED=<n> explores other cases. */
const FC_SEED = Number(process.env["FC_SEED"] ?? 20_261_122);

const policy: BackoffPolicy = { ...DEFAULT_CONFIG };

describe("backoff", () => {
  it("paces a tight loop to one attempt per floor, jittered above it", () => {
    const b = new Backoff(policy, seededRandom(7));
    const waits = Array.from({ length: 8 }, () => b.next(0, 0));
    for (const w of waits) expect(w).toBeGreaterThanOrEqual(policy.backoffFloorMs);
    for (const w of waits) expect(w).toBeLessThanOrEqual(policy.backoffCapMs);
    expect(new Set(waits).size).toBe(waits.length); // jittered, not lockstep
  });

  it("measures from the start of the failed attempt: a long-lived stream reconnects at once", () => {
    const b = new Backoff(policy, () => 0.5);
    expect(b.next(0, 60_000, { healthyMs: 59_000 })).toBe(0);
    // quick failure 300 ms after start: waits the rest of the interval
    const interval = backoffInterval(policy, 0, () => 0.5);
    expect(new Backoff(policy, () => 0.5).next(1_000, 1_300)).toBe(interval - 300);
  });

  it("grows the window with consecutive failures, resets after a healthy stream", () => {
    const b = new Backoff(policy, () => 0.999);
    const first = b.next(0, 0);
    for (let i = 0; i < 20; i++) b.next(0, 0);
    const late = b.next(0, 0);
    expect(late).toBeGreaterThan(first);
    expect(late).toBe(policy.backoffCapMs);
    expect(b.next(0, 0, { healthyMs: policy.healthyResetMs })).toBe(first);
  });

  it("uses the longer floor for ResourceExhausted", () => {
    expect(backoffInterval(policy, 0, () => 0, true)).toBe(policy.slowFloorMs);
    expect(backoffInterval(policy, 0, () => 0, false)).toBe(policy.backoffFloorMs);
  });

  it("property: never below the floor, never above the cap, never NaN, for any config", () => {
    const garbage = fc.oneof(
      fc.double(),
      fc.constantFrom(NaN, Infinity, -Infinity, -1, 0, 1e308, Number.MAX_SAFE_INTEGER),
      fc.integer({ min: -1_000, max: 100_000 }),
    );
    fc.assert(
      fc.property(
        fc.record({
          backoffFloorMs: garbage,
          slowFloorMs: garbage,
          backoffInitialMs: garbage,
          backoffMultiplier: garbage,
          backoffCapMs: garbage,
          healthyResetMs: garbage,
        }),
        fc.integer({ min: -5, max: 10_000 }),
        fc.oneof(fc.double({ min: 0, max: 1, maxExcluded: true }), fc.constantFrom(NaN, 1, -1, 5)),
        fc.boolean(),
        (raw, failures, r, slow) => {
          // raw, as a buggy caller might hand it over, and as resolveConfig cleans it up
          for (const p of [raw, resolveConfig(raw)]) {
            const wait = backoffInterval(p, failures, () => r, slow);
            expect(Number.isFinite(wait)).toBe(true);
            const cap = Number.isFinite(p.backoffCapMs) ? Math.max(0, p.backoffCapMs) : 0;
            const floorIn = slow ? Math.max(p.slowFloorMs, p.backoffFloorMs) : p.backoffFloorMs;
            const floor = Math.min(cap, Number.isFinite(floorIn) ? Math.max(0, floorIn) : 0);
            expect(wait).toBeGreaterThanOrEqual(floor);
            expect(wait).toBeLessThanOrEqual(cap);
          }
        },
      ),
      { numRuns: 500, seed: FC_SEED },
    );
  });

  it("throttleRemaining is 0 once the interval passed, and never negative or NaN", () => {
    expect(throttleRemaining(1_000, 0, 5_000)).toBe(0);
    expect(throttleRemaining(1_000, 0, 400)).toBe(600);
    expect(throttleRemaining(1_000, 500, 0)).toBe(1_000); // clock went backwards: full interval
    expect(throttleRemaining(1_000, NaN, 0)).toBe(1_000);
  });
});
