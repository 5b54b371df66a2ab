// The publish checks: landed once, twice, at the wrong place, never (with the window measured), or
// still pending — each from the records that should produce it.
import { describe, expect, it } from "vitest";
import { checkPublishes } from "./publishes";
import type { LedgerEntry } from "./ledger";
import { tab } from "./test-records";

const log = new Map<string, { entry: LedgerEntry; copies: number }>();
const wrote = (payload: string, topic: string, cursor: number, copies = 1) =>
  log.set(payload, { entry: { epoch: 0, topic, cursor, payload, at: 0 }, copies });
wrote("p:T1:1", "a", 7);
wrote("p:T1:2", "a", 9, 2);
wrote("p:T2:1", "a", 11);
wrote("p:T1:4", "a", 12);

const input = (tabs: ReturnType<typeof tab>[], drained = true, stuck: string[] = [], closedAll: string[] = []) => ({
  tabs,
  find: (p: string) => log.get(p)?.entry,
  copies: (p: string) => log.get(p)?.copies ?? 0,
  drained,
  stuck: new Set(stuck),
  closedAll: new Set(closedAll),
});
const req = (n: number, at: number) => ({ t: "publish" as const, phase: "requested" as const, topic: "a", payload: `p:T1:${n}`, at });
const ok = (n: number, cursor: number, at: number) => ({ t: "publish" as const, phase: "accepted" as const, topic: "a", payload: `p:T1:${n}`, cursor: String(cursor), at });

describe("checkPublishes", () => {
  it("passes publishes that landed once where the app was told", () => {
    const f = checkPublishes(input([tab("T1", [req(1, 1), ok(1, 7, 2)])]));
    expect(f).toMatchObject({ requested: 1, accepted: 1, landedOnce: 1, landedTwice: [], acceptedWrong: [], vanished: [], pendingAtEnd: [] });
  });

  it("flags a publish written twice, and one accepted at another cursor", () => {
    const f = checkPublishes(input([tab("T1", [req(2, 1), ok(2, 9, 2), req(4, 3), ok(4, 13, 4)])]));
    expect(f.landedTwice).toHaveLength(1);
    expect(f.acceptedWrong).toEqual(["p:T1:4: accepted at a#13, log has a#12"]);
  });

  it("measures the window of a publish that vanished with its tab, and counts one the outbox delivered", () => {
    const closed = tab("T1", [req(3, 1000), req(4, 1040)], { closedAt: 1100 });
    const f = checkPublishes(input([closed]));
    expect(f.vanished).toEqual([{ tab: "T1", payload: "p:T1:3", accepted: false, durable: false, windowMs: 100, cause: "closed" }]);
    expect(f.landedAfterClose).toBe(1);
    expect(checkPublishes(input([closed], true, [], ["T1"])).vanished[0]!.cause).toBe("close-all");
    expect(checkPublishes(input([closed], true, ["T1"], ["T1"])).vanished[0]!.cause).toBe("stuck");
  });

  it("marks a vanished publish durable once the app was told so: the one the README promises", () => {
    const durable = { ...req(3, 1010), phase: "durable" as const };
    const f = checkPublishes(input([tab("T1", [req(3, 1000), durable], { closedAt: 1100 })]));
    expect(f.vanished).toMatchObject([{ payload: "p:T1:3", durable: true, accepted: false }]);
  });

  it("flags a publish still unresolved in an open tab, but only once the run drained", () => {
    const open = tab("T1", [req(3, 1)]);
    expect(checkPublishes(input([open])).pendingAtEnd).toEqual(["p:T1:3 (T1)"]);
    expect(checkPublishes(input([open], false)).pendingAtEnd).toEqual([]);
  });

  it("flags a rejection, and says when the rejected publish landed anyway", () => {
    const f = checkPublishes(input([tab("T1", [req(1, 1), { ...req(1, 2), phase: "rejected", error: "Error: boom" }])]));
    expect(f.rejections).toEqual(["p:T1:1: Error: boom (and yet it landed)"]);
  });
});
