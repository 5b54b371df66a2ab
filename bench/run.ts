// `npm run bench`: builds the bench pages, launches Chromium, runs every figure against the
// reference server (onestream and a plain stream per tab in the same run), prints the table and
// writes bench/RESULTS.md. Not part of `npm test`. `npm run bench -- latency heap` runs only
// those scenarios (and then writes bench/RESULTS.partial.md, never overwriting the full results).
import { writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { chromiumVersionLine, launchBrowser } from "./lib/browser";
import { readConfig } from "./lib/config";
import { CpuMonitor, NOT_OURS } from "./lib/cpu";
import type { BenchContext } from "./lib/context";
import { buildAndServePages } from "./lib/pages";
import { warmUp } from "./lib/warmup";
import { resultsMarkdown, table, type Row, type ScenarioResult } from "./lib/report";
import { connections } from "./scenarios/connections";
import { heap } from "./scenarios/heap";
import { latency } from "./scenarios/latency";
import { recovery } from "./scenarios/recovery";
import { server } from "./scenarios/server";
import { throughput } from "./scenarios/throughput";

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  connections,
  latency,
  throughput,
  recovery,
  heap,
  server,
};

const started = performance.now();
const loadAtStart = loadavg()[0] ?? Number.NaN;
const log = (m: string): void => console.log(`[bench +${((performance.now() - started) / 1000).toFixed(1)}s] ${m}`);
const notes: string[] = [];
const config = readConfig(process.env, (m) => {
  console.warn(m);
  notes.push(m);
});

const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !(a in SCENARIOS));
if (unknown.length) {
  console.error(`unknown scenario(s): ${unknown.join(", ")}; known: ${Object.keys(SCENARIOS).join(", ")}`);
  process.exit(2);
}
const selected = asked.length ? asked : Object.keys(SCENARIOS);

log("building bench pages with vite");
const pages = await buildAndServePages();
const browser = await launchBrowser();
const cpu = new CpuMonitor();
const ctx: BenchContext = { browser, pagesUrl: pages.baseUrl, config, cpu, log };
const rows: Row[] = [];
const sections: string[] = [];
try {
  log("warm-up (not measured)");
  await warmUp(ctx);
  for (const name of selected) {
    log(`scenario ${name}`);
    const cpuMark = cpu.mark();
    try {
      const r = await SCENARIOS[name]!(ctx);
      rows.push(...r.rows);
      sections.push(r.details);
      // Other work on a shared machine moves every figure: say how much there was.
      const others = cpu.since(cpuMark).get(NOT_OURS) ?? 0;
      notes.push(`during **${name}**, processes outside this benchmark used ${(others * 100).toFixed(0)} % of a core on average (of ${cpus().length * 100} %)`);
    } catch (e) {
      // One broken figure must not cost the others: report it as a row and go on.
      const msg = e instanceof Error ? e.message : String(e);
      console.error(`scenario ${name} failed:`, e);
      notes.push(`scenario **${name}** failed: ${msg.split("\n")[0]}`);
      rows.push({ figure: name, onestream: "failed (see notes)", plain: "—", goal: "—", verdict: "not measured" });
    }
  }
} finally {
  cpu.stop();
  await browser.close();
  await pages.close();
}

const command = `npm run bench${asked.length ? ` -- ${asked.join(" ")}` : ""}`;
const md = resultsMarkdown(
  {
    date: new Date().toISOString(),
    command: Object.entries(process.env)
      .filter(([k]) => k.startsWith("BENCH_"))
      .map(([k, v]) => `${k}=${v} `)
      .join("") + command,
    chromium: chromiumVersionLine(),
    node: process.version,
    durationS: (performance.now() - started) / 1000,
    runs: config.runs,
    loadAtStart,
  },
  rows,
  sections,
  notes,
);
const out = fileURLToPath(new URL(asked.length ? "./RESULTS.partial.md" : "./RESULTS.md", import.meta.url));
await writeFile(out, md);
console.log("\n" + table(rows));
for (const n of notes) console.log(`note: ${n}`);
console.log(`written to ${out}`);
