// Command-line flags → ServerOptions, strictly: an unknown flag or a value that is not a plain
// non-negative integer is an error (the CLI exits 2) rather than a silent default.
import { parseArgs } from "node:util";
import { parseTokenTable, tokenPolicy } from "./auth";
import type { ServerOptions } from "./options";

/** The CLI's port when none is given (startServer itself defaults to a random port). */
export const DEFAULT_CLI_PORT = 8080;

export const USAGE = `usage: npm run server -- [--port 8080] [--host 127.0.0.1] [--heartbeat-ms 10000] [--faults]
       [--retention-events N] [--retention-ms N] [--max-payload-bytes N] [--max-topics N]
       [--auth-tokens 'tok1=prefixA,prefixB;tok2=prefixC']`;

export class UsageError extends Error {}

/** Parses argv (without node and the script); `help` when --help was given. */
export function parseCliArgs(argv: readonly string[]): ServerOptions | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "heartbeat-ms": { type: "string" },
        faults: { type: "boolean" },
        "retention-events": { type: "string" },
        "retention-ms": { type: "string" },
        "max-payload-bytes": { type: "string" },
        "max-topics": { type: "string" },
        "auth-tokens": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) return "help";
  const int = (flag: string): number | undefined => {
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
  const opts: ServerOptions = {
    port,
    host: typeof host === "string" ? host : undefined,
    heartbeatMs: int("heartbeat-ms"),
    faults: values.faults === true,
    retention: { maxEvents: int("retention-events"), maxAgeMs: int("retention-ms") },
    maxPayloadBytes: int("max-payload-bytes"),
    maxTopicsPerSubscribe: int("max-topics"),
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
