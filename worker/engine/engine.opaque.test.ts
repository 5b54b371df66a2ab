// Opaque cursors (resume tokens compared for equality only): what the engine can still promise
// without comparing, frame by frame. Tokens here are strings like "t5" whose order the engine
// must never rely on.
import { describe, expect, it } from "vitest";
import { f, FakeClock, MemoryStorage, Recorder, ScriptedUpstream, startEngine } from "../testing";

async function opaque(storage = new MemoryStorage()) {
  const clock = new FakeClock();
  const up = new ScriptedUpstream({ cursors: "opaque", historyOnly: true });
  const h = startEngine({ clock, upstream: up, storage });
  const rec = new Recorder();
  h.engine.subscribe(["a"], rec.sink);
  await clock.advance(20);
  up.last.send(f.open(), f.progress("a", "t0"), f.caughtUp());
  await clock.advance(1);
  return { ...h, up, rec };
}

describe("engine with opaque cursors", () => {
  it("resumes from the last token after a drop: nothing lost, nothing repeated", async () => {
    const h = await opaque();
    h.up.last.send(f.events("a", "t1", "t2"));
    await h.clock.advance(1);
    h.up.last.fail();
    await h.clock.advance(3_000);
    expect(h.up.last.resume).toEqual({ a: "t2" });
    h.up.last.send(f.open(), f.events("a", "t3"), f.caughtUp());
    await h.clock.advance(1);
    expect(h.rec.events.map((e) => e.cursor)).toEqual(["t1", "t2", "t3"]);
  });

  it("drops a repeat of the event it is at", async () => {
    const h = await opaque();
    h.up.last.send(f.events("a", "t1"), f.events("a", "t1", "t2"));
    await h.clock.advance(1);
    expect(h.rec.events.map((e) => e.cursor)).toEqual(["t1", "t2"]);
  });

  it("topic change: the old call's frames wait while the new one opens, then are replayed by it once", async () => {
    const h = await opaque();
    const old = h.up.last;
    h.engine.subscribe(["b"], () => {});
    await h.clock.advance(20); // debounce: a new call for a+b from t0
    const next = h.up.last;
    expect(next).not.toBe(old);
    expect(next.resume).toEqual({ a: "t0", b: "now" });
    old.send(f.events("a", "t1", "t2")); // arrives while `next` opens: held
    await h.clock.advance(1);
    expect(h.rec.events).toHaveLength(0);
    next.send(f.open(), f.events("a", "t1", "t2", "t3"), f.caughtUp());
    await h.clock.advance(1);
    expect(old.aborted).toBe(true);
    expect(h.rec.events.map((e) => e.cursor)).toEqual(["t1", "t2", "t3"]);
  });

  it("topic change that fails to open: what the old call sent meanwhile is delivered after all", async () => {
    const h = await opaque();
    const old = h.up.last;
    h.engine.subscribe(["b"], () => {});
    await h.clock.advance(20);
    const next = h.up.last;
    old.send(f.events("a", "t1"));
    await h.clock.advance(1);
    next.fail();
    await h.clock.advance(1);
    expect(h.rec.events.map((e) => e.cursor)).toEqual(["t1"]);
    expect(old.aborted).toBe(false);
  });

  it("a late joiner with an older token gets the history, then live, lined up by equality", async () => {
    const h = await opaque();
    h.up.last.send(f.events("a", "t1", "t2", "t3"));
    await h.clock.advance(1);
    const late = new Recorder();
    h.engine.subscribe(["a"], late.sink, { since: { a: "t1" } });
    await h.clock.advance(1);
    const history = h.up.last;
    expect(history.opts.historyOnly).toBe(true);
    expect(history.resume).toEqual({ a: "t1" });
    h.up.calls[0]!.send(f.events("a", "t4")); // live, buffered for the joiner
    await h.clock.advance(1);
    history.send(f.open(), f.events("a", "t2", "t3", "t4"), f.caughtUp()); // history ran to t4
    history.end();
    await h.clock.advance(1);
    expect(late.events.map((e) => e.cursor)).toEqual(["t2", "t3", "t4"]);
    h.up.calls[0]!.send(f.events("a", "t5"));
    await h.clock.advance(1);
    expect(late.events.map((e) => e.cursor)).toEqual(["t2", "t3", "t4", "t5"]);
  });

  it("a history that never lines up with the live stream ends in a resync reset, not a gap or a repeat", async () => {
    const h = await opaque();
    h.up.last.send(f.events("a", "t1"));
    await h.clock.advance(1);
    const late = new Recorder();
    h.engine.subscribe(["a"], late.sink, { since: { a: "x0" } });
    await h.clock.advance(1);
    const history = h.up.last;
    h.up.calls[0]!.send(f.events("a", "t2"));
    await h.clock.advance(1);
    history.send(f.open(), f.events("a", "x1"), f.caughtUp()); // a token nobody else has seen
    history.end();
    await h.clock.advance(1);
    expect(late.deliveries.map((d) => (d.kind === "events" ? d.events.map((e) => e.cursor) : d.kind))).toEqual([["x1"], "reset", ["t2"], "live"]);
    expect(late.of("reset")[0]).toMatchObject({ reason: "resync", resumeAfter: "t1" });
  });

  it("refuses a bigint cursor for an opaque stream", async () => {
    const h = await opaque();
    expect(() => h.engine.subscribe(["a"], () => {}, { since: { a: 5n } })).toThrow(/opaque strings/);
  });

  it("ignores stored cursors of the other kind (the adapter changed)", async () => {
    const storage = new MemoryStorage();
    await storage.saveCursors("alice", [{ topic: "a", cursor: 7n, epoch: "" }]);
    const h = await opaque(storage);
    expect(h.up.calls[0]!.resume).toEqual({ a: "now" });
  });
});
