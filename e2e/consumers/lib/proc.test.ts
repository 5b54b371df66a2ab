// background() waits for a dev server's ready line. With CI=true tools colour their output even
// without a terminal, and Vite's "Local:" then arrives as "Local\x1b[22m:": CI failed on exactly
// that (two 60 s timeouts) until the output was stripped of control sequences before matching.
import { describe, expect, it } from "vitest";
import { background } from "./proc";

describe("background", () => {
  it("sees a ready line through colour codes, and keeps the output plain", async () => {
    const script = String.raw`process.stdout.write("\x1b[32m\x1b[1mVITE\x1b[22m ready\n  \x1b[1mLocal\x1b[22m:   http://127.0.0.1:\x1b[1m5173\x1b[22m/\n"); setInterval(() => {}, 1000);`;
    const proc = await background(process.execPath, ["-e", script], { cwd: process.cwd(), ready: /Local:/, timeoutMs: 10_000 });
    try {
      expect(proc.output()).toContain("Local:   http://127.0.0.1:5173/");
    } finally {
      await proc.stop();
    }
  });
});
