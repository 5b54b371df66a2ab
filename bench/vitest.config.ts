import { defineConfig } from "vitest/config";

// The benchmark's own unit tests (its statistics). Kept out of the root suite on purpose:
// `npm test` must not depend on bench/. Run: `npx vitest run -c bench/vitest.config.ts`.
export default defineConfig({
  test: {
    include: ["bench/**/*.test.ts"],
    environment: "node",
    pool: "forks",
    maxWorkers: 1,
  },
});
