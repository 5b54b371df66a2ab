// Scale-out: two server nodes (real processes) on one Redis, behind nginx (round robin,
// proxy_buffering off), four tabs of real Chromium. Publishes through both nodes reach every tab
// once; a SIGKILL of the node holding the tabs' stream moves it to the other node with nothing
// lost, repeated or reordered; the losses Redis can have reach the tabs as explicit resets:
// FLUSHALL → EPOCH within one heartbeat on the same stream, XTRIM below a tab's cursor →
// RETENTION, a restart without persistence → EPOCH (no hang, no silent gap); and a publish whose
// answer was lost, retried through the other node, lands once.
import type { Page } from "@playwright/test";
import http from "node:http";
import { redisAvailable, REDIS_SERVER_PATH } from "../server/test-redis";
import { startCluster, type Cluster, type ServerNode } from "./cluster";
import { devOnly, expect, expectCursors, openTabs, publish, received, recording, stats, test, waitForEvents, waitForLive, waitUntil } from "./helpers";
import { nginxAvailable, NGINX_PATH } from "./nginx";

const HEARTBEAT_MS = 1000;
const TABS = 4;

devOnly("scale-out does not depend on the bundle");
test.skip(!nginxAvailable(), `nginx not found at ${NGINX_PATH}`);
test.skip(!redisAvailable(), `redis-server not found at ${REDIS_SERVER_PATH} (apt-get install redis-server)`);

let cluster: Cluster | undefined;
test.afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function liveTabs(context: Parameters<typeof openTabs>[1], c: Cluster, topic: string, count = TABS): Promise<Page[]> {
  const tabs = await openTabs(count, context, c.url, { topics: [topic] });
  for (const tab of tabs) await waitForLive(tab, [topic]);
  return tabs;
}

/** The node that holds the tabs' one stream. */
async function streamHolder(c: Cluster): Promise<ServerNode> {
  return waitUntil(async () => {
    const open = await Promise.all(c.nodes.map(async (n) => (n.alive ? (await stats(n.url)).activeStreams : 0)));
    const i = open.indexOf(1);
    return open.reduce((a, b) => a + b, 0) === 1 && i >= 0 ? c.nodes[i] : undefined;
  }, { message: "one stream on one node" });
}

