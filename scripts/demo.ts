// The demo as `npm start` runs it: the reference server (with faults, so the fault panel shows)
// and the Vite dev server serving the demo pointed at it, with the server's admin endpoints
// forwarded on the page's own origin (vite.config.ts). The e2e suite starts the same pair.
import { fileURLToPath } from "node:url";
import { createServer, mergeConfig, type InlineConfig, type ViteDevServer } from "vite";
import { startServer, type RunningServer, type ServerOptions } from "../server/server";

const CONFIG_FILE = fileURLToPath(new URL("../vite.config.ts", import.meta.url));

export interface RunningDemo {
  server: RunningServer;
  vite: ViteDevServer;
  /** The demo page, e.g. "http://127.0.0.1:5173/". */
  pageUrl: string;
  close(): Promise<void>;
}

export interface DemoOptions {
  serverPort: number;
  vitePort: number;
  /** More options for the reference server (faults are on). */
  server?: ServerOptions;
  /** More options for the Vite dev server (e.g. its own cacheDir beside another one). */
  vite?: InlineConfig;
}

export async function startDemo(opts: DemoOptions): Promise<RunningDemo> {
  const server = await startServer({ port: opts.serverPort, faults: true, ...opts.server });
  // Read by vite.config.ts (again on a config reload, so they stay set until close()) and, through
  // import.meta.env, by the page (src/demo/config.ts, admin.ts).
  const env = { VITE_ONESTREAM_URL: server.url, VITE_ONESTREAM_ADMIN_PROXY: server.url };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const restoreEnv = () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  Object.assign(process.env, env);
  let vite: ViteDevServer;
  try {
    const own: InlineConfig = { configFile: CONFIG_FILE, server: { port: opts.vitePort, strictPort: opts.vitePort !== 0 } };
    vite = await createServer(mergeConfig(own, opts.vite ?? {}));
    await vite.listen();
  } catch (err) {
    restoreEnv();
    await server.close();
    throw err;
  }
  const address = vite.httpServer?.address();
  const port = address !== null && typeof address === "object" ? address?.port : opts.vitePort;
  return {
    server,
    vite,
    pageUrl: `http://127.0.0.1:${port}/`,
    close: async () => {
      await Promise.allSettled([vite.close(), server.close()]);
      restoreEnv();
    },
  };
}
