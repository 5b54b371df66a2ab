// Recovery time per fault: the slowest tab open at the fault's end to see an event written after it.
import { describe, expect, it } from "vitest";
import type { AppliedFault } from "./recorder";
import { recoveries, recoveryStats } from "./recovery";
import { events, fakeLedger, join, tab } from "./test-records";

// Event c of topic a was written at time 100·c.
const ledger = fakeLedger([{ topic: "a", head: 50, at: (c) => 100 * c }]);
const fault = (index: number, endAt: number): AppliedFault => ({
  step: { index, kind: "drop", gapMs: 0, holdMs: 0, code: "", count: 0, pick: 0 },
  startAt: endAt,
  endAt,
  detail: "",
});

describe("recoveries", () => {
  it("is the slowest tab's first fresh event after the fault's end", () => {
    const fast = tab("T1", [join(1, "a", 0), events(1, "a", 1, 10, 1000), events(1, "a", 11, 12, 1250)]);
    // T2 gets old events first (history), then a fresh one at 1900.
    const slow = tab("T2", [join(1, "a", 0), events(1, "a", 8, 10, 1300), events(1, "a", 11, 11, 1900)]);
    const [r] = recoveries([fault(1, 1050)], [fast, slow], ledger.find, new Set());
    expect(r!.ms).toBe(850);
  });

  it("ignores a tab closed before it recovered, unless it was stuck, and reports never for an open one", () => {
    const gone = tab("T1", [join(1, "a", 0), events(1, "a", 1, 5, 500)], { closedAt: 2000 });
    const ok = tab("T2", [join(1, "a", 0), events(1, "a", 11, 11, 1200)]);
    expect(recoveries([fault(1, 1050)], [gone, ok], ledger.find, new Set())[0]!.ms).toBe(150);
    // Closed by the run for being stuck: that fault never recovered.
    expect(recoveries([fault(1, 1050)], [gone, ok], ledger.find, new Set(["T1"]))[0]!.ms).toBeUndefined();
    const stuck = tab("T3", [join(1, "a", 0), events(1, "a", 1, 5, 500)]);
    const list = recoveries([fault(1, 1050), fault(2, 100)], [stuck], ledger.find, new Set());
    expect(list.map((r) => r.ms)).toEqual([undefined, 400]);
    expect(recoveryStats(list)).toMatchObject({ count: 2, never: 1, median: 400, max: 400 });
  });
});
