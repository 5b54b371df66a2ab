// A level-triggered status cell (the shape of libmoq's status channel): readers ask "what is it
// now", watchers get the current value at once and then only values that differ from the last
// one they saw. Changes are delivered on a microtask, so a flip and a flip back collapse.
import { sameStatus } from "../../contract/status";
import type { Status } from "./types";

type Watcher = { cb: (s: Status) => void; last: Status };

export class StatusCell {
  private value: Status;
  private readonly watchers = new Set<Watcher>();
  private scheduled = false;

  constructor(
    initial: Status,
    private readonly onWatcherError: (e: unknown) => void = () => {},
  ) {
    this.value = Object.freeze({ ...initial });
  }

  get(): Status {
    return this.value;
  }

  set(next: Status): void {
    if (sameStatus(this.value, next)) return;
    this.value = Object.freeze({ ...next });
    if (this.scheduled || this.watchers.size === 0) return;
    this.scheduled = true;
    // A resolved promise's then, not queueMicrotask: same microtask timing, but a language
    // feature rather than a host global, so the engine stays pure (see the house rules).
    void Promise.resolve().then(() => this.deliver());
  }

  watch(cb: (s: Status) => void): () => void {
    const w: Watcher = { cb, last: this.value };
    this.watchers.add(w);
    this.call(w, this.value);
    return () => {
      this.watchers.delete(w);
    };
  }

  /** Delivers the current value now to watchers that have not seen it (used by close()). */
  flush(): void {
    this.deliver();
  }

  private deliver(): void {
    this.scheduled = false;
    const v = this.value;
    for (const w of [...this.watchers]) {
      if (sameStatus(w.last, v)) continue;
      w.last = v;
      this.call(w, v);
    }
  }

  private call(w: Watcher, v: Status): void {
    try {
      w.cb(v);
    } catch (e) {
      this.onWatcherError(e);
    }
  }
}
