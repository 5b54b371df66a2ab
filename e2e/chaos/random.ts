// The chaos suite's only source of randomness: a seeded generator, so a seed names one fault
// sequence exactly and a failure can be replayed with `--seed`. The draws are the engine tests'
// own mulberry32 (worker/testing); this adds the choices a schedule needs.
import { seededRandom as mulberry32 } from "../../worker/testing/fake-clock";

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** One of `items` (non-empty). */
  pick<T>(items: readonly T[]): T;
  /** One key of `weights`, with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K;
}

export function seededRandom(seed: number): Random {
  const next = mulberry32(seed);
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    pick: (items) => {
      if (items.length === 0) throw new RangeError("pick from an empty list");
      return items[int(0, items.length - 1)]!;
    },
    weighted(weights) {
      const entries = Object.entries(weights) as Array<[keyof typeof weights, number]>;
      const total = entries.reduce((sum, [, w]) => sum + w, 0);
      if (!(total > 0)) throw new RangeError("weighted pick needs a positive total weight");
      let r = next() * total;
      for (const [key, w] of entries) {
        r -= w;
        if (r < 0) return key;
      }
      return entries[entries.length - 1]![0];
    },
  };
}

/** A fresh seed for a run that was not given one (printed, so it can be replayed). */
export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
