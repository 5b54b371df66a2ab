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
  /** Serves GET /admin/stats and POST /admin/publish (404 otherwise). Off by default. */
  admin?: boolean;
  /** Serves POST /admin/fault too; implies `admin`. */
  faults?: boolean;
  /** When set, every admin request needs "Authorization: Bearer <adminToken>" (≥ 16 characters). */
  adminToken?: string;
  /** Admin also answers callers that are not on loopback; needs `adminToken`. */
  adminRemote?: boolean;
  /** Per topic; used only when the server creates its own log (no `log` given). */
  retention?: { maxEvents?: number; maxAgeMs?: number };
  /** Idempotency window per principal; used only when the server creates its own log. */
  idempotency?: { maxKeysPerPrincipal?: number; maxAgeMs?: number };
  maxPayloadBytes?: number;
  maxTopicsPerSubscribe?: number;
  /**
   * Most bytes a stream may be behind: unsent bytes queued for its socket, then appends to its
   * topics while that queue is full. Beyond it the stream ends with ResourceExhausted.
   */
  maxBufferedBytes?: number;
  /** Time a client has to send a request's headers. */
  headersTimeoutMs?: number;
  /** A connection that is not carrying a stream and sends and receives nothing this long is closed. */
  idleTimeoutMs?: number;
  /** Most open connections; further ones are closed at once. 0 = no cap (the default). */
  maxConnections?: number;
  /** Default: allow any request, as one anonymous principal (demo). */
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
/** How far behind a stream may fall by default (the memory one stuck reader can hold). */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Floor: a few frames must fit. */
export const MIN_MAX_BUFFERED_BYTES = 64 * 1024;
/** Ceiling (to catch garbage). */
export const MAX_MAX_BUFFERED_BYTES = 256 * 1024 * 1024;
/** Headers must arrive within this by default (Node's own default is 60 s). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** A silent connection that carries no stream is closed after this by default. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Floor for both timeouts. */
export const MIN_TIMEOUT_MS = 10;
/** Ceiling for both timeouts: one hour. */
export const MAX_TIMEOUT_MS = 60 * 60 * 1000;
/** Ceiling on the connection cap (to catch garbage). */
export const MAX_CONNECTIONS = 1_000_000;
/** Shortest admin token accepted: a guessable token guards nothing. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;
export const DEFAULT_HOST = "127.0.0.1";

export interface AdminConfig {
  /** /admin/stats and /admin/publish. */
  enabled: boolean;
  /** /admin/fault too. */
  faults: boolean;
  token: string | undefined;
  /** Callers off loopback are answered too (a token is then required). */
  remote: boolean;
}

export interface ServerConfig {
  port: number;
  host: string;
  heartbeatMs: number;
  admin: AdminConfig;
  maxPayloadBytes: number;
  maxTopicsPerSubscribe: number;
  maxBufferedBytes: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  /** 0 = no cap. */
  maxConnections: number;
  auth: AuthPolicy;
  log: TopicLog;
  /** The server created `log` and closes it with itself. */
  ownsLog: boolean;
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
  const maxBufferedBytes = knob("maxBufferedBytes", opts.maxBufferedBytes,
    { fallback: DEFAULT_MAX_BUFFERED_BYTES, min: MIN_MAX_BUFFERED_BYTES, max: MAX_MAX_BUFFERED_BYTES }, warnings);
  const headersTimeoutMs = knob("headersTimeoutMs", opts.headersTimeoutMs,
    { fallback: DEFAULT_HEADERS_TIMEOUT_MS, min: MIN_TIMEOUT_MS, max: MAX_TIMEOUT_MS }, warnings);
  const idleTimeoutMs = knob("idleTimeoutMs", opts.idleTimeoutMs,
    { fallback: DEFAULT_IDLE_TIMEOUT_MS, min: MIN_TIMEOUT_MS, max: MAX_TIMEOUT_MS }, warnings);
  const maxConnections = opts.maxConnections === 0 ? 0 : knob("maxConnections", opts.maxConnections,
    { fallback: 0, min: 1, max: MAX_CONNECTIONS }, warnings);
  const admin = resolveAdmin(opts);
  if (opts.log && opts.retention) warnings.push("retention is ignored when an existing log is given");
  if (opts.log && opts.idempotency) warnings.push("idempotency is ignored when an existing log is given");
  return {
    port,
    host: opts.host ?? DEFAULT_HOST,
    heartbeatMs,
    admin,
    maxPayloadBytes,
    maxTopicsPerSubscribe,
    maxBufferedBytes,
    headersTimeoutMs,
    idleTimeoutMs,
    maxConnections,
    auth: opts.auth ?? allowAll,
    log: opts.log ?? createMemoryLog({
      maxEvents: opts.retention?.maxEvents,
      maxAgeMs: opts.retention?.maxAgeMs,
      maxKeysPerPrincipal: opts.idempotency?.maxKeysPerPrincipal,
      keyMaxAgeMs: opts.idempotency?.maxAgeMs,
    }),
    ownsLog: opts.log === undefined,
  };
}

function resolveAdmin(opts: ServerOptions): AdminConfig {
  const token = opts.adminToken;
  if (token !== undefined && (typeof token !== "string" || token.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(token))) {
    throw new RangeError(`adminToken must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters without spaces`);
  }
  const faults = opts.faults === true;
  const enabled = faults || opts.admin === true;
  const remote = opts.adminRemote === true;
  if (remote && token === undefined) {
    throw new RangeError("adminRemote needs an adminToken: admin endpoints open to the network without one would let anyone publish");
  }
  if ((remote || token !== undefined) && !enabled) {
    throw new RangeError("adminToken and adminRemote need admin (or faults) turned on");
  }
  return { enabled, faults, token, remote };
}
