// The classification table: what each connect-es code makes the engine do.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { classify, ClosedError, StaleError } from "./errors";

const verdict = (e: unknown) => classify(e).verdict;

describe("error classification", () => {
  it("retries transient codes", () => {
    for (const code of [Code.Unavailable, Code.Unknown, Code.Internal, Code.DeadlineExceeded, Code.Aborted, Code.Canceled]) {
      expect(verdict(new ConnectError("x", code))).toBe("retry");
    }
  });

  it("retries a network TypeError (connect-es reports it as Unknown)", () => {
    expect(classify(new TypeError("Failed to fetch"))).toEqual({ verdict: "retry", info: { code: "unknown", message: "Failed to fetch" } });
  });

  it("retries InvalidArgument only when it is a transport protocol error", () => {
    expect(verdict(new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument))).toBe("retry");
    expect(verdict(new ConnectError("bad topic", Code.InvalidArgument))).toBe("terminal");
  });

  it("backs off harder on ResourceExhausted, refreshes auth on Unauthenticated", () => {
    expect(verdict(new ConnectError("slow down", Code.ResourceExhausted))).toBe("retry-slow");
    expect(verdict(new ConnectError("expired", Code.Unauthenticated))).toBe("refresh-auth");
  });

  it("gives up on permanent codes", () => {
    for (const code of [Code.PermissionDenied, Code.NotFound, Code.Unimplemented, Code.FailedPrecondition, Code.OutOfRange, Code.DataLoss]) {
      expect(verdict(new ConnectError("x", code))).toBe("terminal");
    }
    expect(classify(new ConnectError("no", Code.PermissionDenied)).info).toEqual({ code: "permission_denied", message: "no" });
  });

  it("reports a watchdog trip as stale", () => {
    expect(classify(new StaleError(12_500))).toMatchObject({ verdict: "retry", info: { code: "stale" } });
  });

  it("names ClosedError", () => {
    expect(new ClosedError().name).toBe("ClosedError");
    expect(new ClosedError()).toBeInstanceOf(Error);
  });
});
