// A server whose topics each have an epoch of their own (several nodes on one shared log), seen
// through the v1 adapter and the engine: a topic starting live learns its epoch from the AHEAD
// answer and keeps it; losing one topic's data resets that topic only; a FLUSHALL mid-stream
// resets every topic within a heartbeat on the same stream, which then goes on; a resume sends
// each topic's own epoch back, and only a stale one is reset. Hello carries no epoch there, which
// must not be taken as "every topic's epoch changed".
import { describe, expect, it } from "vitest";
import { FakeClock, FakeServer, MemoryStorage, Recorder, startEngine } from "../testing";

function perTopicServer(clock = new FakeClock()) {
  return { clock, server: new FakeServer({ clock, topicEpochs: true, heartbeatMs: 5_000 }) };
}

describe("per-topic epochs (onestream.v1 with an empty Hello epoch)", () => {
  it("a topic starting live learns its own epoch from the AHEAD answer and resumes with it", async () => {
    const { clock, server } = perTopicServer();
    const h = startEngine({ clock, server });
    const rec = new Recorder();
    h.engine.subscribe(["a", "b"], rec.sink);
    await clock.advance(10);
    expect(h.storage.cursors.get("alice")?.get("a")).toEqual({ topic: "a", cursor: 0n, epoch: server.topicEpoch("a") });
    expect(h.storage.cursors.get("alice")?.get("b")).toEqual({ topic: "b", cursor: 0n, epoch: server.topicEpoch("b") });
    server.publish("a", 2);
    await clock.advance(10);
    server.drop();
    await clock.advance(3_000);
    expect(server.requests.at(-1)!.topics).toMatchObject([
      { topic: "a", after: 2n, epoch: server.topicEpoch("a") },
      { topic: "b", after: 0n, epoch: server.topicEpoch("b") },
    ]);
    expect(rec.of("reset")).toEqual([]);
    expect(rec.cursors("a")).toEqual([1, 2]);
    expect(h.warnings).toEqual([]);
  });

  it("one topic loses its data mid-stream: only that topic gets an EPOCH reset, the others keep their epoch", async () => {
    const { clock, server } = perTopicServer();
    const h = startEngine({ clock, server });
    const rec = new Recorder();
    h.engine.subscribe(["a", "b"], rec.sink);
    await clock.advance(10);
    server.publish("a", 2);
    server.publish("b", 2);
    await clock.advance(10);
    const bEpoch = server.topicEpoch("b");
    server.flush("a");
    server.publish("a", 1);
    server.publish("b", 1);
    await clock.advance(10);
    expect(rec.of("reset")).toEqual([{ kind: "reset", topic: "a", reason: "epoch", resumeAfter: 0n }]);
    expect(rec.cursors("a")).toEqual([1, 2, 1]);
    expect(rec.cursors("b")).toEqual([1, 2, 3]);
    expect(h.engine.status()).toMatchObject({ state: "live", connection: 1 });
    expect(h.storage.cursors.get("alice")?.get("a")).toEqual({ topic: "a", cursor: 1n, epoch: server.topicEpoch("a") });
    expect(h.storage.cursors.get("alice")?.get("b")).toEqual({ topic: "b", cursor: 3n, epoch: bEpoch });

    // A reconnect resumes both with what they have: no reset, nothing again.
    server.drop();
    await clock.advance(3_000);
    expect(rec.of("reset")).toHaveLength(1);
    expect(rec.cursors()).toHaveLength(6);
  });

  it("a FLUSHALL mid-stream: every topic is reset within one heartbeat on the same stream, which goes on", async () => {
    const { clock, server } = perTopicServer();
    const h = startEngine({ clock, server });
    const rec = new Recorder();
    h.engine.subscribe(["a", "b"], rec.sink);
    await clock.advance(10);
    server.publish("a", 3);
    server.publish("b", 1);
    await clock.advance(10);
    server.flush("a", "b");
    await clock.advance(server.heartbeatMs - 1);
    expect(rec.of("reset").map((r) => [r.topic, r.reason, r.resumeAfter])).toEqual([["a", "epoch", 0n], ["b", "epoch", 0n]]);
    server.publish("a", 2);
    server.publish("b", 1);
    await clock.advance(10);
    expect(rec.cursors("a")).toEqual([1, 2, 3, 1, 2]);
    expect(rec.cursors("b")).toEqual([1, 1]);
    expect(h.engine.status()).toMatchObject({ state: "live", connection: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it("a resume with one stale epoch resets that topic only; the empty Hello epoch makes up no reset for the rest", async () => {
    const { clock, server } = perTopicServer();
    server.publish("a", 3);
    server.publish("b", 3);
    const storage = new MemoryStorage();
    await storage.saveCursors("alice", [
      { topic: "a", cursor: 2n, epoch: "a@lost" },
      { topic: "b", cursor: 2n, epoch: server.topicEpoch("b") },
    ]);
    const h = startEngine({ clock, server, storage });
    const rec = new Recorder();
    h.engine.subscribe(["a", "b"], rec.sink);
    await clock.advance(10);
    expect(rec.of("reset")).toEqual([{ kind: "reset", topic: "a", reason: "epoch", resumeAfter: 0n }]);
    expect(rec.cursors("a")).toEqual([1, 2, 3]);
    expect(rec.cursors("b")).toEqual([3]);
    expect(h.warnings).toEqual([]);
  });
});
