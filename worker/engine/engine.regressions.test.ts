// Regression tests: scenarios that once lost events, hung close()/reset(), misreported status or
// failed the whole engine for one refused topic. Each failed on the engine before its fix.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, KNOBS } from "./config";
import { FakeClock, frames, MemoryStorage, Recorder, ResetReason, ScriptedTransport, settle, startEngine, startLiveOnScript } from "../testing";

const PAST_ANY_HEAD = 0xffff_ffff_ffff_ffffn;

describe("a topic the stream still carries stays live for a new subscriber", () => {
  it("unsubscribe then subscribe 'now' within the debounce (StrictMode remount) gets events and live", async () => {
    const h = startEngine();
    const first = h.engine.subscribe(["a"], () => {});
    await h.clock.advance(30);
    expect(h.engine.status().state).toBe("live");
    first.unsubscribe();
    const now = new Recorder();
    h.engine.subscribe(["a"], now.sink, { since: "now" });
    const stored = new Recorder();
    h.engine.subscribe(["a"], stored.sink);
    await h.clock.advance(30);
    expect(h.server.requests).toHaveLength(1); // the stream never dropped "a"
    h.server.publish("a", 2);
    await h.clock.advance(10);
    expect(now.cursors("a")).toEqual([1, 2]);
    expect(now.kinds).toEqual(["live", "events"]);
    expect(stored.kinds).toEqual(["live", "events"]);
  });

  it("a topic that really left the stream and comes back waits for its new CaughtUp", async () => {
    const h = startEngine();
    h.engine.subscribe(["b"], () => {});
    const first = h.engine.subscribe(["a"], () => {});
    await h.clock.advance(30);
    first.unsubscribe();
    await h.clock.advance(30);
    expect(h.server.streamTopics()).toEqual([["b"]]);
    h.server.publish("a", 2); // while nobody listens to "a"
    const now = new Recorder();
    h.engine.subscribe(["a"], now.sink, { since: "now" });
    await h.clock.advance(30);
    h.server.publish("a");
    await h.clock.advance(10);
    expect(now.cursors("a")).toEqual([3]);
    expect(now.kinds).toEqual(["live", "events"]);
  });
});

describe("a topic the server refuses beside a healthy stream", () => {
  const denied = () => new ConnectError("topic b is not yours", Code.PermissionDenied);

  it("is dropped and its subscribers told 'denied'; the stream and everyone else keep going", async () => {
    const { clock, t, rec: ra, ...h } = await startLiveOnScript();
    const rb = new Recorder();
    const rab = new Recorder();
    h.engine.subscribe(["b"], rb.sink);
    h.engine.subscribe(["a", "b"], rab.sink);
    await clock.advance(25);
    expect(t.calls).toHaveLength(2);
    t.calls[1]!.fail(denied());
    await clock.advance(1);
    expect(rb.deliveries).toEqual([{ kind: "denied", topics: ["b"], error: { code: "permission_denied", message: "topic b is not yours" } }]);
    expect(rab.of("denied")).toEqual([{ kind: "denied", topics: ["b"], error: { code: "permission_denied", message: "topic b is not yours" } }]);
    expect(h.engine.status()).toMatchObject({ state: "live", topics: ["a"] });
    expect(t.calls[0]!.aborted).toBe(false);
    t.calls[0]!.send(frames.events("a", 1));
    await clock.advance(1);
    expect(ra.cursors("a")).toEqual([1]);
    expect(rab.cursors("a")).toEqual([1]);
    expect(rab.of("live")).toEqual([{ kind: "live", topics: ["a"] }]);
    await clock.advance(10_000); // (below the idle timeout: the scripted stream sends no heartbeats)
    expect(t.calls).toHaveLength(2); // "b" is not asked for again
    h.engine.subscribe(["c"], () => {});
    await clock.advance(25);
    expect(Object.keys(t.last.resume)).toEqual(["a", "c"]);
    await expect(h.engine.publish("a", new Uint8Array([1]))).resolves.toEqual({ cursor: 1n });
  });

  it("subscribing to the refused topic again asks the server again", async () => {
    const clock = new FakeClock();
    const t = new ScriptedTransport();
    const h = startEngine({ clock, transport: t });
    h.engine.subscribe(["a"], () => {});
    await clock.advance(1);
    t.last.accept();
    const s = h.engine.subscribe(["b"], () => {});
    await clock.advance(25);
    t.last.fail(denied());
    await clock.advance(1);
    s.unsubscribe(); // harmless after the denial: "a" stays
    await clock.advance(25);
    expect(t.calls).toHaveLength(2);
    h.engine.subscribe(["b"], () => {});
    await clock.advance(25);
    expect(t.calls).toHaveLength(3);
    expect(Object.keys(t.last.resume)).toEqual(["a", "b"]);
  });

  it("on the first connect (no healthy stream) a denial still fails the engine", async () => {
    const h = startEngine();
    h.server.rejectSubscribes(denied());
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(30);
    expect(h.engine.status().state).toBe("failed");
  });
});

