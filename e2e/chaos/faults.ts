// Applies one step of the schedule to the world: server faults through /admin/fault, network
// faults through the proxy and onestream/testing, tab faults through Playwright and CDP. Each
// fault returns once it is over (healed, back online, tabs reopened), and that moment is where
// its recovery time starts. Engine deaths (the worker or the leader tab gone) are recorded for
// the checks: duplicates across them are allowed, gaps never.
import { goOffline, goOnline } from "../kit/index";
import type { AppliedFault, EngineDeath } from "./recorder";
import { pickWith, type FaultStep } from "./schedule";
import type { Tab } from "./tabs";
import { pollUntil, sleep, type World } from "./world";

/** Publishes each tab makes right before a close-all (the "bursts right before close-all"). */
const BURST_BEFORE_CLOSE_ALL = 3;
/** How long the server may take to see every stream of a closed browser end. */
const CLOSE_ALL_DRAIN_MS = 5_000;

/** A second draw from one step's draw, independent enough for a second choice. */
const again = (pick: number): number => (pick * 7919) % 1;

/** The non-empty subset of `topics` a draw stands for (bitmask 1 … 2^k − 1). */
export function topicSubset(pick: number, topics: readonly string[]): string[] {
  const mask = 1 + Math.floor(pick * (2 ** topics.length - 1));
  return topics.filter((_, i) => (mask >> i) & 1);
}

function byId(world: World): Tab[] {
  return world.tabs.list().sort((a, b) => Number(a.record.id.slice(1)) - Number(b.record.id.slice(1)));
}

function leaderOf(world: World): Tab | undefined {
  return world.tabs.list().find((t) => t.record.role === "leader");
}

function death(world: World, why: EngineDeath["why"], killed: Tab[]): void {
  world.recorder.run.deaths.push({ at: Date.now(), why, killed: killed.map((t) => t.record.id) });
}

/**
 * Closes every tab at once (the worker or leader dies), waits for the server to see the streams
 * the browser held end, reopens. Streams the server had beyond those (zombies of earlier faults)
 * are not this close-all's; more than those left behind are.
 */
export async function closeAllAndReopen(world: World, why: EngineDeath["why"], afterFault: number): Promise<string> {
  const all = world.tabs.list();
  const topics = all.map((t) => [...t.record.topics]);
  const expected = Math.max(0, (await world.backend.stats()).activeStreams - world.upstream.open());
  death(world, why, all);
  await world.upstream.releaseWorkers();
  await world.tabs.close(all);
  let streams = 0;
  const drained = await pollUntil(async () => (streams = (await world.backend.stats()).activeStreams) <= expected, CLOSE_ALL_DRAIN_MS);
  if (!drained) world.recorder.run.closeAllLeaks.push({ afterFault, streams: streams - expected });
  const opened: string[] = [];
  for (const t of topics) opened.push((await world.tabs.openTab(t.length > 0 ? t : world.opts.topics)).record.id);
  const kept = drained ? "" : `; server kept ${streams - expected} of its stream(s)`;
  return `closed ${all.map((t) => t.record.id).join(",")}; opened ${opened.join(",")}${kept}`;
}

async function tabSwap(world: World, step: FaultStep): Promise<string> {
  const tabs = byId(world);
  const gone = pickWith(step.pick, tabs);
  if (world.opts.mode === "fallback" && gone.record.role === "leader") death(world, "leader-closed", [gone]);
  await world.tabs.close([gone]);
  const topics = topicSubset(again(step.pick), world.opts.topics);
  const fresh = await world.tabs.openTab(topics);
  return `closed ${gone.record.id}${gone.record.role === "leader" ? " (leader)" : ""}; opened ${fresh.record.id} on ${topics.join(",")}`;
}

async function joinLeave(world: World, step: FaultStep): Promise<string> {
  const tab = pickWith(step.pick, byId(world));
  const topic = pickWith(again(step.pick), world.opts.topics);
  const held = tab.record.topics;
  // Leave only if the tab keeps a topic: a tab with none would have no data to recover.
  if (held.has(topic) && held.size > 1) {
    await world.tabs.call(tab, "leave", topic);
    return `${tab.record.id} left ${topic}`;
  }
  if (held.has(topic)) {
    const other = world.opts.topics.find((t) => !held.has(t));
    if (other === undefined) return `${tab.record.id} holds every topic and only ${topic}: nothing to do`;
    await world.tabs.call(tab, "join", other);
    return `${tab.record.id} joined ${other}`;
  }
  await world.tabs.call(tab, "join", topic);
  return `${tab.record.id} joined ${topic}`;
}

async function crash(world: World): Promise<string> {
  if (world.opts.mode === "shared") {
    death(world, "crash", []);
    return (await world.upstream.crashWorker()) ? "SharedWorker killed (Target.closeTarget)" : "no SharedWorker to kill";
  }
  const leader = leaderOf(world);
  if (leader === undefined) return "no leader to crash";
  const topics = [...leader.record.topics];
  death(world, "crash", [leader]);
  await world.tabs.crash(leader);
  const fresh = await world.tabs.openTab(topics);
  return `leader ${leader.record.id} crashed (Page.crash); opened ${fresh.record.id}`;
}

export async function applyFault(world: World, step: FaultStep): Promise<AppliedFault> {
  const { backend } = world;
  const startAt = Date.now();
  let detail = "";
  switch (step.kind) {
    case "drop":
    case "truncate":
    case "new-epoch":
      await backend.fault({ kind: step.kind });
      break;
    case "error":
      await backend.fault({ kind: "error", code: step.code });
      break;
    case "reject":
      await backend.fault({ kind: "reject", code: step.code, count: step.count });
      break;
    case "wedge":
      await backend.fault({ kind: "wedge" });
      await sleep(step.holdMs);
      await backend.fault({ kind: "heal" });
      break;
    case "net-wedge":
      backend.proxy.set("blackhole");
      await sleep(step.holdMs);
      backend.proxy.set("pass");
      break;
    case "net-reset":
      detail = `${backend.proxy.resetAll()} connection(s) reset`;
      break;
    case "offline":
      await goOffline(world.context, { proxy: backend.proxy });
      await sleep(step.holdMs);
      await goOnline(world.context);
      break;
    case "restart":
      await backend.restart(step.holdMs);
      break;
    case "tab-swap":
      detail = await tabSwap(world, step);
      break;
    case "close-all":
      await Promise.all(world.tabs.list().map((t) => world.tabs.call(t, "burst", BURST_BEFORE_CLOSE_ALL).catch(() => {})));
      detail = await closeAllAndReopen(world, "close-all", step.index);
      break;
    case "join-leave":
      detail = await joinLeave(world, step);
      break;
    case "crash":
      detail = await crash(world);
      break;
  }
  return { step, startAt, endAt: Date.now(), detail };
}
