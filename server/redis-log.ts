// The shared log: a TopicLog on Redis Streams, so that several server nodes behind a load
// balancer serve the same topics (the shape of Centrifugo's Redis engine: offset + epoch per
// channel). Every write is one Lua script on one topic (redis-scripts.ts); every node follows
// the topics its streams want on one subscriber connection (redis-feed.ts). Epochs are per
// topic: losing a topic's data (FLUSHALL, a restart without persistence, an evicted key, a
// failover to a replica that lagged) gives that topic a new epoch, and its streams an EPOCH
// reset, while every other topic goes on.
//
// Client: ioredis (see the README: one package with its types, scripts by EVALSHA with the
// NOSCRIPT fallback a restarted Redis needs, and resubscription after a reconnect).
import { create } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { EventSchema, type Event } from "../proto/gen/onestream/v1/stream_pb";
import { knob } from "./knobs";
import {
  logLimits,
  newEvent,
  type MemoryLogOptions,
  type TopicLog,
} from "./log";
import { TopicFeed } from "./redis-feed";
import { APPEND, BOUNDS, CHECK, READ } from "./redis-scripts";

export interface RedisLogOptions extends Omit<MemoryLogOptions, "every"> {
  /** "redis://host:port[/db]" (or "rediss://…"). */
  url: string;
  /** Names this node in /admin/stats. Default: a random id. */
  nodeId?: string;
  /** Key prefix, so several logs can share one Redis. Default "os". */
  prefix?: string;
  /** How often a node looks at the epoch and head of the topics it serves (ms). */
  checkMs?: number;
}

/** How often a node looks at its topics by default: a lost topic is noticed within this. */
export const DEFAULT_CHECK_MS = 1000;
/** A topic's meta hash (epoch, head) outlives its events this long after the last append. */
export const META_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** The meta of a topic nobody published to lives this long after its last subscribe or check. */
export const EMPTY_META_TTL_MS = 60 * 60 * 1000;
/** Redis refuses commands while loading, and a node should not wait forever for a dead one. */
const CONNECT_TIMEOUT_MS = 5000;

type Reply = Buffer | number | null | Reply[];

interface Scripts {
  osAppendBuffer(...args: (string | Buffer | number)[]): Promise<Reply[]>;
  osReadBuffer(...args: (string | number)[]): Promise<Reply[]>;
  osBoundsBuffer(...args: (string | number)[]): Promise<Reply[]>;
  osCheck(...args: (string | number)[]): Promise<[string, string]>;
}

function connect(url: string, name: string): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    lazyConnect: true,
  });
  // Errors surface on the calls that hit them; a dropped connection must not crash the node.
  redis.on("error", () => {});
  return redis;
}