async function resetsOf(tab: Page, topic: string): Promise<string[]> {
  return (await recording(tab)).resets.filter((r) => r.topic === topic).map((r) => `${r.reason}@${r.resumeAfter}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("publishes through both nodes arrive once; kill -9 of the stream's node → the tabs resume on the other, 0 lost / 0 repeated / 0 reordered", async ({ context }) => {
  const c = (cluster = await startCluster({ nodes: 2, heartbeatMs: HEARTBEAT_MS }));
  const tabs = await liveTabs(context, c, "chat", TABS);
  const holder = await streamHolder(c);
  const survivor = c.nodes.find((n) => n !== holder)!;

  let total = 0;
  for (let i = 0; i < 5; i++) for (const node of c.nodes) total += (await publish(node.url, "chat", 4)).length;
  for (const tab of tabs) expectCursors(await waitForEvents(tab, "chat", total), 1, total);

  let publishing = true;
  const load = (async () => {
    while (publishing) {
      total += (await publish(survivor.url, "chat", 5)).length;
      await sleep(20);
    }
  })();
  await waitUntil(() => total >= 100, { message: "publishing under way" });
  await holder.kill();
  await waitUntil(async () => (await stats(survivor.url)).activeStreams === 1, { message: "the stream reopened on the surviving node" });
  const resumedAt = total;
  await waitUntil(() => total >= resumedAt + 50, { message: "publishing after the move" });
  publishing = false;
  await load;

  for (const tab of tabs) {
    expectCursors(await waitForEvents(tab, "chat", total), 1, total);
    expect(await resetsOf(tab, "chat")).toEqual([]);
  }
  expect((await recording(tabs[0]!)).status).toMatchObject({ state: "live", connection: 2 });
});

test("FLUSHALL: every tab gets an EPOCH reset within one heartbeat on the same stream, then the topic goes on", async ({ context }) => {
  const c = (cluster = await startCluster({ nodes: 2, heartbeatMs: HEARTBEAT_MS }));
  const tabs = await liveTabs(context, c, "flush", TABS);
  await publish(c.nodes[0]!.url, "flush", 5);
  for (const tab of tabs) await waitForEvents(tab, "flush", 5);

  const flushedAt = Date.now();
  await c.redis.command("FLUSHALL");
  const took = await Promise.all(tabs.map(async (tab) => {
    await waitUntil(async () => (await resetsOf(tab, "flush")).includes("epoch@0"), { message: "an EPOCH reset" });
    return Date.now() - flushedAt;
  }));
  test.info().annotations.push({ type: "FLUSHALL → EPOCH reset in every tab (ms)", description: took.join(", ") });
  // One heartbeat (the node looks every half heartbeat), with room for a loaded 2-core machine.
  expect(Math.max(...took)).toBeLessThan(2 * HEARTBEAT_MS);

  await publish(c.nodes[1]!.url, "flush", 3);
  for (const tab of tabs) {
    await waitForEvents(tab, "flush", 8);
    expect((await received(tab, "flush")).map((e) => e.cursor)).toEqual(["1", "2", "3", "4", "5", "1", "2", "3"]);
    expect(await resetsOf(tab, "flush")).toEqual(["epoch@0"]);
  }
  expect((await recording(tabs[0]!)).status).toMatchObject({ state: "live", connection: 1 });
});

test("XTRIM below a tab's cursor: the tab resumes with a RETENTION reset, then what is retained", async ({ context }) => {
  const c = (cluster = await startCluster({ nodes: 2, heartbeatMs: HEARTBEAT_MS }));
  const tabs = await liveTabs(context, c, "trim", 2);
  await publish(c.nodes[0]!.url, "trim", 5);
  for (const tab of tabs) await waitForEvents(tab, "trim", 5);
  await sleep(300); // the processed cursor reaches IndexedDB (group commit)
  await Promise.all(tabs.map((tab) => tab.close()));

  await publish(c.nodes[1]!.url, "trim", 10);
  await c.redis.command("XTRIM", "{os:trim}:s", "MAXLEN", "3");
  const [again] = await openTabs(1, context, c.url, { topics: ["trim"] });
  await waitForLive(again!, ["trim"]);
  await waitForEvents(again!, "trim", 3);
  expect(await resetsOf(again!, "trim")).toEqual(["retention@12"]);
  expectCursors(await received(again!, "trim"), 13, 15);
});

test("Redis restarts without persistence: an EPOCH reset, no hang, no silent gap", async ({ context }) => {
  const c = (cluster = await startCluster({ nodes: 2, heartbeatMs: HEARTBEAT_MS }));
  const tabs = await liveTabs(context, c, "restart", TABS);
  await publish(c.nodes[0]!.url, "restart", 5);
  for (const tab of tabs) await waitForEvents(tab, "restart", 5);

  await c.redis.restart();
  for (const tab of tabs) await waitUntil(async () => (await resetsOf(tab, "restart")).includes("epoch@0"), { message: "an EPOCH reset" });
  await waitUntil(() => publish(c.nodes[1]!.url, "restart", 3).then(() => true, () => false), { message: "a publish after the restart" });
  for (const tab of tabs) {
    await waitForEvents(tab, "restart", 8);
    expect((await received(tab, "restart")).map((e) => e.cursor)).toEqual(["1", "2", "3", "4", "5", "1", "2", "3"]);
    await waitForLive(tab, ["restart"]);
  }
});

test("a publish whose answer was lost, retried through the other node, lands once", async ({ context }) => {
  const c = (cluster = await startCluster({ nodes: 2, heartbeatMs: HEARTBEAT_MS }));
  const proxy = await answerLosingProxy(c);
  try {
    const tabs = await openTabs(2, context, proxy.url, { topics: ["once"] });
    for (const tab of tabs) await waitForLive(tab, ["once"]);
    const cursor = await tabs[0]!.evaluate(async () => String((await window.onestream!.publish("once", new TextEncoder().encode("hello"))).cursor));
    expect(cursor).toBe("1");
    expect(proxy.publishes).toEqual({ lost: 1, retried: 1 });
    for (const tab of tabs) {
      await waitForEvents(tab, "once", 1);
      await sleep(200);
      expect((await received(tab, "once")).map((e) => `${e.cursor}:${e.payload}`)).toEqual(["1:hello"]);
    }
    expect((await stats(c.nodes[0]!.url)).publishes + (await stats(c.nodes[1]!.url)).publishes).toBe(1);
  } finally {
    await proxy.close();
  }
});

/**
 * Streams and preflights go to nginx; the first Publish goes to node 1, which appends it, and its
 * answer is thrown away (the connection is cut); every later Publish goes to node 2.
 */
async function answerLosingProxy(c: Cluster): Promise<{ url: string; publishes: { lost: number; retried: number }; close(): Promise<void> }> {
  const publishes = { lost: 0, retried: 0 };
  const server = http.createServer((req, res) => {
    const isPublish = req.method === "POST" && (req.url ?? "").endsWith("/Publish");
    const lose = isPublish && publishes.lost === 0;
    if (isPublish) publishes[lose ? "lost" : "retried"]++;
    const target = new URL(req.url ?? "/", isPublish ? c.nodes[lose ? 0 : 1]!.url : c.url);
    const upstream = http.request(target, { method: req.method, headers: req.headers }, (answer) => {
      if (lose) {
        answer.resume();
        answer.once("end", () => req.socket.destroy());
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    publishes,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
