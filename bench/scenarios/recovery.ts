// Figures: wedge → live, drop → live, online → live (onestream only). Every time is measured in
// the page's clock: the page has the driver POST the fault (admin never answers a page; the
// driver exposes `benchFault`), its time taken just before asking,
// and "live" is the first status the client reports with state live on a NEW connection epoch.
// Each run gets a fresh tab and so a fresh worker and engine: the engine's backoff grows with
// consecutive failures (by design, until a stream stays healthy 30 s), so runs in one engine
// would measure the flapping policy, not one recovery.
// The server runs with a 2 s heartbeat (a server option, not a library change): with the engine's
// defaults the idle timeout is then max(2 s × 2.5, 5 s minimum) = 5 s.
import type { Page } from "@playwright/test";
import type { BenchContext } from "../lib/context";
import { pageFor, workerTitle } from "../lib/context";
import { fmt, type Row, type ScenarioResult } from "../lib/report";
import { startBenchServer, type BenchServer } from "../lib/server";
import { summarize } from "../lib/stats";
import { openTabs, pollUntil, sleep, type Tabs } from "../lib/tabs";
import { attachSharedWorker } from "../lib/worker-cdp";
import type { OnestreamPageApi, StatusMark } from "../pages/api";

/** Server option used for this scenario. */
const HEARTBEAT_MS = 2_000;
/** The engine's idle timeout for that heartbeat with its default knobs (see worker/engine/config.ts). */
const EXPECTED_IDLE_MS = Math.max(HEARTBEAT_MS * 2.5, 5_000);
/** The engine's default backoff floor (backoffFloorMs). */
const BACKOFF_FLOOR_MS = 1_000;
/**
 * Time a stream is live before the fault. Longer than the first backoff interval (floor + up to
 * one backoffInitialMs of jitter = 2 s): a stream older than that reconnects at once after a drop.
 */
const SETTLE_MS = 2_200;
/** How often the driver polls the server for the reconnect while wedged (bounds the heal delay). */
const WEDGE_POLL_MS = 10;
const TOPIC = "recovery";

type W = { bench: OnestreamPageApi };

const statuses = (page: Page): Promise<StatusMark[]> => page.evaluate(() => (window as unknown as W).bench.statuses());

/** Current connection epoch (from the last status). */
async function connection(page: Page): Promise<number> {
  const s = await statuses(page);
  return s[s.length - 1]?.connection ?? 0;
}

/** First live status after `t0` on a connection epoch above `epoch`; returns its time. */
async function liveAfter(page: Page, t0: number, epoch: number, timeoutMs: number, what: string): Promise<number> {
  const mark = await pollUntil(
    async () => (await statuses(page)).find((s) => s.at >= t0 && s.state === "live" && s.connection > epoch),
    timeoutMs,
    what,
    10,
  );
  return mark.at;
}

async function dropRun(page: Page): Promise<number> {
  const epoch = await connection(page);
  const t0 = await page.evaluate(() => (window as unknown as W).bench.fault({ kind: "drop" }));
  return (await liveAfter(page, t0, epoch, 15_000, "live after drop")) - t0;
}

/** Time live between two flaps: shorter than healthyResetMs (30 s), so only "caught up" can reset the backoff. */
const FLAP_LIVE_MS = 1_500;
const FLAPS = 10;

/** FLAPS drops in one engine, each FLAP_LIVE_MS after the stream came back; returns each drop → live. */
async function flapRun(page: Page): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < FLAPS; i++) {
    out.push(await dropRun(page));
    await sleep(FLAP_LIVE_MS);
  }
  return out;
}

async function wedgeRun(page: Page, server: BenchServer): Promise<{ ms: number; stale: boolean }> {
  const epoch = await connection(page);
  const before = (await server.stats()).totalStreams;
  // The wedge goes out the moment an event arrives: the idle timer starts at that frame, so the
  // figure is the watchdog's worst case (a wedge at a random moment would be up to a heartbeat sooner).
  const armed = page.evaluate(() => (window as unknown as W).bench.faultOnNextEvent({ kind: "wedge" }));
  await server.publish(TOPIC, "w");
  const t0 = await armed;
  // New streams opened while wedged are wedged too: heal as soon as the client has reconnected.
  await pollUntil(
    async () => ((await server.stats()).totalStreams > before ? true : undefined),
    EXPECTED_IDLE_MS * 3,
    "reconnect while wedged",
    WEDGE_POLL_MS,
  );
  await server.fault({ kind: "heal" });
  const liveAt = await liveAfter(page, t0, epoch, 15_000, "live after wedge");
  const stale = (await statuses(page)).some((s) => s.at >= t0 && s.at <= liveAt && (s.lastError ?? "").startsWith("stale"));
  return { ms: liveAt - t0, stale };
}

