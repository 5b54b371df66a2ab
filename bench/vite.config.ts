import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// Builds the bench pages (bench/pages/*.html) — not the demo: the root vite.config.ts belongs to
// the demo. bench/lib/pages.ts builds this once into a temp dir per run and serves it with
// `vite preview`, so the benchmark measures the production bundle.
const pages = fileURLToPath(new URL("./pages/", import.meta.url));

export default defineConfig({
  root: pages,
  logLevel: "warn",
  worker: { format: "es" },
  build: {
    emptyOutDir: true,
    // Unminified so CPU profiles name our functions; V8 runs it at the same speed.
    minify: false,
    rolldownOptions: {
      input: {
        plain: resolve(pages, "plain.html"),
        onestream: resolve(pages, "onestream.html"),
        ceiling: resolve(pages, "ceiling.html"),
      },
    },
  },
});
