// The delivery checks on small hand-made runs: each finding is produced by exactly the records
// that should produce it, and a clean run produces none.
import { describe, expect, it } from "vitest";
import { checkDeliveries, type DeliveryInput } from "./deliveries";
import type { EngineDeath } from "./recorder";
import { ev, events, fakeLedger, join, leave, tab } from "./test-records";

const ledger = fakeLedger([
  { topic: "a", head: 20 },
  { topic: "b", head: 20 },
  { topic: "a", head: 5, epoch: 1 },
]);

function check(over: Partial<DeliveryInput>) {
  return checkDeliveries({ tabs: [], deaths: [], find: ledger.find, newEpochsAt: [], finalHeads: undefined, finalEpoch: 0, ...over });
}

describe("checkDeliveries", () => {
  it("finds nothing in a contiguous run that reached the head", () => {
    const t = tab("T1", [join(1, "a", 0), events(1, "a", 3, 9, 10), events(1, "a", 10, 20, 20)]);
    const f = check({ tabs: [t], finalHeads: { a: 20 } });
    expect(f).toMatchObject({ delivered: 18, lost: 0, duplicates: 0, outOfOrder: 0, corrupt: 0, short: 0 });
    expect(f.examples).toEqual([]);
  });

  it("counts a gap with no reset as lost, and a gap a reset announced as not lost", () => {
    const gap = tab("T1", [join(1, "a", 0), events(1, "a", 1, 4, 1), events(1, "a", 8, 9, 2)]);
    expect(check({ tabs: [gap] }).lost).toBe(3);
    const announced = tab("T1", [
      join(1, "a", 0),
      events(1, "a", 1, 4, 1),
      { t: "reset", sub: 1, topic: "a", reason: "retention", resumeAfter: "7", at: 2 },
      events(1, "a", 8, 9, 3),
    ]);
    const f = check({ tabs: [announced] });
    expect(f.lost).toBe(0);
    expect(f.resetsUnexpected).toBe(1); // nothing in this run explains a retention reset
  });

  it("expects an epoch reset after a new-epoch fault, and flags a new epoch that came without one", () => {
    const withReset = tab("T1", [
      join(1, "a", 0),
      events(1, "a", 1, 3, 1),
      { t: "reset", sub: 1, topic: "a", reason: "epoch", resumeAfter: "0", at: 6 },
      events(1, "a", 1, 5, 7, 1),
    ]);
    const f = check({ tabs: [withReset], newEpochsAt: [5], finalHeads: { a: 5 }, finalEpoch: 1 });
    expect(f).toMatchObject({ resetsExpected: 1, resetsUnexpected: 0, silentEpochs: 0, lost: 0, outOfOrder: 0, short: 0 });

    const silent = tab("T1", [join(1, "a", 0), events(1, "a", 1, 3, 1), events(1, "a", 1, 2, 7, 1)]);
    expect(check({ tabs: [silent], newEpochsAt: [5] }).silentEpochs).toBe(1);
  });

  it("counts an event handed twice to one tab as a duplicate, unless an engine died in between", () => {
    const rejoined = tab("T1", [join(1, "a", 0), events(1, "a", 1, 5, 10), leave(1, "a", 11), join(2, "a", 12), events(2, "a", 5, 6, 20)]);
    expect(check({ tabs: [rejoined] })).toMatchObject({ duplicates: 1, duplicatesAcrossDeath: 0 });
    const crash: EngineDeath = { at: 15, why: "crash", killed: [] };
    expect(check({ tabs: [rejoined], deaths: [crash] })).toMatchObject({ duplicates: 0, duplicatesAcrossDeath: 1 });
  });

  it("flags an event that is not what the server wrote at that cursor", () => {
    const t = tab("T1", [join(1, "a", 0), { t: "events", sub: 1, topic: "a", items: [["4", ev("a", 5)]], at: 1 }]);
    expect(check({ tabs: [t] }).corrupt).toBe(1);
    const unknown = tab("T1", [join(1, "a", 0), { t: "events", sub: 1, topic: "a", items: [["4", "forged"]], at: 1 }]);
    expect(check({ tabs: [unknown] }).corrupt).toBe(1);
  });

  it("finds an open subscription short of the head, but not one that was left or closed", () => {
    const open = tab("T1", [join(1, "a", 0), events(1, "a", 1, 18, 1)]);
    const left = tab("T2", [join(1, "a", 0), events(1, "a", 1, 10, 1), leave(1, "a", 2)]);
    const closed = tab("T3", [join(1, "a", 0), events(1, "a", 1, 10, 1)], { closedAt: 3 });
    expect(check({ tabs: [open, left, closed], finalHeads: { a: 20 } }).short).toBe(1);
  });

  describe("across an engine death", () => {
    const closeAll: EngineDeath = { at: 100, why: "close-all", killed: ["T1", "T2"] };
    const before = [
      tab("T1", [join(1, "a", 0), events(1, "a", 1, 10, 50)], { closedAt: 100 }),
      tab("T2", [join(1, "a", 0), events(1, "a", 1, 12, 60)], { closedAt: 100 }),
    ];

    it("fails a resume past what any tab had processed", () => {
      const after = tab("T3", [join(1, "a", 110), events(1, "a", 14, 20, 120)], { openedAt: 105 });
      expect(check({ tabs: [...before, after], deaths: [closeAll] })).toMatchObject({ deathResumes: 1, lostAcrossDeath: 1, lost: 0 });
    });

    it("counts a resume at or before it as redelivered (allowed)", () => {
      const after = tab("T3", [join(1, "a", 110), events(1, "a", 11, 20, 120)], { openedAt: 105 });
      expect(check({ tabs: [...before, after], deaths: [closeAll] })).toMatchObject({ lostAcrossDeath: 0, redeliveredAcrossDeath: 2 });
      const exact = tab("T3", [join(1, "a", 110), events(1, "a", 13, 20, 120)], { openedAt: 105 });
      expect(check({ tabs: [...before, exact], deaths: [closeAll] })).toMatchObject({ lostAcrossDeath: 0, redeliveredAcrossDeath: 0 });
    });

    it("leaves a topic alone when a surviving tab carried it on, or nobody held it", () => {
      const leaderGone: EngineDeath = { at: 100, why: "leader-closed", killed: ["T1"] };
      const survivor = tab("T2", [join(1, "a", 0), events(1, "a", 1, 12, 60), events(1, "a", 13, 20, 130)]);
      const late = tab("T3", [join(1, "a", 110), events(1, "a", 18, 20, 120)], { openedAt: 105 });
      expect(check({ tabs: [before[0]!, survivor, late], deaths: [leaderGone] }).deathResumes).toBe(0);
      const other = tab("T4", [join(1, "b", 110), events(1, "b", 18, 20, 120)], { openedAt: 105 });
      expect(check({ tabs: [...before, other], deaths: [closeAll] }).deathResumes).toBe(0);
    });
  });
});
