// Engine scenarios about the connection: faults, backoff, auth, hints, sleep, close.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ClosedError, FailedError } from "./errors";
import { FakeClock, MemoryStorage, Recorder, startEngine } from "../testing";

/** An engine with one live subscriber on "a". */
async function live(opts: Parameters<typeof startEngine>[0] = {}) {
  const h = startEngine(opts);
  const rec = new Recorder();
  h.engine.subscribe(["a"], rec.sink);
  await h.clock.advance(50);
  return { ...h, rec };
}

describe("engine: connection", () => {
  it("opens once, reports connecting → catching-up → live with connection epoch 1", async () => {
    const h = await live();
    expect(h.engine.status()).toMatchObject({ state: "live", connection: 1, serverEpoch: "e1", topics: ["a"], liveTopics: ["a"] });
    expect(h.states()[0]).toBe("connecting");
    expect(h.states().at(-1)).toBe("live");
    expect(h.rec.kinds).toEqual(["live"]);
    expect(h.server.requests).toHaveLength(1);
  });

  it("drop: reconnects, resumes from the cursor, loses and repeats nothing", async () => {
    const h = await live();
    h.server.publish("a", 3);
    await h.clock.advance(10);
    h.server.drop();
    h.server.publish("a", 2); // published while we are away
    await h.clock.advance(2_100);
    h.server.publish("a", 1);
    await h.clock.advance(10);
    expect(h.rec.cursors("a")).toEqual([1, 2, 3, 4, 5, 6]);
    expect(h.server.requests.at(-1)!.topics[0]).toMatchObject({ topic: "a", after: 3n, epoch: "e1" });
    expect(h.engine.status()).toMatchObject({ state: "live", connection: 2, lastError: { code: "unknown" } });
    expect(h.states()).toContain("backoff");
  });

  it("wedge: the watchdog trips at heartbeat × 2.5 and the engine reconnects", async () => {
    const h = await live({ serverOptions: { heartbeatMs: 4_000 } });
    h.server.wedge(); // at 50 ms; the last frame was Hello at ~0 ms
    await h.clock.advance(9_940);
    expect(h.server.requests).toHaveLength(1);
    expect(h.engine.status().state).toBe("live");
    await h.clock.advance(20); // 10 010 ms: tripped at 10 000, reconnected at once (it was healthy)
    expect(h.engine.status().lastError).toMatchObject({ code: "stale" });
    expect(h.server.requests).toHaveLength(2);
    expect(h.server.openStreams).toBe(1); // the wedged one was aborted (its HTTP slot freed)
    expect(h.engine.status()).toMatchObject({ state: "live", connection: 2 });
  });

  it("hello with heartbeat_ms 0 uses the pre-Hello idle timeout", async () => {
    const h = await live({ serverOptions: { heartbeatMs: 0 }, config: { preHelloIdleMs: 30_000 } });
    await h.clock.advance(29_000);
    expect(h.server.requests).toHaveLength(1);
    await h.clock.advance(1_100);
    expect(h.engine.status().lastError).toMatchObject({ code: "stale" });
  });

  it("truncate (protocol error: incomplete envelope) is retried", async () => {
    const h = await live();
    h.server.publish("a", 2);
    await h.clock.advance(10);
    h.server.truncate();
    h.server.publish("a");
    await h.clock.advance(3_000);
    expect(h.rec.cursors("a")).toEqual([1, 2, 3]);
    expect(h.engine.status()).toMatchObject({ state: "live", lastError: { code: "invalid_argument" } });
  });

  it("rejected N times then accepted: paced by the backoff, no attempt before the floor", async () => {
    const h = startEngine();
    h.server.rejectSubscribes(...Array.from({ length: 4 }, () => new ConnectError("down", Code.Unavailable)));
    const rec = new Recorder();
    h.engine.subscribe(["a"], rec.sink);
    const startTimes: number[] = [];
    for (let t = 0; t < 120_000 && h.engine.status().state !== "live"; t += 50) {
      const before = h.server.requests.length;
      await h.clock.advance(50);
      if (h.server.requests.length > before) startTimes.push(h.clock.monotonic());
      if (h.engine.status().state === "backoff") expect(h.engine.status().nextAttemptAt).toBeGreaterThan(h.clock.now());
    }
    expect(h.engine.status().state).toBe("live");
    expect(h.server.requests).toHaveLength(5);
    for (let i = 1; i < startTimes.length; i++) expect(startTimes[i]! - startTimes[i - 1]!).toBeGreaterThanOrEqual(1_000);
    expect(h.states()).toContain("backoff");
  });

  it("ResourceExhausted waits at least the longer floor", async () => {
    const h = startEngine({ config: { slowFloorMs: 8_000 } });
    h.server.rejectSubscribes(new ConnectError("slow down", Code.ResourceExhausted));
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(7_900);
    expect(h.server.requests).toHaveLength(1);
    await h.clock.advance(10_000);
    expect(h.server.requests).toHaveLength(2);
  });

  it("permission denied: failed exactly once, no further attempts, publishes rejected", async () => {
    const h = startEngine();
    h.server.rejectSubscribes(new ConnectError("not yours", Code.PermissionDenied));
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(100);
    await h.clock.advance(600_000);
    expect(h.server.requests).toHaveLength(1);
    expect(h.states().filter((s) => s === "failed")).toHaveLength(1);
    expect(h.engine.status()).toMatchObject({ state: "failed", lastError: { code: "permission_denied", message: "not yours" } });
    await expect(h.engine.publish("a", new Uint8Array())).rejects.toBeInstanceOf(FailedError);
    h.engine.hint("online"); // no resurrection
    await h.clock.advance(60_000);
    expect(h.server.requests).toHaveLength(1);
  });

  it("a terminal error after a successful open also fails (once)", async () => {
    const h = await live();
    h.server.drop(new ConnectError("gone", Code.NotFound));
    await h.clock.advance(60_000);
    expect(h.engine.status().state).toBe("failed");
    expect(h.server.requests).toHaveLength(1);
    expect(h.states().filter((s) => s === "failed")).toHaveLength(1);
  });

  it("Canceled that we did not cause is retried; an InvalidArgument that is not a transport error is terminal", async () => {
    const h = await live();
    h.server.drop(new ConnectError("proxy said no", Code.Canceled));
    await h.clock.advance(3_000);
    expect(h.engine.status()).toMatchObject({ state: "live", connection: 2, lastError: { code: "canceled" } });
    h.server.drop(new ConnectError("topics[0]: bad", Code.InvalidArgument));
    await h.clock.advance(60_000);
    expect(h.engine.status()).toMatchObject({ state: "failed", lastError: { code: "invalid_argument" } });
    expect(h.server.requests).toHaveLength(2);
  });

  it("a stream healthy for 30 s starts the backoff from scratch", async () => {
    const h = startEngine({ config: { backoffInitialMs: 10_000, backoffCapMs: 60_000 }, random: () => 0.99 });
    h.engine.subscribe(["a"], () => {});
    h.server.rejectSubscribes(...Array.from({ length: 6 }, () => new ConnectError("down", Code.Unavailable)));
    await h.clock.advance(300_000); // six quick failures: the window has grown
    expect(h.engine.status().state).toBe("live");
    await h.clock.advance(30_000);
    h.server.rejectSubscribes(new ConnectError("down", Code.Unavailable));
    h.server.drop();
    const t0 = h.clock.monotonic();
    let reopenedAt = 0;
    for (let i = 0; i < 400 && reopenedAt === 0; i++) {
      await h.clock.advance(100);
      if (h.server.openStreams === 1) reopenedAt = h.clock.monotonic();
    }
    // the drop after a healthy stream retries at once (back to 0 failures), the rejected retry
    // waits floor + 0.99 × initial × 1.6 = 16.84 s; without the reset it would wait the 60 s cap
    expect(reopenedAt - t0).toBeGreaterThanOrEqual(16_800);
    expect(reopenedAt - t0).toBeLessThanOrEqual(17_000);
  });

  it("unauthenticated → refresh → ok", async () => {
    const whys: string[] = [];
    let token = "old";
    const h = startEngine({
      serverOptions: { token: "new" },
      getHeaders: async (why) => {
        whys.push(why);
        if (why === "refresh") token = "new";
        return { authorization: `Bearer ${token}` };
      },
    });
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(100);
    expect(whys).toEqual(["connect", "refresh"]);
    expect(h.engine.status().state).toBe("live");
    // after a good open, the next reconnect asks "connect" again
    h.server.drop();
    await h.clock.advance(3_000);
    expect(whys.at(-1)).toBe("connect");
  });

  it("a getHeaders that never answers is a retryable deadline, not a hang", async () => {
    let calls = 0;
    const h = startEngine({
      config: { preHelloIdleMs: 2_000 },
      getHeaders: () => (++calls === 1 ? new Promise(() => {}) : Promise.resolve({})),
    });
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(1_900);
    expect(h.server.requests).toHaveLength(0);
    await h.clock.advance(1_000);
    expect(h.engine.status()).toMatchObject({ state: "live", lastError: { code: "deadline_exceeded" } });
  });

  it("unauthenticated twice → failed, never a third attempt", async () => {
    const h = startEngine({ serverOptions: { token: "secret" }, getHeaders: async () => ({ authorization: "Bearer wrong" }) });
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(60_000);
    expect(h.server.requests).toHaveLength(2);
    expect(h.engine.status()).toMatchObject({ state: "failed", lastError: { code: "unauthenticated" } });
  });

  it("a clean end (OK) resubscribes after a short jitter, resuming", async () => {
    const h = await live();
    await h.clock.advance(5_000);
    h.server.publish("a", 2);
    await h.clock.advance(10);
    h.server.endStreams();
    await h.clock.advance(300);
    expect(h.server.requests).toHaveLength(2);
    expect(h.server.requests[1]!.topics[0]!.after).toBe(2n);
    expect(h.engine.status().state).toBe("live");
  });

  it("offline: aborts, makes no attempts until a positive hint, which connects at once", async () => {
    const h = await live();
    h.engine.hint("offline");
    h.engine.hint("offline"); // idempotent
    await h.clock.advance(10);
    expect(h.server.openStreams).toBe(0);
    expect(h.engine.status().state).toBe("offline");
    h.server.publish("a", 2);
    await h.clock.advance(300_000);
    expect(h.server.requests).toHaveLength(1);
    h.engine.hint("online");
    await h.clock.advance(10);
    expect(h.server.requests).toHaveLength(2);
    expect(h.rec.cursors("a")).toEqual([1, 2]);
    h.engine.hint("visible"); // already live: nothing happens
    await h.clock.advance(10);
    expect(h.server.requests).toHaveLength(2);
    expect(h.states().filter((s) => s === "offline")).toHaveLength(1);
  });

  it("a positive hint during backoff attempts now and resets the backoff", async () => {
    const h = startEngine({ config: { backoffFloorMs: 20_000, slowFloorMs: 20_000 } });
    h.server.rejectSubscribes(new ConnectError("down", Code.Unavailable));
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(100);
    expect(h.engine.status().state).toBe("backoff");
    h.engine.hint("resume");
    h.engine.hint("resume");
    await h.clock.advance(10);
    expect(h.server.requests).toHaveLength(2);
    expect(h.engine.status().state).toBe("live");
  });

  it("sleep/wake (wall clock jumps): the stream is reopened make-before-break, nothing lost", async () => {
    const h = await live();
    h.server.publish("a", 2);
    await h.clock.advance(10);
    h.clock.jump(3_600_000);
    await h.clock.advance(5_000);
    expect(h.server.requests).toHaveLength(2);
    expect(h.server.openStreams).toBe(1);
    expect(h.warnings.join("\n")).toMatch(/wall clock jumped/);
    h.server.publish("a", 1);
    await h.clock.advance(10);
    expect(h.rec.cursors("a")).toEqual([1, 2, 3]);
    expect(h.engine.status()).toMatchObject({ state: "live", connection: 2 });
  });

  it("close: aborts everything, ends 'closed' exactly once, then every call throws ClosedError", async () => {
    const h = await live();
    const pending = h.engine.publish("a", new Uint8Array([1]));
    h.server.rejectPublishes(new ConnectError("x", Code.Unavailable));
    await h.engine.close();
    await expect(pending).rejects.toBeInstanceOf(ClosedError);
    expect(h.server.openStreams).toBe(0);
    expect(h.clock.pending).toBe(0);
    expect(h.states().filter((s) => s === "closed")).toHaveLength(1);
    expect(h.states().at(-1)).toBe("closed");
    expect(() => h.engine.subscribe(["a"], () => {})).toThrow(ClosedError);
    expect(() => h.engine.hint("online")).toThrow(ClosedError);
    expect(() => h.engine.status()).toThrow(ClosedError);
    expect(() => h.engine.watchStatus(() => {})).toThrow(ClosedError);
    await expect(h.engine.publish("a", new Uint8Array())).rejects.toBeInstanceOf(ClosedError);
    await expect(h.engine.reset()).rejects.toBeInstanceOf(ClosedError);
    await expect(h.engine.close()).rejects.toBeInstanceOf(ClosedError);
    await h.clock.advance(600_000);
    expect(h.server.requests).toHaveLength(1);
    expect(h.states().filter((s) => s === "closed")).toHaveLength(1);
  });

  it("close() is prompt even when the transport ignores the abort signal", async () => {
    const clock = new FakeClock();
    const h = startEngine({
      clock,
      transport: {
        subscribe: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }) }),
        publish: () => new Promise(() => {}),
      },
    });
    h.engine.subscribe(["a"], () => {});
    await clock.advance(50);
    let closed = false;
    void h.engine.close().then(() => (closed = true));
    await clock.advance(0);
    expect(closed).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it("a storage that cannot load fails the engine with a clear error", async () => {
    const storage = new MemoryStorage();
    storage.failNext("loadCursors");
    const h = startEngine({ storage });
    h.engine.subscribe(["a"], () => {});
    await h.clock.advance(100);
    expect(h.engine.status()).toMatchObject({ state: "failed", lastError: { code: "storage" } });
    expect(h.server.requests).toHaveLength(0);
  });
});
