// Finds a Chromium to drive, in one place, for Playwright's config, the benchmarks and
// `npm run setup:browser`: `npx playwright install` cannot download on our machines, so we use
// the distribution's Chromium and fall back to Playwright's own browsers where they exist.
import { existsSync } from "node:fs";
import { chromium } from "@playwright/test";

/**
 * Flags measured in FIELD-NOTES: without the background-networking ones Chromium floods a
 * closed network; QUIC off keeps every request on the HTTP/1.1 path we test.
 */
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where we look, in order. */
export function chromiumCandidates() {
  const fromEnv = process.env.CHROMIUM_PATH;
  let playwrights;
  try {
    playwrights = chromium.executablePath();
  } catch {
    playwrights = undefined;
  }
  return [fromEnv, "/usr/bin/chromium", playwrights].filter((p) => typeof p === "string" && p !== "");
}

/** The first Chromium found, or undefined. */
export function locateChromium() {
  return chromiumCandidates().find((p) => existsSync(p));
}

/** The first Chromium found; throws a message telling what to do when there is none. */
export function findChromium() {
  const found = locateChromium();
  if (found !== undefined) return found;
  const env = process.env.CHROMIUM_PATH;
  const hint = env ? ` ($CHROMIUM_PATH=${env} does not exist)` : "";
  throw new Error(
    `No Chromium found${hint}. Looked at: ${chromiumCandidates().join(", ")}. ` +
      "Run `npm run setup:browser`, or set CHROMIUM_PATH to a Chromium binary.",
  );
}
