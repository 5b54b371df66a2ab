// Connection hygiene against a real server: a connection that sends nothing, or stalls in its
// headers, is closed; a stream is never closed for being quiet; the optional cap on connections
// turns further ones away and lets them in again once there is room.
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startServer, type RunningServer, type ServerOptions } from "./server";
import { publishN, Recorder, streamClient } from "./test-client";

const servers: RunningServer[] = [];
const sockets: Socket[] = [];
const recorders: Recorder[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const r of recorders.splice(0)) r.cancel();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(opts: ServerOptions): Promise<RunningServer> {
  const server = await startServer({ port: 0, ...opts });
  servers.push(server);
  return server;
}

/** A raw TCP connection; `closedWithin(ms)` tells whether the server closed it in time. */
async function open(server: RunningServer): Promise<{ socket: Socket; closedWithin(ms: number): Promise<boolean> }> {
  const socket = connect(server.port, "127.0.0.1");
  sockets.push(socket);
  socket.on("error", () => {});
  socket.on("data", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return {
    socket,
    closedWithin: (ms) =>
      Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]),
  };
}

describe("connections", () => {
  it("closes a connection that never sends a byte after the idle timeout", async () => {
    const server = await serve({ idleTimeoutMs: 200 });
    const silent = await open(server);
    // Before the fix it stayed open for good (Node's headers timeout ignores a silent connection).
    expect(await silent.closedWithin(2000)).toBe(true);
  });

  it("closes a connection that stalls in the middle of its headers", async () => {
    const server = await serve({ headersTimeoutMs: 200, idleTimeoutMs: 60_000 });
    const slow = await open(server);
    slow.socket.write("POST /onestream.v1.StreamService/Publish HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    // Node's default headers timeout is 60 s, checked every 30 s.
    expect(await slow.closedWithin(2000)).toBe(true);
  });

  it("never closes a quiet stream: heartbeats off, silent past the idle timeout, then an event", async () => {
    const server = await serve({ idleTimeoutMs: 300, heartbeatMs: 0, admin: true });
    const r = new Recorder(streamClient(server.url), { topics: [{ topic: "q" }] });
    recorders.push(r);
    await r.until((f) => f.some((x) => x.frame.case === "caughtUp"));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await publishN(server.url, "q", 1);
    await r.until(() => r.events().length === 1);
    expect(r.done).toBe(false);
  });

  it("caps connections when asked: the one over the cap is closed at once, room lets a new one in", async () => {
    const server = await serve({ maxConnections: 2, idleTimeoutMs: 60_000 });
    const [a, b] = [await open(server), await open(server)];
    const third = await open(server);
    expect(await third.closedWithin(2000)).toBe(true);
    expect(await a.closedWithin(50)).toBe(false);
    b.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fourth = await open(server);
    expect(await fourth.closedWithin(300)).toBe(false);
    expect(server.stats().connections).toBe(2);
  });

  it("rejects a garbage cap and clamps an extreme timeout", async () => {
    await expect(startServer({ port: 0, maxConnections: -1 })).rejects.toThrow(RangeError);
    await expect(startServer({ port: 0, idleTimeoutMs: Number.NaN })).rejects.toThrow(RangeError);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const server = await serve({ idleTimeoutMs: 10 * 60 * 60 * 1000 });
      expect(warn).toHaveBeenCalledWith("onestream server: idleTimeoutMs 36000000 is above 3600000; using 3600000");
      expect((await fetch(`${server.url}/nothing`)).status).toBe(404);
    } finally {
      warn.mockRestore();
    }
  });
});