describe("close() settles while a cursor save waits to retry", () => {
  it("close() resolves without the retry timer firing", async () => {
    const h = startEngine({ config: { storageRetryMs: 60_000 } });
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(30);
    h.storage.failNext("saveCursors", 5);
    h.server.publish("a");
    await h.clock.advance(10); // the save failed: persist sleeps 60 s
    let closed = false;
    void h.engine.close().then(() => (closed = true));
    await settle(3);
    expect(closed).toBe(true);
  });

  it("close() after a failure also settles", async () => {
    const { clock, t, ...h } = await startLiveOnScript({ config: { storageRetryMs: 60_000 } });
    h.storage.failNext("saveCursors", 5);
    t.last.send(frames.events("a", 1));
    await clock.advance(1);
    t.last.fail(new ConnectError("no", Code.PermissionDenied));
    await clock.advance(1);
    expect(h.engine.status().state).toBe("failed");
    let closed = false;
    void h.engine.close().then(() => (closed = true));
    await settle(3);
    expect(closed).toBe(true);
  });
});

describe("reset() (logout) leaves nothing of the old positions behind", () => {
  it("a save waiting to retry does not write old cursors after the wipe", async () => {
    const storage = new MemoryStorage();
    const saved: bigint[] = [];
    const save = storage.saveCursors.bind(storage);
    storage.saveCursors = (user, records, forget) => {
      saved.push(...records.map((r) => r.cursor as bigint));
      return save(user, records, forget);
    };
    const h = startEngine({ storage });
    h.engine.subscribe(["a"], new Recorder().sink);
    await h.clock.advance(30);
    h.storage.failNext("saveCursors", 1);
    h.server.publish("a", 3);
    await h.clock.advance(10); // cursor 3 failed to save; the retry waits
    const before = saved.length;
    await h.engine.reset();
    await h.clock.advance(5_000);
    expect(saved.slice(before)).toEqual([]);
    expect(h.storage.cursorOf("alice", "a")).toBeUndefined();
  });

  it("ends every subscription with a notice, closes the stream, and stores nothing until the app subscribes again", async () => {
    const h = startEngine();
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    await h.clock.advance(30);
    h.server.publish("a", 2);
    await h.clock.advance(10);
    await h.engine.reset();
    await h.clock.advance(1_500);
    expect(rec.deliveries.at(-1)).toEqual({ kind: "ended", reason: "reset" });
    expect(h.server.openStreams).toBe(0);
    h.server.publish("a", 3);
    await h.clock.advance(1_500);
    expect(rec.cursors("a")).toEqual([1, 2]);
    expect(h.storage.cursors.get("alice")).toBeUndefined();
    const again = new Recorder();
    h.engine.subscribe(["a"], again.sink);
    await h.clock.advance(30);
    h.server.publish("a");
    await h.clock.advance(10);
    expect(again.cursors("a")).toEqual([6]); // from now
    expect(h.storage.cursorOf("alice", "a")).toBe(6n);
  });

  it("reset() during the initial load is not undone by the load", async () => {
    const clock = new FakeClock();
    const storage = new MemoryStorage();
    await storage.saveCursors("alice", [{ topic: "a", cursor: 5n, epoch: "e1" }]);
    await storage.addOutbox("alice", { key: "k1", topic: "a", payload: new Uint8Array([1]), seq: 1, createdAt: 0 });
    const h = startEngine({ clock, storage });
    const done = h.engine.reset();
    h.engine.subscribe(["a"], () => {});
    await done;
    await clock.advance(30);
    expect(h.server.requests.at(-1)!.topics.map((t) => t.after)).toEqual([PAST_ANY_HEAD]);
    expect(h.server.publishRequests).toHaveLength(0);
  });
});

