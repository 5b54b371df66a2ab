// Per-topic positions: the last cursor accepted from the stream and the epoch it was issued
// under. Dedupe compares with this, and every (re)subscribe resumes from it. What may be STORED
// is another matter (only what a subscriber acknowledged): see ledger.ts.
import type { Cursor, CursorRecord } from "./types";

export interface Position {
  cursor: Cursor;
  epoch: string;
  /** The call that last moved it: a repeat from the same call is a lie, from another an overlap. */
  by?: object;
}

export class Positions {
  private readonly map = new Map<string, Position>();

  load(records: readonly CursorRecord[]): void {
    for (const r of records) this.map.set(r.topic, { cursor: r.cursor, epoch: r.epoch });
  }

  get(topic: string): Position | undefined {
    return this.map.get(topic);
  }

  /**
   * Moves `topic` to `cursor` (caller checked it is ahead). The epoch is only filled in where it
   * was unknown: a topic's epoch changes by a reset, never by an event.
   */
  advance(topic: string, cursor: Cursor, epoch: string, by: object): void {
    const p = this.map.get(topic);
    if (p === undefined) this.map.set(topic, { cursor, epoch, by });
    else {
      p.cursor = cursor;
      if (p.epoch === "") p.epoch = epoch;
      p.by = by;
    }
  }

  /** The server says the position is `cursor` now, ahead or behind (a reset, a new epoch, a bookmark). */
  reset(topic: string, cursor: Cursor, epoch: string, by: object): void {
    this.map.set(topic, { cursor, epoch, by });
  }

  /** The position is gone and none replaces it: the topic starts from now. */
  forget(topic: string): void {
    this.map.delete(topic);
  }

  clear(): void {
    this.map.clear();
  }
}
