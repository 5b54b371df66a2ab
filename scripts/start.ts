// `npm start`: everything needed to try onestream in a browser — the reference server (with
// faults, so the demo's fault panel shows) and the Vite dev server with the demo pointed at it.
// Ctrl-C stops both. PORT picks the server's port (default 8080), VITE_PORT the page's (5173).
import { createServer } from "vite";
import { startServer } from "../server/server";

/** The reference server's port unless PORT says otherwise. */
const DEFAULT_SERVER_PORT = 8080;
const DEFAULT_VITE_PORT = 5173;

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`npm start: ${name} must be a port number (0..65535), got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return port;
}

const server = await startServer({ port: portFrom("PORT", DEFAULT_SERVER_PORT), faults: true });
console.log(`onestream server listening on ${server.url}`);
// The demo reads its server from VITE_ONESTREAM_URL (see src/demo/config.ts).
process.env.VITE_ONESTREAM_URL = server.url;
const vite = await createServer({ server: { port: portFrom("VITE_PORT", DEFAULT_VITE_PORT) } });
await vite.listen();
const page = vite.resolvedUrls?.local[0] ?? `http://127.0.0.1:${DEFAULT_VITE_PORT}/`;
console.log(`\n  demo: ${page}   (open it in two tabs: they share one stream)\n  Ctrl-C stops both.\n`);

let stopping = false;
const stop = () => {
  if (stopping) process.exit(1);
  stopping = true;
  Promise.allSettled([vite.close(), server.close()]).then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
