// The refcounted topic union.
import { describe, expect, it } from "vitest";
import { sameTopics, TopicSet } from "./topics";

describe("TopicSet", () => {
  it("counts subscribers per topic; a topic leaves with its last subscriber", () => {
    const s = new TopicSet();
    expect(s.add(["b", "a"])).toBe(true);
    expect(s.add(["a"])).toBe(false);
    expect(s.countNew(["a", "c", "d"])).toBe(2);
    expect(s.list()).toEqual(["a", "b"]);
    expect(s.remove(["a"])).toEqual([]);
    expect(s.remove(["a", "b"])).toEqual(["a", "b"]);
    expect(s.remove(["zzz"])).toEqual([]);
    expect(s.size).toBe(0);
  });

  it("compares sorted lists", () => {
    expect(sameTopics(["a", "b"], ["a", "b"])).toBe(true);
    expect(sameTopics(["a"], ["a", "b"])).toBe(false);
  });
});
