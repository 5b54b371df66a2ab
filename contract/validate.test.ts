// The one validator of subscribe arguments and network hints, shared by engine, host and client.
import { describe, expect, it } from "vitest";
import { isNetworkHint, NETWORK_HINTS, subscribeProblem } from "./validate";

describe("validate", () => {
  it("knows exactly the five network hints", () => {
    expect([...NETWORK_HINTS].sort()).toEqual(["offline", "online", "pageshow", "resume", "visible"]);
    expect(isNetworkHint("online")).toBe(true);
    expect(isNetworkHint("focus")).toBe(false);
    expect(isNetworkHint(undefined)).toBe(false);
  });

  it("accepts good subscriptions", () => {
    expect(subscribeProblem(["a", "b"], undefined)).toBeUndefined();
    expect(subscribeProblem(["a"], "now")).toBeUndefined();
    expect(subscribeProblem(["a"], "stored")).toBeUndefined();
    expect(subscribeProblem(["a", "b"], { b: 0n })).toBeUndefined();
  });

  it("names what is wrong with a bad one", () => {
    expect(subscribeProblem([], undefined)).toMatch(/non-empty array/);
    expect(subscribeProblem("a", undefined)).toMatch(/non-empty array/);
    expect(subscribeProblem([""], undefined)).toMatch(/must not be empty/);
    expect(subscribeProblem(["a"], "later")).toMatch(/since must be/);
    expect(subscribeProblem(["a"], null)).toMatch(/since must be/);
    expect(subscribeProblem(["a"], { b: 1n })).toMatch(/"b", which is not one of the topics/);
    expect(subscribeProblem(["a"], { a: 1 })).toMatch(/bigint/);
    expect(subscribeProblem(["a"], { a: -1n })).toMatch(/bigint ≥ 0/);
  });
});
