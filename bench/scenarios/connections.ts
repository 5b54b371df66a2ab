// Figure: upstream connections and tabs served for 1/4/8/16 tabs. onestream should hold ONE
// stream whatever the tab count; a plain stream per tab holds one per tab and, past the 6
// HTTP/1.1 connections per host, leaves tabs stalled in fetch (FIELD-NOTES).
import type { BenchContext, Mode } from "../lib/context";
import { MODES, pageFor } from "../lib/context";
import { fmt, type Row, type ScenarioResult } from "../lib/report";
import { startBenchServer, type BenchServer } from "../lib/server";
import { summarize } from "../lib/stats";
import { openTabs, pollUntil, sleep } from "../lib/tabs";

const TAB_COUNTS = [1, 4, 8, 16] as const;
/** A tab that got no event this long after the first publish counts as not served (stalled). */
const SERVED_WITHIN_MS = 2_000;
/** One event this often while waiting, so a stream that opens late still gets one. */
const PUBLISH_EVERY_MS = 100;

interface RunResult {
  connections: number;
  served: number;
}

async function oneRun(ctx: BenchContext, server: BenchServer, mode: Mode, tabs: number, topic: string): Promise<RunResult> {
  const t = await openTabs(ctx.browser, pageFor(ctx, mode, server.url), tabs);
  try {
    await t.start({ serverUrl: server.url, topics: [topic], keepLatencies: false });
    // Wait for at least one stream carrying the topic (for onestream: every tab live).
    await pollUntil(
      async () => {
        const snaps = await t.snapshots();
        const ready = snaps.filter((s) => s.ready).length;
        return (mode === "onestream" ? ready === tabs : ready >= 1) ? true : undefined;
      },
      15_000,
      `${mode}: ${tabs} tabs ready`,
    );
    const deadline = Date.now() + SERVED_WITHIN_MS;
    let served = 0;
    while (Date.now() < deadline) {
      await server.publish(topic, "c");
      await sleep(PUBLISH_EVERY_MS);
      served = (await t.snapshots()).filter((s) => s.count > 0).length;
      if (served === tabs) break;
    }
    const stats = await server.stats();
    return { connections: stats.activeStreams, served };
  } finally {
    await t.close();
    await server.waitFor((s) => s.activeStreams === 0, 10_000, "streams closed after the context closed");
  }
}

export async function connections(ctx: BenchContext): Promise<ScenarioResult> {
  const server = await startBenchServer({});
  const rows: Row[] = [];
  const perRun: string[] = ["| tabs | mode | connections per run | tabs served per run |", "|---|---|---|---|"];
  try {
    for (const tabs of TAB_COUNTS) {
      const results: Record<Mode, RunResult[]> = { onestream: [], plain: [] };
      for (let run = 0; run < ctx.config.runs; run++) {
        for (const mode of MODES) {
          const r = await oneRun(ctx, server, mode, tabs, `conn-${mode}-${tabs}-${run}`);
          results[mode].push(r);
          ctx.log(`connections: ${tabs} tabs ${mode} run ${run + 1}: ${r.connections} connections, ${r.served}/${tabs} served`);
        }
      }
      const cell = (mode: Mode): string => {
        const c = summarize(results[mode].map((r) => r.connections));
        const s = summarize(results[mode].map((r) => r.served));
        return `${fmt(c, 0)} conn, ${fmt(s, 0)}/${tabs} served`;
      };
      const os = results.onestream;
      const ok = os.every((r) => r.connections === 1 && r.served === tabs);
      rows.push({
        figure: `upstream connections, tabs served — ${tabs} tab${tabs > 1 ? "s" : ""}`,
        onestream: cell("onestream"),
        plain: cell("plain"),
        goal: "1 connection, all tabs served",
        verdict: ok ? "met" : "NOT met",
      });
      for (const mode of MODES) {
        perRun.push(
          `| ${tabs} | ${mode} | ${results[mode].map((r) => r.connections).join(", ")} | ${results[mode].map((r) => r.served).join(", ")} |`,
        );
      }
    }
  } finally {
    await server.close();
  }
  return {
    rows,
    details: [
      "## Connections and tabs served",
      "",
      `Each run opens N tabs in a fresh browser context, subscribes each to one topic, then publishes one event every ${PUBLISH_EVERY_MS} ms.`,
      `A tab is *served* if it received an event within ${SERVED_WITHIN_MS} ms of the first publish; *connections* is the server's`,
      "`activeStreams` (GET /admin/stats) at that moment.",
      "",
      ...perRun,
      "",
    ].join("\n"),
  };
}
