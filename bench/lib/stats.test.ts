// The statistics behind every figure in bench/RESULTS.md: wrong here means wrong everywhere.
// Run with `npx vitest run -c bench/vitest.config.ts`.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { percentile, slope, summarize } from "./stats";

describe("percentile", () => {
  it("uses nearest rank", () => {
    const xs = [5, 1, 4, 2, 3];
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile(xs, 50)).toBe(3);
    expect(percentile(xs, 99)).toBe(5);
    expect(percentile(xs, 100)).toBe(5);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
  });
  it("is NaN when empty and rejects an out-of-range p", () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
  it("is a measured value, ordered by p, between min and max", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1 }), (xs) => {
        const p50 = percentile(xs, 50);
        const p99 = percentile(xs, 99);
        expect(xs).toContain(p50);
        expect(p50).toBeLessThanOrEqual(p99);
        expect(p99).toBeLessThanOrEqual(Math.max(...xs));
        expect(percentile(xs, 0)).toBe(Math.min(...xs));
      }),
    );
  });
});

describe("summarize", () => {
  it("gives median, min, max and the run count, ignoring non-finite runs", () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: 3 });
    expect(summarize([4, 1, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, runs: 4 });
    expect(summarize([1, Number.NaN, 3])).toEqual({ median: 2, min: 1, max: 3, runs: 2 });
    expect(summarize([]).runs).toBe(0);
  });
  it("keeps the median between min and max", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 1 }), (xs) => {
        const s = summarize(xs);
        expect(s.min).toBeLessThanOrEqual(s.median);
        expect(s.median).toBeLessThanOrEqual(s.max);
        expect(s.runs).toBe(xs.length);
      }),
    );
  });
});

describe("slope", () => {
  it("recovers the slope of a line and is NaN without spread", () => {
    expect(slope([0, 1, 2, 3], [10, 12, 14, 16])).toBeCloseTo(2);
    expect(slope([1, 1], [1, 2])).toBeNaN();
    expect(slope([1], [1])).toBeNaN();
  });
});
