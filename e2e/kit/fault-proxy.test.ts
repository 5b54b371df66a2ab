// The fault proxy against a tiny real HTTP server: each mode must do to a live connection what
// its doc comment promises, since e2e specs build their network failures on it.
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFaultProxy } from "./fault-proxy";
import type { FaultProxy } from "./fault-proxy";

const BODY = "x".repeat(4096);

let server: http.Server;
let serverUrl: string;
/** Server side of the streaming endpoint: the test pushes chunks through it. */
let streamRes: http.ServerResponse | undefined;
let streamOpened: () => void;
let proxy: FaultProxy;

beforeEach(async () => {
  server = http.createServer((req, res) => {
    if (req.url === "/stream") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first;");
      streamRes = res;
      streamOpened();
      return;
    }
    res.end(BODY);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy = await startFaultProxy({ target: serverUrl });
});

afterEach(async () => {
  await proxy.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  streamRes = undefined;
});

/** Opens GET /stream through the proxy; resolves once the server holds the response. */
async function openStream() {
  const opened = new Promise<void>((r) => (streamOpened = r));
  const received: string[] = [];
  let onChunk: () => void = () => {};
  const errored = new Promise<Error>((resolve) => {
    const req = http.get(`${proxy.url}/stream`, (res) => {
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        received.push(c);
        onChunk();
      });
      res.on("error", resolve);
      res.on("aborted", () => resolve(new Error("aborted")));
    });
    req.on("error", resolve);
  });
  /** Resolves when the text received so far includes `s`. */
  const until = (s: string) =>
    new Promise<void>((resolve) => {
      const check = () => received.join("").includes(s) && resolve();
      onChunk = check;
      check();
    });
  await opened;
  await until("first;");
  return { received, until, errored };
}

function rawGet(url: string): Promise<Buffer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(Number(port), hostname, () => {
      s.write(`GET / HTTP/1.1\r\nhost: ${hostname}\r\nconnection: close\r\n\r\n`);
    });
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("end", () => resolve(Buffer.concat(chunks)));
    s.on("error", reject);
  });
}

describe("fault proxy", () => {
  it("passes a request through unchanged", async () => {
    const res = await fetch(proxy.url);
    expect(await res.text()).toBe(BODY);
    expect(proxy.accepted()).toBe(1);
  });

  it("blackhole holds bytes until pass releases them, in order", async () => {
    const s = await openStream();
    proxy.set("blackhole");
    streamRes!.write("held;");
    // Give the proxy ample loopback time to (wrongly) forward; nothing may arrive.
    await new Promise((r) => setTimeout(r, 150));
    expect(s.received.join("")).toBe("first;");
    proxy.set("pass");
    await s.until("held;");
    expect(s.received.join("")).toBe("first;held;");
  });

  it("resetAll cuts open connections, the mode stays pass", async () => {
    const s = await openStream();
    expect(proxy.resetAll()).toBe(1);
    const err = await s.errored;
    expect(String((err as NodeJS.ErrnoException).code ?? err.message)).toMatch(/ECONNRESET|aborted/);
    expect(await (await fetch(proxy.url)).text()).toBe(BODY);
  });

  it("reset mode refuses new connections until pass", async () => {
    proxy.set("reset");
    await expect(fetch(proxy.url)).rejects.toThrow();
    proxy.set("pass");
    expect(await (await fetch(proxy.url)).text()).toBe(BODY);
  });

  it("truncate forwards exactly N bytes then ends the connection", async () => {
    const full = await rawGet(proxy.url);
    expect(full.length).toBeGreaterThan(BODY.length);
    proxy.set({ kind: "truncate", afterBytes: 100 });
    const cut = await rawGet(proxy.url);
    expect(cut.length).toBe(100);
    expect(cut.equals(full.subarray(0, 100))).toBe(true);
  });

  it("delay holds every chunk back by at least the given ms", async () => {
    proxy.set({ kind: "delay", ms: 120 });
    const t0 = performance.now();
    expect(await (await fetch(proxy.url)).text()).toBe(BODY);
    // Request and response are delayed once each.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(2 * 120 - 5);
  });

  it("rejects garbage modes with a clear error and keeps the old one", () => {
    expect(() => proxy.set({ kind: "delay", ms: -1 })).toThrow(/delay.ms/);
    expect(() => proxy.set({ kind: "truncate", afterBytes: 1.5 })).toThrow(/afterBytes/);
    expect(proxy.mode()).toEqual({ kind: "pass" });
  });
});