async function onlineRun(ctx: BenchContext, tabs: Tabs, page: Page): Promise<{ ms: number; wentOffline: boolean }> {
  const worker = await attachSharedWorker(ctx.browser, workerTitle("on"));
  try {
    const epoch = await connection(page);
    const before = Date.now();
    await worker.setOffline(true);
    await tabs.context.setOffline(true);
    const wentOffline = await pollUntil(
      async () =>
        (await statuses(page)).some((s) => s.state === "offline" && s.connection >= epoch) ? true : Date.now() - before > 3_000 ? false : undefined,
      5_000,
      "offline status",
    );
    await sleep(300);
    // Worker first: its new requests must succeed by the time the tabs tell it the network is back.
    await worker.setOffline(false);
    await tabs.context.setOffline(false);
    const onlineAt = await pollUntil(
      async () => {
        const t = await page.evaluate(() => (window as unknown as W).bench.onlineAt());
        return Number.isFinite(t) && t > 0 ? t : undefined;
      },
      5_000,
      "online event in the page",
    );
    const liveAt = await liveAfter(page, onlineAt - 1, wentOffline ? epoch : epoch - 1, 15_000, "live after online");
    return { ms: liveAt - onlineAt, wentOffline };
  } finally {
    await worker.detach();
  }
}

/** Opens one tab (fresh context, worker and engine), waits until it has been live SETTLE_MS, runs `fn`. */
async function withFreshTab<T>(ctx: BenchContext, server: BenchServer, fn: (tabs: Tabs, page: Page) => Promise<T>): Promise<T> {
  const tabs = await openTabs(ctx.browser, pageFor(ctx, "onestream", server.url), 1, {
    benchFault: (body: Record<string, unknown>) => server.fault(body),
  });
  try {
    await tabs.start({ serverUrl: server.url, topics: [TOPIC], keepLatencies: false });
    await pollUntil(async () => ((await tabs.snapshots())[0]?.ready ? true : undefined), 15_000, "live");
    await sleep(SETTLE_MS);
    return await fn(tabs, tabs.pages[0]!);
  } finally {
    await tabs.close();
    await server.waitFor((s) => s.activeStreams === 0, 10_000, "streams closed");
  }
}

