// Launches the machine's Chromium the way FIELD-NOTES says works here (flags that stop it from
// flooding the closed network) and reads its exact version for RESULTS.md.
import { chromium, type Browser } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** FIELD-NOTES: without the background-networking flags Chromium floods the closed network. */
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium"].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error("Chromium not found: set CHROMIUM_PATH or run `npm run setup:browser`");
  return found;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_FLAGS });
}

/** "Chromium 156.0.8078.79 …" as the binary reports it (the launched browser reports it too). */
export function chromiumVersionLine(): string {
  try {
    return execFileSync(chromiumPath(), ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}
