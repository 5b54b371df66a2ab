// Behind a real reverse proxy that cuts idle upstream reads after 2 s (nginx proxy_read_timeout):
// server heartbeats keep an idle stream alive through many such timeouts; with heartbeats off the
// client still recovers each cut (reconnect + resume) and no event is lost or repeated.
import { expect, devOnly, expectCursors, openTab, publish, recording, stats, test, waitForEvents, waitForLive, waitUntil } from "./helpers";
import { nginxAvailable, NGINX_PATH, startNginx } from "./nginx";
import type { RunningNginx } from "./nginx";

const READ_TIMEOUT_S = 2;
/** Idle time we watch: several read timeouts. */
const IDLE_WINDOW_MS = 3.5 * READ_TIMEOUT_S * 1000;

devOnly("proxy behaviour does not depend on the bundle");
test.skip(!nginxAvailable(), `nginx not found at ${NGINX_PATH} (apt-get install nginx, or set NGINX_PATH)`);

let nginx: RunningNginx | undefined;
test.afterEach(async () => {
  await nginx?.close();
  nginx = undefined;
});

test.describe("heartbeats on (500 ms)", () => {
  test.use({ serverOptions: { faults: true, heartbeatMs: 500 } });

  test("an idle stream survives several proxy read timeouts", async ({ context, server }) => {
    nginx = await startNginx({ upstream: server.url, readTimeoutS: READ_TIMEOUT_S });
    const page = await openTab(context, nginx.url, { topics: ["quiet"] });
    await waitForLive(page, ["quiet"]);
    expect((await stats(server.url)).totalStreams).toBe(1);

    // Nothing to await: the point is that nothing happens while the stream is idle.
    await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
    const s = await stats(server.url);
    expect(s.totalStreams).toBe(1);
    expect(s.activeStreams).toBe(1);
    const rec = await recording(page);
    expect(rec.status?.state).toBe("live");
    expect(rec.status?.connection).toBe(1);

    await publish(server.url, "quiet", 3);
    expectCursors(await waitForEvents(page, "quiet", 3), 1, 3);
  });
});

test.describe("heartbeats off", () => {
  test.use({ serverOptions: { faults: true, heartbeatMs: 0 } });

  test("each proxy cut is recovered: streams reopen, events still arrive once", async ({ context, server }) => {
    nginx = await startNginx({ upstream: server.url, readTimeoutS: READ_TIMEOUT_S });
    const page = await openTab(context, nginx.url, { topics: ["cut"] });
    await waitForLive(page, ["cut"]);
    await publish(server.url, "cut", 2);
    await waitForEvents(page, "cut", 2);

    await waitUntil(async () => (await stats(server.url)).totalStreams >= 3, {
      timeoutMs: 4 * IDLE_WINDOW_MS,
      message: "the proxy to cut idle streams and the client to reopen them",
    });
    await publish(server.url, "cut", 3);
    await waitForLive(page, ["cut"]);
    expectCursors(await waitForEvents(page, "cut", 5), 1, 5);
  });
});
