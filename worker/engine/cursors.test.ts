// Positions: forward moves keep a known epoch, resets may move backwards, forget starts over.
import { describe, expect, it } from "vitest";
import { Positions } from "./cursors";

describe("Positions", () => {
  it("advances per topic and remembers which call moved it", () => {
    const p = new Positions();
    p.load([{ topic: "a", cursor: 5n, epoch: "e1" }]);
    const stream = {};
    p.advance("a", 7n, "e9", stream);
    p.advance("b", 1n, "e1", stream);
    expect(p.get("a")).toEqual({ cursor: 7n, epoch: "e1", by: stream }); // an event never changes a known epoch
    expect(p.get("b")).toEqual({ cursor: 1n, epoch: "e1", by: stream });
  });

  it("fills in an unknown epoch from the first event", () => {
    const p = new Positions();
    p.load([{ topic: "a", cursor: 5n, epoch: "" }]);
    p.advance("a", 6n, "e2", {});
    expect(p.get("a")?.epoch).toBe("e2");
  });

  it("lets a reset move a topic backwards (new epoch); forget and clear start over", () => {
    const p = new Positions();
    p.load([{ topic: "a", cursor: 50n, epoch: "e1" }, { topic: "b", cursor: 1n, epoch: "e1" }]);
    p.reset("a", 0n, "e2", {});
    expect(p.get("a")).toMatchObject({ cursor: 0n, epoch: "e2" });
    p.forget("b");
    expect(p.get("b")).toBeUndefined();
    p.clear();
    expect(p.get("a")).toBeUndefined();
  });
});
