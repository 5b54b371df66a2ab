// The test kit's own check in real Chromium, on a bare SharedWorker (no onestream code): it must
// evaluate in and hear the console of the worker, fail the worker's new fetches while offline,
// cut its open stream through the fault proxy, and undo it all with goOnline.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test, expect } from "@playwright/test";
import { goOffline, goOnline, inspectSharedWorker, startFaultProxy } from "./kit";
import type { FaultProxy } from "./kit";
import { waitUntil } from "./wait";

let server: http.Server;
let proxy: FaultProxy;

test.beforeEach(async ({}, info) => {
  test.skip(info.project.name !== "dev", "the kit page is served by the dev server only");
  server = http.createServer((req, res) => {
    res.setHeader("access-control-allow-origin", "*");
    if (req.url === "/stream") {
      res.writeHead(200, { "content-type": "text/plain" });
      const timer = setInterval(() => res.write("tick\n"), 20);
      res.on("close", () => clearInterval(timer));
      return;
    }
    res.end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  proxy = await startFaultProxy({ target: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});

test.afterEach(async ({}, info) => {
  if (info.project.name !== "dev") return; // skipped before the setup above ran
  await proxy.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

test("inspectSharedWorker evaluates in the worker and reads its console", async ({ browser, context, page }) => {
  await page.goto("/e2e/pages/kit.html");
  const worker = await inspectSharedWorker(browser, { context, url: "kit-shared-worker" });
  expect(await worker.evaluate<number>("6 * 7")).toBe(42);
  // The target exists before its module has run: wait for what the test needs.
  await waitUntil(() => worker.evaluate<boolean>("Promise.resolve(typeof probe === 'function')"), { message: "the worker script" });
  await expect(worker.evaluate("nope.nope")).rejects.toThrow(/nope is not defined/);
  await worker.evaluate(`console.log("hello", 1, "world")`);
  expect((await worker.waitForConsole("hello")).text).toBe("hello 1 world");
  await worker.detach();
});

test("goOffline fails the worker's new fetches, cuts its stream; goOnline restores", async ({ browser, context, page }) => {
  await page.goto("/e2e/pages/kit.html");
  const worker = await inspectSharedWorker(browser, { context, url: "kit-shared-worker" });
  await waitUntil(() => worker.evaluate<boolean>("typeof probe === 'function'"), { message: "the worker script" });
  expect(await worker.evaluate(`probe("${proxy.url}/ok")`)).toBe("status 200");

  await worker.evaluate(`stream("${proxy.url}/stream")`);
  await waitUntil(() => worker.evaluate<number>("streamRecord.chunks"), { message: "stream flowing" });

  await goOffline(context, { proxy });
  expect(await page.evaluate(() => navigator.onLine)).toBe(false);
  expect(await worker.evaluate<string>(`probe("${proxy.url}/ok")`)).toMatch(/^failed/);
  // Direct to the server too: the worker itself is offline, not just the proxy.
  expect(await worker.evaluate<string>(`probe("http://127.0.0.1:${(server.address() as AddressInfo).port}/ok")`)).toMatch(/^failed/);
  await waitUntil(() => worker.evaluate<string | undefined>("streamRecord.ended"), { message: "stream cut" });
  expect(await worker.evaluate<string>("streamRecord.ended")).toMatch(/^error/);

  await goOnline(context);
  expect(await page.evaluate(() => navigator.onLine)).toBe(true);
  expect(await worker.evaluate(`probe("${proxy.url}/ok")`)).toBe("status 200");
  await worker.detach();
});

test("a SharedWorker started while offline is taken offline too", async ({ browser, context, page }) => {
  await page.goto("/e2e/pages/kit.html");
  await goOffline(context);
  // An offline page cannot fetch a worker script, so this one comes from a blob.
  await page.evaluate(() => {
    const code = "globalThis.probe = (u) => fetch(u).then((r) => `status ${r.status}`, (e) => `failed: ${e.message}`);";
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    (window as unknown as { __second: SharedWorker }).__second = new SharedWorker(url, { name: "kit-second" });
  });
  const second = await inspectSharedWorker(browser, { context, url: "blob:" });
  await waitUntil(() => second.evaluate<boolean>("typeof probe === 'function'"), { message: "the worker script" });
  const direct = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ok`;
  // The kit attaches as soon as the target appears; the first fetch may race it, so poll.
  await waitUntil(async () => /^failed/.test(await second.evaluate<string>(`probe("${direct}")`)), {
    timeoutMs: 2_000,
    message: "the new worker's fetch to fail",
  });
  await goOnline(context);
  expect(await second.evaluate(`probe("${direct}")`)).toBe("status 200");
  await second.detach();
});
