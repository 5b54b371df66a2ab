// Vite with React; optimizeDeps.include is the README's Vite recipe (no reload on the dev
// server's first start).
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  optimizeDeps: { include: ["onestream/worker"] },
});
