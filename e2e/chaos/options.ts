// `npm run chaos -- [flags]`: every flag with its default, and the presets. A bad flag is a clear
// message and exit code 2, never a run with a guessed value. The replay line printed on a failure
// is built here too, so what is printed is exactly what parses.
import { ALL_KINDS, MAIN_KINDS, RESTART_KINDS, type FaultKind } from "./schedule";
import type { ChaosMode } from "./messages";

export interface ChaosOptions {
  seed: number | undefined;
  faults: number;
  /** Faults of the restart scenario per mode (0: skip it). */
  restarts: number;
  modes: ChaosMode[];
  tabs: number;
  topics: number;
  rate: number;
  publishEveryMs: number;
  gapMs: { min: number; max: number };
  /** Fault kinds per mode (--kinds sets both). */
  kinds: Record<ChaosMode, FaultKind[]>;
  heartbeatMs: number;
  stuckMs: number;
  settleMs: number;
  quietEvery: number;
  /** Print each fault as it is applied. */
  verbose: boolean;
  preset: Preset;
}

/**
 * full: every kind (what `npm run chaos` runs). smoke: what `npm test` runs — every kind too, on
 * a lighter load with shorter gaps and a short restart scenario, so each fix the suite once
 * caught (e2e/chaos/README.md) stays fixed.
 */
export type Preset = "full" | "smoke";

const DEFAULTS: Record<Preset, Omit<ChaosOptions, "seed" | "verbose" | "preset">> = {
  full: {
    faults: 200,
    restarts: 20,
    modes: ["shared", "fallback"],
    tabs: 4,
    topics: 3,
    rate: 100,
    publishEveryMs: 1_000,
    gapMs: { min: 1_000, max: 3_000 },
    kinds: { shared: [...ALL_KINDS], fallback: [...ALL_KINDS] },
    heartbeatMs: 1_000,
    stuckMs: 60_000,
    settleMs: 5_000,
    quietEvery: 5,
  },
  smoke: {
    faults: 40,
    restarts: 5,
    modes: ["shared", "fallback"],
    tabs: 4,
    topics: 3,
    rate: 50,
    publishEveryMs: 1_000,
    gapMs: { min: 300, max: 1_200 },
    kinds: { shared: [...ALL_KINDS], fallback: [...ALL_KINDS] },
    heartbeatMs: 1_000,
    stuckMs: 40_000,
    settleMs: 5_000,
    quietEvery: 10,
  },
};

export const USAGE = `npm run chaos -- [--preset full|smoke] [--seed N] [--faults M] [--mode shared|fallback|both]
  [--restarts R] [--tabs N] [--topics K] [--rate EV_PER_S] [--publish-every MS] [--gap MIN-MAX]
  [--kinds k1,k2,…] [--heartbeat-ms MS] [--stuck-ms MS] [--settle-ms MS] [--quiet-every N] [--verbose]
kinds: ${ALL_KINDS.join(", ")} (restart scenario: ${RESTART_KINDS.join(", ")} and drop, tab-swap, close-all)`;

export class UsageError extends Error {}

