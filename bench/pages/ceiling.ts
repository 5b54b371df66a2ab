// Page side of the ceiling measurement: counts batches from ceiling-worker.ts with the same
// Recorder as the other bench pages.
import type { CeilingPageApi } from "./api";
import { Recorder } from "./recorder";

const recorder = new Recorder();
let port: MessagePort | undefined;

const api: CeilingPageApi = {
  connect() {
    const worker = new SharedWorker(new URL("./ceiling-worker.ts", import.meta.url), { type: "module", name: "bench-ceiling" });
    port = worker.port;
    return new Promise<void>((resolve) => {
      worker.port.onmessage = (m: MessageEvent<unknown>) => {
        if (m.data === "connected") return resolve();
        const events = m.data as { publishedAt: number }[];
        recorder.batch(events.length, (i) => events[i]!.publishedAt);
      };
    });
  },
  run(total, batch) {
    port?.postMessage({ total, batch });
  },
  snapshot: () => recorder.snapshot(port !== undefined),
};
(window as unknown as { bench: CeilingPageApi }).bench = api;
