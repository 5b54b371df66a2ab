// A lean app for the crash specs: ?server=URL&topics=a,b[&fallback=leader]. Its onEvents writes
// the last cursor it processed per topic to localStorage before returning, so whatever kills the
// tab afterwards, the spec knows exactly what the app had processed. `window.firstSeen` is the
// first cursor per topic this tab got (where a reopened tab resumed).
import { createClient } from "../../src/index";

declare global {
  interface Window {
    firstSeen: Record<string, string>;
    ready: boolean;
  }
}

const q = new URLSearchParams(location.search);
const fallback = q.get("fallback") === "leader" ? "leader" : "auto";
const client = createClient({
  worker: (name: string) => new SharedWorker(new URL("../../worker/shared-worker.ts", import.meta.url), { type: "module", name }),
  dedicatedWorker: (name: string) => new Worker(new URL("../../worker/shared-worker.ts", import.meta.url), { type: "module", name }),
  baseUrl: q.get("server")!,
  name: "processed",
  fallback,
});
window.firstSeen = {};
window.ready = false;
const topics = (q.get("topics") ?? "").split(",").filter((t) => t !== "");
client.subscribe(
  topics,
  (events) => {
    for (const e of events) {
      window.firstSeen[e.topic] ??= e.cursor.toString();
      const key = `processed:${e.topic}`;
      if (BigInt(localStorage.getItem(key) ?? "0") < e.cursor) localStorage.setItem(key, e.cursor.toString());
    }
  },
  { since: "stored", onLive: () => (window.ready = true) },
);
