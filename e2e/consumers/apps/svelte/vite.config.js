// Vite with Svelte; optimizeDeps.include is the README's Vite recipe (no reload on the dev
// server's first start).
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [svelte()],
  optimizeDeps: { include: ["onestream/worker"] },
});
