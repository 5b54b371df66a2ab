// The fault sequence of a run, drawn from the seed alone: the same seed, count, scenario and kinds
// give the same steps, which is what `--seed N` replays. Choices that depend on what exists when
// a step runs (which tab, which topic) are stored as uniform draws and resolved then.
import { seededRandom } from "./random";

/** Faults of the main scenario: everything a network, a server, a user or a browser does. */
export const MAIN_KINDS = [
  "drop", // server destroys every open stream's socket
  "wedge", // server goes silent (no frames, no heartbeats), then heals
  "net-wedge", // the network goes silent (fault proxy blackhole), then passes again
  "net-reset", // the network resets every open connection (fault proxy RST)
  "truncate", // server cuts a message in half and ends the response
  "error", // server ends open streams with an error status
  "reject", // the next n Subscribes fail before Hello
  "offline", // the browser goes offline (onestream/testing goOffline), then online
  "tab-swap", // one tab closes, a new one opens (since "stored")
  "close-all", // a publish burst, every tab closes (the worker dies), tabs reopen
  "join-leave", // one tab joins a topic it lacks, or leaves one of its topics
  "crash", // the SharedWorker is killed (fallback: the leader tab's renderer crashes)
] as const;

/** Faults of the restart scenario: the server goes away and comes back, with or without its log. */
export const RESTART_KINDS = ["restart", "new-epoch"] as const;

export type FaultKind = (typeof MAIN_KINDS)[number] | (typeof RESTART_KINDS)[number];
export const ALL_KINDS: readonly FaultKind[] = [...MAIN_KINDS, ...RESTART_KINDS];

export type Scenario = "faults" | "restarts";

/** How often each kind is drawn, relative to the others. */
const WEIGHTS: Record<Scenario, Partial<Record<FaultKind, number>>> = {
  faults: {
    drop: 2,
    wedge: 1,
    "net-wedge": 1,
    "net-reset": 1,
    truncate: 2,
    error: 2,
    reject: 1,
    offline: 1,
    "tab-swap": 2,
    "close-all": 1,
    "join-leave": 2,
    crash: 1,
  },
  restarts: { restart: 3, "new-epoch": 2, drop: 1, "tab-swap": 1, "close-all": 1 },
};

/** Different scenarios of one seed draw different sequences. */
const SALT: Record<Scenario, number> = { faults: 0, restarts: 0x5eed };

/** Status codes for `error` and `reject`: transient ones (retry-slow and terminal codes excluded). */
const ERROR_CODES = ["unavailable", "internal", "aborted", "unknown", "deadline_exceeded"] as const;

export interface FaultStep {
  /** 1-based position in the run. */
  index: number;
  kind: FaultKind;
  /** Pause before the fault starts. */
  gapMs: number;
  /** How long a lasting fault lasts (wedge, net-wedge, offline, restart downtime). */
  holdMs: number;
  /** Status code for error and reject. */
  code: string;
  /** Rejections of a reject fault. */
  count: number;
  /** Uniform draw in [0, 1) that picks a tab or topic among those that exist when the step runs. */
  pick: number;
}

export interface ScheduleSpec {
  seed: number;
  faults: number;
  scenario: Scenario;
  /** Kinds allowed; each scenario's weights say how often. */
  kinds: readonly FaultKind[];
  gapMs: { min: number; max: number };
}

/** Hold times per lasting kind: a wedge long enough to trip the idle watchdog half the time. */
const HOLD_MS: Partial<Record<FaultKind, { min: number; max: number }>> = {
  wedge: { min: 500, max: 8_000 },
  "net-wedge": { min: 500, max: 8_000 },
  offline: { min: 300, max: 3_000 },
  restart: { min: 200, max: 2_000 },
};

export function buildSchedule(spec: ScheduleSpec): FaultStep[] {
  const weights: Partial<Record<FaultKind, number>> = {};
  for (const kind of spec.kinds) {
    const w = WEIGHTS[spec.scenario][kind];
    if (w !== undefined) weights[kind] = w;
  }
  if (Object.keys(weights).length === 0) {
    throw new RangeError(`no fault kind of the ${spec.scenario} scenario is enabled (kinds: ${spec.kinds.join(", ")})`);
  }
  const rng = seededRandom((spec.seed ^ SALT[spec.scenario]) >>> 0);
  return Array.from({ length: spec.faults }, (_, i) => {
    // Every draw happens for every step, so a kind filter never shifts the draws of later steps' other fields.
    const kind = rng.weighted(weights as Record<FaultKind, number>);
    const gapMs = rng.int(spec.gapMs.min, spec.gapMs.max);
    const hold = HOLD_MS[kind] ?? { min: 0, max: 0 };
    const holdMs = rng.int(hold.min, hold.max);
    const code = rng.pick(ERROR_CODES);
    const count = rng.int(1, 3);
    const pick = rng.next();
    return { index: i + 1, kind, gapMs, holdMs, code, count, pick };
  });
}

/** One line per step, as the report prints it and as a reader replays it. */
export function describeStep(s: FaultStep): string {
  switch (s.kind) {
    case "wedge":
    case "net-wedge":
    case "offline":
    case "restart":
      return `#${s.index} ${s.kind} ${(s.holdMs / 1000).toFixed(1)}s`;
    case "error":
      return `#${s.index} error ${s.code}`;
    case "reject":
      return `#${s.index} reject ${s.code}×${s.count}`;
    default:
      return `#${s.index} ${s.kind}`;
  }
}

/** Resolves a step's draw to one of `items` (non-empty). */
export function pickWith<T>(pick: number, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError("nothing to pick from");
  return items[Math.min(items.length - 1, Math.floor(pick * items.length))]!;
}
