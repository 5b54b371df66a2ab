// Reads what bench-worker.ts in "timed" mode measured — the duration of every cursor save (one
// IndexedDB transaction per delivered batch) — and summarizes it: the breakdown that tells how
// much of a delivery window the engine spent waiting for IndexedDB before it could deliver.
import type { Browser } from "@playwright/test";
import type { SaveTimings } from "../pages/bench-worker";
import { percentile } from "./stats";
import { attachSharedWorker } from "./worker-cdp";
import { workerTitle } from "./context";

export interface SaveReport {
  saves: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Sum of save durations / the window they fell in: the share of time a save was in flight. */
  busyShare: number;
}

export async function readSaveTimings(browser: Browser, from: number, to: number): Promise<SaveReport> {
  const worker = await attachSharedWorker(browser, workerTitle("timed"));
  try {
    const { result } = await worker.send<{ result: { value: string } }>("Runtime.evaluate", {
      expression: "JSON.stringify(globalThis.__benchSaves)",
      returnByValue: true,
    });
    const t = JSON.parse(result.value) as SaveTimings;
    const inWindow = t.durations.filter((_, i) => (t.starts[i] ?? 0) >= from && (t.starts[i] ?? 0) <= to);
    const busy = inWindow.reduce((s, d) => s + d, 0);
    return {
      saves: inWindow.length,
      p50Ms: percentile(inWindow, 50),
      p99Ms: percentile(inWindow, 99),
      maxMs: percentile(inWindow, 100),
      busyShare: to > from ? busy / (to - from) : Number.NaN,
    };
  } finally {
    await worker.detach();
  }
}

export function saveLine(r: SaveReport): string {
  return (
    `${r.saves} cursor saves (IndexedDB transactions); duration p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ` +
    `max ${r.maxMs.toFixed(1)} ms; a save was in flight ${(r.busyShare * 100).toFixed(0)} % of the window`
  );
}
