// A clock the test drives by hand: timers fire only inside advance(), in due order, with the
// microtask queue drained between them, so engine code runs exactly as it would in real time
// but instantly and deterministically. jump() moves the wall clock alone (sleep/wake, NTP).
import type { Clock } from "../engine/types";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets every pending promise callback run (one macrotask turn; `rounds` more for I/O fakes). */
export async function settle(rounds = 1): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private mono = 0;
  private wall: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(startWall = Date.UTC(2026, 0, 1)) {
    this.wall = startWall;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  /** Rejects non-finite or negative delays: the engine must never ask for one. */
  setTimeout(fn: () => void, ms: number): () => void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`FakeClock.setTimeout: bad delay ${ms}`);
    const t: Timer = { at: this.mono + ms, seq: this.seq++, fn };
    this.timers.push(t);
    return () => {
      this.timers = this.timers.filter((x) => x !== t);
    };
  }

  /** Number of timers waiting (handy to assert "nothing scheduled"). */
  get pending(): number {
    return this.timers.length;
  }

  /** When the next timer is due, in monotonic ms, or undefined. */
  get nextDue(): number | undefined {
    return this.earliest()?.at;
  }

  /** Moves both clocks forward by `ms`, firing due timers in order and settling after each. */
  async advance(ms: number): Promise<void> {
    const target = this.mono + ms;
    await settle();
    for (;;) {
      const t = this.earliest();
      if (t === undefined || t.at > target) break;
      this.timers = this.timers.filter((x) => x !== t);
      this.wall += t.at - this.mono;
      this.mono = t.at;
      t.fn();
      await settle();
    }
    this.wall += target - this.mono;
    this.mono = target;
    await settle();
  }

  /** Wall clock only (the machine slept, or NTP stepped); monotonic time does not move. */
  jump(ms: number): void {
    this.wall += ms;
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }
}

/** A seeded PRNG (mulberry32) for the engine's Random: same seed, same run. */
export function seededRandom(seed = 1): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
