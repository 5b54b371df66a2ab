// What every scenario gets from bench/run.ts: the browser, where the bench pages are served,
// the knobs, and a logger.
import type { Browser } from "@playwright/test";
import type { BenchConfig } from "./config";
import type { CpuMonitor } from "./cpu";
import { workerName } from "../../contract/protocol";
import { CLIENT_NAMES } from "../pages/api";

export interface BenchContext {
  browser: Browser;
  /** Base URL of the built bench pages, e.g. http://127.0.0.1:PORT/ */
  pagesUrl: string;
  config: BenchConfig;
  /** CPU per process group, for the whole run (see lib/cpu.ts). */
  cpu: CpuMonitor;
  log(message: string): void;
}

/** Before a measured run: wait up to this long for others to use less than QUIET_BELOW of a core. */
export const QUIET_MAX_WAIT_MS = 5_000;
export const QUIET_BELOW = 0.25;

/** The two ways of receiving events compared side by side. */
export type Mode = "onestream" | "plain";
export const MODES: readonly Mode[] = ["onestream", "plain"];

/** The CDP target title (= SharedWorker name) of the onestream page's worker in each persist mode. */
export function workerTitle(persist: keyof typeof CLIENT_NAMES): string {
  return workerName(CLIENT_NAMES[persist]);
}

export function pageFor(ctx: BenchContext, mode: Mode, serverUrl: string): string {
  return `${ctx.pagesUrl}${mode}.html?server=${encodeURIComponent(serverUrl)}`;
}
