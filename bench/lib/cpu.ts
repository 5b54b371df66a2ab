// Where the machine's CPU went during a measurement window, from /proc (Linux): per group of
// processes of this benchmark (reference server, Playwright driver, Chromium by process type) and
// everything else on the machine. On a 2-core box this is the breakdown that says whether a figure
// is bound by the client, the server, the browser's own services (IndexedDB, network) or by
// load that is not ours.
import { readFileSync, readdirSync } from "node:fs";
import { cpus } from "node:os";

/** The group of CPU time spent by processes outside this benchmark's process tree. */
export const NOT_OURS = "not this benchmark (rest of the machine)";

export const SERVER = "reference server";
export const RENDERERS = "Chromium renderers (tabs + SharedWorker)";

/** Linux USER_HZ: /proc times are in these ticks (100 on every mainstream kernel). */
const TICKS_PER_S = 100;

interface Proc {
  pid: number;
  ppid: number;
  ticks: number;
  cmd: string;
}

export interface CpuSample {
  at: number;
  /** Per process: its group and CPU ticks so far. Processes outside this benchmark are NOT_OURS. */
  procs: Map<number, { group: string; ticks: number }>;
}

/** How often the monitor reads /proc: a process that ends loses at most this slice. */
const SAMPLE_MS = 500;

/** cmdline never changes for a pid; reading it once keeps a sample cheap (~300 stat reads). */
const cmdlines = new Map<number, string>();

function readProcs(): Proc[] {
  const out: Proc[] = [];
  const alive = new Set<number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // comm may hold spaces and parens: fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
      let cmd = cmdlines.get(pid);
      if (cmd === undefined) cmdlines.set(pid, (cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0/g, " ")));
      out.push({ pid, ppid: Number(fields[1]), ticks, cmd });
      alive.add(pid);
    } catch {
      // The process exited between readdir and read.
    }
  }
  for (const pid of cmdlines.keys()) if (!alive.has(pid)) cmdlines.delete(pid);
  return out;
}

function group(p: Proc): string {
  if (p.pid === process.pid) return "bench driver (Node + Playwright)";
  if (p.cmd.includes("server-child.ts")) return SERVER;
  if (/chrom/.test(p.cmd)) {
    const type = /--type=(\S+)/.exec(p.cmd)?.[1];
    if (type === undefined) return "Chromium browser process";
    if (type === "renderer") return RENDERERS;
    if (type === "utility") {
      const sub = /--utility-sub-type=(\S+)/.exec(p.cmd)?.[1] ?? "other";
      return `Chromium ${sub.replace(/\.mojom\./, " ").replace(/^network /, "").toLowerCase()}`;
    }
    return `Chromium ${type}`;
  }
  return "other processes of the benchmark";
}

/** Takes a sample of every process, grouping this process and its descendants by role. */
export function sampleCpu(): CpuSample {
  const procs = readProcs();
  const children = new Map<number, Proc[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out = new Map<number, { group: string; ticks: number }>();
  const self = procs.find((p) => p.pid === process.pid);
  const stack = self ? [self] : [];
  while (stack.length) {
    const p = stack.pop()!;
    out.set(p.pid, { group: group(p), ticks: p.ticks });
    stack.push(...(children.get(p.pid) ?? []));
  }
  for (const p of procs) if (!out.has(p.pid)) out.set(p.pid, { group: NOT_OURS, ticks: p.ticks });
  return { at: performance.now(), procs: out };
}

/** Per-group CPU ticks between two samples; a pid first seen in `b` was born in between and counts whole. */
export function tickDeltas(a: CpuSample, b: CpuSample): Map<string, number> {
  const out = new Map<string, number>();
  for (const [pid, p] of b.procs) {
    const before = a.procs.get(pid);
    const d = p.ticks - (before?.group === p.group ? before.ticks : 0);
    if (d > 0) out.set(p.group, (out.get(p.group) ?? 0) + d);
  }
  return out;
}

/** Share of ONE core each group used between two samples (see tickDeltas). */
export function cpuShares(a: CpuSample, b: CpuSample): Map<string, number> {
  return toShares(tickDeltas(a, b), b.at - a.at);
}

function toShares(ticks: Map<string, number>, ms: number): Map<string, number> {
  const shares = new Map<string, number>();
  for (const [g, t] of ticks) shares.set(g, t / TICKS_PER_S / (ms / 1000));
  return shares;
}

export interface CpuMark {
  at: number;
  totals: Map<string, number>;
}

/**
 * Reads /proc every SAMPLE_MS and adds up per-group CPU, so processes that start and end inside a
 * window — others' test runners, the renderers of tabs we closed — are counted too (a process
 * that ends loses at most its last slice). `mark()` / `since(mark)` measure any window.
 */
export class CpuMonitor {
  private last = sampleCpu();
  private readonly totals = new Map<string, number>();
  private readonly timer = setInterval(() => this.tick(), SAMPLE_MS);

  constructor() {
    this.timer.unref();
  }

  private tick(): void {
    const next = sampleCpu();
    for (const [g, t] of tickDeltas(this.last, next)) this.totals.set(g, (this.totals.get(g) ?? 0) + t);
    this.last = next;
  }

  mark(): CpuMark {
    this.tick();
    return { at: this.last.at, totals: new Map(this.totals) };
  }

  /** Share of one core per group since `m`. */
  since(m: CpuMark): Map<string, number> {
    this.tick();
    const d = new Map<string, number>();
    for (const [g, t] of this.totals) {
      const v = t - (m.totals.get(g) ?? 0);
      if (v > 0) d.set(g, v);
    }
    return toShares(d, this.last.at - m.at);
  }

  /** Waits (at most `maxWaitMs`) for a half-second in which others used under `below` of a core. */
  async waitForQuiet(below: number, maxWaitMs: number): Promise<number> {
    const deadline = performance.now() + maxWaitMs;
    let share = Number.POSITIVE_INFINITY;
    while (performance.now() < deadline) {
      const m = this.mark();
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
      share = this.since(m).get(NOT_OURS) ?? 0;
      if (share < below) break;
    }
    return share;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Markdown lines: "- 85 % of a core: Chromium renderers", largest first, with the core count. */
export function cpuLines(shares: Map<string, number>): string[] {
  const cores = cpus().length;
  const total = [...shares.values()].reduce((s, v) => s + v, 0);
  return [
    ...[...shares.entries()]
      .sort((x, y) => y[1] - x[1])
      .filter(([, v]) => v >= 0.005)
      .map(([g, v]) => `- ${(v * 100).toFixed(0)} % of a core: ${g}`),
    `- total ${(total * 100).toFixed(0)} % of ${cores * 100} % available (${cores} cores)`,
  ];
}
