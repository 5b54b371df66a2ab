// What the tarball may hold, and how the README's "Using it" code is found: the two rules of the
// consumer matrix that are plain functions.
import { describe, expect, it } from "vitest";
import { unwantedFiles } from "./package";
import { usingItBlocks } from "./readme";

describe("unwantedFiles", () => {
  it("lets the manifest, README and compiled entries through", () => {
    const shipped = ["package.json", "README.md", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/index.js.map", "dist/e2e/kit/index.js"];
    expect(unwantedFiles(shipped)).toEqual([]);
  });

  it("names tests, bench, CI, demo, server, sources and the e2e suite", () => {
    const bad = [
      "dist/src/client.test.js",
      "dist/e2e/offline.spec.js",
      "dist/e2e/helpers.js",
      "dist/src/demo/main.js",
      "dist/server/server.js",
      "dist/worker/engine/testing/fake-clock.js",
      "dist/worker/host/test-world.js",
      "bench/run.ts",
      ".ci/run",
      "src/index.ts",
    ];
    expect(unwantedFiles(bad)).toEqual(bad);
  });
});

describe("usingItBlocks", () => {
  const fence = "```";
  const readme = (section: string) => `# x\n\n## Using it\n${section}\n## Next\n${fence}ts\nnot this\n${fence}\n`;

  it("returns the page code and the worker file of the section", () => {
    const page = 'import { createClient } from "onestream";\n';
    const worker = 'import { serve } from "onestream/worker";\nserve();\n';
    expect(usingItBlocks(readme(`${fence}ts\n${page}${fence}\ntext\n${fence}ts\n${worker}${fence}\n`))).toEqual([page, worker]);
  });

  it("fails when the section does not hold the two blocks", () => {
    expect(() => usingItBlocks(readme(`${fence}ts\nconst a = 1;\n${fence}\n`))).toThrow(/two ts blocks/);
    expect(() => usingItBlocks("# no such section\n")).toThrow(/no "## Using it"/);
  });
});