export async function createRedisLog(opts: RedisLogOptions): Promise<TopicLog> {
  const warnings: string[] = [];
  const { maxEvents, maxAgeMs, maxKeysPerPrincipal: maxKeys, keyMaxAgeMs } = logLimits(opts, warnings);
  const checkMs = knob("checkMs", opts.checkMs, { fallback: DEFAULT_CHECK_MS, min: 10, max: 60_000 }, warnings);
  for (const warning of warnings) console.warn(`onestream redis log: ${warning}`);
  const prefix = opts.prefix ?? "os";
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(prefix)) throw new RangeError(`prefix must be 1–32 of [A-Za-z0-9_.-], got ${JSON.stringify(prefix)}`);
  const now = opts.now ?? Date.now;
  const newEpoch = opts.newEpoch ?? (() => crypto.randomUUID());
  const nodeId = opts.nodeId ?? `node-${crypto.randomUUID().slice(0, 8)}`;
  const metaTtlMs = Math.max(META_TTL_MS, maxAgeMs);

  const cmd = connect(opts.url, `onestream:${nodeId}`);
  const sub = connect(opts.url, `onestream:${nodeId}:notices`);
  const close = async () => {
    cmd.disconnect();
    sub.disconnect();
  };
  try {
    await cmd.connect();
    await refuseEvicting(cmd);
    await sub.connect();
  } catch (err) {
    await close();
    throw err instanceof RangeError ? err : new Error(`cannot use Redis at ${redacted(opts.url)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  cmd.defineCommand("osAppend", { numberOfKeys: 4, lua: APPEND });
  cmd.defineCommand("osRead", { numberOfKeys: 2, lua: READ });
  cmd.defineCommand("osBounds", { numberOfKeys: 2, lua: BOUNDS });
  cmd.defineCommand("osCheck", { numberOfKeys: 2, lua: CHECK });
  const scripts = cmd as unknown as Scripts;

  const tag = (topic: string) => `{${prefix}:${topic}}`;
  const stream = (topic: string) => `${tag(topic)}:s`;
  const meta = (topic: string) => `${tag(topic)}:m`;
  const feed = new TopicFeed(
    {
      subscribe: (channel) => sub.subscribe(channel),
      unsubscribe: (channel) => sub.unsubscribe(channel),
      check: async (topic, seenEpoch, seenHead) => {
        const [epoch, head] = await scripts.osCheck(stream(topic), meta(topic), newEpoch(), EMPTY_META_TTL_MS, seenEpoch, seenHead.toString());
        return { epoch, head: BigInt(head) };
      },
    },
    (topic) => `${tag(topic)}:n`,
    maxAgeMs,
    now,
  );
  sub.on("messageBuffer", (channel: Buffer, message: Buffer) => feed.notice(channel.toString(), message));
  // Connected already, so "ready" means a reconnect: ioredis subscribes again, and what was
  // published meanwhile was never heard (the periodic check covers a notice lost in between).
  sub.on("ready", () => feed.recheckAll());
  const timer = setInterval(() => void feed.lookAll(), checkMs);
  timer.unref();

  return {
    epoch: () => "",

    async append(topic, payload, idempotency) {
      const key = idempotency?.key ?? "";
      const principal = idempotency?.principal ?? "";
      const at = now();
      const reply = await scripts.osAppendBuffer(
        stream(topic), meta(topic), `${tag(topic)}:k:${principal}`, `${tag(topic)}:a:${principal}`,
        Buffer.from(payload.buffer, payload.byteOffset, payload.length), at, newEpoch(), maxEvents, maxAgeMs,
        metaTtlMs, EMPTY_META_TTL_MS, `${tag(topic)}:n`, key, keyMaxAgeMs, maxKeys,
      );
      const cursor = BigInt(String(reply[1]));
      const duplicate = reply[2] === 1;
      if (!duplicate) return { event: newEvent(topic, cursor, payload, BigInt(at)), duplicate };
      const kept = reply[3] instanceof Buffer ? { payload: bytes(reply[3]), publishedAtMs: BigInt(String(reply[4])) } : {};
      return { event: create(EventSchema, { topic, cursor, ...kept }), duplicate };
    },

    async read(topic, after, limit) {
      const cached = limit > 0 ? feed.read(topic, after, limit) : undefined;
      if (cached) return cached;
      const reply = await scripts.osReadBuffer(stream(topic), meta(topic), after.toString(), Math.max(1, limit), now(), maxAgeMs, newEpoch(), EMPTY_META_TTL_MS);
      const events: Event[] = [];
      for (let i = 1; i + 2 < reply.length && limit > 0; i += 3) {
        events.push(newEvent(topic, cursorOf(reply[i]!), bytes(reply[i + 1] as Buffer), BigInt(String(reply[i + 2]))));
      }
      return { epoch: String(reply[0]), events };
    },

    async bounds(topic) {
      const [epoch, head, first] = await scripts.osBoundsBuffer(stream(topic), meta(topic), now(), maxAgeMs, newEpoch(), EMPTY_META_TTL_MS);
      const h = BigInt(String(head));
      return { epoch: String(epoch), head: h, earliest: first instanceof Buffer ? cursorOf(first) : h + 1n };
    },

    heads: () => feed.heads(),

    subscribe: (topics, listener) => feed.follow(topics, listener),

    async reset() {
      let cursor = "0";
      do {
        const [next, keys] = await cmd.scan(cursor, "MATCH", `{${prefix}:*`, "COUNT", 1000);
        if (keys.length > 0) await cmd.unlink(...keys);
        cursor = next;
      } while (cursor !== "0");
      await feed.lookAll();
    },

    usage: () => {
      const cached = feed.cached();
      return {
        kind: "redis",
        node: nodeId,
        topics: feed.heads().size,
        listenedTopics: feed.size,
        retainedEvents: cached.events,
        retainedBytes: cached.bytes,
        idempotencyKeys: 0,
      };
    },

    async close() {
      clearInterval(timer);
      await Promise.allSettled([cmd.quit(), sub.quit()]);
    },
  };
}

/**
 * An evicting Redis drops keys under memory pressure: a topic's meta hash or stream could
 * vanish at any time, and with it idempotency keys. Refused at start, with the fix.
 */
async function refuseEvicting(cmd: Redis): Promise<void> {
  const info = await cmd.info("memory");
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy !== undefined && policy !== "noeviction") {
    throw new RangeError(
      `Redis maxmemory-policy is "${policy}": it evicts keys, and an evicted topic loses its events and idempotency keys. ` +
        `Set "maxmemory-policy noeviction" (CONFIG SET maxmemory-policy noeviction, or in redis.conf)`,
    );
  }
}

function cursorOf(id: Reply): bigint {
  const text = String(id);
  return BigInt(text.slice(0, text.indexOf("-")));
}

/** A copy: a reply's Buffer may be a slice of a much larger socket buffer. */
function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b);
}

function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable url)";
  }
}
