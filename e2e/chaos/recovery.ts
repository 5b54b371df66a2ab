// Recovery time of each fault: from the moment it was over (healed, back online, tabs reopened)
// until every tab open then was handed an event the server wrote after that moment — data flows
// again everywhere. Faults come every few seconds whether or not the last one has recovered, as
// in real flapping; a tab the run closed before it recovered does not count, unless it was closed
// for being stuck: then the fault never recovered. Pure.
import { percentile } from "../../bench/lib/stats";
import type { LedgerEntry } from "./ledger";
import type { AppliedFault, TabRecord } from "./recorder";

export interface Recovery {
  fault: AppliedFault;
  /** undefined: some tab open until the end never saw fresh data after it. */
  ms: number | undefined;
}

export interface RecoveryStats {
  count: number;
  median: number;
  p90: number;
  max: number;
  /** Faults after which some tab never saw fresh data again. */
  never: number;
}

/** When `tab` was first handed an event written at or after `since`; undefined if never. */
function freshAfter(tab: TabRecord, since: number, find: (payload: string) => LedgerEntry | undefined): number | undefined {
  for (const m of tab.messages) {
    if (m.t !== "events" || m.at < since) continue;
    if (m.items.some(([, payload]) => (find(payload)?.at ?? -Infinity) >= since)) return m.at;
  }
  return undefined;
}

export function recoveries(
  faults: readonly AppliedFault[],
  tabs: readonly TabRecord[],
  find: (payload: string) => LedgerEntry | undefined,
  /** Tabs replaced for being stuck. */
  stuck: ReadonlySet<string>,
): Recovery[] {
  return faults.map((fault) => {
    const end = fault.endAt;
    let worst = 0;
    for (const tab of tabs) {
      if (tab.openedAt > end || (tab.closedAt !== undefined && tab.closedAt <= end)) continue;
      const at = freshAfter(tab, end, find);
      if (at === undefined) {
        if (tab.closedAt === undefined || stuck.has(tab.id)) return { fault, ms: undefined };
        continue; // closed by the run before it recovered: not this fault's to answer for
      }
      worst = Math.max(worst, at - end);
    }
    return { fault, ms: worst };
  });
}

export function recoveryStats(list: readonly Recovery[]): RecoveryStats {
  const ms = list.flatMap((r) => (r.ms === undefined ? [] : [r.ms]));
  return {
    count: list.length,
    median: percentile(ms, 50),
    p90: percentile(ms, 90),
    max: ms.length === 0 ? Number.NaN : Math.max(...ms),
    never: list.length - ms.length,
  };
}
