// Which cursor may be stored: the ledger of positions handed to subscribers and not yet
// acknowledged. A stored cursor must never run ahead of what some tab's app has processed, or a
// crash between the save and the delivery skips events (a silent gap). So every position the
// engine hands out is a Point here; a subscriber acknowledges a delivery once its app is done with
// it, and that settles its points and every earlier point of the topic. The newest settled point
// of a topic is what the next save writes. Across a crash the worst case is therefore a repeat of
// events processed but not yet saved, never a gap.
//
// The rule, said once: the stored cursor of a topic is the newest position that at least one
// subscriber acknowledged (each subscriber acknowledges in order, so it processed everything
// before too). A subscriber whose app throws or never returns acknowledges nothing more; the
// others go on settling points. Bookmarks (positions with no event) settle by themselves as soon
// as everything before them has.
import type { Cursor, CursorRecord } from "./types";

export interface Point {
  readonly topic: string;
  /** undefined: the position is gone and the topic starts from now (a reset with no cursor). */
  readonly cursor: Cursor | undefined;
  readonly epoch: string;
  /** Order of recording, across topics. */
  readonly seq: number;
  /** Events this point covers (for the bound on what is tracked). */
  readonly events: number;
  /** A bookmark: nobody acknowledges it; it settles behind the points before it. */
  readonly silent: boolean;
  /** The ledger's generation when recorded: an acknowledgement from before a logout is void. */
  readonly generation: number;
  settled: boolean;
}

/** What one save writes: the cursors to put and the topics whose cursor is gone. */
export interface Dirty {
  records: CursorRecord[];
  forget: string[];
}

export class Ledger {
  /** Per topic, unsettled points, oldest first (a queue: `head` is the index of the oldest). */
  private readonly pending = new Map<string, { points: Point[]; head: number }>();
  /** Per topic, the newest settled point not yet taken by a save. */
  private readonly targets = new Map<string, Point>();
  private seq = 0;
  private tracked = 0;
  private generation = 0;

  constructor(
    /** Unacknowledged events tracked at most; beyond it the oldest points are let go. */
    private readonly maxTrackedEvents: number,
    /** Something new can be saved. */
    private readonly onDirty: () => void,
  ) {}

  /** A position handed to subscribers; settles when one of them acknowledges it. */
  record(topic: string, cursor: Cursor | undefined, epoch: string, events: number): Point {
    const point: Point = { topic, cursor, epoch, seq: ++this.seq, events, silent: false, generation: this.generation, settled: false };
    this.queue(topic).points.push(point);
    this.tracked += events;
    if (this.tracked > this.maxTrackedEvents) this.letGo(topic);
    return point;
  }

  /** A position handed to nobody (a bookmark): it settles once every point before it has. */
  recordSilent(topic: string, cursor: Cursor, epoch: string): void {
    const q = this.queue(topic);
    const point: Point = { topic, cursor, epoch, seq: ++this.seq, events: 0, silent: true, generation: this.generation, settled: false };
    q.points.push(point);
    this.settleSilent(topic);
  }

  /** A subscriber processed everything up to `point`: it and every earlier point of its topic settle. */
  ack(point: Point): void {
    if (point.settled || point.generation !== this.generation) return;
    const q = this.pending.get(point.topic);
    point.settled = true;
    if (q !== undefined) {
      while (q.head < q.points.length && q.points[q.head]!.seq <= point.seq) {
        const p = q.points[q.head++]!;
        p.settled = true;
        this.tracked -= p.events;
      }
      this.compact(point.topic, q);
    }
    const before = this.targets.get(point.topic);
    if (before === undefined || before.seq < point.seq) this.targets.set(point.topic, point);
    this.settleSilent(point.topic);
    this.onDirty();
  }

  /** What the next save writes; taking it marks it clean. */
  take(): Dirty {
    const records: CursorRecord[] = [];
    const forget: string[] = [];
    for (const p of this.targets.values()) {
      if (p.cursor === undefined) forget.push(p.topic);
      else records.push({ topic: p.topic, cursor: p.cursor, epoch: p.epoch });
    }
    this.targets.clear();
    return { records, forget };
  }

  /** Logout: nothing tracked, nothing to save, and acknowledgements of earlier points are void. */
  clear(): void {
    this.generation++;
    this.pending.clear();
    this.targets.clear();
    this.tracked = 0;
  }

  private queue(topic: string): { points: Point[]; head: number } {
    let q = this.pending.get(topic);
    if (q === undefined) this.pending.set(topic, (q = { points: [], head: 0 }));
    return q;
  }

  /** Silent points at the head of `topic` settle (everything before them has). */
  private settleSilent(topic: string): void {
    const q = this.pending.get(topic);
    if (q === undefined) return;
    let newest: Point | undefined;
    while (q.head < q.points.length && q.points[q.head]!.silent) {
      newest = q.points[q.head++]!;
      newest.settled = true;
    }
    this.compact(topic, q);
    if (newest === undefined) return;
    const before = this.targets.get(topic);
    if (before === undefined || before.seq < newest.seq) this.targets.set(topic, newest);
    this.onDirty();
  }

  /**
   * Over the bound (every subscriber stalled or cut off): the oldest points of `topic` are no
   * longer tracked. They can never settle, so the stored cursor waits for a later acknowledgement:
   * a longer repeat after a crash, never a gap.
   */
  private letGo(topic: string): void {
    const q = this.pending.get(topic)!;
    while (this.tracked > this.maxTrackedEvents && q.points.length - q.head > 1) {
      const p = q.points[q.head++]!;
      this.tracked -= p.events;
    }
    this.compact(topic, q);
  }

  private compact(topic: string, q: { points: Point[]; head: number }): void {
    if (q.head === q.points.length) {
      this.pending.delete(topic);
      return;
    }
    if (q.head > 1024 && q.head * 2 > q.points.length) {
      q.points = q.points.slice(q.head);
      q.head = 0;
    }
  }
}
