// Servers and proxies that lie or misbehave (issue: client hardening): a proxy's bare HTTP error,
// an absurd advertised heartbeat, a history that never ends, and a server that flaps.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { FakeClock, frames, MemoryStorage, Recorder, ScriptedTransport, startEngine } from "../testing";
import { MAX_ADVERTISED_HEARTBEAT_MS } from "./config";

describe("engine against hostile servers and proxies", () => {
  it("a proxy's bare HTTP 404 during a deploy is retried with the long floor, never terminal", async () => {
    const h = startEngine();
    h.server.rejectSubscribes(new ConnectError("HTTP 404", Code.Unimplemented, new Headers({ "content-type": "text/html" })));
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    await h.clock.advance(100);
    expect(h.engine.status()).toMatchObject({ state: "backoff", lastError: { code: "http_404", at: h.clock.now() - 100 } });
    await h.clock.advance(9_000);
    expect(h.server.requests).toHaveLength(1); // the slow floor: 10 s from the attempt's start
    await h.clock.advance(3_000);
    expect(h.engine.status().state).toBe("live");
  });

  it("the server's own gRPC Unimplemented stays terminal", async () => {
    const h = startEngine();
    h.server.rejectSubscribes(new ConnectError("no such method", Code.Unimplemented, new Headers({ "grpc-status": "12" })));
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(100);
    expect(h.engine.status()).toMatchObject({ state: "failed", lastError: { code: "unimplemented" } });
  });

  it("an advertised heartbeat of 2^32-1 ms is clamped: the watchdog still trips, and says so once", async () => {
    const clock = new FakeClock();
    const t = new ScriptedTransport();
    const h = startEngine({ clock, transport: t });
    h.engine.subscribe(["a"], () => {});
    await clock.advance(1);
    t.last.accept("e1", {}, 2 ** 32 - 1);
    await clock.advance(1);
    expect(h.engine.status().state).toBe("live");
    await clock.advance(MAX_ADVERTISED_HEARTBEAT_MS * 2.5 + 10); // silent ever since
    expect(h.engine.status().lastError).toMatchObject({ code: "stale" });
    await clock.advance(10);
    t.last.accept("e1", {}, 2 ** 32 - 1);
    await clock.advance(1);
    expect(h.warnings.filter((w) => /advertised a heartbeat/.test(w))).toHaveLength(1);
  });

  it("history then only heartbeats, never caught up: reopened after the stall deadline with a clear error", async () => {
    const clock = new FakeClock();
    const t = new ScriptedTransport();
    const storage = new MemoryStorage();
    await storage.saveCursors("alice", [{ topic: "a", cursor: 0n, epoch: "e1" }]);
    const h = startEngine({ clock, transport: t, storage, config: { catchupStallMs: 20_000 } });
    h.engine.subscribe(["a"], () => {});
    await clock.advance(1);
    t.last.send(frames.hello("e1", 1_000), frames.events("a", 1, 2, 3));
    for (let i = 0; i < 19; i++) {
      await clock.advance(1_000);
      t.last.send(frames.heartbeat());
    }
    expect(h.engine.status().state).toBe("catching-up");
    expect(t.calls).toHaveLength(1);
    await clock.advance(1_100);
    expect(h.engine.status().lastError).toMatchObject({ code: "stalled" });
    expect(t.calls).toHaveLength(2);
    expect(t.last.resume).toEqual({ a: 3n });
  });

  it("a catch-up that keeps moving is never stalled: each progress frame moves the deadline", async () => {
    const clock = new FakeClock();
    const t = new ScriptedTransport();
    const storage = new MemoryStorage();
    await storage.saveCursors("alice", [{ topic: "a", cursor: 0n, epoch: "e1" }]);
    const h = startEngine({ clock, transport: t, storage, config: { catchupStallMs: 20_000 } });
    h.engine.subscribe(["a"], () => {});
    await clock.advance(1);
    t.last.send(frames.hello("e1", 1_000), frames.events("a", 1));
    const heartbeats = async (n: number) => {
      for (let s = 0; s < n; s++) {
        await clock.advance(1_000);
        t.last.send(frames.heartbeat()); // keep the idle watchdog quiet: only the stall watch is tested
      }
    };
    for (let i = 2; i <= 5; i++) {
      await heartbeats(15); // 60 s in all, three times the stall deadline
      t.last.send(frames.events("a", i));
    }
    expect(h.engine.status().state).toBe("catching-up");
    expect(t.calls).toHaveLength(1);
    await heartbeats(19);
    expect(t.calls).toHaveLength(1);
    await clock.advance(1_100);
    expect(h.engine.status().lastError).toMatchObject({ code: "stalled" });
    expect(t.calls).toHaveLength(2);
  });

  it("a server that keeps coming back is used within seconds: a call that caught up resets the backoff", async () => {
    const h = startEngine();
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(100);
    const gaps: number[] = [];
    for (let i = 0; i < 10; i++) {
      expect(h.engine.status().state).toBe("live");
      h.server.drop();
      const from = h.clock.monotonic();
      await h.clock.advance(10);
      while (h.engine.status().state !== "live") await h.clock.advance(50);
      gaps.push(h.clock.monotonic() - from);
      await h.clock.advance(1_500); // flapping: never healthy for healthyResetMs (30 s)
    }
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2_100); // floor 1 s + a jitter window of 1 s, never growing
  });
});