describe("only 'online' ends offline", () => {
  it("visible/pageshow/resume while offline change nothing; online reconnects", async () => {
    const h = startEngine();
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(30);
    h.engine.hint("offline");
    await h.clock.advance(10);
    const requests = h.server.requests.length;
    for (const hint of ["visible", "pageshow", "resume"] as const) h.engine.hint(hint);
    await h.clock.advance(10);
    expect(h.engine.status().state).toBe("offline");
    expect(h.server.requests).toHaveLength(requests);
    h.engine.hint("online");
    await h.clock.advance(10);
    expect(h.engine.status().state).toBe("live");
    expect(h.server.requests).toHaveLength(requests + 1);
  });
});

describe("adding a topic does not report the others as interrupted", () => {
  it("live:a → catching-up with a still live → live:a,b", async () => {
    const { clock, t, ...h } = await startLiveOnScript();
    h.engine.subscribe(["b"], () => {});
    await clock.advance(25);
    t.last.send(frames.hello());
    await clock.advance(1);
    expect(h.engine.status()).toMatchObject({ state: "catching-up", liveTopics: ["a"], topics: ["a", "b"] });
    t.last.send(frames.reset("b", ResetReason.AHEAD, 0), frames.caughtUp("a", "b"));
    await clock.advance(1);
    expect(h.engine.status()).toMatchObject({ state: "live", liveTopics: ["a", "b"] });
    const firstLive = h.statuses.findIndex((s) => s.liveTopics.includes("a"));
    expect(h.statuses.slice(firstLive).every((s) => s.liveTopics.includes("a"))).toBe(true);
  });
});

describe("history catch-ups are bounded", () => {
  it("at most maxCatchupStreams run at once; the rest wait their turn", async () => {
    const clock = new FakeClock();
    const t = new ScriptedTransport();
    const h = startEngine({ clock, transport: t });
    h.engine.subscribe(["a"], () => {});
    await clock.advance(1);
    t.last.accept();
    t.last.send(frames.events("a", 1, 2, 3, 4, 5));
    await clock.advance(1);
    const recs = [new Recorder(), new Recorder(), new Recorder()];
    for (const r of recs) h.engine.subscribe(["a"], r.sink, { since: { a: 1n } });
    await clock.advance(1);
    const history = () => t.open.filter((c) => c.req.historyOnly);
    expect(history()).toHaveLength(2);
    const first = history()[0]!;
    first.send(frames.hello(), frames.events("a", 2, 3, 4, 5), frames.caughtUp("a"));
    first.end();
    await clock.advance(1);
    expect(history()).toHaveLength(2); // the third started
    for (const c of history()) {
      c.send(frames.hello(), frames.events("a", 2, 3, 4, 5), frames.caughtUp("a"));
      c.end();
    }
    await clock.advance(1);
    for (const r of recs) expect(r.cursors("a")).toEqual([2, 3, 4, 5]);
    expect(t.calls.filter((c) => c.req.historyOnly)).toHaveLength(3);
    expect(DEFAULT_CONFIG.maxCatchupStreams).toBe(2);
    expect(KNOBS.maxCatchupStreams.max).toBeGreaterThanOrEqual(2);
  });
});

describe("a retention reset behind our position on a replacement stream", () => {
  it("is ignored: no position moved back, no duplicates, no spurious reset", async () => {
    const clock = new FakeClock();
    const t = new ScriptedTransport();
    const h = startEngine({ clock, transport: t });
    const ra = new Recorder();
    h.engine.subscribe(["a"], ra.sink);
    await clock.advance(1);
    const old = t.last;
    old.accept();
    old.send(frames.events("a", 1, 2, 3, 4, 5));
    await clock.advance(1);
    h.engine.subscribe(["b"], () => {});
    await clock.advance(25);
    const fresh = t.last;
    expect(fresh.resume.a).toBe(5n);
    old.send(frames.events("a", 6, 7, 8, 9, 10)); // current keeps advancing
    await clock.advance(1);
    fresh.send(frames.hello(), frames.reset("a", ResetReason.RETENTION, 7), frames.events("a", 8, 9, 10, 11));
    fresh.send(frames.reset("b", ResetReason.AHEAD, 0), frames.caughtUp("a", "b"));
    await clock.advance(1);
    expect(ra.cursors("a")).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(ra.of("reset")).toEqual([]);
    expect(h.storage.cursorOf("alice", "a")).toBe(11n);
  });
});
