// Launches the machine's Chromium the way FIELD-NOTES says works here (flags that stop it from
// flooding the closed network) and reads its exact version for RESULTS.md.
import { chromium, type Browser } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { CHROMIUM_FLAGS, findChromium } from "../../scripts/chromium.mjs";

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_FLAGS });
}

/** "Chromium 156.0.8078.79 …" as the binary reports it (the launched browser reports it too). */
export function chromiumVersionLine(): string {
  try {
    return execFileSync(findChromium(), ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}
