// A node's feed without Redis (a hand-driven backend): the cache answers only inside one
// contiguous run of one epoch (a gap or a new epoch starts a new run, reads outside it go to
// Redis), listeners get every new event with its payload once, a check that finds the epoch or
// head moved without a notice makes them read again, and the cache stays within its budget
// however many topics the node follows.
import { describe, expect, it } from "vitest";
import type { LogListener } from "./log";
import { CACHE_TOTAL_BYTES, TopicFeed, type FeedBackend } from "./redis-feed";

function backend() {
  const state = new Map<string, { epoch: string; head: bigint }>();
  const b: FeedBackend = {
    subscribe: async () => undefined,
    unsubscribe: async () => undefined,
    check: async (topic) => state.get(topic) ?? { epoch: "e1", head: 0n },
  };
  return { b, state };
}

const notice = (epoch: string, cursor: number, payload: Uint8Array | string = "p") =>
  Buffer.concat([Buffer.from(`${epoch}\n${cursor}\n1000\n`), Buffer.from(payload)]);

function listener() {
  const seen: string[] = [];
  const rechecks: string[] = [];
  const l: LogListener = { appended: (e) => seen.push(`${e.topic}:${e.cursor}:${e.payload.length}`), recheck: (t) => rechecks.push(t) };
  return { l, seen, rechecks };
}

describe("a node's topic feed", () => {
  it("serves reads from one contiguous run of one epoch, and nothing outside it", async () => {
    const { b } = backend();
    const feed = new TopicFeed(b, (t) => `ch:${t}`, 60_000, () => 1000);
    const on = listener();
    await feed.follow(["t"], on.l);
    for (const c of [1, 2, 3]) feed.notice("ch:t", notice("e1", c, "abc"));
    feed.notice("ch:t", notice("e1", 2)); // seen: ignored
    expect(on.seen).toEqual(["t:1:3", "t:2:3", "t:3:3"]);
    expect(feed.read("t", 1n, 10)?.events.map((e) => e.cursor)).toEqual([2n, 3n]);
    expect(feed.read("t", 0n, 1)?.events.map((e) => e.cursor)).toEqual([1n]);
    expect(feed.read("t", 3n, 10)).toEqual({ epoch: "e1", events: [] });
    feed.notice("ch:t", notice("e1", 6)); // a gap: a new run from 6
    expect(feed.read("t", 3n, 10)).toBeUndefined();
    expect(feed.read("t", 5n, 10)?.events.map((e) => e.cursor)).toEqual([6n]);
    feed.notice("ch:t", notice("e2", 1)); // another epoch: a new run, under it
    expect(feed.read("t", 0n, 10)).toMatchObject({ epoch: "e2", events: [{ cursor: 1n }] });
    expect(feed.read("x", 0n, 10)).toBeUndefined();
  });

  it("makes listeners read again when a check finds the epoch or the head moved without a notice", async () => {
    const { b, state } = backend();
    const feed = new TopicFeed(b, (t) => `ch:${t}`, 60_000, () => 1000);
    const on = listener();
    state.set("t", { epoch: "e1", head: 2n });
    await feed.follow(["t"], on.l);
    await feed.lookAll();
    expect(on.rechecks).toEqual([]);
    state.set("t", { epoch: "e1", head: 3n }); // a notice was missed
    await feed.lookAll();
    state.set("t", { epoch: "e9", head: 0n }); // flushed
    await feed.lookAll();
    expect(on.rechecks).toEqual(["t", "t"]);
  });

  it("keeps its cache within the node's budget however many topics it follows", async () => {
    const { b } = backend();
    const feed = new TopicFeed(b, (t) => `ch:${t}`, 60_000, () => 1000);
    const topics = Array.from({ length: 200 }, (_, i) => `t${i}`);
    await feed.follow(topics, listener().l);
    const MiB = new Uint8Array(1024 * 1024);
    for (const t of topics) feed.notice(`ch:${t}`, notice("e1", 1, MiB));
    expect(feed.cached().bytes).toBeLessThanOrEqual(CACHE_TOTAL_BYTES);
    expect(feed.cached().bytes).toBeGreaterThan(CACHE_TOTAL_BYTES / 2);
  });
});
