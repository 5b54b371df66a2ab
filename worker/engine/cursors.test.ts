// Positions: what a group commit writes, and resets that move a topic backwards.
import { describe, expect, it } from "vitest";
import { Positions } from "./cursors";

describe("Positions", () => {
  it("hands out each changed topic once per batch, with its latest cursor", () => {
    const p = new Positions();
    p.load([{ topic: "a", cursor: 5n, epoch: "e1" }]);
    expect(p.takeDirty()).toEqual([]); // loaded is already on disk
    const stream = {};
    p.advance("a", 6n, "e1", stream);
    p.advance("a", 7n, "e1", stream);
    p.advance("b", 1n, "e1", stream);
    expect(p.takeDirty()).toEqual([
      { topic: "a", cursor: 7n, epoch: "e1" },
      { topic: "b", cursor: 1n, epoch: "e1" },
    ]);
    expect(p.takeDirty()).toEqual([]);
    expect(p.get("a")).toMatchObject({ cursor: 7n, by: stream });
  });

  it("lets a reset move a topic backwards (new epoch) and persists it", () => {
    const p = new Positions();
    p.load([{ topic: "a", cursor: 50n, epoch: "e1" }]);
    p.reset("a", 0n, "e2", {});
    expect(p.takeDirty()).toEqual([{ topic: "a", cursor: 0n, epoch: "e2" }]);
    p.clear();
    expect(p.get("a")).toBeUndefined();
  });
});
