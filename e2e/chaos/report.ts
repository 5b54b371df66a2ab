// Prints what a run measured: totals, recovery per fault kind, the table of checks, and on a
// failure everything needed to replay and read it — the seed and replay command, the fault
// sequence as applied, examples of each finding, stuck tabs, repairs and page errors.
import type { Verdict } from "./checks";
import type { VanishCause } from "./publishes";
import { recoveryStats } from "./recovery";
import type { RunResult } from "./run";
import { describeStep, type FaultKind } from "./schedule";

const n = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
const CAUSE_ORDER: VanishCause[] = ["close-all", "closed", "stuck"];
const CAUSE_TEXT: Record<VanishCause, string> = { "close-all": "closed with every tab", closed: "closed", stuck: "was replaced as stuck" };
/** Lines of one list shown on a failure (the counts in the table are exact). */
const SHOW = 20;

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => "  " + r.map((c, i) => (i === 0 ? pad(c, widths[i]!) : c.padStart(widths[i]!))).join("  "));
}

function recoveryTable(v: Verdict): string[] {
  const kinds = [...new Set(v.recovery.map((r) => r.fault.step.kind))] as FaultKind[];
  const rows = [["fault", "n", "median ms", "p90 ms", "max ms", "never"]];
  for (const kind of kinds) {
    const s = recoveryStats(v.recovery.filter((r) => r.fault.step.kind === kind));
    rows.push([kind, n(s.count), n(s.median), n(s.p90), n(s.max), n(s.never)]);
  }
  rows.push(["all", n(v.stats.count), n(v.stats.median), n(v.stats.p90), n(v.stats.max), n(v.stats.never)]);
  return table(rows);
}

export function summaryLines(result: RunResult, v: Verdict, seed: number): string[] {
  const { spec, record, ledger } = result;
  const w = spec.world;
  const seconds = (record.endedAt - record.startedAt) / 1000;
  const faults = record.faults.length;
  const d = v.deliveries;
  const p = v.publishes;
  return [
    `== ${spec.schedule.scenario} / ${w.mode}: seed ${seed}, ${faults} faults in ${n(seconds)} s` +
      ` (${faults > 0 ? (seconds / faults).toFixed(1) : "–"} s per fault), ${w.tabs} tabs, ${w.topics.length} topics at ${w.rate} ev/s` +
      ` — ${v.ok ? "PASSED" : "FAILED"}`,
    `  events written ${n(ledger.total)}; handed to apps ${n(d.delivered)} in ${n(d.subscriptions)} subscriptions of ${n(record.tabs.length)} tabs`,
    `  tab publishes: ${n(p.requested)} requested, ${n(p.accepted)} accepted, ${n(p.landedOnce)} landed once` +
      ` (${n(p.landedAfterClose)} after their tab closed), ${n(ledger.dedupedRetries)} retries deduped by key`,
    `  engine deaths ${n(record.deaths.length)}: redelivered after them ${n(d.redeliveredAcrossDeath)} (allowed),` +
      ` duplicates in surviving tabs ${n(d.duplicatesAcrossDeath)} (allowed); resets expected ${n(d.resetsExpected)}`,
    `  recovery (fault over → fresh data in every tab): median ${n(v.stats.median)} ms, p90 ${n(v.stats.p90)} ms,` +
      ` max ${n(v.stats.max)} ms (target p90 ≤ ${n(v.recoveryTargetMs)} ms)`,
    ...recoveryTable(v),
    ...table([["check", "", "measured"], ...v.checks.map((c) => [c.name, c.ok ? "✓" : "✗", c.value])]),
  ];
}

export function failureLines(result: RunResult, v: Verdict, replay: string): string[] {
  const { record, steps } = result;
  const lines = [`  replay: ${replay}`, "  fault sequence (as applied; recovery in ms):"];
  const applied = new Map(record.faults.map((f) => [f.step.index, f]));
  const recovery = new Map(v.recovery.map((r) => [r.fault.step.index, r.ms]));
  for (const step of steps) {
    const f = applied.get(step.index);
    const ms = recovery.get(step.index);
    const tail = f ? `${f.detail ? ` — ${f.detail}` : ""} → ${ms === undefined ? "never" : n(ms)}` : " (not reached)";
    lines.push(`    ${describeStep(step)}${tail}`);
  }
  const list = (title: string, items: readonly string[]): void => {
    if (items.length === 0) return;
    lines.push(`  ${title} (${items.length}):`);
    for (const item of items.slice(0, SHOW)) lines.push(`    ${item}`);
    if (items.length > SHOW) lines.push(`    … ${items.length - SHOW} more`);
  };
  list("delivery findings", v.deliveries.examples.map((e) => `${e.tab} ${e.topic}: ${e.what}`));
  list(
    "vanished publishes",
    // Those of close-alls first: they measure the window issue 13 asks to shrink.
    [...v.publishes.vanished]
      .sort((a, b) => CAUSE_ORDER.indexOf(a.cause) - CAUSE_ORDER.indexOf(b.cause))
      .map((x) => `${x.payload} from ${x.tab}: requested ${n(x.windowMs)} ms before its tab ${CAUSE_TEXT[x.cause]}${x.accepted ? " (accepted!)" : x.durable ? " (durable!)" : ""}`),
  );
  list("publishes landed twice", v.publishes.landedTwice);
  list("accepted publishes not in the log as accepted", v.publishes.acceptedWrong);
  list("rejected publishes", v.publishes.rejections);
  list("publishes unresolved at the end", v.publishes.pendingAtEnd);
  list(
    "stuck tabs",
    record.stuck.map((s) => `after #${s.afterFault}: ${s.tabs.map((t) => `${t.id} ${t.state}${t.lastError ? ` (${t.lastError})` : ""}`).join("; ")}`),
  );
  list(
    "quiet moments with extra streams",
    record.quiet.filter((q) => !q.settled).map((q) => `after #${q.afterFault}: server ${q.server}, client ${q.client}, expected ${q.expected}`),
  );
  list("repairs (to go on after a stuck tab)", record.repairs);
  list(
    "page errors",
    record.tabs.flatMap((t) => t.messages.flatMap((m) => (m.t === "error" ? [`${t.id}: ${m.message}`] : []))),
  );
  if (record.publisherErrors > 0) lines.push(`  publisher calls that failed (server down): ${record.publisherErrors}`);
  return lines;
}
