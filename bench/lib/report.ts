// Turns measured summaries into the table of bench/RESULTS.md (and the console), with the
// conditions of the run (date, machine, versions, command) so a figure is never read without them.
import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import type { Summary } from "./stats";

/** One table row: a figure, onestream's value, the plain per-tab value, the goal and a verdict. */
export interface Row {
  figure: string;
  onestream: string;
  plain: string;
  goal: string;
  verdict: string;
}

/** What a scenario hands back: its rows and a markdown section with per-run data and analysis. */
export interface ScenarioResult {
  rows: Row[];
  details: string;
}

/** "12.3 [11.0–14.1]": median with min and max of the runs, `digits` decimals. */
export function fmt(s: Summary, digits = 1, unit = ""): string {
  if (s.runs === 0) return "n/a";
  const f = (v: number): string => v.toFixed(digits);
  return `${f(s.median)}${unit} [${f(s.min)}–${f(s.max)}]`;
}

/** Events per second in human units: "1.23 M ev/s [..]". */
export function fmtRate(s: Summary): string {
  if (s.runs === 0) return "n/a";
  const scale = s.median >= 1e6 ? 1e6 : 1e3;
  const unit = scale === 1e6 ? " M" : " k";
  const f = (v: number): string => (v / scale).toFixed(2);
  return `${f(s.median)}${unit} ev/s [${f(s.min)}–${f(s.max)}]`;
}

export function table(rows: Row[]): string {
  const head = "| figure | onestream | plain stream per tab | goal | verdict |\n|---|---|---|---|---|\n";
  return head + rows.map((r) => `| ${r.figure} | ${r.onestream} | ${r.plain} | ${r.goal} | ${r.verdict} |`).join("\n") + "\n";
}

export interface RunInfo {
  date: string;
  command: string;
  chromium: string;
  node: string;
  durationS: number;
  runs: number;
  /** 1-minute load average when the run started (others' work on a shared machine shows here). */
  loadAtStart: number;
}

export function machineLine(): string {
  let nproc = String(cpus().length);
  try {
    nproc = execFileSync("nproc", { encoding: "utf8" }).trim();
  } catch {
    // nproc missing: os.cpus() is the same figure without cgroup limits.
  }
  const model = cpus()[0]?.model.trim() ?? "unknown CPU";
  return `nproc ${nproc}, ${model}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${process.platform} ${process.arch}`;
}

export function resultsMarkdown(info: RunInfo, rows: Row[], sections: string[], notes: string[]): string {
  return [
    "# onestream benchmark results",
    "",
    `- date: ${info.date}`,
    `- machine: ${machineLine()}`,
    `- browser: ${info.chromium} (headless, FIELD-NOTES flags)`,
    `- node: ${info.node}`,
    `- command: \`${info.command}\``,
    `- load average (1 min): ${info.loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at the end (${cpus().length} cores; above that, other work competed with the benchmark)`,
    `- runs per figure: ${info.runs}; every figure is **median [min–max]** over the runs; whole benchmark took ${info.durationS.toFixed(0)} s`,
    "",
    "Both columns are measured in the same run, alternating, against the same reference server.",
    "",
    table(rows),
    ...(notes.length ? ["## Notes from this run", "", ...notes.map((n) => `- ${n}`), ""] : []),
    ...sections,
  ].join("\n");
}
