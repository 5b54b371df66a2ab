// `npm run setup:browser`: puts a Chromium where Playwright's config finds it. Playwright's own
// download does not work on our machines, so this installs Debian's package when it can.
import { spawnSync } from "node:child_process";
import { chromiumCandidates, locateChromium } from "./chromium.mjs";

const found = locateChromium();
if (found !== undefined) {
  console.log(`Chromium already present: ${found}`);
  process.exit(0);
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (!isRoot) {
  console.error(
    [
      "No Chromium found (looked at: " + chromiumCandidates().join(", ") + ").",
      "This script installs Debian's package and needs root. Run one of:",
      "  sudo apt-get update && sudo apt-get install -y chromium",
      "  sudo npm run setup:browser",
      "or point CHROMIUM_PATH at an existing Chromium binary.",
    ].join("\n"),
  );
  process.exit(1);
}

for (const args of [["update"], ["install", "-y", "--no-install-recommends", "chromium"]]) {
  console.log(`$ apt-get ${args.join(" ")}`);
  const run = spawnSync("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (run.status !== 0) {
    console.error(`apt-get ${args[0]} failed (exit ${run.status ?? run.signal}).`);
    process.exit(1);
  }
}
const installed = locateChromium();
if (installed === undefined) {
  console.error("apt-get finished but no Chromium is at /usr/bin/chromium; set CHROMIUM_PATH.");
  process.exit(1);
}
console.log(`Chromium installed: ${installed}`);
