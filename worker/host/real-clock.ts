// The engine's Clock bound to the platform. Delays are clamped to what setTimeout can hold:
// browsers fire anything above 2^31-1 ms at once, and NaN as 0; the engine never asks for
// either, but a timer firing at once would turn into a tight loop, so we guard here too.
import type { Clock } from "../engine/types";

/** Largest delay setTimeout honours (~24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

export const realClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms) {
    const delay = Number.isFinite(ms) ? Math.min(MAX_TIMER_MS, Math.max(0, ms)) : ms > 0 ? MAX_TIMER_MS : 0;
    const id = setTimeout(fn, delay);
    return () => clearTimeout(id);
  },
};
