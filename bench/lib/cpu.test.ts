// The CPU breakdown names the bound of a figure; its arithmetic must not invent load.
import { describe, expect, it } from "vitest";
import { cpuShares, NOT_OURS, sampleCpu, type CpuSample } from "./cpu";

const sample = (at: number, procs: Array<[number, string, number]>): CpuSample => ({
  at,
  procs: new Map(procs.map(([pid, group, ticks]) => [pid, { group, ticks }])),
});

describe("cpuShares", () => {
  it("turns per-process tick deltas into shares of one core per group", () => {
    const a = sample(0, [[1, "server", 100], [2, NOT_OURS, 50], [3, "server", 10]]);
    // 2 s later: pid 1 used 1 s, pid 3 ended (its last slice is lost), pid 4 was born with 0.5 s.
    const b = sample(2_000, [[1, "server", 200], [2, NOT_OURS, 50], [4, "renderers", 50]]);
    const s = cpuShares(a, b);
    expect(s.get("server")).toBeCloseTo(0.5);
    expect(s.get("renderers")).toBeCloseTo(0.25);
    expect(s.has(NOT_OURS)).toBe(false);
  });
  it("finds this process in a real /proc sample", () => {
    const s = sampleCpu();
    expect(s.procs.get(process.pid)?.group).toBe("bench driver (Node + Playwright)");
  });
});
