// Flag parsing for the CLI: strict, with the CLI's own port default.
import { describe, expect, it } from "vitest";
import { DEFAULT_CLI_PORT, parseCliArgs, UsageError } from "./args";
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
    expect(opts !== "help" && opts.auth?.("Bearer t")).toEqual({ allowedPrefixes: ["a", "b"] });
  });

  it("defaults the port to 8080 and leaves the rest to the server", () => {
    expect(parseCliArgs([])).toMatchObject({ port: DEFAULT_CLI_PORT, faults: false, heartbeatMs: undefined });
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
  ])("rejects %j", (argv) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
  });
});

describe("parseTokenTable", () => {
  it("reads tokens with prefix lists, empty lists included", () => {
    expect(parseTokenTable("tok1=prefixA,prefixB; tok2=")).toEqual({ tok1: ["prefixA", "prefixB"], tok2: [] });
  });
});