function int(flag: string, text: string | undefined, min: number, max: number): number {
  const v = Number(text);
  if (text === undefined || !Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(`${flag} needs an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return v;
}

export function parseArgs(argv: readonly string[]): ChaosOptions {
  const presetAt = argv.indexOf("--preset");
  const presetText = presetAt >= 0 ? argv[presetAt + 1] : "full";
  if (presetText !== "full" && presetText !== "smoke") throw new UsageError(`--preset must be full or smoke, got ${JSON.stringify(presetText)}`);
  const preset: Preset = presetText;
  const { kinds } = DEFAULTS[preset];
  const o: ChaosOptions = {
    ...DEFAULTS[preset],
    kinds: { shared: [...kinds.shared], fallback: [...kinds.fallback] },
    seed: undefined,
    verbose: false,
    preset,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string | undefined => argv[++i];
    switch (flag) {
      case "--preset": i++; break;
      case "--seed": o.seed = int(flag, value(), 0, 2 ** 31 - 1); break;
      case "--faults": o.faults = int(flag, value(), 1, 100_000); break;
      case "--restarts": o.restarts = int(flag, value(), 0, 100_000); break;
      case "--tabs": o.tabs = int(flag, value(), 2, 16); break;
      case "--topics": o.topics = int(flag, value(), 1, 16); break;
      case "--rate": o.rate = int(flag, value(), 0, 10_000); break;
      case "--publish-every": o.publishEveryMs = int(flag, value(), 0, 600_000); break;
      case "--heartbeat-ms": o.heartbeatMs = int(flag, value(), 100, 60_000); break;
      case "--stuck-ms": o.stuckMs = int(flag, value(), 1_000, 600_000); break;
      case "--settle-ms": o.settleMs = int(flag, value(), 100, 600_000); break;
      case "--quiet-every": o.quietEvery = int(flag, value(), 1, 100_000); break;
      case "--verbose": o.verbose = true; break;
      case "--mode": {
        const m = value();
        if (m !== "shared" && m !== "fallback" && m !== "both") throw new UsageError(`--mode must be shared, fallback or both, got ${JSON.stringify(m)}`);
        o.modes = m === "both" ? ["shared", "fallback"] : [m];
        break;
      }
      case "--gap": {
        const [lo, hi] = (value() ?? "").split("-");
        o.gapMs = { min: int("--gap (min)", lo, 0, 600_000), max: int("--gap (max)", hi, 0, 600_000) };
        if (o.gapMs.min > o.gapMs.max) throw new UsageError("--gap MIN-MAX needs MIN ≤ MAX");
        break;
      }
      case "--kinds": {
        const kinds = (value() ?? "").split(",").filter((k) => k !== "");
        const bad = kinds.filter((k) => !(ALL_KINDS as readonly string[]).includes(k));
        if (kinds.length === 0 || bad.length > 0) throw new UsageError(`--kinds: unknown ${bad.join(", ") || "(empty list)"}; known: ${ALL_KINDS.join(", ")}`);
        o.kinds = { shared: kinds as FaultKind[], fallback: kinds as FaultKind[] };
        break;
      }
      default:
        throw new UsageError(`unknown flag ${JSON.stringify(flag)}`);
    }
  }
  return o;
}

/** The command line that replays one mode of a run: the seed plus every flag that differs from the preset. */
export function replayLine(o: ChaosOptions, seed: number, mode: ChaosMode): string {
  const d = DEFAULTS[o.preset];
  const flags: string[] = o.preset === "full" ? [] : ["--preset", o.preset];
  flags.push("--seed", String(seed), "--faults", String(o.faults), "--restarts", String(o.restarts), "--mode", mode);
  const differs: Array<[string, unknown, unknown]> = [
    ["--tabs", o.tabs, d.tabs],
    ["--topics", o.topics, d.topics],
    ["--rate", o.rate, d.rate],
    ["--publish-every", o.publishEveryMs, d.publishEveryMs],
    ["--gap", `${o.gapMs.min}-${o.gapMs.max}`, `${d.gapMs.min}-${d.gapMs.max}`],
    ["--kinds", o.kinds[mode].join(","), d.kinds[mode].join(",")],
    ["--heartbeat-ms", o.heartbeatMs, d.heartbeatMs],
    ["--stuck-ms", o.stuckMs, d.stuckMs],
    ["--settle-ms", o.settleMs, d.settleMs],
    ["--quiet-every", o.quietEvery, d.quietEvery],
  ];
  for (const [flag, value, fallback] of differs) if (value !== fallback) flags.push(flag, String(value));
  return `npm run chaos -- ${flags.join(" ")}`;
}

/** Whether the main scenario has any of its kinds enabled in `mode`. */
export const hasMainKinds = (o: ChaosOptions, mode: ChaosMode): boolean =>
  o.kinds[mode].some((k) => (MAIN_KINDS as readonly string[]).includes(k));
