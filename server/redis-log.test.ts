// The Redis log on a real redis-server (started here on a free port, persistence off, stopped at
// the end): the log contract, then what only a shared log has to get right: an evicting Redis
// refused at start, notices across nodes, a retry on another node still a duplicate, a flushed
// topic noticed without any publish (new epoch, listeners told), a lost subscriber connection
// (notices missed → read again), and a head that went backwards (a failover that lost events)
// turned into a new epoch.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LogListener, TopicLog } from "./log";
import { bytes, logContract, until, type LogOptions } from "./log.contract";
import { createRedisLog, type RedisLogOptions } from "./redis-log";
import { redisAvailable, REDIS_SERVER_PATH, startRedis, type TestRedis } from "./test-redis";

let redis: TestRedis;
let prefixes = 0;
const logs: TopicLog[] = [];

beforeAll(async () => {
  redis = await startRedis();
}, 20_000);
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  await Promise.all(logs.splice(0).map((log) => log.close()));
});

/** A log in a keyspace of its own (a fresh prefix), like a fresh deployment. */
const fresh = (opts: LogOptions = {}) => createRedisLog({ url: redis.url, prefix: `t${++prefixes}`, ...opts });

/** Several nodes on one keyspace. */
async function nodes(n: number, opts: Partial<RedisLogOptions> = {}): Promise<TopicLog[]> {
  const prefix = `t${++prefixes}`;
  const made = await Promise.all(Array.from({ length: n }, (_, i) => createRedisLog({ url: redis.url, prefix, nodeId: `n${i + 1}`, ...opts })));
  logs.push(...made);
  return made;
}

function listener() {
  const appended: string[] = [];
  const rechecks: string[] = [];
  const l: LogListener = { appended: (e) => appended.push(`${e.topic}:${e.cursor}`), recheck: (t) => rechecks.push(t) };
  return { l, appended, rechecks };
}

describe.skipIf(!redisAvailable())(`redis log (${REDIS_SERVER_PATH})`, () => {
  describe("the log contract", () => {
    logContract(async (opts) => ({ log: await fresh(opts) }), { propertyRuns: 40 });
  });

  it("refuses an evicting Redis at start, saying how to fix it", async () => {
    const evicting = await startRedis(["--maxmemory-policy", "allkeys-lru"]);
    try {
      await expect(createRedisLog({ url: evicting.url })).rejects.toThrow(/maxmemory-policy is "allkeys-lru".*noeviction/);
    } finally {
      await evicting.stop();
    }
  });

  it("says which log it is and which node", async () => {
    const [n1] = await nodes(1, { nodeId: "n-stats" });
    expect(n1!.usage()).toMatchObject({ kind: "redis", node: "n-stats" });
    expect(n1!.epoch()).toBe("");
  });

  it("fans an append on one node out to the listeners on another, payload included", async () => {
    const [n1, n2] = await nodes(2);
    const on2 = listener();
    await n2!.subscribe(["room"], on2.l);
    await n1!.append("room", bytes("hi"));
    await n1!.append("room", bytes("there"));
    await until("two notices on n2", () => on2.appended.length === 2);
    expect(on2.appended).toEqual(["room:1", "room:2"]);
    expect((await n2!.read("room", 0n, 10)).events.map((e) => new TextDecoder().decode(e.payload))).toEqual(["hi", "there"]);
  });

  it("recognises a retry that lands on another node", async () => {
    const [n1, n2] = await nodes(2);
    const first = await n1!.append("t", bytes("once"), { principal: "alice", key: "k1" });
    const retry = await n2!.append("t", bytes("once"), { principal: "alice", key: "k1" });
    expect(retry).toMatchObject({ duplicate: true, event: { cursor: first.event.cursor } });
    expect((await n2!.bounds("t")).head).toBe(1n);
  });

  it("notices a FLUSHALL with nobody publishing: a new epoch, and the listeners read again", async () => {
    const [n1] = await nodes(1, { checkMs: 50 });
    await n1!.append("lost", bytes("x"));
    const before = await n1!.bounds("lost");
    const on1 = listener();
    await n1!.subscribe(["lost"], on1.l);
    await redis.command("FLUSHALL");
    await until("a recheck", () => on1.rechecks.includes("lost"));
    const after = await n1!.bounds("lost");
    expect(after.epoch).not.toBe(before.epoch);
    expect(after).toMatchObject({ head: 0n, earliest: 1n });
    expect((await n1!.append("lost", bytes("y"))).event.cursor).toBe(1n);
  });

  it("reads again after its notice connection dropped (notices sent meanwhile were missed)", async () => {
    const [n1, n2] = await nodes(2, { checkMs: 60_000 });
    const on2 = listener();
    await n2!.subscribe(["t"], on2.l);
    await redis.command("CLIENT", "KILL", "TYPE", "pubsub");
    await n1!.append("t", bytes("during"));
    await until("a recheck after the reconnect", () => on2.rechecks.includes("t"), 8000);
    expect((await n2!.read("t", 0n, 10)).events.map((e) => e.cursor)).toEqual([1n]);
  });

  it("turns a head that went backwards in the same epoch into a new epoch (a failover lost events)", async () => {
    const [n1] = await nodes(1, { checkMs: 50 });
    const prefix = `t${prefixes}`;
    const on1 = listener();
    await n1!.subscribe(["f"], on1.l);
    for (let i = 0; i < 5; i++) await n1!.append("f", bytes(`${i}`));
    await until("five notices", () => on1.appended.length === 5);
    const before = await n1!.bounds("f");
    // What a replica that lagged by two events looks like after it was promoted.
    await redis.command("HSET", `{${prefix}:f}:m`, "h", "3");
    await redis.command("XTRIM", `{${prefix}:f}:s`, "MAXLEN", "3");
    await until("a recheck", () => on1.rechecks.includes("f"));
    const after = await n1!.bounds("f");
    expect(after.epoch).not.toBe(before.epoch);
    expect(after.head).toBe(3n);
  });

  it("works again after Redis restarted empty: the topic starts over in a new epoch", async () => {
    const own = await startRedis();
    const log = await createRedisLog({ url: own.url });
    logs.push(log);
    try {
      await log.append("t", bytes("a"));
      await own.restart();
      // Persistence off: the restarted Redis is empty, so the topic starts a new epoch. The first
      // call may meet the connection still coming back.
      const again = await log.append("t", bytes("b")).catch(async () => log.append("t", bytes("b")));
      expect(again.event.cursor).toBe(1n);
    } finally {
      await log.close();
      logs.splice(logs.indexOf(log), 1);
      await own.stop();
    }
  });
});
