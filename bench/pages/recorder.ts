// Counts received events the same way on every bench page: one clock read per batch (not per
// event), so the measurement costs the same for onestream and the plain stream.
import { now, type Snapshot } from "./api";

export class Recorder {
  count = 0;
  firstAt = Number.NaN;
  lastAt = Number.NaN;
  samples: number[] = [];
  keepLatencies = false;
  /** Called once with the receipt time of the next batch, then cleared. */
  onNextBatch: ((at: number) => void) | undefined;

  /** Records a batch; `publishedAt(i)` is the server's publish time (ms) of event i. */
  batch(size: number, publishedAt: (i: number) => number): void {
    const t = now();
    if (this.count === 0) this.firstAt = t;
    this.lastAt = t;
    this.count += size;
    if (this.keepLatencies) for (let i = 0; i < size; i++) this.samples.push(t - publishedAt(i));
    const hook = this.onNextBatch;
    this.onNextBatch = undefined;
    hook?.(t);
  }

  snapshot(ready: boolean, error?: string): Snapshot {
    return { ready, count: this.count, firstAt: this.firstAt, lastAt: this.lastAt, ...(error ? { error } : {}) };
  }
}
