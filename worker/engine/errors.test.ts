// The classification table: what each connect-es code makes the engine do.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { classify, ClosedError, StaleError, StalledError } from "./errors";

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

  it("a bare HTTP error from a proxy (no gRPC status) is retried with the long floor, never terminal", () => {
    for (const status of [404, 403, 502, 400]) {
      const fromProxy = new ConnectError(`HTTP ${status}`, status === 404 ? Code.Unimplemented : Code.PermissionDenied, new Headers({ "content-type": "text/html" }));
      expect(classify(fromProxy)).toMatchObject({ verdict: "retry-slow", info: { code: `http_${status}` } });
    }
    expect(verdict(new ConnectError("HTTP 401", Code.Unauthenticated, new Headers()))).toBe("refresh-auth");
  });

  it("the server's own gRPC status is final, whatever the HTTP status", () => {
    const real = new ConnectError("HTTP 404", Code.Unimplemented, new Headers({ "grpc-status": "12" }));
    expect(verdict(real)).toBe("terminal");
    const trailer = new ConnectError("method not found", Code.Unimplemented, new Headers({ "grpc-status": "12", "grpc-message": "method not found" }));
    expect(classify(trailer)).toMatchObject({ verdict: "terminal", info: { code: "unimplemented" } });
  });

  it("reports a stalled catch-up as retryable", () => {
    expect(classify(new StalledError(30_000))).toMatchObject({ verdict: "retry", info: { code: "stalled" } });
  });

  it("reports a watchdog trip as stale", () => {
    expect(classify(new StaleError(12_500))).toMatchObject({ verdict: "retry", info: { code: "stale" } });
  });

  it("names ClosedError", () => {
    expect(new ClosedError().name).toBe("ClosedError");
    expect(new ClosedError()).toBeInstanceOf(Error);
  });
});