export async function recovery(ctx: BenchContext): Promise<ScenarioResult> {
  const server = await startBenchServer({ heartbeatMs: HEARTBEAT_MS, faults: true });
  const drop: number[] = [];
  const wedge: number[] = [];
  const online: number[] = [];
  const flaps: number[] = [];
  const lastFlap: number[] = [];
  const notes: string[] = [];
  try {
    for (let run = 0; run < ctx.config.runs; run++) {
      drop.push(await withFreshTab(ctx, server, (_t, page) => dropRun(page)));
      ctx.log(`drop → live run ${run + 1}: ${drop.at(-1)!.toFixed(0)} ms`);

      const w = await withFreshTab(ctx, server, (_t, page) => wedgeRun(page, server));
      wedge.push(w.ms);
      if (!w.stale) notes.push(`wedge run ${run + 1}: no \`stale\` error reported before live (the reconnect had another cause)`);
      ctx.log(`wedge → live run ${run + 1}: ${w.ms.toFixed(0)} ms${w.stale ? "" : " (no stale error seen)"}`);

      const f = await withFreshTab(ctx, server, (_t, page) => flapRun(page));
      flaps.push(...f);
      lastFlap.push(f.at(-1)!);
      ctx.log(`${FLAPS} flaps run ${run + 1}: ${f.map((v) => v.toFixed(0)).join(", ")} ms`);

      const o = await withFreshTab(ctx, server, (tabs, page) => onlineRun(ctx, tabs, page));
      online.push(o.ms);
      if (!o.wentOffline) notes.push(`online run ${run + 1}: the client never reported \`offline\` (its stream stayed up)`);
      ctx.log(`online → live run ${run + 1}: ${o.ms.toFixed(0)} ms${o.wentOffline ? "" : " (never went offline)"}`);
    }
  } finally {
    await server.close();
  }
  const sd = summarize(drop);
  const sw = summarize(wedge);
  const so = summarize(online);
  const sf = summarize(flaps);
  const sl = summarize(lastFlap);
  /** A flapping server is used again within the first backoff window: floor + backoffInitialMs of jitter. */
  const flapGoal = BACKOFF_FLOOR_MS * 2;
  const rows: Row[] = [
    {
      figure: "wedge → live (server heartbeat 2 s ⇒ idle timeout 5 s)",
      onestream: fmt(sw, 0, " ms"),
      plain: "—",
      goal: `≤ idle + 0.5 s = ${EXPECTED_IDLE_MS + 500} ms`,
      verdict: sw.max <= EXPECTED_IDLE_MS + 500 ? "met" : sw.median <= EXPECTED_IDLE_MS + 500 ? "met at median, not max" : "NOT met",
    },
    {
      figure: "drop → live",
      onestream: fmt(sd, 0, " ms"),
      plain: "—",
      goal: `≤ floor (${BACKOFF_FLOOR_MS} ms)`,
      verdict: sd.max <= BACKOFF_FLOOR_MS ? "met" : sd.median <= BACKOFF_FLOOR_MS ? "met at median, not max" : "NOT met",
    },
    {
      figure: `drop → live, each of ${FLAPS} flaps ${FLAP_LIVE_MS / 1_000} s apart in one engine`,
      onestream: fmt(sf, 0, " ms"),
      plain: "—",
      goal: `≤ floor + jitter window (${flapGoal} ms)`,
      verdict: sf.max <= flapGoal ? "met" : sf.median <= flapGoal ? "met at median, not max" : "NOT met",
    },
    {
      figure: `drop → live, the ${FLAPS}th flap`,
      onestream: fmt(sl, 0, " ms"),
      plain: "—",
      goal: `≤ ${flapGoal} ms`,
      verdict: sl.max <= flapGoal ? "met" : sl.median <= flapGoal ? "met at median, not max" : "NOT met",
    },
    {
      figure: "online → live",
      onestream: fmt(so, 0, " ms"),
      plain: "—",
      goal: "≤ 300 ms",
      verdict: so.max <= 300 ? "met" : so.median <= 300 ? "met at median, not max" : "NOT met",
    },
  ];
  return {
    rows,
    details: [
      "## Recovery",
      "",
      `Every run: a fresh tab (new context, worker, engine), live for ${SETTLE_MS} ms, then one fault; server \`heartbeatMs: ${HEARTBEAT_MS}\`, faults on.`,
      "The single-fault figures use a fresh engine per fault. The flap figures run ten drops in ONE engine, each 1.5 s after the stream came back (never healthy for `healthyResetMs`, 30 s): a call that caught up starts the backoff afresh, so each flap is paced by the floor and the first jitter window only.",
      "- drop: the page POSTs `{kind:\"drop\"}` (server destroys the stream's socket) at t0; figure = first `live` status on a new connection − t0.",
      `- wedge: the page POSTs \`{kind:"wedge"}\` the moment an event arrives (t0 = its receipt: the idle timer's worst case); the driver polls the server every ${WEDGE_POLL_MS} ms and heals as soon as the client opened a new stream (new streams are wedged too); figure = first \`live\` on a new connection − t0. Includes ≤ ~${WEDGE_POLL_MS + 5} ms of poll + heal delay.`,
      "- online: worker target offline over CDP + `context.setOffline(true)`; once the client reports `offline`, 300 ms later both are undone (worker first); figure = first `live` − the page's `online` event.",
      "",
      `| fault | per run (ms) |`,
      "|---|---|",
      `| drop | ${drop.map((v) => v.toFixed(0)).join(", ")} |`,
      `| wedge | ${wedge.map((v) => v.toFixed(0)).join(", ")} |`,
      `| online | ${online.map((v) => v.toFixed(0)).join(", ")} |`,
      `| ${FLAPS} flaps (all runs) | ${flaps.map((v) => v.toFixed(0)).join(", ")} |`,
      "",
      ...notes.map((n) => `- ${n}`),
      "",
    ].join("\n"),
  };
}
