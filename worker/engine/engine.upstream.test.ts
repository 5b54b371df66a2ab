// Engine behaviour that belongs to no protocol, driven frame by frame below any adapter: calls
// with no open frame, bookmarks, caught-up for a whole call, a protocol's static heartbeat,
// resets that arrive as a call's error, and an upstream without publish.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { f, FakeClock, MemoryStorage, Recorder, ScriptedUpstream, startEngine, type ScriptedUpstreamOptions } from "../testing";
import type { EngineConfig } from "./config";

async function scripted(opts: ScriptedUpstreamOptions = {}, config: Partial<EngineConfig> = {}, rec = new Recorder()) {
  const clock = new FakeClock();
  const up = new ScriptedUpstream(opts);
  const h = startEngine({ clock, upstream: up, config });
  h.engine.subscribe(["a"], rec.sink);
  await clock.advance(20);
  return { ...h, up, rec };
}

describe("engine over any upstream", () => {
  it("a call with no open frame opens at its first frame", async () => {
    const h = await scripted();
    h.up.last.send(f.events("a", 1n, 2n), f.caughtUp());
    await h.clock.advance(1);
    expect(h.rec.cursors("a")).toEqual([1, 2]);
    expect(h.engine.status()).toMatchObject({ state: "live", connection: 1, liveTopics: ["a"] });
  });

  it("caught-up without topics means every topic of the call", async () => {
    const clock = new FakeClock();
    const up = new ScriptedUpstream();
    const h = startEngine({ clock, upstream: up });
    const rec = new Recorder();
    h.engine.subscribe(["a", "b"], rec.sink);
    await clock.advance(20);
    up.last.send(f.open(), f.caughtUp());
    await clock.advance(1);
    expect(h.engine.status()).toMatchObject({ state: "live", liveTopics: ["a", "b"] });
    expect(rec.of("live")).toEqual([{ kind: "live", topics: ["a", "b"] }]);
  });

  it("a bookmark moves the position without a delivery; the next call resumes after it", async () => {
    const h = await scripted();
    h.up.last.send(f.open(), f.events("a", 5n), f.caughtUp(), f.progress("a", 40n));
    await h.clock.advance(1);
    expect(h.rec.cursors("a")).toEqual([5]);
    h.up.last.fail();
    await h.clock.advance(3_000);
    expect(h.up.calls).toHaveLength(2);
    expect(h.up.last.resume).toEqual({ a: 40n });
  });

  it("a bookmark is stored once every event before it was acknowledged", async () => {
    const { up, clock, rec, storage } = await scripted({}, {}, new Recorder({ ack: false }));
    up.last.send(f.open(), f.events("a", 5n), f.caughtUp(), f.progress("a", 40n));
    await clock.advance(1);
    expect(storage.cursorOf("alice", "a")).toBeUndefined();
    rec.ackAll();
    await clock.advance(1);
    expect(storage.cursorOf("alice", "a")).toBe(40n);
  });

  it("a reset's position is stored only once the reset was acknowledged", async () => {
    const { up, clock, rec, storage } = await scripted({}, {}, new Recorder({ ack: false }));
    up.last.send(f.open(), f.events("a", 5n), f.caughtUp());
    await clock.advance(1);
    rec.ackAll();
    up.last.send(f.reset("a", "retention", 90n));
    await clock.advance(1);
    expect(storage.cursorOf("alice", "a")).toBe(5n); // a crash now: the app is told again, never skipped silently
    rec.ackAll();
    await clock.advance(1);
    expect(storage.cursorOf("alice", "a")).toBe(90n);
  });

  it("a bookmark is saved: an engine started later resumes after it (a quiet topic stays inside retention)", async () => {
    const h = await scripted();
    h.up.last.send(f.open(), f.events("a", 5n), f.caughtUp(), f.progress("a", 40n));
    await h.clock.advance(1);
    expect(h.storage.cursorOf("alice", "a")).toBe(40n);
    await h.engine.close();

    const up = new ScriptedUpstream();
    const later = startEngine({ clock: h.clock, upstream: up, storage: h.storage });
    later.engine.subscribe(["a"], () => {});
    await h.clock.advance(20);
    expect(up.last.resume).toEqual({ a: 40n });
  });

  it("a bookmark never moves an ordered position back", async () => {
    const h = await scripted();
    h.up.last.send(f.open(), f.events("a", 5n), f.caughtUp(), f.progress("a", 3n));
    await h.clock.advance(1);
    h.up.last.fail();
    await h.clock.advance(3_000);
    expect(h.up.last.resume).toEqual({ a: 5n });
  });

  it("a protocol's static heartbeat sets the idle timeout once the call opened", async () => {
    const h = await scripted({ heartbeatMs: 2_000 }, { preHelloIdleMs: 30_000 });
    h.up.last.send(f.events("a", 1n), f.caughtUp()); // at 20 ms
    await h.clock.advance(4_900);
    expect(h.up.calls).toHaveLength(1);
    await h.clock.advance(200); // 2 000 × 2.5 = 5 000 ms after the last frame
    expect(h.engine.status().lastError).toMatchObject({ code: "stale" });
  });

  it("before its first frame a call gets the pre-open idle timeout", async () => {
    const h = await scripted({ heartbeatMs: 2_000 }, { preHelloIdleMs: 30_000 });
    await h.clock.advance(29_000);
    expect(h.up.calls).toHaveLength(1);
    await h.clock.advance(1_100);
    expect(h.engine.status().lastError).toMatchObject({ code: "stale" });
  });

  it("an error the protocol maps to resets: the subscriber is told, the next call starts from there", async () => {
    const tooOld = new ConnectError("too old resource version: 5 (20)", Code.OutOfRange);
    const h = await scripted({
      resetsFor: (e, topics) =>
        ConnectError.from(e).code === Code.OutOfRange ? topics.map((t) => ({ kind: "reset" as const, topic: t.topic, reason: "retention" as const, resumeAfter: 20n })) : undefined,
    });
    h.up.last.send(f.open(), f.events("a", 5n), f.caughtUp());
    await h.clock.advance(1);
    h.up.last.fail(tooOld);
    await h.clock.advance(1_100);
    expect(h.rec.of("reset")).toEqual([{ kind: "reset", topic: "a", reason: "retention", resumeAfter: 20n }]);
    expect(h.up.calls).toHaveLength(2);
    expect(h.up.last.resume).toEqual({ a: 20n });
    expect(h.engine.status().state).not.toBe("failed"); // OutOfRange alone would be terminal
  });

  it("a reset with no position left starts the topic from now", async () => {
    const h = await scripted({
      resetsFor: (_e, topics) => topics.map((t) => ({ kind: "reset" as const, topic: t.topic, reason: "retention" as const })),
    });
    h.up.last.send(f.open(), f.events("a", 5n), f.caughtUp());
    await h.clock.advance(1);
    h.up.last.fail(new ConnectError("gone", Code.FailedPrecondition));
    await h.clock.advance(1_100);
    expect(h.rec.of("reset")).toEqual([{ kind: "reset", topic: "a", reason: "retention", resumeAfter: undefined }]);
    expect(h.up.last.resume).toEqual({ a: "now" });
  });

  it("publish rejects clearly when the protocol has none", async () => {
    const h = await scripted();
    await expect(h.engine.publish("a", new Uint8Array([1]))).rejects.toThrow(/no publish method/);
  });

  it("an upstream's maxTopics bounds the stream", async () => {
    const h = startEngine({ upstream: new ScriptedUpstream({ maxTopics: 1 }), storage: new MemoryStorage() });
    h.engine.subscribe(["a"], () => {});
    expect(() => h.engine.subscribe(["b"], () => {})).toThrow(RangeError);
  });
});
