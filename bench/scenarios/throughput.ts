// Figures: sustained throughput delivered to 4 tabs (onestream vs plain per tab), the same with
// cursor persistence off (onestream only), and the ceiling — raw batched postMessage from a bare
// SharedWorker to 4 pages in the same browser. Delivered rate = events × tabs / (last receipt in
// any tab − first receipt in any tab). The server's own append rate is measured alongside: when
// delivery runs at the append rate, the server is the bound, not the client.
import { cpus } from "node:os";
import type { BrowserContext, Page } from "@playwright/test";
import type { BenchContext, Mode } from "../lib/context";
import { MODES, pageFor, QUIET_BELOW, QUIET_MAX_WAIT_MS, workerTitle } from "../lib/context";
import { fmt, fmtRate, type Row, type ScenarioResult } from "../lib/report";
import { startBenchServer, type BenchServer } from "../lib/server";
import { summarize, type Summary } from "../lib/stats";
import type { CeilingPageApi, Snapshot } from "../pages/api";
import { openTabs, pollUntil } from "../lib/tabs";
import { hotspotLines, hotspots, type CpuProfile, type Hotspot } from "../lib/profile";
import { attachSharedWorker } from "../lib/worker-cdp";
import { cpuLines, NOT_OURS, RENDERERS, SERVER } from "../lib/cpu";
import { readSaveTimings, saveLine, type SaveReport } from "../lib/saves";

const TABS = 4;
/**
 * Events per POST /admin/publish: large enough that HTTP round trips don't dominate the append
 * rate, small enough that one burst stays well under the host's default per-tab bound of 50 k
 * unacknowledged events (a bigger burst measures overflow + resync, not steady delivery).
 */
const PUBLISH_CHUNK = 20_000;
/**
 * Server retention per topic for these runs (a server option). With the default 10 k, a stream
 * lagging more than 10 k events behind the appends would get RETENTION resets mid-run.
 */
export const BENCH_RETENTION_EVENTS = 500_000;
/** Ceiling batch size: what FIELD-NOTES measured as the sweet spot (100–1000). */
const CEILING_BATCH = 500;
const DELIVERY_TIMEOUT_MS = 120_000;
/** V8 sampling interval for the profiled run (µs). */
const PROFILE_INTERVAL_US = 200;
const HOTSPOTS = 10;
/** Overflow-free on/off pairs needed for a paired persistence cost. */
const MIN_PAIRS = 3;

interface RunResult {
  deliveredPerS: number;
  appendedPerS: number;
  /** Tab queue overflows in the worker (each one a resync) during the run, all tabs. */
  overflows: number;
  /** Share of one core per process group while the events were appended and delivered. */
  cpu: Map<string, number>;
}

interface Profiles {
  worker: Hotspot[];
  tab: Hotspot[];
}

function deliveredRate(snaps: Snapshot[], total: number): number {
  const first = Math.min(...snaps.map((s) => s.firstAt));
  const last = Math.max(...snaps.map((s) => s.lastAt));
  return (total * snaps.length) / ((last - first) / 1000);
}

async function publishAll(server: BenchServer, topic: string, total: number): Promise<number> {
  const start = performance.now();
  for (let sent = 0; sent < total; sent += PUBLISH_CHUNK) {
    await server.publish(topic, "t", Math.min(PUBLISH_CHUNK, total - sent));
  }
  return total / ((performance.now() - start) / 1000);
}

/** One run: 4 tabs of `page` (onestream.html, onestream.html?persist=off, plain.html). */
async function oneRun(
  ctx: BenchContext,
  server: BenchServer,
  url: string,
  topic: string,
  total: number,
  extras: { profiles?: Profiles; saves?: (r: SaveReport) => void } = {},
): Promise<RunResult> {
  const { profiles } = extras;
  const t = await openTabs(ctx.browser, url, TABS);
  try {
    await t.start({ serverUrl: server.url, topics: [topic], keepLatencies: false });
    await pollUntil(async () => ((await t.snapshots()).every((s) => s.ready) ? true : undefined), 15_000, "tabs ready");
    await ctx.cpu.waitForQuiet(QUIET_BELOW, QUIET_MAX_WAIT_MS);
    const stopProfiling = profiles ? await startProfiling(ctx, t.context, t.pages[0]!) : undefined;
    const cpuMark = ctx.cpu.mark();
    const appendedPerS = await publishAll(server, topic, total);
    const snaps = await pollUntil(
      async () => {
        const s = await t.snapshots();
        const err = s.find((x) => x.error);
        if (err) throw new Error(`tab error: ${err.error}`);
        return s.every((x) => x.count >= total) ? s : undefined;
      },
      DELIVERY_TIMEOUT_MS,
      `${TABS} tabs × ${total} events`,
      50,
    );
    const cpu = ctx.cpu.since(cpuMark);
    if (extras.saves) {
      const first = Math.min(...snaps.map((x) => x.firstAt));
      extras.saves(await readSaveTimings(ctx.browser, first, Math.max(...snaps.map((x) => x.lastAt))));
    }
    if (profiles && stopProfiling) Object.assign(profiles, await stopProfiling());
    const overflows = snaps.reduce((n, x) => n + (x.overflows ?? 0), 0);
    return { deliveredPerS: deliveredRate(snaps, total), appendedPerS, overflows, cpu };
  } finally {
    await t.close();
    await server.waitFor((s) => s.activeStreams === 0, 10_000, "streams closed");
  }
}

