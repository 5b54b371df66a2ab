// One unmeasured pass through every page before the first figure: the first load of a bundle,
// the first SharedWorker start and the first stream pay for cold caches and JIT, which would
// otherwise land in whichever variant happens to run first.
import type { BenchContext } from "./context";
import { MODES, pageFor } from "./context";
import { startBenchServer } from "./server";
import { openTabs, pollUntil } from "./tabs";

const WARMUP_EVENTS = 2_000;

export async function warmUp(ctx: BenchContext): Promise<void> {
  const server = await startBenchServer({});
  try {
    for (const url of [...MODES.map((m) => pageFor(ctx, m, server.url)), `${pageFor(ctx, "onestream", server.url)}&persist=off`]) {
      const t = await openTabs(ctx.browser, url, 2);
      try {
        await t.start({ serverUrl: server.url, topics: ["warmup"], keepLatencies: true });
        await pollUntil(async () => ((await t.snapshots()).every((s) => s.ready) ? true : undefined), 15_000, "warm-up tabs ready");
        await server.publish("warmup", "w", WARMUP_EVENTS);
        await pollUntil(async () => ((await t.snapshots()).every((s) => s.count >= WARMUP_EVENTS) ? true : undefined), 15_000, "warm-up events");
      } finally {
        await t.close();
      }
    }
  } finally {
    await server.close();
  }
}
