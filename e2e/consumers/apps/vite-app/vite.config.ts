// The Vite recipe from onestream's README. `optimizeDeps.include` lets Vite's dev server
// pre-bundle onestream/worker at start: it is imported only from the worker file, which Vite's
// dependency scan does not follow, so without it the first load reloads every tab once.
import { defineConfig } from "vite";

export default defineConfig({
  optimizeDeps: { include: ["onestream/worker"] },
  // Two pages: the app and the README's "Using it" code.
  build: { rolldownOptions: { input: { main: "index.html", readme: "readme.html" } } },
});
