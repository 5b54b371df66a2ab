// The verdict of one run: every check the suite makes, each with what it measured and whether it
// passed. A run fails on any loss, duplicate (within a live engine), reorder, corrupt event,
// silent epoch change, unexpected reset, publish not landed exactly once, stuck tab or publish,
// leaked upstream stream (server or client side), or a recovery p90 over the target. Pure.
import { DEFAULT_CONFIG, idleTimeoutMs } from "../../worker/engine/config";
import { checkDeliveries, type DeliveryFindings } from "./deliveries";
import { checkPublishes, type PublishFindings, type VanishCause, type Vanished } from "./publishes";
import { recoveries, recoveryStats, type Recovery, type RecoveryStats } from "./recovery";
import type { RunResult } from "./run";

export interface Check {
  name: string;
  ok: boolean;
  /** What was measured, in a few words. */
  value: string;
}

export interface Verdict {
  checks: Check[];
  deliveries: DeliveryFindings;
  publishes: PublishFindings;
  recovery: Recovery[];
  stats: RecoveryStats;
  /** Recovery p90 must be at most this: the idle timeout + 2 s (issue 13). */
  recoveryTargetMs: number;
  ok: boolean;
}

/** Headroom over the idle timeout that issue 13's "done when" allows for recovery at p90. */
const RECOVERY_HEADROOM_MS = 2_000;

const n = (x: number): string => x.toLocaleString("en-US");

export function judge(result: RunResult): Verdict {
  const { record, ledger } = result;
  const drained = result.aborted === undefined;
  const deliveries = checkDeliveries({
    tabs: record.tabs,
    deaths: record.deaths,
    find: ledger.find,
    newEpochsAt: record.faults.filter((f) => f.step.kind === "new-epoch").map((f) => f.startAt),
    finalHeads: drained ? result.finalHeads : undefined,
    finalEpoch: ledger.epoch(),
  });
  const stuck = new Set(record.stuck.flatMap((s) => s.tabs.map((t) => t.id)));
  const closedAll = new Set(record.deaths.filter((d) => d.why === "close-all").flatMap((d) => d.killed));
  const publishes = checkPublishes({ tabs: record.tabs, find: ledger.find, copies: ledger.copies, drained, stuck, closedAll });
  const recovery = recoveries(record.faults, record.tabs, ledger.find, stuck);
  const stats = recoveryStats(recovery);
  // The engine's own idle timeout for this server's heartbeat, with its default knobs.
  const recoveryTargetMs = idleTimeoutMs(DEFAULT_CONFIG, result.spec.world.heartbeatMs) + RECOVERY_HEADROOM_MS;
  const d = deliveries;
  const p = publishes;
  const leaks = record.quiet.filter((q) => !q.settled);
  const serverLeaks = leaks.filter((q) => q.server !== q.expected);
  const clientLeaks = record.quiet.filter((q) => q.client > q.expected);
  const unmeasured = record.quiet.filter((q) => q.client < q.expected).length;
  const stuckTabs = record.stuck.reduce((sum, s) => sum + s.tabs.length, 0);
  const errors = record.tabs.flatMap((t) => t.messages.filter((m) => m.t === "error"));
  const promised = p.vanished.filter((v) => v.durable);

  const checks: Check[] = [
    { name: "run completed", ok: drained, value: result.aborted ?? `${record.faults.length} faults` },
    { name: "lost (no reset)", ok: d.lost === 0, value: n(d.lost) },
    { name: "lost across an engine death", ok: d.lostAcrossDeath === 0, value: `${n(d.lostAcrossDeath)} in ${n(d.deathResumes)} resumes` },
    { name: "duplicated (live engine)", ok: d.duplicates === 0, value: n(d.duplicates) },
    { name: "out of order", ok: d.outOfOrder === 0, value: n(d.outOfOrder) },
    { name: "corrupt (not what the server wrote)", ok: d.corrupt === 0, value: n(d.corrupt) },
    { name: "new epoch without a reset", ok: d.silentEpochs === 0, value: n(d.silentEpochs) },
    { name: "unexpected resets", ok: d.resetsUnexpected === 0, value: `${n(d.resetsUnexpected)} (expected: ${n(d.resetsExpected)})` },
    { name: "open subscriptions at the head at the end", ok: d.short === 0, value: `${n(d.short)} short` },
    { name: "publishes landed twice", ok: p.landedTwice.length === 0, value: n(p.landedTwice.length) },
    { name: "accepted publishes in the log as accepted", ok: p.acceptedWrong.length === 0, value: `${n(p.acceptedWrong.length)} wrong of ${n(p.accepted)}` },
    { name: "publishes rejected", ok: p.rejections.length === 0, value: n(p.rejections.length) },
    { name: "durable publishes vanished", ok: promised.length === 0, value: vanishedValue(promised) },
    { name: "publishes not yet durable when their tab closed, vanished (allowed)", ok: true, value: vanishedValue(p.vanished.filter((v) => !v.durable)) },
    { name: "publishes unresolved at the end", ok: p.pendingAtEnd.length === 0, value: n(p.pendingAtEnd.length) },
    { name: "stuck tabs", ok: stuckTabs === 0, value: `${n(stuckTabs)} in ${n(record.stuck.length)} quiet moments` },
    { name: "upstream streams at quiet moments (server)", ok: serverLeaks.length === 0, value: countsOf(record.quiet.map((q) => q.server)) },
    {
      name: "upstream streams at quiet moments (client)",
      ok: clientLeaks.length === 0,
      value: countsOf(record.quiet.map((q) => q.client)) + (unmeasured > 0 ? ` (${unmeasured} unmeasured: worker seen late)` : ""),
    },
    {
      name: "server streams gone after close-all",
      ok: record.closeAllLeaks.length === 0,
      value: record.closeAllLeaks.length === 0 ? "yes" : `kept ${record.closeAllLeaks.map((l) => l.streams).join(",")} after #${record.closeAllLeaks.map((l) => l.afterFault).join(",#")}`,
    },
    {
      name: `recovery p90 ≤ ${n(recoveryTargetMs)} ms`,
      ok: stats.never === 0 && !(stats.p90 > recoveryTargetMs),
      value: `p90 ${n(stats.p90)} ms${stats.never > 0 ? `, ${stats.never} never` : ""}`,
    },
    { name: "errors reported by the pages", ok: errors.length === 0, value: n(errors.length) },
  ];
  return { checks, deliveries, publishes, recovery, stats, recoveryTargetMs, ok: checks.every((c) => c.ok) };
}

/** "3 at a close-all (window max 9 ms) + 12 in stuck tabs": the causes apart. */
function vanishedValue(vanished: readonly Vanished[]): string {
  if (vanished.length === 0) return "0";
  const parts: string[] = [];
  const causes: Array<[VanishCause, string]> = [
    ["close-all", "at a close-all"],
    ["closed", "in other closed tabs"],
    ["stuck", "in stuck tabs"],
  ];
  for (const [cause, label] of causes) {
    const some = vanished.filter((v) => v.cause === cause);
    if (some.length > 0) parts.push(`${n(some.length)} ${label} (window max ${n(Math.max(...some.map((v) => v.windowMs)))} ms)`);
  }
  return parts.join(" + ");
}

/** "1 ×12, 2 ×3": how often each count was seen. */
function countsOf(values: readonly number[]): string {
  if (values.length === 0) return "no samples";
  const by = new Map<number, number>();
  for (const v of values) by.set(v, (by.get(v) ?? 0) + 1);
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([v, k]) => `${v} ×${k}`)
    .join(", ");
}
