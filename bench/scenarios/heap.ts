// Figure: the SharedWorker's JS heap while it delivers 1 M events to 4 tabs, sampled over CDP
// (Runtime.getHeapUsage after HeapProfiler.collectGarbage, so we see retained memory, not
// garbage) every tenth of the events, once the tabs have received them. "Bounded" = the
// least-squares slope over the samples is small next to the heap itself.
import type { BenchContext } from "../lib/context";
import { pageFor, workerTitle } from "../lib/context";
import type { Row, ScenarioResult } from "../lib/report";
import { startBenchServer } from "../lib/server";
import { slope } from "../lib/stats";
import { openTabs, pollUntil } from "../lib/tabs";
import { attachSharedWorker } from "../lib/worker-cdp";
import { BENCH_RETENTION_EVENTS } from "./throughput";

const TABS = 4;
const SAMPLES = 10;
const PUBLISH_CHUNK = 100_000;
/**
 * A growth trend: the heap rose in at least this share of the steps after the first sample
 * (which carries warm-up: JIT, first buffers). Post-GC samples of a bounded heap go up and down.
 */
const TREND_STEP_SHARE = 0.8;
/**
 * ...and still rose this fast over the second half (8 KiB per 100 k events = under 8 MiB per
 * 100 M events): a rise that levels off is warm-up, not a leak.
 */
const TREND_BYTES_PER_100K = 8 * 1024;

export async function heap(ctx: BenchContext): Promise<ScenarioResult> {
  const total = ctx.config.heapEvents;
  const step = Math.ceil(total / SAMPLES);
  const server = await startBenchServer({ retention: { maxEvents: BENCH_RETENTION_EVENTS } });
  const xs: number[] = [];
  const ys: number[] = [];
  try {
    const tabs = await openTabs(ctx.browser, pageFor(ctx, "onestream", server.url), TABS);
    try {
      await tabs.start({ serverUrl: server.url, topics: ["heap"], keepLatencies: false });
      await pollUntil(async () => ((await tabs.snapshots()).every((s) => s.ready) ? true : undefined), 15_000, "tabs live");
      const worker = await attachSharedWorker(ctx.browser, workerTitle("on"));
      try {
        xs.push(0);
        ys.push(await worker.heapAfterGc());
        for (let sent = 0; sent < total; ) {
          const target = Math.min(total, sent + step);
          for (; sent < target; sent += PUBLISH_CHUNK) await server.publish("heap", "h", Math.min(PUBLISH_CHUNK, target - sent));
          sent = target;
          await pollUntil(
            async () => {
              const snaps = await tabs.snapshots();
              const err = snaps.find((x) => x.error);
              if (err) throw new Error(`tab error: ${err.error}`);
              return snaps.every((x) => x.count >= target) ? true : undefined;
            },
            120_000,
            `${target.toLocaleString("en")} events delivered to ${TABS} tabs`,
            50,
          );
          xs.push(target);
          ys.push(await worker.heapAfterGc());
          ctx.log(`heap after ${target.toLocaleString("en")} events: ${(ys.at(-1)! / 2 ** 20).toFixed(2)} MiB`);
        }
      } finally {
        await worker.detach();
      }
    } finally {
      await tabs.close();
    }
  } finally {
    await server.close();
  }
  const mib = (b: number): string => (b / 2 ** 20).toFixed(2);
  // Shown: the slope over the second half, far from warm-up. Judged: the steps after the first
  // sample (0 events, before any warm-up), see TREND_STEP_SHARE.
  const half = Math.floor(xs.length / 2);
  const perStep = slope(xs.slice(half), ys.slice(half)) * 100_000;
  const perStepAll = slope(xs.slice(1), ys.slice(1)) * 100_000;
  const afterWarmup = ys.slice(1);
  const steps = Math.max(0, afterWarmup.length - 1);
  const ups = afterWarmup.slice(1).filter((y, i) => y > afterWarmup[i]!).length;
  const growing = steps > 0 && ups >= TREND_STEP_SHARE * steps && perStep >= TREND_BYTES_PER_100K;
  const row: Row = {
    figure: `worker heap after ${(total / 1e6).toFixed(1)} M events (${TABS} tabs)`,
    onestream: `${mib(ys.at(-1) ?? Number.NaN)} MiB after; start ${mib(ys[0] ?? Number.NaN)} MiB; range ${mib(Math.min(...ys))}–${mib(Math.max(...ys))} MiB; trend ${(perStep / 1024).toFixed(1)} KiB per 100 k (2nd half)`,
    plain: "—",
    goal: "bounded, no growth trend",
    verdict: growing
      ? `NOT met — grew in ${ups} of ${steps} steps after warm-up, ${(perStep / 1024).toFixed(1)} KiB per 100 k events over the second half (≈ ${(perStep / 100_000).toFixed(2)} bytes per event); a heap-snapshot diff is the next step`
      : `met — second-half slope ${(perStep / 1024).toFixed(1)} KiB per 100 k events (< ${TREND_BYTES_PER_100K / 1024} KiB), rose in ${ups} of ${steps} steps`,
  };
  return {
    rows: [row],
    details: [
      "## Worker heap",
      "",
      `${TABS} tabs, one topic, ${total.toLocaleString("en")} events in chunks of ${PUBLISH_CHUNK.toLocaleString("en")}; after every ${step.toLocaleString("en")} events are`,
      "delivered to all tabs: `HeapProfiler.collectGarbage` then `Runtime.getHeapUsage` on the shared_worker target.",
      `Slope after the first sample (warm-up): ${(perStepAll / 1024).toFixed(1)} KiB per 100 k events; over the second half: ${(perStep / 1024).toFixed(1)} KiB.`,
      `A trend = the heap rose in ≥ ${TREND_STEP_SHARE * 100} % of the steps after warm-up AND by ≥ ${TREND_BYTES_PER_100K / 1024} KiB per 100 k events over the second half (a rise that levels off is warm-up).`,
      "One run (each sample is its own measurement; the trend is the figure).",
      "",
      "| events | used heap after GC (MiB) |",
      "|---|---|",
      ...xs.map((x, i) => `| ${x.toLocaleString("en")} | ${mib(ys[i]!)} |`),
      "",
    ].join("\n"),
  };
}
