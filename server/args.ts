// Command-line flags → ServerOptions, strictly: an unknown flag or a value that is not a plain
// non-negative integer is an error (the CLI exits 2) rather than a silent default.
import { parseArgs } from "node:util";
import { parseTokenTable, tokenPolicy } from "./auth";
import type { ServerOptions } from "./options";

/** The CLI's port when none is given (startServer itself defaults to a random port). */
export const DEFAULT_CLI_PORT = 8080;
/** Read when --admin-token is not given: keeps the token out of the process list. */
export const ADMIN_TOKEN_ENV = "ONESTREAM_ADMIN_TOKEN";

export const USAGE = `usage: npm run server -- [--port 8080] [--host 127.0.0.1] [--heartbeat-ms 10000]
       [--admin] [--faults] [--admin-token T | env ${ADMIN_TOKEN_ENV}=T] [--admin-remote]
       [--retention-events N] [--retention-ms N] [--keys-per-principal N] [--key-ttl-ms N]
       [--max-payload-bytes N] [--max-topics N] [--max-buffered-bytes N]
       [--headers-timeout-ms N] [--idle-timeout-ms N] [--max-connections N]
       [--auth-tokens 'tok1=prefixA,prefixB;tok2=prefixC']
  --admin         GET /admin/stats and POST /admin/publish, for loopback callers only
  --faults        POST /admin/fault too (implies --admin)
  --admin-token   admin requests need "Authorization: Bearer T" (16+ characters)
  --admin-remote  admin answers callers off loopback too (needs an admin token)`;

export class UsageError extends Error {}

const INT_FLAGS = [
  "port", "heartbeat-ms", "retention-events", "retention-ms", "keys-per-principal", "key-ttl-ms",
  "max-payload-bytes", "max-topics", "max-buffered-bytes", "headers-timeout-ms", "idle-timeout-ms", "max-connections",
] as const;

/** Parses argv (without node and the script); `help` when --help was given. */
export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ServerOptions | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(INT_FLAGS.map((flag) => [flag, { type: "string" }] as const)),
        host: { type: "string" },
        admin: { type: "boolean" },
        faults: { type: "boolean" },
        "admin-token": { type: "string" },
        "admin-remote": { type: "boolean" },
        "auth-tokens": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) return "help";
  const int = (flag: (typeof INT_FLAGS)[number]): number | undefined => {
    const text = values[flag];
    if (text === undefined) return undefined;
    if (typeof text !== "string" || !/^\d{1,15}$/.test(text)) {
      throw new UsageError(`--${flag} must be a non-negative integer, got "${String(text)}"`);
    }
    return Number(text);
  };
  const port = int("port") ?? DEFAULT_CLI_PORT;
  if (port > 65_535) throw new UsageError(`--port must be in 0..65535, got ${port}`);
  const host = values.host;
  if (host !== undefined && (typeof host !== "string" || host === "")) throw new UsageError("--host must not be empty");
  // The environment's token only counts when admin is asked for: exported for another server, it
  // must not make this one refuse to start.
  const wantsAdmin = values.admin === true || values.faults === true;
  const adminToken = values["admin-token"] ?? (wantsAdmin ? env[ADMIN_TOKEN_ENV] : undefined);
  const opts: ServerOptions = {
    port,
    host: typeof host === "string" ? host : undefined,
    heartbeatMs: int("heartbeat-ms"),
    admin: values.admin === true,
    faults: values.faults === true,
    adminToken: typeof adminToken === "string" && adminToken !== "" ? adminToken : undefined,
    adminRemote: values["admin-remote"] === true,
    retention: { maxEvents: int("retention-events"), maxAgeMs: int("retention-ms") },
    idempotency: { maxKeysPerPrincipal: int("keys-per-principal"), maxAgeMs: int("key-ttl-ms") },
    maxPayloadBytes: int("max-payload-bytes"),
    maxTopicsPerSubscribe: int("max-topics"),
    maxBufferedBytes: int("max-buffered-bytes"),
    headersTimeoutMs: int("headers-timeout-ms"),
    idleTimeoutMs: int("idle-timeout-ms"),
    maxConnections: int("max-connections"),
  };
  const tokens = values["auth-tokens"];
  if (typeof tokens === "string") {
    try {
      opts.auth = tokenPolicy(parseTokenTable(tokens));
    } catch (err) {
      throw new UsageError(`--auth-tokens: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return opts;
}
