// Memory readings for the server's memory tests: a forced full collection first, so a figure is
// what is still referenced rather than what the collector has not reached yet. `buffers` is the
// memory of live ArrayBuffers (payloads, encoded frames, socket buffers): the precise figure for
// what the server holds; `heap` the JS heap; `rss` the whole process.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

export interface MemoryReading {
  heap: number;
  buffers: number;
  rss: number;
}

export async function settledMemory(): Promise<MemoryReading> {
  // Two rounds: ArrayBuffer backing stores are released by a sweeper after the first.
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, rss: m.rss };
}

export const MiB = 1024 * 1024;
