// The "where the time goes" lines must rank by self time and name functions by file and line.
import { describe, expect, it } from "vitest";
import { hotspots, type CpuProfile } from "./profile";

const node = (id: number, functionName: string, url: string, lineNumber: number, hitCount: number) => ({
  id,
  callFrame: { functionName, url, lineNumber },
  hitCount,
});

describe("hotspots", () => {
  it("ranks functions by self samples, merging nodes of the same function", () => {
    const profile: CpuProfile = {
      startTime: 0,
      endTime: 1,
      nodes: [
        node(1, "(idle)", "", -1, 50),
        node(2, "post", "http://x/assets/w.js", 9, 20),
        node(3, "post", "http://x/assets/w.js", 9, 10),
        node(4, "", "http://x/assets/p.js", 0, 20),
        node(5, "(root)", "", -1, 0),
      ],
    };
    expect(hotspots(profile, 2)).toEqual([
      { name: "(idle)", share: 0.5 },
      { name: "post w.js:10", share: 0.3 },
    ]);
    expect(hotspots(profile, 10).map((h) => h.name)).toContain("(anonymous) p.js:1");
  });
  it("is empty for a profile without samples", () => {
    expect(hotspots({ startTime: 0, endTime: 0, nodes: [node(1, "(root)", "", -1, 0)] }, 5)).toEqual([]);
  });
});
