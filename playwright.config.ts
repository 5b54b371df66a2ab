// Browser tests: real Chromium (Debian's, found by scripts/chromium.mjs) against the real
// reference server. Each spec file starts its own server on a free port and hands its URL to
// the page as `?server=`; Vite serves the page twice: `dev` (vite dev server) and `preview`
// (the production bundle from `vite build`, served by `vite preview`).
import { defineConfig } from "@playwright/test";
import { CHROMIUM_FLAGS, findChromium } from "./scripts/chromium.mjs";

/**
 * Unusual fixed ports so a fresh CI machine and a developer's own `npm run dev` don't clash;
 * E2E_DEV_PORT / E2E_PREVIEW_PORT move them (two checkouts testing side by side).
 */
const DEV_PORT = Number(process.env.E2E_DEV_PORT ?? 5199);
const PREVIEW_PORT = Number(process.env.E2E_PREVIEW_PORT ?? 5299);
/** The e2e build goes out of the way of a real `dist/`. */
const E2E_OUT_DIR = "node_modules/.cache/onestream-e2e-dist";
const CI = Boolean(process.env.CI);

/** Projects named on the command line (`--project dev`, `--project=dev`); empty means all. */
function requestedProjects(argv: string[]): string[] {
  return argv.flatMap((arg, i) => {
    if (arg.startsWith("--project=")) return [arg.slice("--project=".length)];
    if (arg === "--project" && argv[i + 1] !== undefined) return [argv[i + 1]!];
    return [];
  });
}
const wanted = requestedProjects(process.argv);
/** Only build the bundle when the preview project runs. */
const runs = (project: string) => wanted.length === 0 || wanted.includes(project);

export default defineConfig({
  testDir: "e2e",
  testMatch: "*.spec.ts",
  // The consumer fixtures' own specs run inside the consumer matrix (npm run test:consumers).
  testIgnore: "consumers/**",
  fullyParallel: false,
  workers: 2,
  retries: CI ? 1 : 0,
  reporter: "list",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  forbidOnly: CI,
  use: {
    headless: true,
    launchOptions: { executablePath: findChromium(), args: CHROMIUM_FLAGS },
    trace: "retain-on-failure",
  },
  projects: [
    { name: "dev", use: { baseURL: `http://127.0.0.1:${DEV_PORT}` } },
    { name: "preview", use: { baseURL: `http://127.0.0.1:${PREVIEW_PORT}` } },
  ],
  webServer: [
    runs("dev") && {
      command: `npx vite --port ${DEV_PORT} --strictPort`,
      env: { ONESTREAM_E2E: "1" },
      url: `http://127.0.0.1:${DEV_PORT}/`,
      reuseExistingServer: !CI,
      timeout: 60_000,
    },
    runs("preview") && {
      command: `npx vite build --outDir ${E2E_OUT_DIR} --emptyOutDir && npx vite preview --outDir ${E2E_OUT_DIR} --port ${PREVIEW_PORT} --strictPort`,
      env: { ONESTREAM_E2E: "1" }, // the build includes the foreign-protocol test page (vite.config.ts)
      url: `http://127.0.0.1:${PREVIEW_PORT}/`,
      reuseExistingServer: !CI,
      timeout: 120_000,
    },
  ].filter((s) => s !== false),
});
