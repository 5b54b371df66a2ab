// The ground truth of a run: every event the server ever appended, in every epoch, with its
// payload and the moment it was written. It wraps the log the reference server is given (the
// TopicLog seam), so it sees Publish and /admin/publish alike and survives restarts (the same log
// serves the restarted server) and new epochs (the log forgets; the ledger does not).
import { createMemoryLog, MAX_RETENTION_EVENTS, type TopicLog } from "../../server/log";

export interface LedgerEntry {
  /** 0 for the first epoch of the run, +1 per new epoch. */
  epoch: number;
  topic: string;
  cursor: number;
  payload: string;
  /** Node's Date.now() when the server appended it. */
  at: number;
}

export interface Ledger {
  /** Hand this to startServer({ log }). */
  readonly log: TopicLog;
  /** The entry of a payload (payloads are unique in a run). */
  find(payload: string): LedgerEntry | undefined;
  /** How many times a payload was appended as a new event (idempotent repeats not counted). */
  copies(payload: string): number;
  /** Publishes answered from the idempotency keys (a retry of one already written). */
  readonly dedupedRetries: number;
  /** Current epoch index. */
  epoch(): number;
  /** Head of `topic` in the current epoch (0: nothing yet). */
  head(topic: string): number;
  /** Events appended so far, all epochs. */
  readonly total: number;
}

const decoder = new TextDecoder();

/** A memory log keeping every event of the run (retention at its ceiling), wrapped in a ledger. */
export function createLedger(): Ledger {
  const inner = createMemoryLog({ maxEvents: MAX_RETENTION_EVENTS });
  const byPayload = new Map<string, LedgerEntry>();
  const copies = new Map<string, number>();
  const heads = new Map<string, number>();
  let epoch = 0;
  let total = 0;
  let dedupedRetries = 0;

  // Every other method is the inner log's own (its closures need no `this`).
  const log: TopicLog = {
    ...inner,
    async append(...args: Parameters<TopicLog["append"]>) {
      const result = await inner.append(...args);
      if (result.duplicate) {
        dedupedRetries++;
        return result;
      }
      const [topic, payload] = args;
      const text = decoder.decode(payload);
      const cursor = Number(result.event.cursor);
      total++;
      heads.set(topic, cursor);
      copies.set(text, (copies.get(text) ?? 0) + 1);
      if (!byPayload.has(text)) byPayload.set(text, { epoch, topic, cursor, payload: text, at: Date.now() });
      return result;
    },
    async reset() {
      await inner.reset();
      epoch++;
      heads.clear();
    },
  };

  return {
    log,
    find: (payload) => byPayload.get(payload),
    copies: (payload) => copies.get(payload) ?? 0,
    get dedupedRetries() {
      return dedupedRetries;
    },
    epoch: () => epoch,
    head: (topic) => heads.get(topic) ?? 0,
    get total() {
      return total;
    },
  };
}
