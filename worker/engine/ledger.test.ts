// The ledger: what may be stored is what a subscriber acknowledged, in order per topic.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Ledger, type Point } from "./ledger";

describe("Ledger", () => {
  it("nothing is stored before an acknowledgement; an ack settles its point and every earlier one", () => {
    const l = new Ledger(1_000, () => {});
    const p1 = l.record("a", 1n, "e", 1);
    const p2 = l.record("a", 2n, "e", 1);
    l.record("a", 3n, "e", 1);
    expect(l.take()).toEqual({ records: [], forget: [] });
    l.ack(p2);
    expect(p1.settled).toBe(true);
    expect(l.take().records).toEqual([{ topic: "a", cursor: 2n, epoch: "e" }]);
    l.ack(p1); // late, older: moves nothing back
    expect(l.take().records).toEqual([]);
  });

  it("a bookmark settles behind the points before it, or at once with none pending", () => {
    const l = new Ledger(1_000, () => {});
    l.recordSilent("a", 5n, "e");
    expect(l.take().records).toEqual([{ topic: "a", cursor: 5n, epoch: "e" }]);
    const p = l.record("a", 6n, "e", 1);
    l.recordSilent("a", 40n, "e");
    expect(l.take().records).toEqual([]);
    l.ack(p);
    expect(l.take().records).toEqual([{ topic: "a", cursor: 40n, epoch: "e" }]);
  });

  it("a reset with no position left is stored as forgetting the topic", () => {
    const l = new Ledger(1_000, () => {});
    l.ack(l.record("a", undefined, "e", 0));
    expect(l.take()).toEqual({ records: [], forget: ["a"] });
  });

  it("an acknowledgement from before a logout is void", () => {
    const l = new Ledger(1_000, () => {});
    const p = l.record("a", 1n, "e", 1);
    l.clear();
    l.ack(p);
    expect(l.take().records).toEqual([]);
  });

  it("beyond its bound it lets the oldest points go: a later ack still stores, an earlier one cannot", () => {
    const l = new Ledger(3, () => {});
    const pts = [1n, 2n, 3n, 4n, 5n].map((c) => l.record("a", c, "e", 1));
    l.ack(pts[0]!); // no longer tracked, still acknowledged: it is stored (it was processed)
    expect(l.take().records).toEqual([{ topic: "a", cursor: 1n, epoch: "e" }]);
    l.ack(pts[4]!);
    expect(l.take().records).toEqual([{ topic: "a", cursor: 5n, epoch: "e" }]);
  });

  it("property: a stored cursor is one a subscriber acknowledged, or a bookmark with nothing unacknowledged before it", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant<"record">("record"), fc.constant<"silent">("silent"), fc.nat(20)), { maxLength: 200 }), (script) => {
        const l = new Ledger(50, () => {});
        const points: Point[] = [];
        const bookmarks: bigint[] = [];
        const acked = new Set<bigint>();
        let cursor = 0n;
        for (const step of script) {
          if (step === "record") points.push(l.record("a", ++cursor, "e", 1));
          else if (step === "silent") {
            l.recordSilent("a", ++cursor, "e");
            bookmarks.push(cursor);
          } else if (points.length > 0) {
            const p = points[step % points.length]!;
            acked.add(p.cursor as bigint);
            l.ack(p);
          }
          const maxAcked = [...acked].reduce((m, c) => (c > m ? c : m), 0n);
          for (const r of l.take().records) {
            const c = r.cursor as bigint;
            // Acknowledgements are in order per subscriber: everything up to the newest ack was processed.
            const bookmarkOk = bookmarks.includes(c) && points.filter((p) => (p.cursor as bigint) < c).every((p) => (p.cursor as bigint) <= maxAcked);
            expect(acked.has(c) || bookmarkOk).toBe(true);
          }
        }
      }),
      { seed: 20_261_130, numRuns: 300 },
    );
  });
});
