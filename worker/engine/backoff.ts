// Reconnect timing policy: how long to wait before the next attempt, given how the last one went.
// Pure apart from the injected Random, so the property tests can hammer it with garbage config.
import type { Random } from "./types";

export interface BackoffPolicy {
  backoffFloorMs: number;
  slowFloorMs: number;
  backoffInitialMs: number;
  backoffMultiplier: number;
  backoffCapMs: number;
  healthyResetMs: number;
}

/** Enough doublings to saturate any cap; keeps mult^n finite. */
const MAX_EXPONENT = 64;

function finiteOr(x: number, fallback: number): number {
  return Number.isFinite(x) ? x : fallback;
}

/**
 * Interval between the START of a failed attempt and the start of the next one:
 * `floor + U[0,1) × min(cap, initial × mult^failures)`, clamped to [floor, cap].
 *
 * The floor paces a tight loop (an attempt that fails at once) to one per floor; the full-jitter
 * window above it grows with consecutive failures so a crowd of clients spreads out (gRFC A6).
 * Garbage in (NaN, negative, Infinity) is treated as 0 or as the cap, never propagated.
 */
export function backoffInterval(policy: BackoffPolicy, failures: number, random: Random, slow = false): number {
  const cap = Math.max(0, finiteOr(policy.backoffCapMs, 0));
  const floorRaw = Math.max(0, finiteOr(slow ? Math.max(policy.slowFloorMs, policy.backoffFloorMs) : policy.backoffFloorMs, 0));
  const floor = Math.min(cap, floorRaw);
  const mult = Math.max(1, finiteOr(policy.backoffMultiplier, 1));
  const n = Math.min(MAX_EXPONENT, Math.max(0, Math.floor(finiteOr(failures, 0))));
  const initial = Math.max(0, finiteOr(policy.backoffInitialMs, 0));
  const window = initial === 0 ? 0 : Math.min(cap, initial * mult ** n); // 0 × Infinity would be NaN
  const r = random();
  const u = r >= 0 && r < 1 ? r : 0;
  return Math.min(cap, Math.max(floor, floor + u * window));
}

/**
 * How long to wait so the next attempt starts `interval` after the failed one STARTED.
 * A stream that was healthy for longer than the interval reconnects at once (0): a couple of
 * seconds of backoff after an hour of streaming buys nothing. Only a quick failure waits.
 */
export function throttleRemaining(interval: number, attemptStartedAt: number, now: number): number {
  const elapsed = Math.max(0, finiteOr(now - attemptStartedAt, 0));
  return Math.max(0, interval - elapsed);
}

/** Consecutive-failure counter + the two functions above. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: Random,
  ) {}

  /**
   * The delay before the next attempt, for an attempt that started at `startedAt` and failed at
   * `now` (monotonic ms). `healthyMs` is how long it had been open (0 if it never opened): at least
   * healthyResetMs resets the failure count first.
   */
  next(startedAt: number, now: number, opts: { slow?: boolean; healthyMs?: number } = {}): number {
    if ((opts.healthyMs ?? 0) >= this.policy.healthyResetMs) this.failures = 0;
    const interval = backoffInterval(this.policy, this.failures, this.random, opts.slow);
    this.failures = Math.min(MAX_EXPONENT, this.failures + 1);
    return throttleRemaining(interval, startedAt, now);
  }

  reset(): void {
    this.failures = 0;
  }
}
