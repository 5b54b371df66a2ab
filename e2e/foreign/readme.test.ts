// The README's "Your own stream" shows the two adapter files as they are, and each stays a small
// example (at most 40 lines): this keeps both true when either side changes.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README examples", () => {
  for (const file of ["watch-adapter.ts", "listen-adapter.ts"]) {
    it(`${file} is in the README as it is, in at most 40 lines`, () => {
      const code = readFileSync(new URL(file, import.meta.url), "utf8").trimEnd();
      expect(code.split("\n").length).toBeLessThanOrEqual(40);
      expect(readme).toContain("```ts\n" + code + "\n```");
    });
  }
});
