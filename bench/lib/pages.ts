// Builds the bench pages (or, given another Vite config, the chaos pages) with Vite into a temp
// dir and serves them with `vite preview` on a free port: the production bundle, served the way an
// app would be, on an origin other than the reference server's (so the cross-origin gRPC-Web
// path, CORS included, is what we measure).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, preview, type PreviewServer } from "vite";

export interface BenchPages {
  /** e.g. http://127.0.0.1:PORT/ — page names are relative to it ("plain.html"). */
  baseUrl: string;
  close(): Promise<void>;
}

const CONFIG_FILE = fileURLToPath(new URL("../vite.config.ts", import.meta.url));

export async function buildAndServePages(configFile = CONFIG_FILE, tmpPrefix = "onestream-bench-"): Promise<BenchPages> {
  const outDir = await mkdtemp(join(tmpdir(), tmpPrefix));
  await build({ configFile, build: { outDir } });
  const server: PreviewServer = await preview({
    configFile,
    build: { outDir },
    preview: { host: "127.0.0.1", port: 0, strictPort: false, open: false },
  });
  const address = server.httpServer.address();
  if (address === null || typeof address === "string") throw new Error("vite preview has no TCP address");
  return {
    baseUrl: `http://127.0.0.1:${address.port}/`,
    async close() {
      await server.close();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}
