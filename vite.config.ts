// Vite serves and builds the demo page (and, in dev, the e2e test pages under e2e/pages/).
// The SharedWorker is bundled from `new SharedWorker(new URL(...), { type: "module" })`.
import { defineConfig } from "vite";

/**
 * Set by playwright.config.ts for the e2e dev server: no file watching and no HMR, so an edit in
 * the tree (or a late dependency scan) never reloads a page in the middle of a test. Also set
 * for the e2e build (see build below).
 */
const e2e = process.env.ONESTREAM_E2E === "1";

export default defineConfig({
  root: ".",
  // Same-origin module workers; "es" keeps `import` in the worker bundle.
  worker: { format: "es" },
  optimizeDeps: {
    // Imported only by the worker: without this Vite discovers them late, reloads the page
    // ("optimized dependencies changed") and the first test dies (FIELD-NOTES).
    include: [
      "comlink",
      "idb",
      "@connectrpc/connect",
      "@connectrpc/connect-web",
      "@bufbuild/protobuf",
      "@bufbuild/protobuf/codegenv2",
      // the listendemo adapter's (e2e/foreign/listen-adapter.ts)
      "@bufbuild/protobuf/wire",
    ],
    entries: ["index.html", "e2e/pages/*.html"],
  },
  build: {
    target: "es2022",
    // The e2e build also bundles the foreign-protocol test page: its adapters and workers are
    // then tested as production code too.
    rolldownOptions: { input: { main: "index.html", ...(e2e ? { foreign: "e2e/pages/foreign.html" } : {}) } },
  },
  server: { host: "127.0.0.1", ...(e2e ? { hmr: false, watch: null } : {}) },
  preview: { host: "127.0.0.1", port: 4173 },
});
