// Writes settled cursors to storage by group commit, off the delivery path: one save in flight
// at a time, and whatever settles meanwhile goes out together in the next one (one transaction
// per save, never one per event). Delivery never waits for it. A failed save is retried after
// a pause with everything that settled since merged in; nothing is dropped but by logout.
import type { Dirty } from "./ledger";
import type { CursorRecord } from "./types";

export interface SaverDeps {
  /** What settled since the last take (ledger.take). */
  take: () => Dirty;
  save: (records: CursorRecord[], forget: string[]) => Promise<void>;
  /** Resolves after `ms`, or sooner when the engine stops or resets. */
  sleep: (ms: number) => Promise<void>;
  warn: (message: string) => void;
  retryMs: number;
}

export class CursorSaver {
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Bumped by discard(): a save waiting to retry for an older generation gives up. */
  private generation = 0;
  /** Per topic, what is still to be written: a record, or null for "forget". */
  private carry = new Map<string, CursorRecord | null>();

  constructor(private readonly deps: SaverDeps) {}

  /** Something settled: save it soon. */
  kick(): void {
    if (this.stopped) return;
    this.running ??= this.run();
  }

  /** Settles when nothing is being saved. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** close(): what settled so far is still saved (kick, then await idle); nothing after. */
  stop(): void {
    this.kick();
    this.stopped = true;
  }

  /** Logout: drop what is to be written and abandon a retry; keeps running for later points. */
  discard(): void {
    this.generation++;
    this.carry.clear();
  }

  private merge(): void {
    const { records, forget } = this.deps.take();
    for (const r of records) this.carry.set(r.topic, r);
    for (const t of forget) this.carry.set(t, null);
  }

  private async run(): Promise<void> {
    try {
      // Settle the acknowledgements of one task together.
      await Promise.resolve();
      this.merge();
      while (this.carry.size > 0) {
        const generation = this.generation;
        const batch = this.carry;
        this.carry = new Map();
        const records = [...batch.values()].filter((r): r is CursorRecord => r !== null);
        const forget = [...batch].filter(([, r]) => r === null).map(([t]) => t);
        try {
          await this.deps.save(records, forget);
        } catch (e) {
          if (generation !== this.generation) continue;
          this.deps.warn(`onestream: saving cursors failed, retrying in ${this.deps.retryMs} ms: ${String(e)}`);
          for (const [t, r] of batch) if (!this.carry.has(t)) this.carry.set(t, r); // newer wins
          if (this.stopped) return; // close(): the next engine resumes from what was saved before
          await this.deps.sleep(this.deps.retryMs);
          if (generation !== this.generation) continue;
        }
        this.merge();
      }
    } finally {
      this.running = undefined;
    }
  }
}
