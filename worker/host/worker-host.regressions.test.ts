// Host regression tests, each against the real engine on the fake server, tabs over
// real MessagePorts: split subscriptions are all-or-nothing, a resync resubscribes only
// what the tab lost and from its exact cursors, a failed engine is replaced, a tab that
// connects again replaces its older connection.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { tabLockName } from "../../contract/protocol";
import { createWorld, rawTab, type RawTab, type World } from "./test-world";

let world: World;
afterEach(() => world?.dispose());

/** The tab was told that `topic` of subscription `sub` is live. */
const liveIn = (tab: RawTab, sub = 1, topic = "t") =>
  tab.batches.some((m) => m.deliveries.some(([s, d]) => s === sub && d.kind === "live" && d.topics.includes(topic)));

/** Lets the frozen `tab` resync after each overflow notice, as the client does. */
function resyncing(tab: RawTab): () => void {
  let handled = 0;
  return () => {
    const notice = tab.batches.filter((m) => m.overflow === true).at(-1);
    if (notice !== undefined && notice.seq > handled) {
      handled = notice.seq;
      void tab.control.resync(notice.seq);
    }
  };
}

describe("worker host: regressions", () => {
  it("a split subscription whose second half is refused leaves no topic in the stream", async () => {
    world = createWorld({ engine: { maxStreamTopics: 2 } });
    const host = world.newHost();
    const a = await rawTab(world, host);
    // "a" has a cursor, "b" and "c" start from "stored": two engine subscriptions; the second
    // would take the stream to 3 topics, over the limit of 2.
    await expect(a.control.subscribe(1, { topics: ["a", "b", "c"], since: { a: 0n } })).rejects.toMatchObject({ name: "RangeError" });
    await a.control.subscribe(2, { topics: ["x"], since: "now" });
    await world.until(() => liveIn(a, 2, "x"), "live");
    expect(world.server.streamTopics()).toEqual([["x"]]);
  });

  it("a resync resubscribes only the topic that lost events; the other loses nothing", async () => {
    world = createWorld();
    const host = world.newHost({ maxUnackedEvents: 100, maxBatchEvents: 50 });
    const tab = await rawTab(world, host);
    await tab.control.subscribe(1, { topics: ["t", "q"], since: "now" });
    await world.until(() => liveIn(tab), "live");
    tab.acking = false;
    for (let i = 0; i < 3; i++) {
      world.server.publish("t", 50);
      await world.flush();
    }
    await world.until(() => tab.batches.some((m) => m.overflow === true), "overflow on t");
    tab.acking = true;
    const resync = resyncing(tab);
    await world.until(() => {
      resync();
      return tab.events(1).filter((e) => e.topic === "t").length >= 150;
    }, "t caught up");
    world.server.publish("q", 3);
    await world.flush();
    world.server.publish("q", 2);
    world.server.publish("t", 1);
    const of = (topic: string) => tab.events(1).filter((e) => e.topic === topic).map((e) => Number(e.cursor));
    await world.until(() => of("q").length >= 5 && of("t").length >= 151, "q and t after the resync");
    expect(of("t")).toEqual(Array.from({ length: 151 }, (_, i) => i + 1));
    expect(of("q")).toEqual([1, 2, 3, 4, 5]);
    // q lost nothing, so its subscription ran on untouched: it was never resubscribed (which
    // would have started it again from "now") nor reported live a second time.
    const qLives = tab.batches.flatMap((m) => m.deliveries).filter(([, d]) => d.kind === "live" && d.topics.includes("q"));
    expect(qLives).toHaveLength(1);
  });

  it("a failed engine is replaced on that user's next subscribe, and every tab's subscriptions move to it", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = await rawTab(world, host);
    const b = await rawTab(world, host);
    world.server.rejectSubscribes(new ConnectError("topic secret is not yours", Code.PermissionDenied));
    await a.control.subscribe(1, { topics: ["t"], since: "now" });
    await world.until(() => b.batches.some((m) => m.status?.state === "failed"), "failed engine");
    expect(world.engines).toEqual(["u"]);
    // The next subscribe (another tab's) gets a fresh engine, which serves tab a's subscription too.
    await b.control.subscribe(1, { topics: ["t"], since: "now" });
    expect(world.engines).toEqual(["u", "u"]);
    await world.until(() => liveIn(a) && liveIn(b), "live again in both tabs");
    world.server.publish("t", 2);
    await world.until(() => a.events(1).length === 2 && b.events(1).length === 2, "events in both tabs");
    expect(world.server.openStreams).toBe(1);
  });

  it("a tab that connects after the failure gets a fresh engine too", async () => {
    world = createWorld();
    const host = world.newHost();
    const a = await rawTab(world, host);
    world.server.rejectSubscribes(new ConnectError("no", Code.PermissionDenied));
    await a.control.subscribe(1, { topics: ["t"], since: "now" });
    await world.until(() => a.batches.some((m) => m.status?.state === "failed"), "failed engine");
    const b = await rawTab(world, host);
    expect(world.engines).toEqual(["u", "u"]);
    await world.until(() => liveIn(a) && b.batches.some((m) => m.status?.state === "live"), "live again");
    world.server.publish("t", 1);
    await world.until(() => a.events(1).length === 1, "the old tab's subscription served again");
  });

  it("a tab that connects again replaces its older connection; an older one arriving late is refused", async () => {
    world = createWorld();
    const host = world.newHost();
    // One tab ("same") connecting three times; it holds its lock for its whole life.
    let release: () => void = () => {};
    await new Promise<void>((held) => void world.locks.request(tabLockName("same"), () => (held(), new Promise<void>((r) => (release = r)))));
    world.onDispose(() => release());
    const first = await rawTab(world, host, { init: { tabId: "same", attempt: 1 } });
    await first.control.subscribe(1, { topics: ["t"], since: "now" });
    await world.until(() => liveIn(first), "first connection live");

    const second = await rawTab(world, host, { init: { tabId: "same", attempt: 2 } });
    expect(host.tabCount()).toBe(1);
    await expect(first.control.subscribe(2, { topics: ["t"] })).rejects.toMatchObject({ name: "ClosedError" });
    await expect(rawTab(world, host, { init: { tabId: "same", attempt: 1 } })).rejects.toMatchObject({ name: "ClosedError" });
    expect(host.tabCount()).toBe(1);

    await second.control.subscribe(1, { topics: ["t"], since: "now" });
    await world.until(() => liveIn(second), "second connection live");
    world.server.publish("t", 3);
    await world.until(() => second.events(1).length === 3, "events on the newest connection");
    expect(first.events(1)).toEqual([]);
    expect(world.engines).toHaveLength(1);
    expect(world.server.openStreams).toBe(1);
  });
});
