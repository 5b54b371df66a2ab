// The admin endpoints locked down: off by default; when on, only for local tools (loopback peer
// and Host, no proxy in between), never for a web page (no CORS, no Origin, JSON bodies only),
// and only with the admin token when one is set; /admin/publish bounded per call.
import type { IncomingMessage } from "node:http";
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { adminRefusal, isLoopbackHost } from "./admin-access";
import { MAX_ADMIN_PUBLISH_BYTES } from "./admin";
import { startServer, tokenPolicy, type RunningServer, type ServerOptions } from "./server";
import { adminPost } from "./test-client";

const servers: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(opts: ServerOptions = {}): Promise<RunningServer> {
  const server = await startServer({ port: 0, ...opts });
  servers.push(server);
  return server;
}

const ADMIN_TOKEN = "admin-token-0123456789";

/** One request over node:http, so every header (Host included) is exactly what the test says. */
function call(
  server: RunningServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; headers: IncomingMessage["headers"]; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The forged publish: a page on another origin posting text/plain, which needs no preflight. */
const forged = (server: RunningServer, origin = "https://evil.example") =>
  call(server, "POST", "/admin/publish", { origin, "content-type": "text/plain" }, '{"topic":"b/x","payload":"forged"}');

describe("admin endpoints", () => {
  it("are off by default: 404 without CORS, even with auth tokens configured", async () => {
    const server = await serve({ auth: tokenPolicy({ t: ["b/"] }) });
    const res = await forged(server);
    expect(res.status).toBe(404);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    expect((await call(server, "GET", "/admin/stats")).status).toBe(404);
    const preflight = await call(server, "OPTIONS", "/admin/publish", {
      origin: "https://evil.example",
      "access-control-request-method": "POST",
    });
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    expect(server.stats().publishes).toBe(0);
  });

  it("never answer a web page: no CORS, Origin (even null) and cross-site fetches refused, JSON bodies only", async () => {
    const server = await serve({ faults: true });
    for (const origin of ["https://evil.example", "null", server.url]) {
      const res = await forged(server, origin);
      expect(res.status).toBe(403);
      expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    }
    const preflight = await call(server, "OPTIONS", "/admin/publish", { origin: "https://evil.example", "access-control-request-method": "POST" });
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    expect((await call(server, "GET", "/admin/stats", { "sec-fetch-site": "cross-site" })).status).toBe(403);
    const plain = await call(server, "POST", "/admin/publish", { "content-type": "text/plain" }, '{"topic":"b/x"}');
    expect(plain.status).toBe(415);
    expect(JSON.parse(plain.text).error).toMatch(/application\/json/);
    expect(server.stats().publishes).toBe(0);
    // A URL typed into the browser's address bar is fine: that is the developer.
    const typed = await call(server, "GET", "/admin/stats", { "sec-fetch-site": "none" });
    expect(typed.status).toBe(200);
    expect(typed.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("answer loopback callers by a loopback name only, and never through a proxy", async () => {
    const server = await serve({ admin: true });
    expect((await call(server, "GET", "/admin/stats", { host: `localhost:${server.port}` })).status).toBe(200);
    // A page on a public name that DNS-rebinds to 127.0.0.1 sends its own name as Host.
    const rebound = await call(server, "GET", "/admin/stats", { host: `evil.example:${server.port}` });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.text).error).toMatch(/loopback host names only/);
    for (const header of ["x-forwarded-for", "forwarded", "x-real-ip", "via"]) {
      expect((await call(server, "GET", "/admin/stats", { [header]: "203.0.113.9" })).status).toBe(403);
    }
  });

  it("need the admin token when one is configured; a topic token is not one", async () => {
    const server = await serve({ admin: true, adminToken: ADMIN_TOKEN, auth: tokenPolicy({ "topic-token": [""] }) });
    const missing = await call(server, "GET", "/admin/stats");
    expect(missing.status).toBe(401);
    expect(missing.headers["www-authenticate"]).toBe("Bearer");
    expect((await call(server, "GET", "/admin/stats", { authorization: "Bearer topic-token" })).status).toBe(401);
    expect((await call(server, "GET", "/admin/stats", { authorization: `Bearer ${ADMIN_TOKEN}x` })).status).toBe(401);
    expect((await call(server, "GET", "/admin/stats", { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
    const { status } = await adminPost(server.url, "/admin/publish", { topic: "a" }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(status).toBe(200);
  });

  it("refuse callers off loopback unless opened with a token; opening without one is refused", async () => {
    const fake = (remoteAddress: string, headers: Record<string, string>) =>
      ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;
    const closed = { enabled: true, faults: false, token: undefined, remote: false };
    expect(adminRefusal(closed, fake("10.1.2.3", { host: "10.1.2.3:8080" }))).toMatchObject({ status: 403, error: /loopback callers only/ });
    expect(adminRefusal(closed, fake("::ffff:127.0.0.1", { host: "127.0.0.1:8080" }))).toBeUndefined();
    const opened = { ...closed, remote: true, token: ADMIN_TOKEN };
    expect(adminRefusal(opened, fake("10.1.2.3", { host: "admin.example" }))).toMatchObject({ status: 401 });
    expect(adminRefusal(opened, fake("10.1.2.3", { host: "admin.example", authorization: `Bearer ${ADMIN_TOKEN}` }))).toBeUndefined();
    for (const host of ["localhost", "LOCALHOST:80", "127.0.0.1", "127.8.9.10:1", "[::1]:8080"]) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ["", "localhost.evil.example", "127.0.0.1.nip.io", "[::2]", "0.0.0.0"]) expect(isLoopbackHost(host)).toBe(false);

    await expect(startServer({ port: 0, admin: true, adminRemote: true })).rejects.toThrow(/needs an adminToken/);
    await expect(startServer({ port: 0, admin: true, adminToken: "short" })).rejects.toThrow(RangeError);
    await expect(startServer({ port: 0, adminToken: ADMIN_TOKEN })).rejects.toThrow(/need admin/);
  });

  it("bound /admin/publish per call: 413 over the byte limit, 400 over the count, nothing appended", async () => {
    const server = await serve({ admin: true });
    // 2 000 × 60 KB = 120 MB in one call (the 100 000 × 60 KB killed the server).
    const big = await adminPost(server.url, "/admin/publish", { topic: "a", payload: "x".repeat(60_000), count: 2000 });
    expect(big.status).toBe(413);
    expect(big.json.error).toContain(`${MAX_ADMIN_PUBLISH_BYTES}-byte limit`);
    expect((await adminPost(server.url, "/admin/publish", { topic: "a", count: 100_001 })).status).toBe(400);
    expect((await adminPost(server.url, "/admin/publish", { topic: "a", payload: "y".repeat(70_000) })).status).toBe(413);
    expect(server.stats().publishes).toBe(0);
    expect((await adminPost(server.url, "/admin/publish", { topic: "a", payload: "x".repeat(60_000), count: 200 })).status).toBe(200);
    // "x…x#1" … "x…x#200": 60 000 + "#" + the number.
    expect(server.stats().log.retainedBytes).toBe(200 * 60_001 + 9 * 1 + 90 * 2 + 101 * 3);
  });

  it("leave the RPC paths' CORS alone and answer other paths without it", async () => {
    const server = await serve({ admin: true });
    const rpc = await call(server, "OPTIONS", "/onestream.v1.StreamService/Subscribe", {
      origin: "http://page.test",
      "access-control-request-method": "POST",
    });
    expect(rpc.status).toBe(204);
    expect(rpc.headers["access-control-allow-origin"]).toBe("http://page.test");
    const other = await call(server, "GET", "/elsewhere", { origin: "http://page.test" });
    expect(other.status).toBe(404);
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
