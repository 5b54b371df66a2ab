// One tab of the chaos suite (e2e/chaos/): an app that subscribes one subscription per topic
// since "stored", publishes numbered payloads at a steady pace, and reports every delivery,
// reset, status and publish outcome the moment it happens, to the recorder page (messages.ts
// says why that way). It holds no verdicts: the driver checks everything against the server's log.
import { createClient, workerName } from "../../src/index";
import type { Client, SubscriptionHandle } from "../../src/index";
import { RECORDER_CHANNEL, readPageQuery, type ChaosMessage, type ChaosPageApi } from "../chaos/messages";

type Unstamped<M> = M extends ChaosMessage ? Omit<M, "tab" | "at"> : never;

const config = readPageQuery(location.search);
const recorder = new BroadcastChannel(RECORDER_CHANNEL);

function report(m: Unstamped<ChaosMessage>): void {
  recorder.postMessage({ ...m, tab: config.tab, at: Date.now() } as ChaosMessage);
}

const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
addEventListener("error", (ev) => report({ t: "error", message: `uncaught: ${ev.message}` }));
addEventListener("unhandledrejection", (ev) => report({ t: "error", message: `unhandled rejection: ${describe(ev.reason)}` }));

/** The client name: every chaos tab shares one worker or one leader. */
const NAME = "chaos";
const makeWorker = (name: string) =>
  new SharedWorker(new URL("../../worker/shared-worker.ts", import.meta.url), { type: "module", name });
// Made at load, so the driver can watch its network before the client's first request
// (e2e/chaos/upstream.ts); the client gets this one, and makes its own after that.
let early = config.mode === "shared" ? makeWorker(workerName(NAME)) : undefined;

let client: Client;
function start(): void {
  client = createClient({
    worker: (name: string) => {
      const w = early ?? makeWorker(name);
      early = undefined;
      return w;
    },
    baseUrl: config.server,
    name: NAME,
    // Each mode is exactly one path: never a silent fallback from the SharedWorker.
    fallback: config.mode === "fallback" ? "leader" : "none",
  });
  client.onStatus((s) =>
    report({
      t: "status",
      state: s.state,
      connection: s.connection,
      role: s.role,
      serverEpoch: s.serverEpoch,
      ...(s.lastError ? { lastError: `${s.lastError.code}: ${s.lastError.message}` } : {}),
    }),
  );
  for (const t of config.topics) join(t);
  startPublishing();
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const subs = new Map<string, { id: number; handle: SubscriptionHandle }>();
let nextSub = 0;

function join(topic: string): void {
  if (subs.has(topic)) return;
  const sub = ++nextSub;
  report({ t: "join", sub, topic });
  const handle = client.subscribe(
    [topic],
    (events) => report({ t: "events", sub, topic, items: events.map((e) => [String(e.cursor), decoder.decode(e.payload)]) }),
    {
      since: "stored",
      onLive: () => report({ t: "live", sub, topic }),
      onReset: (r) => report({ t: "reset", sub, topic, reason: r.reason, resumeAfter: r.resumeAfter?.toString() }),
      onError: (e) => report({ t: "error", message: `subscription ${topic}: ${describe(e)}` }),
    },
  );
  subs.set(topic, { id: sub, handle });
}

function leave(topic: string): void {
  const s = subs.get(topic);
  if (s === undefined) return;
  subs.delete(topic);
  s.handle.unsubscribe();
  report({ t: "leave", sub: s.id, topic });
}

let published = 0;
let pending = 0;
let turn = 0;

/** One publish of a payload no other publish in the run has: "p:<tab>:<n>". */
function publishOne(topic: string): void {
  const payload = `p:${config.tab}:${++published}`;
  report({ t: "publish", phase: "requested", topic, payload });
  pending++;
  const sent = client.publish(topic, encoder.encode(payload));
  sent.durable.then(
    () => report({ t: "publish", phase: "durable", topic, payload }),
    () => {}, // the result says why
  );
  sent.then(
    ({ cursor }) => {
      pending--;
      report({ t: "publish", phase: "accepted", topic, payload, cursor: String(cursor) });
    },
    (e: unknown) => {
      pending--;
      report({ t: "publish", phase: "rejected", topic, payload, error: describe(e) });
    },
  );
}

/** The next topic in turn among those held; undefined when none. */
function nextTopic(): string | undefined {
  const held = [...subs.keys()].sort();
  return held.length === 0 ? undefined : held[turn++ % held.length];
}

let steady: ReturnType<typeof setInterval> | undefined;
let stopped = false;
function startPublishing(): void {
  if (config.publishEveryMs === 0) return;
  // Tabs opened together would otherwise publish in lockstep.
  setTimeout(() => {
    if (stopped) return;
    steady = setInterval(() => {
      const topic = nextTopic();
      if (topic !== undefined) publishOne(topic);
    }, config.publishEveryMs);
  }, Math.random() * config.publishEveryMs);
}

const api: ChaosPageApi = {
  start,
  join,
  leave,
  burst(n) {
    for (let i = 0; i < n; i++) {
      const topic = nextTopic();
      if (topic !== undefined) publishOne(topic);
    }
  },
  stopPublishing() {
    stopped = true;
    clearInterval(steady);
  },
  pendingPublishes: () => pending,
};
(window as unknown as { chaos: ChaosPageApi }).chaos = api;
