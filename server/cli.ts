// `npm run server -- [flags]`: the reference server as a process. Prints exactly
// "onestream server listening on <url>" once it accepts connections (tests wait for that line;
// with --admin or --faults a line before it says the admin endpoints are on, and for whom),
// exits 2 on bad flags, and closes gracefully on SIGINT/SIGTERM (a second signal exits at once).
import { parseCliArgs, USAGE, UsageError } from "./args";
import { startServer } from "./server";

async function main(): Promise<void> {
  let opts;
  try {
    opts = parseCliArgs(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`onestream server: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
  if (opts === "help") {
    console.log(USAGE);
    return;
  }
  let server;
  try {
    server = await startServer(opts);
  } catch (err) {
    // Out-of-range option values (RangeError) are usage errors too; a busy port is not.
    console.error(`onestream server: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof RangeError ? 2 : 1);
  }
  if (opts.admin || opts.faults) {
    const who = opts.adminRemote ? "any caller with the admin token" : `loopback callers${opts.adminToken ? " with the admin token" : ""}`;
    console.log(`onestream server: admin endpoints${opts.faults ? " and faults" : ""} on ${server.url}/admin/ for ${who}`);
  }
  console.log(`onestream server listening on ${server.url}`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`onestream server: ${signal}, closing`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

await main();
