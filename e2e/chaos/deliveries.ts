// What each tab's app was handed, checked against the ledger (the server's every append):
// per subscription, every event is the one the server wrote at that cursor, nothing is skipped
// unless a reset said so, nothing comes twice and nothing out of order; across an engine death
// (the worker or the leader tab gone) the first event a topic delivers again is at most one past
// what any tab had processed (issue 14: a duplicate is allowed and counted, a gap fails); and at
// the end every open subscription reached its topic's head. Pure: data in, findings out.
import type { LedgerEntry } from "./ledger";
import type { EventsMessage, ResetMessage } from "./messages";
import type { EngineDeath, TabRecord } from "./recorder";

export interface DeliveryInput {
  tabs: readonly TabRecord[];
  deaths: readonly EngineDeath[];
  find(payload: string): LedgerEntry | undefined;
  /** Start times of new-epoch faults: an epoch reset after one is expected. */
  newEpochsAt: readonly number[];
  /** Head per topic in the final epoch; undefined when the run did not drain (no tail check). */
  finalHeads: Record<string, number> | undefined;
  finalEpoch: number;
}

export interface Example {
  tab: string;
  topic: string;
  what: string;
}

export interface DeliveryFindings {
  /** Events handed to apps (every tab, every subscription). */
  delivered: number;
  subscriptions: number;
  /** Events skipped with no reset to say so (inside a subscription). */
  lost: number;
  /** Same event twice to one tab with no engine death in between (a failure). */
  duplicates: number;
  /** Same event twice to one tab across an engine death (allowed, counted). */
  duplicatesAcrossDeath: number;
  outOfOrder: number;
  /** Payload not in the ledger, or not at that topic and cursor. */
  corrupt: number;
  /** Events of a new server epoch with no reset before them. */
  silentEpochs: number;
  resetsExpected: number;
  resetsUnexpected: number;
  /** Engine deaths after which a topic had to resume from stored cursors, and was checked. */
  deathResumes: number;
  /** Events skipped when a topic resumed after an engine death (a failure). */
  lostAcrossDeath: number;
  /** Events processed before an engine death and delivered again after it (allowed, counted). */
  redeliveredAcrossDeath: number;
  /** Open subscriptions that did not reach their topic's head by the end. */
  short: number;
  examples: Example[];
}

/** Examples kept per run (the counts are exact; the list is for a reader). */
const MAX_EXAMPLES = 40;

type Item = EventsMessage | ResetMessage;

interface Subscription {
  tab: TabRecord;
  id: number;
  topic: string;
  joinedAt: number;
  leftAt: number | undefined;
  items: Item[];
}

function subscriptionsOf(tab: TabRecord): Subscription[] {
  const subs = new Map<number, Subscription>();
  for (const m of tab.messages) {
    if (m.t === "join") subs.set(m.sub, { tab, id: m.sub, topic: m.topic, joinedAt: m.at, leftAt: undefined, items: [] });
    else if (m.t === "leave") {
      const s = subs.get(m.sub);
      if (s) s.leftAt = m.at;
    } else if (m.t === "events" || m.t === "reset") subs.get(m.sub)?.items.push(m);
  }
  return [...subs.values()];
}

/** Whether a subscription was held at `at`: joined before, not left, its tab open. */
function heldAt(s: Subscription, at: number): boolean {
  return s.joinedAt <= at && (s.leftAt === undefined || s.leftAt > at) && (s.tab.closedAt === undefined || s.tab.closedAt >= at);
}

