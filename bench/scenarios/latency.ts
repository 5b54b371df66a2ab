// Figure: publish → tab latency at 1 k ev/s to 4 tabs, onestream vs a plain stream per tab.
// Latency of one event = the page's receipt time (timeOrigin + now) − the server's publishedAt
// (Date.now() at append, whole ms). The server's whole-ms stamp adds the same 0–1 ms to both
// columns, so the comparison (ratio of p50s, difference of p99s) is unbiased; the absolute
// figures read up to 1 ms high.
import type { BenchContext, Mode } from "../lib/context";
import { MODES, pageFor, QUIET_BELOW, QUIET_MAX_WAIT_MS } from "../lib/context";
import { NOT_OURS } from "../lib/cpu";
import { fmt, type Row, type ScenarioResult } from "../lib/report";
import { startBenchServer, type BenchServer } from "../lib/server";
import { percentile, summarize, type Summary } from "../lib/stats";
import type { BenchPageApi } from "../pages/api";
import { openTabs, pollUntil, sleep } from "../lib/tabs";
import { readSaveTimings, saveLine, type SaveReport } from "../lib/saves";

const TABS = 4;
const RATE_PER_S = 1_000;
/** Publish tick: the publisher sends the events due since the last tick (≈ 5 per tick). */
const TICK_MS = 5;

interface RunResult {
  p50: number;
  p99: number;
  max: number;
  samples: number;
  /** CPU used by processes outside the benchmark during the run, share of one core. */
  others: number;
}

/** Publishes at RATE_PER_S for `seconds`; returns how many events it published. */
async function publishAtRate(server: BenchServer, topic: string, seconds: number): Promise<number> {
  const start = performance.now();
  const total = RATE_PER_S * seconds;
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE_PER_S)) - sent;
    if (due > 0) {
      await server.publish(topic, "l", due);
      sent += due;
    }
    await sleep(TICK_MS);
  }
  return sent;
}

/** The two compared modes, plus onestream with cursor persistence off: the IndexedDB share of the latency. */
type Variant = Mode | "nopersist" | "timed";
const VARIANTS: readonly Variant[] = [...MODES, "nopersist"];

function urlFor(ctx: BenchContext, v: Variant, serverUrl: string): string {
  if (v === "nopersist") return `${pageFor(ctx, "onestream", serverUrl)}&persist=off`;
  if (v === "timed") return `${pageFor(ctx, "onestream", serverUrl)}&persist=timed`;
  return pageFor(ctx, v, serverUrl);
}

async function oneRun(
  ctx: BenchContext,
  server: BenchServer,
  mode: Variant,
  topic: string,
  onSaves?: (r: SaveReport) => void,
): Promise<RunResult> {
  const t = await openTabs(ctx.browser, urlFor(ctx, mode, server.url), TABS);
  try {
    await t.start({ serverUrl: server.url, topics: [topic], keepLatencies: true });
    await pollUntil(async () => ((await t.snapshots()).every((s) => s.ready) ? true : undefined), 15_000, `${mode} tabs ready`);
    await ctx.cpu.waitForQuiet(QUIET_BELOW, QUIET_MAX_WAIT_MS);
    const cpuMark = ctx.cpu.mark();
    const sent = await publishAtRate(server, topic, ctx.config.latencySeconds);
    const snaps = await pollUntil(
      async () => {
        const s = await t.snapshots();
        return s.every((x) => x.count >= sent) ? s : undefined;
      },
      15_000,
      `${mode}: all ${TABS} tabs received ${sent} events`,
    );
    const others = ctx.cpu.since(cpuMark).get(NOT_OURS) ?? 0;
    if (onSaves) {
      onSaves(await readSaveTimings(ctx.browser, Math.min(...snaps.map((x) => x.firstAt)), Math.max(...snaps.map((x) => x.lastAt))));
    }
    const samples = (
      await Promise.all(t.pages.map((p) => p.evaluate(() => (window as unknown as { bench: BenchPageApi }).bench.latencies())))
    ).flat();
    return {
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      max: percentile(samples, 100),
      samples: samples.length,
      others,
    };
  } finally {
    await t.close();
    await server.waitFor((s) => s.activeStreams === 0, 10_000, "streams closed");
  }
}

