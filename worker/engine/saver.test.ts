// The cursor saver: one save in flight, what settles meanwhile goes out together, failures are
// retried with newer positions merged in, close() still writes what settled, logout drops it.
import { describe, expect, it } from "vitest";
import type { Dirty } from "./ledger";
import { CursorSaver } from "./saver";
import type { CursorRecord } from "./types";

function saver() {
  let dirty: Dirty = { records: [], forget: [] };
  const saves: Array<[CursorRecord[], string[]]> = [];
  let hold: Promise<void> | undefined;
  let fail = 0;
  const warnings: string[] = [];
  const s = new CursorSaver({
    take: () => {
      const d = dirty;
      dirty = { records: [], forget: [] };
      return d;
    },
    save: async (records, forget) => {
      saves.push([records, forget]);
      if (hold !== undefined) await hold;
      if (fail > 0) {
        fail--;
        throw new Error("disk full");
      }
    },
    sleep: () => new Promise((r) => setTimeout(r, 1)),
    warn: (m) => warnings.push(m),
    retryMs: 1,
  });
  const rec = (topic: string, cursor: bigint): CursorRecord => ({ topic, cursor, epoch: "e" });
  return {
    s,
    saves,
    warnings,
    settle: (records: CursorRecord[], forget: string[] = []) => {
      dirty = { records: [...dirty.records, ...records], forget: [...dirty.forget, ...forget] };
      s.kick();
    },
    hold: () => {
      let release!: () => void;
      hold = new Promise((r) => (release = r));
      return () => {
        hold = undefined;
        release();
      };
    },
    failNext: (n: number) => (fail = n),
    rec,
  };
}

describe("CursorSaver", () => {
  it("what settles during a save goes out in one next save", async () => {
    const t = saver();
    const release = t.hold();
    t.settle([t.rec("a", 1n)]);
    await new Promise((r) => setImmediate(r));
    t.settle([t.rec("a", 2n)]);
    t.settle([t.rec("a", 3n), t.rec("b", 1n)], ["c"]);
    release();
    await t.s.idle();
    expect(t.saves).toEqual([
      [[t.rec("a", 1n)], []],
      [[t.rec("a", 3n), t.rec("b", 1n)], ["c"]],
    ]);
  });

  it("a failed save is retried with newer positions merged in", async () => {
    const t = saver();
    t.failNext(1);
    const release = t.hold();
    t.settle([t.rec("a", 1n), t.rec("b", 1n)]);
    await new Promise((r) => setImmediate(r));
    t.settle([t.rec("a", 2n)]);
    release();
    await new Promise((r) => setTimeout(r, 20));
    await t.s.idle();
    expect(t.saves.at(-1)).toEqual([[t.rec("a", 2n), t.rec("b", 1n)], []]);
    expect(t.warnings).toHaveLength(1);
  });

  it("stop() still writes what settled; nothing after it", async () => {
    const t = saver();
    t.settle([t.rec("a", 1n)]);
    t.s.stop();
    await t.s.idle();
    t.settle([t.rec("a", 2n)]);
    await t.s.idle();
    expect(t.saves).toEqual([[[t.rec("a", 1n)], []]]);
  });

  it("discard() (logout) drops a failed batch instead of retrying it", async () => {
    const t = saver();
    t.failNext(1);
    t.settle([t.rec("a", 1n)]);
    await new Promise((r) => setImmediate(r));
    t.s.discard();
    await new Promise((r) => setTimeout(r, 20));
    await t.s.idle();
    expect(t.saves).toHaveLength(1);
  });
});
