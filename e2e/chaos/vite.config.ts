// Builds the chaos tab (e2e/pages/chaos.html), the recorder page and the repo's SharedWorker: the chaos
// driver serves this production bundle with `vite preview`, so tabs that open and close all run
// long load no dev-server transforms (the machine has two cores to share with Chromium).
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const pages = fileURLToPath(new URL("../pages/", import.meta.url));

export default defineConfig({
  root: pages,
  logLevel: "warn",
  worker: { format: "es" },
  build: {
    target: "es2022",
    emptyOutDir: true,
    rolldownOptions: {
      input: { chaos: resolve(pages, "chaos.html"), recorder: resolve(pages, "chaos-recorder.html") },
    },
  },
});
