// Per-topic positions: the last cursor accepted from the stream and the server epoch it was
// issued under. Accepted means queued for persist-then-deliver, so dedupe compares with this,
// and every (re)subscribe resumes from it. `dirty` collects what the next group commit writes.
import type { CursorRecord } from "./types";

export interface Position {
  cursor: bigint;
  epoch: string;
  /** The stream that last moved it: a repeat from the same stream is a lie, from another an overlap. */
  by?: object;
}

export class Positions {
  private readonly map = new Map<string, Position>();
  private dirty = new Set<string>();

  load(records: readonly CursorRecord[]): void {
    for (const r of records) this.map.set(r.topic, { cursor: r.cursor, epoch: r.epoch });
  }

  get(topic: string): Position | undefined {
    return this.map.get(topic);
  }

  /** Moves `topic` to `cursor` (caller checked it is ahead). */
  advance(topic: string, cursor: bigint, epoch: string, by: object): void {
    const p = this.map.get(topic);
    if (p === undefined) this.map.set(topic, { cursor, epoch, by });
    else {
      p.cursor = cursor;
      p.epoch = epoch;
      p.by = by;
    }
    this.dirty.add(topic);
  }

  /** The server says the position is `cursor` now, ahead or behind (TopicReset, new epoch). */
  reset(topic: string, cursor: bigint, epoch: string, by: object): void {
    this.map.set(topic, { cursor, epoch, by });
    this.dirty.add(topic);
  }

  /** What changed since the last call: one record per topic, for one transaction. */
  takeDirty(): CursorRecord[] {
    if (this.dirty.size === 0) return [];
    const out: CursorRecord[] = [];
    for (const topic of this.dirty) {
      const p = this.map.get(topic);
      if (p !== undefined) out.push({ topic, cursor: p.cursor, epoch: p.epoch });
    }
    this.dirty = new Set();
    return out;
  }

  clear(): void {
    this.map.clear();
    this.dirty.clear();
  }
}
