// Runs one scenario in one mode: tabs open, the schedule's faults one after another (the next one
// does not wait for recovery: flapping is part of the test), a quiet moment every few faults
// (every tab gets fresh data, then the upstream count must settle at 1 on both sides), and a
// final drain that lets every publish and every event arrive before the checks read the record.
import type { Browser } from "@playwright/test";
import { applyFault, closeAllAndReopen } from "./faults";
import type { Ledger } from "./ledger";
import type { RunRecord, TabRecord } from "./recorder";
import { buildSchedule, describeStep, type FaultStep, type ScheduleSpec } from "./schedule";
import { closeWorld, createWorld, pollUntil, sleep, waitForFlow, type World, type WorldOptions } from "./world";

export interface RunSpec {
  world: WorldOptions;
  schedule: ScheduleSpec;
  /** A quiet moment after every this many faults (and always at the end). */
  quietEvery: number;
  log: (line: string) => void;
}

export interface RunResult {
  spec: RunSpec;
  steps: FaultStep[];
  record: RunRecord;
  ledger: Ledger;
  /** Head of each topic (current epoch) once the publisher stopped. */
  finalHeads: Record<string, number>;
  /** Set when the run could not go on (a repair failed): the checks still run on what was recorded. */
  aborted?: string;
}

/** Longest the tabs may take to settle their own publishes once they stop publishing. */
const PUBLISH_DRAIN_MS = 30_000;
/** Longest a dead tab's outbox may take to deliver (the next worker or leader replays it). */
const OUTBOX_DRAIN_MS = 10_000;

/** Waits for fresh data everywhere; a stuck tab is recorded, then replaced (all stuck: close-all). */
async function flowOrRepair(world: World, afterFault: number): Promise<void> {
  const { recorder } = world;
  const stuck = await waitForFlow(world, Date.now(), world.opts.stuckMs);
  if (stuck.length === 0) return;
  recorder.run.stuck.push({
    at: Date.now(),
    afterFault,
    tabs: stuck.map((t) => ({ id: t.id, state: t.state, lastError: recorder.lastError(t) })),
  });
  const ids = stuck.map((t) => t.id).join(",");
  if (stuck.length === world.tabs.list().length) {
    recorder.run.repairs.push(`after #${afterFault}: every tab stuck (${ids}): ${await closeAllAndReopen(world, "repair", afterFault)}`);
  } else {
    const tabs = world.tabs.list().filter((t) => stuck.includes(t.record));
    await world.tabs.close(tabs);
    const opened = [];
    for (const t of tabs) opened.push((await world.tabs.openTab([...t.record.topics])).record.id);
    recorder.run.repairs.push(`after #${afterFault}: replaced stuck ${ids} by ${opened.join(",")}`);
  }
  const still = await waitForFlow(world, Date.now(), world.opts.stuckMs);
  if (still.length > 0) throw new Error(`tabs ${still.map((t) => t.id).join(",")} still stuck after a repair`);
}

/** A quiet moment: data flows in every tab, then one stream upstream, seen from both sides. */
async function quietMoment(world: World, afterFault: number): Promise<void> {
  await flowOrRepair(world, afterFault);
  const expected = world.tabs.list().some((t) => t.record.topics.size > 0) ? 1 : 0;
  let server = -1;
  let client = -1;
  const settled = await pollUntil(async () => {
    server = (await world.backend.stats()).activeStreams;
    client = world.upstream.open();
    // A client count below expected is a worker seen late (upstream.ts), not a stream less.
    return server === expected && client <= expected;
  }, world.opts.settleMs);
  world.recorder.run.quiet.push({ at: Date.now(), afterFault, server, client, expected, settled });
}

/** Every subscription of an open tab has the head of its topic. */
function caughtUp(tabs: TabRecord[], heads: Record<string, number>): boolean {
  return tabs.every((tab) =>
    [...tab.topics].every((topic) => {
      for (let i = tab.messages.length - 1; i >= 0; i--) {
        const m = tab.messages[i]!;
        if (m.t === "events" && m.topic === topic) return Number(m.items[m.items.length - 1]![0]) >= (heads[topic] ?? 0);
      }
      return (heads[topic] ?? 0) === 0;
    }),
  );
}

async function finalDrain(world: World, afterFault: number): Promise<Record<string, number>> {
  const { tabs, backend, recorder } = world;
  await quietMoment(world, afterFault);
  await Promise.all(tabs.list().map((t) => tabs.call(t, "stopPublishing").catch(() => {})));
  await pollUntil(
    async () => (await Promise.all(tabs.list().map((t) => tabs.call(t, "pendingPublishes").catch(() => 0)))).every((n) => n === 0),
    PUBLISH_DRAIN_MS,
  );
  const requested = recorder.run.tabs.flatMap((t) => t.messages.filter((m) => m.t === "publish" && m.phase === "requested"));
  await pollUntil(() => requested.every((m) => m.t !== "publish" || backend.ledger.copies(m.payload) > 0), OUTBOX_DRAIN_MS);
  await backend.stopPublisher();
  const heads = Object.fromEntries(world.opts.topics.map((t) => [t, backend.ledger.head(t)]));
  await pollUntil(() => caughtUp(recorder.openTabs(), heads), world.opts.stuckMs);
  return heads;
}

export async function runScenario(browser: Browser, pagesUrl: string, spec: RunSpec): Promise<RunResult> {
  const steps = buildSchedule(spec.schedule);
  const world = await createWorld(browser, pagesUrl, spec.world);
  const { recorder } = world;
  const label = `${spec.schedule.scenario}/${spec.world.mode}`;
  let aborted: string | undefined;
  let finalHeads: Record<string, number> = {};
  let done = 0;
  try {
    for (let i = 0; i < spec.world.tabs; i++) await world.tabs.openTab(spec.world.topics);
    await flowOrRepair(world, 0);
    for (const step of steps) {
      await sleep(step.gapMs);
      const applied = await applyFault(world, step);
      recorder.run.faults.push(applied);
      done = step.index;
      spec.log(`${label} ${describeStep(step)}${applied.detail ? ` — ${applied.detail}` : ""} (${applied.endAt - applied.startAt} ms)`);
      if (step.index % spec.quietEvery === 0 && step.index < steps.length) await quietMoment(world, step.index);
    }
    finalHeads = await finalDrain(world, done);
  } catch (e) {
    aborted = `after #${done}: ${e instanceof Error ? e.message : String(e)}`;
    spec.log(`${label} aborted ${aborted}`);
    finalHeads = Object.fromEntries(spec.world.topics.map((t) => [t, world.backend.ledger.head(t)]));
  } finally {
    recorder.run.endedAt = Date.now();
    await closeWorld(world);
  }
  return { spec, steps, record: recorder.run, ledger: world.backend.ledger, finalHeads, ...(aborted ? { aborted } : {}) };
}
