// Storage in a Map, with the knobs a test needs: count transactions, hold saves in flight (to
// watch group commit), fail the next calls. Records are structured-cloned both ways, as
// IndexedDB does, so a test can never pass by sharing an object with the engine.
import type { Cursor, CursorRecord, OutboxRecord, Storage } from "../engine/types";

type Method = "loadCursors" | "saveCursors" | "loadOutbox" | "addOutbox" | "removeOutbox" | "wipe";

export class MemoryStorage implements Storage {
  readonly cursors = new Map<string, Map<string, CursorRecord>>();
  readonly outbox = new Map<string, Map<string, OutboxRecord>>();
  /** Transactions per method. */
  readonly calls: Record<Method, number> = { loadCursors: 0, saveCursors: 0, loadOutbox: 0, addOutbox: 0, removeOutbox: 0, wipe: 0 };
  private failures: Partial<Record<Method, unknown[]>> = {};
  private held: (() => void)[] | undefined;

  /** The next `n` calls of `method` reject with `err`. */
  failNext(method: Method, n = 1, err: unknown = new Error(`MemoryStorage: injected ${method} failure`)): void {
    (this.failures[method] ??= []).push(...Array<unknown>(n).fill(err));
  }

  /** saveCursors calls wait until release() (they still count as started). */
  holdSaves(): () => void {
    this.held ??= [];
    return () => {
      const waiting = this.held ?? [];
      this.held = undefined;
      for (const go of waiting) go();
    };
  }

  cursorOf(user: string, topic: string): Cursor | undefined {
    return this.cursors.get(user)?.get(topic)?.cursor;
  }

  async loadCursors(user: string): Promise<CursorRecord[]> {
    await this.enter("loadCursors");
    return structuredClone([...(this.cursors.get(user)?.values() ?? [])]);
  }

  async saveCursors(user: string, records: CursorRecord[], forget: string[] = []): Promise<void> {
    const copy = structuredClone(records);
    await this.enter("saveCursors");
    if (this.held !== undefined) await new Promise<void>((resolve) => this.held!.push(resolve));
    const m = this.cursors.get(user) ?? new Map<string, CursorRecord>();
    for (const r of copy) m.set(r.topic, r);
    for (const t of forget) m.delete(t);
    this.cursors.set(user, m);
  }

  async loadOutbox(user: string): Promise<OutboxRecord[]> {
    await this.enter("loadOutbox");
    return structuredClone([...(this.outbox.get(user)?.values() ?? [])].sort((a, b) => a.seq - b.seq));
  }

  async addOutbox(user: string, record: OutboxRecord): Promise<void> {
    const copy = structuredClone(record);
    await this.enter("addOutbox");
    const m = this.outbox.get(user) ?? new Map<string, OutboxRecord>();
    m.set(copy.key, copy);
    this.outbox.set(user, m);
  }

  async removeOutbox(user: string, key: string): Promise<void> {
    await this.enter("removeOutbox");
    this.outbox.get(user)?.delete(key);
  }

  async wipe(user: string): Promise<void> {
    await this.enter("wipe");
    this.cursors.delete(user);
    this.outbox.delete(user);
  }

  private async enter(method: Method): Promise<void> {
    this.calls[method]++;
    await Promise.resolve();
    const queue = this.failures[method];
    if (queue !== undefined && queue.length > 0) throw queue.shift();
  }
}
