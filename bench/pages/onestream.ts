// The onestream side of every figure: this tab gets its events from the SharedWorker through
// the public client API, exactly as an app would. `?persist=off` and `?persist=timed` load the
// bench's own worker (bench-worker.ts): the same host and engine with an in-memory cursor store,
// or with the IndexedDB store timed call by call.
import { createClient } from "../../src/index";
import { CLIENT_NAMES, now, type OnestreamPageApi, type StatusMark } from "./api";
import { Recorder } from "./recorder";

const recorder = new Recorder();
const marks: StatusMark[] = [];
let live = false;
let error: string | undefined;
let lastOnline = Number.NaN;
let overflows = 0;

addEventListener("online", () => {
  lastOnline = now();
});

/**
 * Has the driver POST a fault: admin never answers a web page, so the scenario exposes
 * `benchFault` (Playwright's exposeFunction) and the page calls it.
 */
async function postFault(body: Record<string, unknown>): Promise<void> {
  const benchFault = (window as unknown as { benchFault?: (b: Record<string, unknown>) => Promise<void> }).benchFault;
  if (!benchFault) throw new Error("the bench driver exposed no benchFault to this page");
  await benchFault(body);
}

/** "on" (the repo's worker), "off" or "timed" (bench-worker.ts). */
const persistParam = new URLSearchParams(location.search).get("persist");
const persist: keyof typeof CLIENT_NAMES = persistParam === "off" || persistParam === "timed" ? persistParam : "on";

const api: OnestreamPageApi = {
  async start({ serverUrl, topics, keepLatencies }) {
    recorder.keepLatencies = keepLatencies;
    const client = createClient({
      // Vite bundles only the literal `new SharedWorker(new URL(...))` form, hence two branches.
      worker:
        persist === "on"
          ? (name: string) => new SharedWorker(new URL("../../worker/shared-worker.ts", import.meta.url), { type: "module", name })
          : (name: string) => new SharedWorker(new URL("./bench-worker.ts", import.meta.url), { type: "module", name }),
      name: CLIENT_NAMES[persist],
      baseUrl: serverUrl,
    });
    client.onStatus((s) => {
      if (s.resyncing && !marks.at(-1)?.resyncing) overflows++;
      marks.push({
        at: now(),
        state: s.state,
        connection: s.connection,
        resyncing: s.resyncing,
        ...(s.lastError ? { lastError: `${s.lastError.code}: ${s.lastError.message}` } : {}),
      });
    });
    client.subscribe(
      topics,
      (events) => recorder.batch(events.length, (i) => events[i]!.publishedAt),
      {
        onLive: () => {
          live = true;
        },
        onReset: (r: unknown) => {
          error = `unexpected reset ${JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`;
        },
      },
    );
  },
  snapshot: () => ({ ...recorder.snapshot(live, error), overflows }),
  latencies: () => recorder.samples,
  statuses: () => marks,
  onlineAt: () => lastOnline,
  async fault(body) {
    const t0 = now();
    await postFault(body);
    return t0;
  },
  faultOnNextEvent(body) {
    return new Promise<number>((resolve, reject) => {
      recorder.onNextBatch = (at) => postFault(body).then(() => resolve(at), reject);
    });
  },
};
(window as unknown as { bench: OnestreamPageApi }).bench = api;