export function checkDeliveries(input: DeliveryInput): DeliveryFindings {
  const f: DeliveryFindings = {
    delivered: 0,
    subscriptions: 0,
    lost: 0,
    duplicates: 0,
    duplicatesAcrossDeath: 0,
    outOfOrder: 0,
    corrupt: 0,
    silentEpochs: 0,
    resetsExpected: 0,
    resetsUnexpected: 0,
    deathResumes: 0,
    lostAcrossDeath: 0,
    redeliveredAcrossDeath: 0,
    short: 0,
    examples: [],
  };
  const note = (tab: string, topic: string, what: string): void => {
    if (f.examples.length < MAX_EXAMPLES) f.examples.push({ tab, topic, what });
  };
  const diedBetween = (from: number, to: number): boolean => input.deaths.some((d) => d.at > from && d.at < to);

  const all: Subscription[] = input.tabs.flatMap(subscriptionsOf);
  f.subscriptions = all.length;
  for (const tab of input.tabs) {
    /** Per "topic/epoch/cursor": when this tab was first handed it. */
    const seen = new Map<string, number>();
    for (const s of all.filter((x) => x.tab === tab)) walk(s, seen);
  }

  function walk(s: Subscription, seen: Map<string, number>): void {
    const id = s.tab.id;
    let expected: number | undefined;
    let epoch: number | undefined;
    let resetSinceEpoch = false;
    for (const item of s.items) {
      if (item.t === "reset") {
        const wanted = item.reason === "epoch" && input.newEpochsAt.some((t) => t < item.at);
        if (wanted) f.resetsExpected++;
        else {
          f.resetsUnexpected++;
          note(id, s.topic, `unexpected reset ${item.reason} (resume after ${item.resumeAfter ?? "now"})`);
        }
        expected = item.resumeAfter === undefined ? undefined : Number(item.resumeAfter) + 1;
        resetSinceEpoch = true;
        continue;
      }
      for (const [cursorText, payload] of item.items) {
        f.delivered++;
        const c = Number(cursorText);
        const entry = input.find(payload);
        if (entry === undefined || entry.topic !== s.topic || entry.cursor !== c) {
          f.corrupt++;
          note(id, s.topic, `#${c} carried ${JSON.stringify(payload)}, which the server ${entry ? `wrote as ${entry.topic}#${entry.cursor}` : "never wrote"}`);
          continue;
        }
        if (epoch !== undefined && entry.epoch !== epoch && !resetSinceEpoch) {
          f.silentEpochs++;
          note(id, s.topic, `#${c} is from server epoch ${entry.epoch}, with no reset after epoch ${epoch}`);
        }
        if (entry.epoch !== epoch) resetSinceEpoch = false;
        epoch = entry.epoch;
        const key = `${s.topic}/${entry.epoch}/${c}`;
        const first = seen.get(key);
        if (first !== undefined) {
          if (diedBetween(first, item.at)) f.duplicatesAcrossDeath++;
          else {
            f.duplicates++;
            note(id, s.topic, `#${c} handed twice (sub ${s.id}), no engine death in between`);
          }
          continue;
        }
        seen.set(key, item.at);
        if (expected !== undefined && c > expected) {
          f.lost += c - expected;
          note(id, s.topic, `lost #${expected}${c - 1 > expected ? `–#${c - 1}` : ""} (sub ${s.id}, no reset)`);
        } else if (expected !== undefined && c < expected) {
          f.outOfOrder++;
          note(id, s.topic, `#${c} after #${expected - 1} (sub ${s.id})`);
        }
        expected = Math.max(expected ?? 0, c + 1);
      }
    }
    if (input.finalHeads !== undefined && s.tab.closedAt === undefined && s.leftAt === undefined) {
      const head = input.finalHeads[s.topic] ?? 0;
      const last = epoch === input.finalEpoch ? (expected ?? 1) - 1 : 0;
      if (head > 0 && last < head) {
        f.short++;
        note(id, s.topic, `ended at #${last}, head #${head} (sub ${s.id})`);
      }
    }
  }

  for (const death of input.deaths) checkResume(death);

  /**
   * A topic held at `death` only by the tabs that died with the engine must resume, in the next
   * subscription that takes it, at most one past what any tab had processed.
   */
  function checkResume(death: EngineDeath): void {
    const killed = new Set(death.killed);
    const topics = new Set(all.map((s) => s.topic));
    for (const topic of topics) {
      const held = all.filter((s) => s.topic === topic && heldAt(s, death.at));
      if (held.length === 0 || held.some((s) => !killed.has(s.tab.id))) continue; // nobody owed, or a survivor carries on
      let frontier: LedgerEntry | undefined;
      for (const s of all) {
        if (s.topic !== topic) continue;
        const mayCount = killed.has(s.tab.id);
        for (const item of s.items) {
          if (item.t !== "events" || (!mayCount && item.at > death.at)) continue;
          for (const [, payload] of item.items) {
            const e = input.find(payload);
            if (e && (!frontier || e.epoch > frontier.epoch || (e.epoch === frontier.epoch && e.cursor > frontier.cursor))) frontier = e;
          }
        }
      }
      const next = all
        .filter((s) => s.topic === topic && s.joinedAt > death.at && s.items.length > 0)
        .sort((a, b) => a.joinedAt - b.joinedAt)[0];
      const firstItem = next?.items[0];
      if (!frontier || !next || !firstItem || firstItem.t !== "events") continue;
      const first = input.find(firstItem.items[0]![1]);
      if (!first || first.epoch !== frontier.epoch) continue;
      f.deathResumes++;
      if (first.cursor > frontier.cursor + 1) {
        f.lostAcrossDeath += first.cursor - frontier.cursor - 1;
        note(next.tab.id, topic, `after ${death.why}: resumed at #${first.cursor}, but no tab had processed past #${frontier.cursor}`);
      } else f.redeliveredAcrossDeath += frontier.cursor - first.cursor + 1;
    }
  }
  return f;
}
