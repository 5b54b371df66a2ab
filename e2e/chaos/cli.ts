// `npm run chaos`: builds the chaos tab, launches Chromium, and runs the seeded fault schedule in
// each mode (the main scenario, then the restart scenario), printing a table per run. Exit code 0
// when every check of every run passed, 1 on any failure (with the seed and the replay command),
// 2 on a bad flag. See e2e/chaos/README.md.
import { fileURLToPath } from "node:url";
import { launchBrowser } from "../../bench/lib/browser";
import { buildAndServePages } from "../../bench/lib/pages";
import { judge } from "./checks";
import { hasMainKinds, parseArgs, replayLine, USAGE, UsageError, type ChaosOptions } from "./options";
import { freshSeed } from "./random";
import { failureLines, summaryLines } from "./report";
import { runScenario } from "./run";
import type { Scenario } from "./schedule";
import type { ChaosMode } from "./messages";

const CONFIG_FILE = fileURLToPath(new URL("./vite.config.ts", import.meta.url));
const started = Date.now();
const log = (line: string): void => console.log(`[chaos +${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`);

async function runAll(o: ChaosOptions, seed: number): Promise<boolean> {
  const pages = await buildAndServePages(CONFIG_FILE, "onestream-chaos-");
  const pagesUrl = pages.baseUrl;
  const browser = await launchBrowser();
  const topics = Array.from({ length: o.topics }, (_, i) => `chaos/${i}`);
  let ok = true;
  try {
    for (const mode of o.modes) {
      const scenarios: Array<[Scenario, number]> = [];
      if (hasMainKinds(o, mode)) scenarios.push(["faults", o.faults]);
      if (o.restarts > 0) scenarios.push(["restarts", o.restarts]);
      for (const [scenario, faults] of scenarios) ok = (await runOne(o, seed, mode, scenario, faults, browser, pagesUrl, topics)) && ok;
    }
  } finally {
    await browser.close();
    await pages.close();
  }
  return ok;
}

async function runOne(
  o: ChaosOptions,
  seed: number,
  mode: ChaosMode,
  scenario: Scenario,
  faults: number,
  browser: Parameters<typeof runScenario>[0],
  pagesUrl: string,
  topics: string[],
): Promise<boolean> {
  log(`${scenario} / ${mode}: ${faults} faults, seed ${seed}`);
  const result = await runScenario(browser, pagesUrl, {
    world: {
      mode,
      tabs: o.tabs,
      topics,
      rate: o.rate,
      publishEveryMs: o.publishEveryMs,
      heartbeatMs: o.heartbeatMs,
      stuckMs: o.stuckMs,
      settleMs: o.settleMs,
    },
    schedule: { seed, faults, scenario, kinds: o.kinds[mode], gapMs: o.gapMs },
    quietEvery: o.quietEvery,
    log: o.verbose ? log : () => {},
  });
  const verdict = judge(result);
  const lines = summaryLines(result, verdict, seed);
  if (!verdict.ok) lines.push(...failureLines(result, verdict, replayLine(o, seed, mode)));
  console.log(lines.join("\n"));
  return verdict.ok;
}

async function main(): Promise<number> {
  if (process.argv.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  let o: ChaosOptions;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n${USAGE}`);
    return 2;
  }
  const seed = o.seed ?? freshSeed();
  log(`seed ${seed} (${o.preset}: ${o.faults} faults + ${o.restarts} restart-scenario faults per mode; modes ${o.modes.join(", ")})`);
  const ok = await runAll(o, seed);
  log(ok ? "every check passed" : `FAILED (seed ${seed})`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
