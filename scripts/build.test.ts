// The package build's one addition to tsc: relative specifiers made full, so Node and nodenext
// resolve what we ship.
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { fullySpecified } from "./build";

const from = resolve(import.meta.dirname, "../src/client.ts");

describe("fullySpecified", () => {
  it("names the file or the folder's index a relative specifier resolves to", () => {
    expect(fullySpecified("./link", from)).toBe("./link.js");
    expect(fullySpecified("../contract/errors", from)).toBe("../contract/errors.js");
    expect(fullySpecified("../e2e/kit", from)).toBe("../e2e/kit/index.js");
  });

  it("leaves package specifiers and full paths alone", () => {
    expect(fullySpecified("comlink", from)).toBe("comlink");
    expect(fullySpecified("@bufbuild/protobuf/codegenv2", from)).toBe("@bufbuild/protobuf/codegenv2");
    expect(fullySpecified("./link.js", from)).toBe("./link.js");
  });

  it("fails the build on a relative specifier that names nothing", () => {
    expect(() => fullySpecified("./nowhere", from)).toThrow(/names no \.ts file/);
  });
});