export async function latency(ctx: BenchContext): Promise<ScenarioResult> {
  const server = await startBenchServer({});
  const results: Record<Variant, RunResult[]> = { onestream: [], plain: [], nopersist: [], timed: [] };
  let saves: SaveReport | undefined;
  try {
    for (let run = 0; run < ctx.config.runs; run++) {
      // Alternate the order, so a drift in the machine's load hits every variant alike.
      const order = run % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const mode of order) {
        const r = await oneRun(ctx, server, mode, `lat-${mode}-${run}`);
        results[mode].push(r);
        ctx.log(`latency ${mode} run ${run + 1}: p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} max ${r.max.toFixed(2)} ms (${r.samples} samples)`);
      }
    }
    // One extra run (not counted) with every IndexedDB cursor save timed: the persistence share.
    results.timed.push(await oneRun(ctx, server, "timed", "lat-timed", (r) => (saves = r)));
  } finally {
    await server.close();
  }
  const s = (mode: Variant, k: keyof RunResult): Summary => summarize(results[mode].map((r) => r[k]));
  const cell = (mode: Variant): string =>
    `p50 ${fmt(s(mode, "p50"), 2)} · p99 ${fmt(s(mode, "p99"), 2)} · max ${fmt(s(mode, "max"), 1)} ms`;
  // Paired: run i of onestream and run i of plain ran back to back under the same machine load,
  // so the comparison is per pair, then the median over pairs.
  const pairs = results.onestream.map((o, i) => [o, results.plain[i]!] as const);
  const ratio = summarize(pairs.map(([o, p]) => o.p50 / p.p50));
  const p99Overhead = summarize(pairs.map(([o, p]) => o.p99 - p.p99));
  const met = ratio.median <= 1.1 && p99Overhead.median < 1;
  const row: Row = {
    figure: `publish → tab latency, ${TABS} tabs, 1 k ev/s`,
    onestream: cell("onestream"),
    plain: cell("plain"),
    goal: "p50 ≤ 1.1× per-tab, p99 overhead < 1 ms",
    verdict:
      `paired per run: p50 ${fmt(ratio, 2, "×")}, p99 overhead ${fmt(p99Overhead, 2, " ms")}: ` +
      (met
        ? "met"
        : `NOT met — with persistence off p50 ${s("nopersist", "p50").median.toFixed(2)}, p99 ${s("nopersist", "p99").median.toFixed(2)} ms` +
          (saves ? `; IndexedDB cursor saves (off the delivery path) p50 ${saves.p50Ms.toFixed(2)}, p99 ${saves.p99Ms.toFixed(2)} ms` : "") +
          `; others' CPU during the runs ${fmt(summarize(VARIANTS.flatMap((v) => results[v].map((r) => r.others * 100))), 0, " % of a core")}`),
  };
  const perRun = VARIANTS.map(
    (mode) =>
      `| ${mode} | ${results[mode].map((r) => `${r.p50.toFixed(2)} / ${r.p99.toFixed(2)} / ${r.max.toFixed(1)}`).join(" · ")} | ${results[mode].map((r) => (r.others * 100).toFixed(0)).join(", ")} |`,
  );
  return {
    rows: [row],
    details: [
      "## Publish → tab latency",
      "",
      `${TABS} tabs subscribed to one topic; the bench publishes ${RATE_PER_S} ev/s for ${ctx.config.latencySeconds} s through`,
      `POST /admin/publish, every ${TICK_MS} ms the events due (≈ ${(RATE_PER_S * TICK_MS) / 1000} per request, appended in one`,
      "tick). Latency = page receipt (`performance.timeOrigin + performance.now()`) − server `publishedAt` (whole ms).",
      "Percentiles are over all events of all tabs in a run. *nopersist* is onestream with an in-memory cursor store",
      "(bench/pages/bench-worker.ts): the difference to *onestream* is what the IndexedDB cursor saves cost, though they run after delivery.",
      "",
      `onestream with persistence off: ${cell("nopersist")}.`,
      "",
      `Persistence breakdown, one extra run with IndexedDB saves timed (${cell("timed")}): ${saves ? saveLine(saves) : "no save timings"}.`,
      "A batch is delivered first; its cursor is saved (group-committed) once every tab acknowledged it, so a save adds no wait to a batch: its cost here is CPU and IndexedDB work competing with delivery.",
      "",
      `Before each run the driver waits up to ${QUIET_MAX_WAIT_MS / 1000} s for other processes to use < ${QUIET_BELOW * 100} % of a core (shared machine);`,
      "the last column says how much they used during each run.",
      "",
      "| mode | p50 / p99 / max per run (ms) | others' CPU per run (% of a core) |",
      "|---|---|---|",
      ...perRun,
      "",
    ].join("\n"),
  };
}
