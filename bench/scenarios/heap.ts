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
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diffClasses, parseHeap, retainerPath, type ClassDelta, type Heap, type HeapSnapshotJson } from "../lib/heap-snapshot";

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
/** The early heap snapshot is taken after this many samples (past warm-up), the late one at the end. */
const EARLY_SNAPSHOT_SAMPLE = 2;
/** Classes listed from the snapshot diff, and how many of them get a retainer path. */
const DIFF_ROWS = 10;
const PATHS = 3;

/** Resource-timing entries in the worker by initiator type and URL path (query stripped). */
const RESOURCE_ENTRIES_JS = `JSON.stringify(performance.getEntriesByType("resource").reduce((m, e) => {
  const k = e.initiatorType + " " + new URL(e.name).pathname;
  m[k] = (m[k] || 0) + 1;
  return m;
}, {}))`;

interface Snapshots {
  earlyAt: number;
  lateAt: number;
  early: Heap;
  late: Heap;
  files: string[];
}

async function snapshot(worker: { takeHeapSnapshot(): Promise<string> }, label: string, files: string[]): Promise<Heap> {
  const text = await worker.takeHeapSnapshot();
  // Kept for DevTools (Memory → Load): the diff below is the summary, the files are the evidence.
  const file = join(tmpdir(), `onestream-worker-${label}.heapsnapshot`);
  await writeFile(file, text);
  files.push(file);
  return parseHeap(JSON.parse(text) as HeapSnapshotJson);
}

