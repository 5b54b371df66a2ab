// The engine's knobs in one table. Each knob has a default (the value we ship), a floor and a
// ceiling. The bounds exist to catch garbage, not to tune: a non-number, NaN or ±Infinity falls
// back to the default, and a finite value outside [min, max] is clamped to the nearest bound.
// Either way `warn` gets one line naming the knob, so a typo never becomes a NaN timer, an
// overflowing setTimeout (browsers fire > 2^31-1 ms at once) or a crash.
import { DEFAULT_MAX_PAYLOAD_BYTES } from "../../contract/topic";

const SECOND = 1_000;
/** Ceiling of every duration knob: nothing in the engine legitimately waits a day. */
export const MAX_DURATION_MS = 24 * 60 * 60 * SECOND;

interface Knob {
  default: number;
  min: number;
  max: number;
}

export const KNOBS = {
  /** Idle timeout before Hello, and when the server sends heartbeat_ms 0 (heartbeats off). */
  preHelloIdleMs: { default: 60 * SECOND, min: SECOND, max: MAX_DURATION_MS },
  /** Idle timeout = advertised heartbeat × this: tolerates one lost heartbeat plus jitter. */
  heartbeatIdleFactor: { default: 2.5, min: 1.5, max: 100 },
  /** Idle timeout never below this, however fast the server says it heartbeats. */
  minIdleMs: { default: 5 * SECOND, min: 100, max: MAX_DURATION_MS },
  /** Minimum spacing between two attempt starts: a tight failure loop runs at most once per floor. */
  backoffFloorMs: { default: SECOND, min: 0, max: MAX_DURATION_MS },
  /** Floor after ResourceExhausted: the server asked us to back off harder. */
  slowFloorMs: { default: 10 * SECOND, min: 0, max: MAX_DURATION_MS },
  /** Size of the first jitter window above the floor. */
  backoffInitialMs: { default: SECOND, min: 0, max: MAX_DURATION_MS },
  /** Growth of the jitter window per consecutive failure. */
  backoffMultiplier: { default: 1.6, min: 1, max: 10 },
  /** No wait between attempts is ever longer than this. */
  backoffCapMs: { default: 30 * SECOND, min: 0, max: MAX_DURATION_MS },
  /** A stream open this long counts as healthy: its failure starts the backoff from scratch. */
  healthyResetMs: { default: 30 * SECOND, min: 0, max: MAX_DURATION_MS },
  /** A server that ends the stream cleanly is re-subscribed after a random delay up to this. */
  cleanEndJitterMs: { default: 250, min: 0, max: MAX_DURATION_MS },
  /** Topic-set changes within this window become one new stream (the brief caps it at 20 ms). */
  topicDebounceMs: { default: 15, min: 0, max: 20 },
  /** How often the wall clock is compared with the monotonic one to notice sleep/wake. */
  sleepCheckMs: { default: 5 * SECOND, min: 100, max: MAX_DURATION_MS },
  /** Wall clock ahead of the monotonic clock by more than this over one check = we slept. */
  sleepJumpMs: { default: 15 * SECOND, min: 100, max: MAX_DURATION_MS },
  /** Largest payload publish() accepts; the server's own limit is never above 16× the default. */
  maxPayloadBytes: { default: DEFAULT_MAX_PAYLOAD_BYTES, min: 1, max: DEFAULT_MAX_PAYLOAD_BYTES * 16 },
  /** One publish call is abandoned (and retried) after this. */
  publishTimeoutMs: { default: 30 * SECOND, min: SECOND, max: MAX_DURATION_MS },
  /**
   * Events delivered but not yet acknowledged by any subscriber that are tracked for storing their
   * cursor; beyond it the oldest are let go (the stored cursor then waits for a later ack).
   */
  maxQueuedEvents: { default: 200_000, min: 1, max: 10_000_000 },
  /** Live events buffered for one subscriber while its history catches up; above it: overflow. */
  catchupBufferEvents: { default: 50_000, min: 1, max: 10_000_000 },
  /** Distinct topics in the stream; the reference server rejects more (InvalidArgument = terminal). */
  maxStreamTopics: { default: 256, min: 1, max: 10_000 },
  /**
   * History catch-up streams open at once; the rest queue. Over HTTP/1.1 every tab of the origin
   * shares 6 connections per host: unbounded catch-ups would starve the main stream and publishes.
   */
  maxCatchupStreams: { default: 2, min: 1, max: 16 },
  /** Wait before retrying a failed cursor save (delivery goes on meanwhile; nothing is lost). */
  storageRetryMs: { default: SECOND, min: 10, max: MAX_DURATION_MS },
  /**
   * A call still catching up that sends no event, bookmark, reset or caught-up marker for this
   * long (heartbeats alone do not count) is reopened: history that never ends is a stuck server.
   */
  catchupStallMs: { default: 30 * SECOND, min: SECOND, max: MAX_DURATION_MS },
} as const satisfies Record<string, Knob>;