/** Starts V8's sampling profiler in the SharedWorker and in one tab; the result stops both. */
async function startProfiling(ctx: BenchContext, context: BrowserContext, page: Page): Promise<() => Promise<Profiles>> {
  const worker = await attachSharedWorker(ctx.browser, workerTitle("on"));
  const tab = await context.newCDPSession(page);
  await worker.send("Profiler.enable");
  await worker.send("Profiler.setSamplingInterval", { interval: PROFILE_INTERVAL_US });
  await tab.send("Profiler.enable");
  await tab.send("Profiler.setSamplingInterval", { interval: PROFILE_INTERVAL_US });
  await worker.send("Profiler.start");
  await tab.send("Profiler.start");
  return async () => {
    const w = await worker.send<{ profile: CpuProfile }>("Profiler.stop");
    const p = (await tab.send("Profiler.stop")) as unknown as { profile: CpuProfile };
    await worker.detach();
    await tab.detach();
    return { worker: hotspots(w.profile, HOTSPOTS), tab: hotspots(p.profile, HOTSPOTS) };
  };
}

function scale(s: Summary, k: number): Summary {
  return { median: s.median * k, min: s.min * k, max: s.max * k, runs: s.runs };
}

function meanShares(rs: RunResult[]): Map<string, number> {
  const sum = new Map<string, number>();
  for (const r of rs) for (const [g, v] of r.cpu) sum.set(g, (sum.get(g) ?? 0) + v / rs.length);
  return sum;
}

async function ceilingRun(ctx: BenchContext, total: number): Promise<number> {
  const t = await openTabs(ctx.browser, `${ctx.pagesUrl}ceiling.html`, TABS);
  try {
    type W = { bench: CeilingPageApi };
    await Promise.all(t.pages.map((p) => p.evaluate(() => (window as unknown as W).bench.connect())));
    await t.pages[0]!.evaluate(([n, b]) => (window as unknown as W).bench.run(n, b), [total, CEILING_BATCH] as const);
    const snaps = await pollUntil(
      async () => {
        const s = await Promise.all(t.pages.map((p) => p.evaluate(() => (window as unknown as W).bench.snapshot())));
        return s.every((x) => x.count >= total) ? s : undefined;
      },
      DELIVERY_TIMEOUT_MS,
      "ceiling delivered",
      50,
    );
    return deliveredRate(snaps, total);
  } finally {
    await t.close();
  }
}

