// Flag parsing for the CLI: strict, with the CLI's own port default.
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN_ENV, DEFAULT_CLI_PORT, parseCliArgs, UsageError } from "./args";
import { parseTokenTable } from "./auth";

describe("parseCliArgs", () => {
  it("maps every flag onto ServerOptions", () => {
    const opts = parseCliArgs([
      "--port", "9000", "--host", "0.0.0.0", "--heartbeat-ms", "250", "--faults",
      "--retention-events", "50", "--retention-ms=60000", "--max-payload-bytes", "100", "--max-topics", "3",
      "--auth-tokens", "t=a,b",
    ]);
    expect(opts).toMatchObject({
      port: 9000,
      host: "0.0.0.0",
      heartbeatMs: 250,
      faults: true,
      retention: { maxEvents: 50, maxAgeMs: 60_000 },
      maxPayloadBytes: 100,
      maxTopicsPerSubscribe: 3,
    });
    expect(opts !== "help" && opts.auth?.("Bearer t")).toMatchObject({ allowedPrefixes: ["a", "b"] });
  });

  it("maps the admin, idempotency and connection flags", () => {
    const opts = parseCliArgs([
      "--admin", "--admin-token", "t".repeat(16), "--admin-remote", "--keys-per-principal", "500", "--key-ttl-ms", "60000",
      "--max-buffered-bytes", "1048576", "--headers-timeout-ms", "5000", "--idle-timeout-ms", "20000", "--max-connections", "100",
    ]);
    expect(opts).toMatchObject({
      admin: true,
      faults: false,
      adminToken: "t".repeat(16),
      adminRemote: true,
      idempotency: { maxKeysPerPrincipal: 500, maxAgeMs: 60_000 },
      maxBufferedBytes: 1_048_576,
      headersTimeoutMs: 5000,
      idleTimeoutMs: 20_000,
      maxConnections: 100,
    });
  });

  it(`reads the admin token from ${ADMIN_TOKEN_ENV} when the flag is absent`, () => {
    expect(parseCliArgs(["--admin"], { [ADMIN_TOKEN_ENV]: "from-the-environment" })).toMatchObject({ adminToken: "from-the-environment" });
    expect(parseCliArgs(["--admin", "--admin-token", "from-the-flag-wins"], { [ADMIN_TOKEN_ENV]: "env" })).toMatchObject({ adminToken: "from-the-flag-wins" });
    expect(parseCliArgs(["--faults"], { [ADMIN_TOKEN_ENV]: "" })).toMatchObject({ adminToken: undefined });
    expect(parseCliArgs([], { [ADMIN_TOKEN_ENV]: "exported-for-another-server" })).toMatchObject({ adminToken: undefined });
  });

  it("defaults the port to 8080 and leaves the rest to the server", () => {
    expect(parseCliArgs([])).toMatchObject({ port: DEFAULT_CLI_PORT, admin: false, faults: false, adminRemote: false, heartbeatMs: undefined });
    expect(parseCliArgs(["--help"])).toBe("help");
  });

  it.each([
    [["--port", "abc"]],
    [["--port", "70000"]],
    [["--heartbeat-ms", "-1"]],
    [["--heartbeat-ms", "1.5"]],
    [["--retention-events", ""]],
    [["--bogus"]],
    [["stray"]],
    [["--auth-tokens", "=x"]],
    [["--auth-tokens", ";"]],
    [["--max-connections", "-5"]],
    [["--idle-timeout-ms", "1e3"]],
    [["--admin", "yes"]],
  ])("rejects %j", (argv) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
  });
});

describe("parseTokenTable", () => {
  it("reads tokens with prefix lists, empty lists included", () => {
    expect(parseTokenTable("tok1=prefixA,prefixB; tok2=")).toEqual({ tok1: ["prefixA", "prefixB"], tok2: [] });
  });
});
