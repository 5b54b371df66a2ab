// The app's Playwright setup: Debian's Chromium (CHROMIUM_PATH), the built app served by
// `vite preview` on PORT.
import { defineConfig } from "@playwright/test";

const port = Number(process.env.PORT ?? 4173);

export default defineConfig({
  testDir: "e2e",
  reporter: "list",
  workers: 1,
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
  webServer: { command: `npx vite preview --port ${port} --strictPort --host 127.0.0.1`, url: `http://127.0.0.1:${port}/` },
});
