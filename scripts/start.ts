// `npm start`: everything needed to try onestream in a browser — the reference server (with
// faults and admin, for loopback callers only) and the Vite dev server with the demo pointed at
// it (scripts/demo.ts). Ctrl-C stops both. PORT picks the server's port (default 8080),
// VITE_PORT the page's (5173).
import { startDemo } from "./demo";

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

const demo = await startDemo({ serverPort: portFrom("PORT", DEFAULT_SERVER_PORT), vitePort: portFrom("VITE_PORT", DEFAULT_VITE_PORT) });
console.log(`onestream server listening on ${demo.server.url}`);
console.log("onestream server: admin endpoints and faults for loopback callers; the demo reaches them through its dev server");
console.log(`\n  demo: ${demo.pageUrl}   (open it in two tabs: they share one stream)\n  Ctrl-C stops both.\n`);

let stopping = false;
const stop = () => {
  if (stopping) process.exit(1);
  stopping = true;
  demo.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
