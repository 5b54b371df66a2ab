// Vite with Vue; optimizeDeps.include is the README's Vite recipe (no reload on the dev
// server's first start).
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [vue()],
  optimizeDeps: { include: ["onestream/worker"] },
});