export async function throughput(ctx: BenchContext): Promise<ScenarioResult> {
  const total = ctx.config.throughputEvents;
  const server = await startBenchServer({ retention: { maxEvents: BENCH_RETENTION_EVENTS } });
  const runs: Record<Mode | "nopersist", RunResult[]> = { onestream: [], plain: [], nopersist: [] };
  const ceiling: number[] = [];
  const profiles: Profiles = { worker: [], tab: [] };
  let saves: SaveReport | undefined;
  let timedRate = Number.NaN;
  try {
    for (let run = 0; run < ctx.config.runs; run++) {
      const variants: [Mode | "nopersist", string][] = [
        ["onestream", pageFor(ctx, "onestream", server.url)],
        ["nopersist", `${pageFor(ctx, "onestream", server.url)}&persist=off`],
        ["plain", pageFor(ctx, "plain", server.url)],
      ];
      if (run % 2 === 1) variants.reverse();
      for (const [name, url] of variants) {
        const r = await oneRun(ctx, server, url, `tp-${name}-${run}`, total);
        runs[name].push(r);
        ctx.log(`throughput ${name} run ${run + 1}: delivered ${(r.deliveredPerS / 1e6).toFixed(2)} M ev/s, server appended ${(r.appendedPerS / 1e6).toFixed(2)} M ev/s`);
      }
      const c = await ceilingRun(ctx, total);
      ceiling.push(c);
      ctx.log(`ceiling run ${run + 1}: ${(c / 1e6).toFixed(2)} M ev/s`);
    }
    // One more onestream run under the profiler (not counted: profiling slows it down).
    ctx.log("throughput: profiled onestream run");
    await oneRun(ctx, server, pageFor(ctx, "onestream", server.url), "tp-profiled", total, { profiles });
    // And one with every IndexedDB cursor save timed (bench-worker.ts, persist=timed).
    ctx.log("throughput: run with timed cursor saves");
    const timed = await oneRun(ctx, server, `${pageFor(ctx, "onestream", server.url)}&persist=timed`, "tp-timed", total, {
      saves: (r) => (saves = r),
    });
    timedRate = timed.deliveredPerS;
  } finally {
    await server.close();
  }
  const d = (k: Mode | "nopersist"): Summary => summarize(runs[k].map((r) => r.deliveredPerS));
  const a = (k: Mode | "nopersist"): Summary => summarize(runs[k].map((r) => r.appendedPerS));
  const delivered = { onestream: d("onestream"), plain: d("plain") };
  // A run in which a tab overflowed its queue in the worker measured the resync path, not steady
  // delivery, so the cost is judged on overflow-free runs: paired (run i on vs off, back to back
  // under the same load) when at least MIN_PAIRS pairs are clean, else the clean runs' medians.
  const cleanOn = runs.onestream.filter((r) => r.overflows === 0).map((r) => r.deliveredPerS);
  const cleanOff = runs.nopersist.filter((r) => r.overflows === 0).map((r) => r.deliveredPerS);
  const cleanPairs = runs.onestream
    .map((on, i) => [on, runs.nopersist[i]!] as const)
    .filter(([on, off]) => on.overflows === 0 && off.overflows === 0);
  let persistCost: Summary | undefined;
  let costLabel: string;
  if (cleanPairs.length >= MIN_PAIRS) {
    persistCost = summarize(cleanPairs.map(([on, off]) => 1 - on.deliveredPerS / off.deliveredPerS));
    costLabel = `cost ${fmt(scale(persistCost, 100), 1, " %")}, paired over the ${cleanPairs.length} pairs without overflows`;
  } else if (cleanOn.length >= 2 && cleanOff.length >= 2) {
    const c = 1 - summarize(cleanOn).median / summarize(cleanOff).median;
    persistCost = { median: c, min: c, max: c, runs: 1 };
    costLabel =
      `cost ${(c * 100).toFixed(1)} % from the medians of the overflow-free runs (on ${cleanOn.length}, off ${cleanOff.length} of ` +
      `${ctx.config.runs}; only ${cleanPairs.length} clean pairs)`;
  } else {
    costLabel = `not measurable: too few overflow-free runs (on ${cleanOn.length}, off ${cleanOff.length} of ${ctx.config.runs})`;
  }
  const overflowRuns = (k: Mode | "nopersist"): number => runs[k].filter((r) => r.overflows > 0).length;
  /** What bounds delivery, from this run's measurements (CPU per process group, append rate). */
  const throughputBound = (): string => {
    const perTab = delivered.onestream.median / TABS;
    const appended = a("onestream").median;
    const shares = meanShares(runs.onestream);
    const share = (g: string): number => shares.get(g) ?? 0;
    const pct = (v: number): string => `${(v * 100).toFixed(0)} %`;
    const cores = cpus().length;
    const total = [...shares.values()].reduce((x, y) => x + y, 0);
    const facts =
      `each tab got ${(perTab / 1e3).toFixed(0)} k ev/s, server appended ${(appended / 1e3).toFixed(0)} k ev/s; ` +
      `bare postMessage ceiling here ${(summarize(ceiling).median / 1e6).toFixed(2)} M ev/s; ` +
      `CPU: server ${pct(share(SERVER))}, renderers ${pct(share(RENDERERS))}, not this benchmark ${pct(share(NOT_OURS))}, ` +
      `machine ${pct(total)} of ${cores * 100} %`;
    if (total >= 0.9 * cores) return `bound: CPU, the machine was saturated (${facts})`;
    if (share(SERVER) >= 0.9) return `bound: the reference server's one thread (${facts})`;
    if (perTab >= 0.85 * appended) return `bound: the producer, tabs kept up with appends (${facts})`;
    return `bound: the client side, tabs lagged the appends with CPU to spare (${facts}; see the profile)`;
  };
  const persistenceBound = (): string =>
    saves
      ? `IndexedDB saves in flight ${(saves.busyShare * 100).toFixed(0)} % of the delivery window (save p50 ${saves.p50Ms.toFixed(1)} ms, p99 ${saves.p99Ms.toFixed(1)} ms, ${saves.saves} saves), renderers at ${((meanShares(runs.onestream).get(RENDERERS) ?? 0) * 100).toFixed(0)} % of a core`
      : "no save timings";
  const rows: Row[] = [
    {
      figure: `sustained throughput delivered to ${TABS} tabs (aggregate)`,
      onestream: fmtRate(delivered.onestream),
      plain: fmtRate(delivered.plain),
      goal: "≥ 1 M ev/s aggregate",
      verdict: delivered.onestream.median >= 1e6 ? "met" : `NOT met — ${throughputBound()}`,
    },
    {
      figure: `raw batched postMessage worker → ${TABS} pages (ceiling, batches of ${CEILING_BATCH})`,
      onestream: fmtRate(summarize(ceiling)),
      plain: "—",
      goal: "reference",
      verdict: "—",
    },
    {
      figure: "throughput with cursor persistence on vs off",
      onestream: `on ${fmtRate(d("onestream"))} · off ${fmtRate(d("nopersist"))} (all runs) · ${costLabel}`,
      plain: "—",
      goal: "< 5 % cost",
      verdict:
        persistCost === undefined
          ? `inconclusive — tabs overflowed in ${overflowRuns("onestream")} on-runs and ${overflowRuns("nopersist")} off-runs of ${ctx.config.runs}`
          : persistCost.median < 0.05
            ? `met${overflowRuns("nopersist") > 0 ? ` (without persistence, tabs overflowed in ${overflowRuns("nopersist")} of ${ctx.config.runs} runs; with it, in ${overflowRuns("onestream")})` : ""}`
            : `NOT met — ${persistenceBound()}`,
    },
  ];
  const perRun = (k: Mode | "nopersist"): string =>
    `| ${k} | ${runs[k].map((r) => (r.deliveredPerS / 1e6).toFixed(2)).join(", ")} | ${fmtRate(a(k))} | ${k === "plain" ? "—" : runs[k].map((r) => r.overflows).join(", ")} | ${runs[k].map((r) => ((r.cpu.get(NOT_OURS) ?? 0) * 100).toFixed(0)).join(", ")} |`;
  return {
    rows,
    details: [
      "## Throughput",
      "",
      `Each run: ${TABS} tabs subscribed to one topic, then ${total.toLocaleString("en")} events appended with POST /admin/publish`,
      `in chunks of ${PUBLISH_CHUNK.toLocaleString("en")}. Delivered = events × tabs / (last receipt − first receipt), receipts in`,
      "page clocks. *nopersist* is bench/pages/bench-worker.ts: the host and engine `serve()` builds, with an in-memory Storage (see bench/README.md).",
      `The ceiling is a bare SharedWorker posting ${CEILING_BATCH}-event batches of the same event shape to ${TABS} pages.`,
      "",
      `Before each run the driver waits up to ${QUIET_MAX_WAIT_MS / 1000} s for other processes to use < ${QUIET_BELOW * 100} % of a core (shared machine).`,
      "",
      "| variant | delivered per run (M ev/s) | server append rate | tab overflows (resyncs) per run | others' CPU per run (% of a core) |",
      "|---|---|---|---|---|",
      perRun("onestream"),
      perRun("nopersist"),
      perRun("plain"),
      `| ceiling | ${ceiling.map((c) => (c / 1e6).toFixed(2)).join(", ")} | — | — | — |`,
      "",
      "An overflow is a tab that fell behind the host's bounded per-tab queue (default 50 k unacknowledged events) and",
      "resynced from its cursor; a run with overflows measures that recovery path as much as steady delivery.",
      "",
      `Persistence breakdown: one extra run (not counted) with the real IndexedDB store timed call by call delivered`,
      `${(timedRate / 1e6).toFixed(2)} M ev/s; ${saves ? saveLine(saves) : "no save timings"}.`,
      "",
      "CPU while appending and delivering (mean over the runs, /proc accounting; 100 % = one core fully busy):",
      "",
      ...(["onestream", "nopersist", "plain"] as const).flatMap((k) => [`${k}:`, "", ...cpuLines(meanShares(runs[k])), ""]),
      `Where the time goes: one extra onestream run (not counted above) with V8's sampling profiler (${PROFILE_INTERVAL_US} µs)`,
      "in the SharedWorker and in tab 1; self time per function, share of all samples (idle included):",
      "",
      ...hotspotLines("SharedWorker", profiles.worker),
      ...hotspotLines("tab 1", profiles.tab),
    ].join("\n"),
  };
}
