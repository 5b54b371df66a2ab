// The level-triggered status cell: current value at once, changes coalesced on a microtask.
import { describe, expect, it } from "vitest";
import { StatusCell } from "./status";
import type { Status } from "./types";

const base: Status = { state: "connecting", connection: 0, serverEpoch: "", liveTopics: [], topics: [] };

describe("StatusCell", () => {
  it("gives a watcher the current value at once, then each change", async () => {
    const cell = new StatusCell(base);
    const seen: string[] = [];
    cell.watch((s) => seen.push(s.state));
    expect(seen).toEqual(["connecting"]);
    cell.set({ ...base, state: "live", connection: 1 });
    await Promise.resolve();
    expect(seen).toEqual(["connecting", "live"]);
  });

  it("collapses a flip and a flip back between two deliveries", async () => {
    const cell = new StatusCell({ ...base, state: "live" });
    const seen: string[] = [];
    cell.watch((s) => seen.push(s.state));
    cell.set({ ...base, state: "backoff" });
    cell.set({ ...base, state: "live" });
    await Promise.resolve();
    expect(seen).toEqual(["live"]);
    cell.set({ ...base, state: "backoff" });
    cell.set({ ...base, state: "connecting" });
    await Promise.resolve();
    expect(seen).toEqual(["live", "connecting"]);
  });

  it("keeps going when a watcher throws, and stops after unwatch", async () => {
    const errors: unknown[] = [];
    const cell = new StatusCell(base, (e) => errors.push(e));
    const seen: string[] = [];
    cell.watch(() => {
      throw new Error("bad watcher");
    });
    const unwatch = cell.watch((s) => seen.push(s.state));
    cell.set({ ...base, state: "live" });
    await Promise.resolve();
    unwatch();
    cell.set({ ...base, state: "offline" });
    await Promise.resolve();
    expect(seen).toEqual(["connecting", "live"]);
    expect(errors).toHaveLength(3); // at watch(), and at each of the two changes
  });
});

describe("StatusCell without host globals", () => {
  it("delivers changes without the global queueMicrotask (the engine is pure)", async () => {
    const saved = globalThis.queueMicrotask;
    const cell = new StatusCell(base);
    const seen: string[] = [];
    cell.watch((s) => seen.push(s.state));
    (globalThis as { queueMicrotask?: unknown }).queueMicrotask = undefined;
    try {
      cell.set({ ...base, state: "live", connection: 1 });
      await Promise.resolve();
    } finally {
      globalThis.queueMicrotask = saved;
    }
    expect(seen).toEqual(["connecting", "live"]);
  });
});
