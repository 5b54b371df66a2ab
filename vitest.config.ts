import { defineConfig } from "vitest/config";

// Unit, property and Node-side integration tests. Browser tests live in e2e/ (Playwright).
export default defineConfig({
  test: {
    include: ["{contract,src,worker,server,proto,e2e/kit,e2e/chaos,bench/lib}/**/*.test.ts"],
    environment: "node",
    testTimeout: 20_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