export type EngineConfig = { -readonly [K in keyof typeof KNOBS]: number };

export const DEFAULT_CONFIG: Readonly<EngineConfig> = Object.freeze(
  Object.fromEntries(Object.entries(KNOBS).map(([k, v]) => [k, v.default])) as EngineConfig,
);

/** Fills in defaults and clamps (see the file comment). Unknown keys are reported and ignored. */
export function resolveConfig(
  partial: Partial<EngineConfig> | undefined,
  warn: (message: string) => void = () => {},
): EngineConfig {
  const out: EngineConfig = { ...DEFAULT_CONFIG };
  if (partial === undefined || partial === null) return out;
  for (const [key, raw] of Object.entries(partial)) {
    if (raw === undefined) continue;
    const knob: Knob | undefined = (KNOBS as Record<string, Knob>)[key];
    if (knob === undefined) {
      warn(`onestream config: unknown knob "${key}" ignored`);
      continue;
    }
    const name = key as keyof EngineConfig;
    if (typeof raw !== "number" || !Number.isFinite(raw)) {
      warn(`onestream config: ${key}=${String(raw)} is not a finite number; using default ${knob.default}`);
      continue;
    }
    const clamped = Math.min(knob.max, Math.max(knob.min, raw));
    if (clamped !== raw) warn(`onestream config: ${key}=${raw} is outside [${knob.min}, ${knob.max}]; clamped to ${clamped}`);
    out[name] = clamped;
  }
  if (out.slowFloorMs < out.backoffFloorMs) out.slowFloorMs = out.backoffFloorMs;
  return out;
}

/**
 * Ceiling on a heartbeat interval a server advertises. A lying or misconfigured server that says
 * "2^32-1 ms" would otherwise switch the watchdog off; every proxy in front of it cuts silent
 * streams long before this anyway (nginx and ALB after 60 s, Cloudflare after 100 s).
 */
export const MAX_ADVERTISED_HEARTBEAT_MS = 5 * 60 * SECOND;

/** The advertised heartbeat, clamped to MAX_ADVERTISED_HEARTBEAT_MS; `warn` hears when it was. */
export function clampHeartbeat(heartbeatMs: number | undefined, warn: (message: string) => void): number | undefined {
  if (heartbeatMs === undefined || !(heartbeatMs > MAX_ADVERTISED_HEARTBEAT_MS)) return heartbeatMs;
  warn(`onestream: the server advertised a heartbeat of ${heartbeatMs} ms; using ${MAX_ADVERTISED_HEARTBEAT_MS} ms`);
  return MAX_ADVERTISED_HEARTBEAT_MS;
}

/**
 * Idle timeout for a stream whose Hello advertised `heartbeatMs` (undefined before Hello).
 * 0 means the server sends no heartbeats: only the pre-Hello default is safe then.
 */
export function idleTimeoutMs(config: EngineConfig, heartbeatMs: number | undefined): number {
  if (heartbeatMs === undefined || !(heartbeatMs > 0) || !Number.isFinite(heartbeatMs)) return config.preHelloIdleMs;
  return Math.min(MAX_DURATION_MS, Math.max(config.minIdleMs, heartbeatMs * config.heartbeatIdleFactor));
}
