// The in-memory Web Locks must behave like the browser's exclusive locks, or the host and
// fallback tests built on them prove nothing.
import { describe, expect, it } from "vitest";
import { createMemoryLocks } from "./memory-locks";

describe("createMemoryLocks", () => {
  it("grants one holder at a time, in request order, and releases when the callback settles", async () => {
    const locks = createMemoryLocks();
    const order: string[] = [];
    let releaseFirst: () => void = () => {};
    const first = locks.request("x", () => {
      order.push("first");
      return new Promise<void>((r) => (releaseFirst = r));
    });
    const second = locks.request("x", () => void order.push("second"));
    const third = locks.request("x", () => void order.push("third"));
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual(["first"]);
    releaseFirst();
    await Promise.all([first, second, third]);
    expect(order).toEqual(["first", "second", "third"]);
  });

  it("keeps different names independent and passes the callback's result and errors through", async () => {
    const locks = createMemoryLocks();
    const held = locks.request("a", () => new Promise<void>(() => {}));
    void held;
    await expect(locks.request("b", () => 42)).resolves.toBe(42);
    await expect(locks.request("c", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    // A failed holder still releases the lock.
    await expect(locks.request("c", () => "again")).resolves.toBe("again");
  });
});
