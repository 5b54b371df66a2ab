// The e2e page for onestream over the foreign protocols of e2e/foreign/: a tab subscribes through
// a SharedWorker that serves watchdemo.v1 or listendemo.v1, and records what it gets exactly as
// the demo does (src/demo/record.ts), so e2e/helpers.ts reads it the same way.
// Query: ?protocol=watch|listen&server=URL&topics=a,b&user=u&since={"topic":"cursor"}
import { createClient, type Client } from "onestream";
import { createRecording, recordEvents, recordStatus } from "../../src/demo/record";

declare global {
  interface Window {
    /** Publishes through this tab's client; resolves with the cursor as a string. */
    __publish(topic: string, text: string): Promise<string>;
  }
}

const rec = createRecording();
const q = new URLSearchParams(location.search);
const protocol = q.get("protocol");
const topics = (q.get("topics") ?? "").split(",").filter((t) => t !== "");
const since = JSON.parse(q.get("since") ?? '"stored"') as "stored" | "now" | Record<string, string>;

const workers = {
  watch: (name: string) => new SharedWorker(new URL("./watch-worker.ts", import.meta.url), { type: "module", name }),
  listen: (name: string) => new SharedWorker(new URL("./listen-worker.ts", import.meta.url), { type: "module", name }),
};

try {
  if (protocol !== "watch" && protocol !== "listen") throw new Error(`?protocol= must be "watch" or "listen", got ${protocol}`);
  // Revisions are bigints (ordered), resume tokens strings (opaque).
  const cursor = (c: string) => (protocol === "watch" ? BigInt(c) : c);
  const client: Client<bigint | string> = createClient<bigint | string>({
    worker: workers[protocol],
    name: protocol,
    baseUrl: q.get("server") ?? undefined,
    user: q.get("user") ?? undefined,
  });
  client.onStatus((s) => recordStatus(rec, s));
  client.subscribe(topics, (events) => recordEvents(rec, events), {
    since: typeof since === "object" ? Object.fromEntries(Object.entries(since).map(([t, c]) => [t, cursor(c)])) : since,
    onLive: (live) => rec.live.push(...live),
    onReset: ({ topic, reason, resumeAfter }) => rec.resets.push({ topic, reason, resumeAfter: String(resumeAfter ?? "now") }),
  });
  window.__publish = async (topic, text) => String((await client.publish(topic, new TextEncoder().encode(text))).cursor);
  rec.ready = true;
} catch (e) {
  rec.startError = String(e);
}
