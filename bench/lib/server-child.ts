// Runs the reference server in its own process for the benchmark, so the server's event loop
// does not share a thread with Playwright's driver (which would skew latency and throughput).
// Argument: the ServerOptions as JSON; the admin endpoints are always on (the bench drives the
// server through them, from Node). Prints one line `READY <url>`; exits on SIGTERM or when
// its parent closes stdin.
import { startServer } from "../../server/server";

const options = JSON.parse(process.argv[2] ?? "{}") as Parameters<typeof startServer>[0];
const server = await startServer({ ...options, admin: true });
process.stdout.write(`READY ${server.url}\n`);

let closing = false;
async function stop(): Promise<void> {
  if (closing) return;
  closing = true;
  await server.close().catch(() => undefined);
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.resume();
