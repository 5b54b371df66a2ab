// The server's settings: each knob with its default and its ceiling in one place, and the one
// function that turns caller options into a checked config (garbage rejected, extremes clamped).
import { DEFAULT_MAX_PAYLOAD_BYTES } from "../contract/topic";
import { allowAll, type AuthPolicy } from "./auth";
import { knob } from "./knobs";
import { createMemoryLog, type TopicLog } from "./log";

export interface ServerOptions {
  /** 0 = random free port (default 8080 from the CLI only). */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 10_000; 0 = heartbeats off; otherwise clamped to [MIN_HEARTBEAT_MS, MAX_HEARTBEAT_MS]. */
  heartbeatMs?: number;
  /** Enables POST /admin/fault (404 otherwise). */
  faults?: boolean;
  /** Per topic; used only when the server creates its own log (no `log` given). */
  retention?: { maxEvents?: number; maxAgeMs?: number };
  maxPayloadBytes?: number;
  maxTopicsPerSubscribe?: number;
  /** Default: allow any request (demo). */
  auth?: AuthPolicy;
  /** An existing log (e.g. from createMemoryLog()) to serve: a restart that keeps its data. */
  log?: TopicLog;
}

/** The promised frame interval by default (heartbeats are sent only when the stream is idle). */
export const DEFAULT_HEARTBEAT_MS = 10_000;
/** Floor for heartbeats: below this the server would spend its time on heartbeats. */
export const MIN_HEARTBEAT_MS = 10;
/** Ceiling for heartbeats: above this common proxies (60 s idle timeouts) cut the stream. */
export const MAX_HEARTBEAT_MS = 60_000;
/** Payload ceiling: topic.ts promises the limit never exceeds 16 × the default. */
export const MAX_PAYLOAD_BYTES = 16 * DEFAULT_MAX_PAYLOAD_BYTES;
/** Distinct topics one Subscribe may name by default. */
export const DEFAULT_MAX_TOPICS_PER_SUBSCRIBE = 256;
/** Ceiling on topics per Subscribe. */
export const MAX_TOPICS_PER_SUBSCRIBE = 10_000;
export const DEFAULT_HOST = "127.0.0.1";

export interface ServerConfig {
  port: number;
  host: string;
  heartbeatMs: number;
  faults: boolean;
  maxPayloadBytes: number;
  maxTopicsPerSubscribe: number;
  auth: AuthPolicy;
  log: TopicLog;
}

/** Throws RangeError for garbage; clamped values are reported in `warnings`. */
export function resolveOptions(opts: ServerOptions, warnings: string[]): ServerConfig {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`port must be an integer in 0..65535, got ${String(opts.port)}`);
  }
  const heartbeatMs = opts.heartbeatMs === 0 ? 0 : knob("heartbeatMs", opts.heartbeatMs,
    { fallback: DEFAULT_HEARTBEAT_MS, min: MIN_HEARTBEAT_MS, max: MAX_HEARTBEAT_MS }, warnings);
  const maxPayloadBytes = knob("maxPayloadBytes", opts.maxPayloadBytes,
    { fallback: DEFAULT_MAX_PAYLOAD_BYTES, min: 1, max: MAX_PAYLOAD_BYTES }, warnings);
  const maxTopicsPerSubscribe = knob("maxTopicsPerSubscribe", opts.maxTopicsPerSubscribe,
    { fallback: DEFAULT_MAX_TOPICS_PER_SUBSCRIBE, min: 1, max: MAX_TOPICS_PER_SUBSCRIBE }, warnings);
  if (opts.log && opts.retention) warnings.push("retention is ignored when an existing log is given");
  return {
    port,
    host: opts.host ?? DEFAULT_HOST,
    heartbeatMs,
    faults: opts.faults ?? false,
    maxPayloadBytes,
    maxTopicsPerSubscribe,
    auth: opts.auth ?? allowAll,
    log: opts.log ?? createMemoryLog({ maxEvents: opts.retention?.maxEvents, maxAgeMs: opts.retention?.maxAgeMs }),
  };
}
