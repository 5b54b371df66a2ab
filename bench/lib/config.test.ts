// The knobs must never turn a typo into NaN runs or an hour-long benchmark.
import { describe, expect, it } from "vitest";
import { readConfig } from "./config";

describe("readConfig", () => {
  it("uses the defaults when nothing is set", () => {
    const warnings: string[] = [];
    expect(readConfig({}, (m) => warnings.push(m))).toEqual({
      runs: 5,
      throughputEvents: 200_000,
      heapEvents: 1_000_000,
      latencySeconds: 3,
    });
    expect(warnings).toEqual([]);
  });
  it("clamps out-of-range values with a warning", () => {
    const warnings: string[] = [];
    const c = readConfig({ BENCH_RUNS: "100", BENCH_LATENCY_SECONDS: "0" }, (m) => warnings.push(m));
    expect(c.runs).toBe(15);
    expect(c.latencySeconds).toBe(1);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain("BENCH_RUNS=100");
  });
  it("rejects what is not an integer", () => {
    expect(() => readConfig({ BENCH_RUNS: "five" }, () => {})).toThrow(/BENCH_RUNS must be an integer/);
    expect(() => readConfig({ BENCH_HEAP_EVENTS: "1.5" }, () => {})).toThrow(RangeError);
  });
});
