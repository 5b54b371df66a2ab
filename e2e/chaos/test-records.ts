// Builders for the checks' unit tests: a ledger of known appends and tab records made of the
// messages a chaos page would have sent, so each test states a run in a few lines.
import type { LedgerEntry } from "./ledger";
import type { ChaosMessage } from "./messages";
import type { TabRecord } from "./recorder";

/** Payload of event `cursor` of `topic` in `epoch`, as the fake ledger names it. */
export const ev = (topic: string, cursor: number, epoch = 0): string => `${topic}@${epoch}#${cursor}`;

/** A ledger holding cursors 1..head of each topic per epoch, each appended at `at(cursor)`. */
export function fakeLedger(heads: Array<{ topic: string; head: number; epoch?: number; at?: (c: number) => number }>) {
  const entries = new Map<string, LedgerEntry>();
  for (const h of heads) {
    for (let c = 1; c <= h.head; c++) {
      const payload = ev(h.topic, c, h.epoch ?? 0);
      entries.set(payload, { epoch: h.epoch ?? 0, topic: h.topic, cursor: c, payload, at: h.at?.(c) ?? c });
    }
  }
  return { find: (p: string) => entries.get(p), entries };
}

/** A message as a test writes it: the tab id is filled in by tab(). */
type WithoutTab<M> = M extends unknown ? Omit<M, "tab"> : never;
type Draft = WithoutTab<ChaosMessage>;

export function tab(id: string, messages: Draft[], life: { openedAt?: number; closedAt?: number } = {}): TabRecord {
  return {
    id,
    openedAt: life.openedAt ?? 0,
    ...(life.closedAt === undefined ? {} : { closedAt: life.closedAt }),
    messages: messages.map((m) => ({ ...m, tab: id }) as ChaosMessage),
    freshAt: 0,
    state: "live",
    role: "shared-worker",
    topics: new Set(),
  };
}

/** An events message of cursors `from..to` of `topic` (epoch 0 unless told). */
export function events(sub: number, topic: string, from: number, to: number, at: number, epoch = 0): Draft {
  const items: Array<[string, string]> = [];
  for (let c = from; c <= to; c++) items.push([String(c), ev(topic, c, epoch)]);
  return { t: "events", sub, topic, items, at };
}

export const join = (sub: number, topic: string, at: number): Draft => ({ t: "join", sub, topic, at });
export const leave = (sub: number, topic: string, at: number): Draft => ({ t: "leave", sub, topic, at });
