// Did every publish the tabs made land exactly once? Each payload is unique in the run, so the
// ledger says how often the server wrote it. The README promises that a publish lands once it is
// durable (`publish(...).durable` resolved), even if its tab closes then; one that never landed
// after that is a failure. One whose tab closed before it was durable may vanish: it is counted
// with its window (close time minus request time), which issue 13 asks to keep as small as the
// platform allows. Pure.
import type { LedgerEntry } from "./ledger";
import type { PublishMessage } from "./messages";
import type { TabRecord } from "./recorder";

export interface PublishInput {
  tabs: readonly TabRecord[];
  find(payload: string): LedgerEntry | undefined;
  copies(payload: string): number;
  /** False when the run ended without its final drain: unresolved publishes are not judged. */
  drained: boolean;
  /** Tabs replaced for being stuck (their publishes went to a dead worker or engine). */
  stuck: ReadonlySet<string>;
  /** Tabs closed by a close-all: what vanished there measures the window issue 13 asks to shrink. */
  closedAll: ReadonlySet<string>;
}

/** Why a vanished publish's tab went: a close-all, a repair of a stuck tab, or another fault. */
export type VanishCause = "close-all" | "stuck" | "closed";

export interface Vanished {
  tab: string;
  payload: string;
  /** The app had been told it was accepted. */
  accepted: boolean;
  /** The app had been told it was durable (or accepted): the README promised it would land. */
  durable: boolean;
  /** Close time minus request time (the tab closed before it landed). */
  windowMs: number;
  cause: VanishCause;
}

export interface PublishFindings {
  requested: number;
  accepted: number;
  landedOnce: number;
  /** Landed although the tab closed before hearing back (the outbox did its job). */
  landedAfterClose: number;
  /** Written more than once (two events for one publish). */
  landedTwice: string[];
  /** Accepted, but the log has it at another cursor or topic, or not at all. */
  acceptedWrong: string[];
  /** Rejected by the client (an outbox should never give up under transient faults). */
  rejections: string[];
  /** Never landed, and the tab closed before the end (a failure only when `durable`). */
  vanished: Vanished[];
  /** Still unresolved at the end of a drained run, in a tab that was still open. */
  pendingAtEnd: string[];
}

interface Journey {
  tab: TabRecord;
  requested?: PublishMessage;
  durable?: PublishMessage;
  accepted?: PublishMessage;
  rejected?: PublishMessage;
}

export function checkPublishes(input: PublishInput): PublishFindings {
  const journeys = new Map<string, Journey>();
  for (const tab of input.tabs) {
    for (const m of tab.messages) {
      if (m.t !== "publish") continue;
      const j = journeys.get(m.payload) ?? { tab };
      j[m.phase] = m;
      journeys.set(m.payload, j);
    }
  }
  const f: PublishFindings = {
    requested: 0,
    accepted: 0,
    landedOnce: 0,
    landedAfterClose: 0,
    landedTwice: [],
    acceptedWrong: [],
    rejections: [],
    vanished: [],
    pendingAtEnd: [],
  };
  for (const [payload, j] of journeys) {
    if (j.requested) f.requested++;
    const copies = input.copies(payload);
    const entry = input.find(payload);
    if (copies === 1) f.landedOnce++;
    if (copies > 1) f.landedTwice.push(`${payload} written ${copies}×`);
    if (j.accepted) {
      f.accepted++;
      const at = j.accepted.cursor;
      if (!entry || entry.topic !== j.accepted.topic || String(entry.cursor) !== at) {
        f.acceptedWrong.push(`${payload}: accepted at ${j.accepted.topic}#${at}, log has ${entry ? `${entry.topic}#${entry.cursor}` : "nothing"}`);
      }
    }
    if (j.rejected) {
      f.rejections.push(`${payload}: ${j.rejected.error ?? "rejected"}${copies > 0 ? " (and yet it landed)" : ""}`);
    }
    const closedAt = j.tab.closedAt;
    const resolved = j.accepted !== undefined || j.rejected !== undefined;
    if (closedAt !== undefined && !resolved && copies > 0) f.landedAfterClose++;
    if (copies === 0 && !j.rejected && closedAt !== undefined && input.drained) {
      f.vanished.push({
        tab: j.tab.id,
        payload,
        accepted: j.accepted !== undefined,
        durable: j.durable !== undefined || j.accepted !== undefined,
        windowMs: closedAt - (j.requested?.at ?? closedAt),
        cause: input.stuck.has(j.tab.id) ? "stuck" : input.closedAll.has(j.tab.id) ? "close-all" : "closed",
      });
    }
    if (closedAt === undefined && !resolved && input.drained) f.pendingAtEnd.push(`${payload} (${j.tab.id})`);
  }
  return f;
}
