// The schedule is a function of the seed (that is what makes a failure replayable), covers every
// enabled kind and only those, and the CLI's replay line parses back to the same run.
import { describe, expect, it } from "vitest";
import { topicSubset } from "./faults";
import { parseArgs, replayLine, UsageError } from "./options";
import { buildSchedule, MAIN_KINDS, pickWith, type ScheduleSpec } from "./schedule";

const spec: ScheduleSpec = { seed: 42, faults: 300, scenario: "faults", kinds: [...MAIN_KINDS], gapMs: { min: 1_000, max: 3_000 } };

describe("buildSchedule", () => {
  it("is the same for the same seed and different for another seed or scenario", () => {
    expect(buildSchedule(spec)).toEqual(buildSchedule(spec));
    expect(buildSchedule({ ...spec, seed: 43 })).not.toEqual(buildSchedule(spec));
    expect(buildSchedule({ ...spec, scenario: "restarts", kinds: ["restart", "new-epoch"] }).map((s) => s.kind)).not.toContain("drop");
  });

  it("is prefix-stable: the first k steps of a long run are a k-fault run (replay a failure early on cheaply)", () => {
    expect(buildSchedule({ ...spec, faults: 10 })).toEqual(buildSchedule(spec).slice(0, 10));
  });

  it("draws every enabled kind over a long run, only those, with gaps in range", () => {
    const steps = buildSchedule(spec);
    expect(new Set(steps.map((s) => s.kind))).toEqual(new Set(MAIN_KINDS));
    for (const s of steps) expect(s.gapMs).toBeGreaterThanOrEqual(1_000);
    for (const s of steps) expect(s.gapMs).toBeLessThanOrEqual(3_000);
    const some = buildSchedule({ ...spec, kinds: ["wedge", "error"] });
    expect(new Set(some.map((s) => s.kind))).toEqual(new Set(["wedge", "error"]));
  });

  it("refuses a kind list with nothing for the scenario", () => {
    expect(() => buildSchedule({ ...spec, kinds: ["restart"] })).toThrow(/no fault kind/);
  });
});

describe("draws resolved at run time", () => {
  it("pickWith covers every item and stays in range", () => {
    expect([0, 0.34, 0.67, 0.9999].map((p) => pickWith(p, ["x", "y", "z"]))).toEqual(["x", "y", "z", "z"]);
  });

  it("topicSubset is never empty and reaches the full set", () => {
    const topics = ["a", "b", "c"];
    expect(topicSubset(0, topics)).toEqual(["a"]);
    expect(topicSubset(0.9999, topics)).toEqual(topics);
    for (let p = 0; p < 1; p += 0.01) expect(topicSubset(p, topics).length).toBeGreaterThan(0);
  });
});

describe("the command line", () => {
  it("replays: the printed line parses back to the same options", () => {
    const o = parseArgs(["--preset", "smoke", "--faults", "12", "--kinds", "wedge,drop", "--gap", "10-20", "--tabs", "5"]);
    const line = replayLine(o, 7, "fallback");
    const again = parseArgs(line.replace(/^npm run chaos -- /, "").split(" "));
    expect(again).toEqual({ ...o, seed: 7, modes: ["fallback"] });
    // Without --kinds, each mode replays with its preset's own kinds.
    const smoke = parseArgs(["--preset", "smoke"]);
    expect(replayLine(smoke, 7, "shared")).not.toContain("--kinds");
    expect(parseArgs(replayLine(smoke, 7, "fallback").split(" ").slice(4)).kinds).toEqual(smoke.kinds);
  });

  it("rejects a bad flag with a message naming it", () => {
    expect(() => parseArgs(["--faults", "-1"])).toThrow(UsageError);
    expect(() => parseArgs(["--kinds", "drop,meteor"])).toThrow(/meteor/);
    expect(() => parseArgs(["--wat"])).toThrow(/--wat/);
  });
});
