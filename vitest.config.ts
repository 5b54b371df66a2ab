import { defineConfig } from "vitest/config";
import { sourceAliases } from "./vite.config";

// Unit, property and Node-side integration tests. Browser tests live in e2e/ (Playwright).
export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    include: ["{contract,src,worker,server,proto,e2e/kit,e2e/foreign,e2e/chaos,e2e/consumers/lib,bench/lib,scripts}/**/*.test.ts"],
    environment: "node",
    testTimeout: 20_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