export async function heap(ctx: BenchContext): Promise<ScenarioResult> {
  const total = ctx.config.heapEvents;
  const step = Math.ceil(total / SAMPLES);
  const server = await startBenchServer({ retention: { maxEvents: BENCH_RETENTION_EVENTS } });
  const xs: number[] = [];
  const ys: number[] = [];
  const files: string[] = [];
  let snaps: Snapshots | undefined;
  let early: { at: number; heap: Heap } | undefined;
  let resources: Record<string, number> = {};
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
          // Snapshots after the sample, so the sample itself is not affected by the profiler.
          if (xs.length - 1 === EARLY_SNAPSHOT_SAMPLE) early = { at: target, heap: await snapshot(worker, "early", files) };
        }
        if (early) snaps = { earlyAt: early.at, lateAt: total, early: early.heap, late: await snapshot(worker, "late", files), files };
        // PerformanceResourceTiming objects are the worker's resource-timing buffer: which requests made them.
        const { result } = await worker.send<{ result: { value: string } }>("Runtime.evaluate", {
          expression: RESOURCE_ENTRIES_JS,
          returnByValue: true,
        });
        resources = JSON.parse(result.value) as Record<string, number>;
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
  const diff = snaps ? diffClasses(snaps.early, snaps.late) : [];
  const grew = diff.filter((d) => d.bytesAfter > d.bytesBefore);
  const per100k = (bytes: number): number => (snaps ? (bytes / (snaps.lateAt - snaps.earlyAt)) * 100_000 : Number.NaN);
  const liveDelta = diff.reduce((sum, d) => sum + d.bytesAfter - d.bytesBefore, 0);
  // V8 code-space objects (JIT-compiled code, bytecode tables, feedback) grow as hot functions
  // tier up — a bounded set of functions, not data — so they are reported apart from the rest.
  const isCode = (d: ClassDelta): boolean => d.className.startsWith("(code)");
  const delta = (ds: ClassDelta[]): number => ds.reduce((sum, d) => sum + d.bytesAfter - d.bytesBefore, 0);
  const codeDelta = delta(diff.filter(isCode));
  const dataDelta = delta(diff.filter((d) => !isCode(d)));
  const dataGrew = grew.filter((d) => !isCode(d));
  const leak = snaps !== undefined && per100k(dataDelta) >= TREND_BYTES_PER_100K;
  const paths = snaps
    ? [...grew.filter(isCode).slice(0, 1), ...dataGrew.slice(0, PATHS - 1)].map((d) => ({
        d,
        path: retainerPath(snaps!.early, snaps!.late, d.className),
      }))
    : [];
  const kib = (b: number): string => (b / 1024).toFixed(1);
  const describe = (d: ClassDelta): string =>
    `${d.className} ${d.countBefore} → ${d.countAfter} objects, +${kib(d.bytesAfter - d.bytesBefore)} KiB (${(per100k(d.bytesAfter - d.bytesBefore) / 1024).toFixed(1)} KiB per 100 k events)`;
  const finding = snaps
    ? grew.length
      ? `snapshot diff ${(snaps.earlyAt / 1e3).toFixed(0)} k → ${(snaps.lateAt / 1e3).toFixed(0)} k events: live objects +${kib(liveDelta)} KiB, ` +
        `of which V8 code (JIT tier-up) +${kib(codeDelta)} KiB, largest ${grew.filter(isCode).slice(0, 1).map(describe).join("") || "none"}; ` +
        `all other objects ${dataDelta >= 0 ? "+" : ""}${kib(dataDelta)} KiB (${(per100k(dataDelta) / 1024).toFixed(2)} KiB per 100 k events)` +
        (dataGrew.length ? `, largest ${describe(dataGrew[0]!)}` : "")
      : `snapshot diff ${(snaps.earlyAt / 1e3).toFixed(0)} k → ${(snaps.lateAt / 1e3).toFixed(0)} k events: no class grew`
    : "no snapshots";
  const row: Row = {
    figure: `worker heap after ${(total / 1e6).toFixed(1)} M events (${TABS} tabs)`,
    onestream: `${mib(ys.at(-1) ?? Number.NaN)} MiB after; start ${mib(ys[0] ?? Number.NaN)} MiB; range ${mib(Math.min(...ys))}–${mib(Math.max(...ys))} MiB; trend ${(perStep / 1024).toFixed(1)} KiB per 100 k (2nd half)`,
    plain: "—",
    goal: "bounded, no growth trend",
    verdict: leak
      ? `NOT met — objects other than code grew ${(per100k(dataDelta) / 1024).toFixed(1)} KiB per 100 k events between the snapshots; ${finding} (see Worker heap)`
      : growing && snaps
        ? `met — the used heap rose in ${ups} of ${steps} steps (${(perStep / 1024).toFixed(1)} KiB per 100 k events, 2nd half), but not from retained data: ${finding}`
        : growing
          ? `NOT met — grew in ${ups} of ${steps} steps after warm-up, ${(perStep / 1024).toFixed(1)} KiB per 100 k events over the second half (≈ ${(perStep / 100_000).toFixed(2)} bytes per event); ${finding} (see Worker heap)`
          : `met — second-half slope ${(perStep / 1024).toFixed(1)} KiB per 100 k events (< ${TREND_BYTES_PER_100K / 1024} KiB), rose in ${ups} of ${steps} steps; ${finding}`,
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
      ...(snaps
        ? [
            `Heap snapshots (\`HeapProfiler.takeHeapSnapshot\`, which collects garbage first) after ${snaps.earlyAt.toLocaleString("en")} and ${snaps.lateAt.toLocaleString("en")} events,`,
            "taken after that step's sample; live objects (strongly reachable from the GC roots) per class, as DevTools' Summary groups them,",
            `largest byte growth first. *new* = objects whose snapshot id the early snapshot lacks (allocated since and still alive). Live objects in all: +${kib(liveDelta)} KiB.`,
            "",
            "| class | objects early → late | new | self bytes early → late | growth per 100 k events |",
            "|---|---|---|---|---|",
            ...diff
              .slice(0, DIFF_ROWS)
              .map(
                (d) =>
                  `| \`${d.className.replace(/\|/g, "\\|")}\` | ${d.countBefore} → ${d.countAfter} | ${d.newObjects} | ${d.bytesBefore} → ${d.bytesAfter} | ${(per100k(d.bytesAfter - d.bytesBefore) / 1024).toFixed(2)} KiB |`,
              ),
            "",
            `Live objects in the code space (\`(code)\`: compiled code, bytecode offset tables, feedback vectors) +${kib(codeDelta)} KiB; all other objects ${dataDelta >= 0 ? "+" : ""}${kib(dataDelta)} KiB`,
            `(${(per100k(dataDelta) / 1024).toFixed(2)} KiB per 100 k events). A leak = other objects growing ≥ ${TREND_BYTES_PER_100K / 1024} KiB per 100 k events between the snapshots;`,
            "code grows while V8 tiers up hot functions (a fixed set of them), which is why the used-heap samples alone over-read growth.",
            "",
            "Shortest retainer path (GC roots → object) of a *new* object of the top growing code class and the top growing other classes:",
            "",
            ...paths.map(({ d, path }) => `- \`${d.className}\`: ${path ? `\`${path}\`` : "no new object of this class (the growth is in existing objects' sizes)"}`),
            "",
            `The worker's resource-timing buffer at the end (\`performance.getEntriesByType("resource")\`, one PerformanceResourceTiming per request; the browser stops adding at the buffer size, 250 by default): ${
              Object.entries(resources)
                .map(([k, n]) => `${n} × \`${k}\``)
                .join(", ") || "empty"
            }.`,
            "",
            `Snapshot files of this run: ${snaps.files.join(", ")} (load in DevTools → Memory).`,
            "",
          ]
        : []),
    ].join("\n"),
  };
}
