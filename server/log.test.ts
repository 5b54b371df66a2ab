// The in-memory TopicLog: the log contract (log.contract.ts, shared with the Redis log), plus
// what only this backend does: usage counts, retention on its own timer, memory that retention
// frees at once, and no state for topics nobody published to.
import { describe, expect, it } from "vitest";
import { createMemoryLog, type Every } from "./log";
import { bytes, fakeClock, logContract } from "./log.contract";
import { MiB, settledMemory } from "./test-memory";

/** A sweep timer driven by hand: `tick()` runs what a real interval would have run. */
function manualTimer() {
  const fns: (() => void)[] = [];
  const every: Every = (_ms, fn) => {
    fns.push(fn);
    return () => fns.splice(fns.indexOf(fn), 1);
  };
  return { every, tick: () => fns.forEach((fn) => fn()), get running() { return fns.length; } };
}

const A = (key: string) => ({ principal: "alice", key });
const B = (key: string) => ({ principal: "bob", key });

describe("memory log: the log contract", () => {
  logContract(async (opts) => {
    const timer = manualTimer();
    return { log: createMemoryLog({ ...opts, every: timer.every }), sweep: timer.tick };
  }, { propertyRuns: 200 });
});

describe("memory log", () => {
  it("counts what it retains: maxEvents per topic", async () => {
    const log = createMemoryLog({ maxEvents: 3 });
    for (let i = 0; i < 5; i++) await log.append("a", bytes(`${i}`));
    expect(log.usage()).toMatchObject({ kind: "memory", topics: 1, retainedEvents: 3, retainedBytes: 3 });
    expect(log.heads()).toEqual(new Map([["a", 5n]]));
    expect(log.epoch()).toBe((await log.bounds("a")).epoch);
  });

  it("counts keys per principal", async () => {
    const log = createMemoryLog({ maxKeysPerPrincipal: 100 });
    await log.append("t", bytes("victim"), A("mine"));
    for (let i = 0; i < 1000; i++) await log.append("t", bytes(""), B(`flood-${i}`));
    expect(log.usage().idempotencyKeys).toBe(101);
  });
  it("prunes aged events on its own timer, without the topic being touched", async () => {
    const clock = fakeClock();
    const timer = manualTimer();
    const log = createMemoryLog({ maxAgeMs: 1000, now: clock.now, every: timer.every });
    await log.append("a", bytes("12345"));
    await log.append("b", bytes("678"));
    timer.tick();
    expect(log.usage()).toMatchObject({ retainedEvents: 2, retainedBytes: 8 });
    clock.advance(1001);
    timer.tick();
    expect(log.usage()).toMatchObject({ topics: 2, retainedEvents: 0, retainedBytes: 0 });
    expect(log.heads()).toEqual(new Map([["a", 1n], ["b", 1n]])); // heads stay: cursors never repeat
    await log.close();
    expect(timer.running).toBe(0);
  });

  it("frees dropped payloads at once: retention 1 × 1000 appends of 100 KB holds about one", async () => {
    const log = createMemoryLog({ maxEvents: 1 });
    const before = await settledMemory();
    for (let i = 0; i < 1000; i++) await log.append("a", new Uint8Array(100_000));
    const after = await settledMemory();
    // Before the fix every dropped event stayed referenced until 1024 piled up: +95 MB.
    expect(after.buffers - before.buffers).toBeLessThan(2 * 100_000 + 4 * MiB);
    expect(log.usage()).toMatchObject({ retainedEvents: 1, retainedBytes: 100_000 });
  });

  it("frees aged payloads on its timer: 100 × 1 MB with a 200 ms age are gone soon after", async () => {
    const log = createMemoryLog({ maxAgeMs: 200 });
    const before = await settledMemory();
    for (let i = 0; i < 100; i++) await log.append("a", new Uint8Array(MiB));
    const deadline = performance.now() + 3000;
    let after = await settledMemory();
    while (after.buffers - before.buffers >= 4 * MiB && performance.now() < deadline) after = await settledMemory();
    // Before the fix nothing was pruned until the topic was touched again: +100 MB.
    expect(after.buffers - before.buffers).toBeLessThan(4 * MiB);
    expect(log.usage().retainedEvents).toBe(0);
    await log.close();
  });

  it("forgets keys after their age limit, and the sweep frees them", async () => {
    const clock = fakeClock();
    const timer = manualTimer();
    const log = createMemoryLog({ keyMaxAgeMs: 1000, now: clock.now, every: timer.every });
    await log.append("t", bytes(""), A("k1"));
    clock.advance(999);
    expect((await log.append("t", bytes(""), A("k1"))).duplicate).toBe(true);
    await log.append("t", bytes(""), B("k2"));
    clock.advance(1);
    expect((await log.append("t", bytes(""), A("k1"))).duplicate).toBe(false); // expired: appends again
    clock.advance(1000);
    timer.tick();
    expect(log.usage().idempotencyKeys).toBe(0);
  });

  it("leaves no state for topics nobody published to once their listeners are gone", async () => {
    const log = createMemoryLog();
    const before = await settledMemory();
    for (let round = 0; round < 400; round++) {
      const names = Array.from({ length: 256 }, (_, i) => `never/${round}/${i}`);
      (await log.subscribe(names, { appended: () => {}, recheck: () => {} }))();
    }
    const after = await settledMemory();
    // Before the fix each of these 102 400 topics kept a state object: tens of MB.
    expect(after.heap - before.heap).toBeLessThan(4 * MiB);
    expect(log.usage()).toMatchObject({ topics: 0, listenedTopics: 0 });
  });
});
