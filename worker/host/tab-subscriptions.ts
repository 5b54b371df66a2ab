// A tab's subscriptions inside the host: each is one or two engine subscriptions ("parts": a
// cursor map beside other topics, a resync or a denial split it), whose deliveries go to the
// tab's pipe filtered to the topics each part still serves. All or nothing on subscribe, so no
// topic outlives the tab in the stream.
import type { Cursor, Delivery, Engine, Since, Subscription } from "../engine/types";
import { subscribeProblem } from "../../contract/validate";
import type { SubscribeSpec } from "../../contract/protocol";
import type { TabPipe } from "./tab-pipe";

/** One engine subscription behind a tab's subscription, and the topics it still serves. */
export interface Part {
  handle: Subscription;
  topics: Set<string>;
}

export interface HostSub {
  spec: SubscribeSpec;
  /** Usually one; a cursor map beside other topics, a resync or a denial split it. */
  parts: Part[];
}

/** What of a tab these functions need. */
export interface TabSubs {
  id: string;
  pipe: TabPipe;
  subs: Map<number, HostSub>;
}

/** Moves a subscription to a new engine: from the tab's positions where it has them, else as asked. */
export function restart(engine: Engine, tab: TabSubs, sub: number, s: HostSub, warn: (m: string) => void): void {
  const since: Record<string, Cursor> = typeof s.spec.since === "object" ? { ...s.spec.since } : {};
  for (const [topic, after] of tab.pipe.positionsOf(sub)) since[topic] = after;
  const otherwise = typeof s.spec.since === "string" ? s.spec.since : (s.spec.otherwise ?? "stored");
  try {
    s.parts = subscribeParts(engine, tab, sub, { topics: [...new Set(s.spec.topics)], since, otherwise });
  } catch (e) {
    giveBack(tab, sub, s, e, warn);
  }
}

/** A subscription the host cannot carry on: the tab resubscribes it from its own cursors. */
export function giveBack(tab: TabSubs, sub: number, s: HostSub, e: unknown, warn: (m: string) => void): void {
  warn(`onestream: subscription ${sub} of tab ${tab.id} must be resubscribed: ${String(e)}`);
  for (const part of s.parts) part.handle.unsubscribe();
  s.parts = [];
  tab.pipe.deliver(sub, { kind: "overflow", topics: [...new Set(s.spec.topics)] });
}

/**
 * Subscribes `spec` on the user's engine: one engine subscription, or two when a cursor map
 * names only some topics (the others start from `otherwise`). All or nothing: if the second
 * subscribe throws, the first is undone, so no topic outlives the tab in the stream.
 */
export function subscribeParts(engine: Engine, tab: TabSubs, sub: number, spec: SubscribeSpec): Part[] {
  const since = spec.since;
  const groups: Array<[string[], Since]> = [];
  if (since === undefined || typeof since === "string") groups.push([spec.topics, since ?? "stored"]);
  else {
    const named = spec.topics.filter((t) => Object.prototype.hasOwnProperty.call(since, t));
    const others = spec.topics.filter((t) => !Object.prototype.hasOwnProperty.call(since, t));
    if (named.length > 0) groups.push([named, Object.fromEntries(named.map((t) => [t, since[t]!]))]);
    if (others.length > 0) groups.push([others, spec.otherwise ?? "stored"]);
  }
  const parts: Part[] = [];
  try {
    for (const [topics, from] of groups) {
      const part: Part = { handle: { unsubscribe() {} }, topics: new Set(topics) };
      part.handle = engine.subscribe(topics, (d, ack) => forward(tab, sub, part, d, ack), { since: from });
      parts.push(part);
    }
  } catch (e) {
    for (const p of parts) p.handle.unsubscribe();
    throw e;
  }
  return parts;
}

/** Passes what `part` still serves to the tab; a denial takes those topics off it. */
function forward(tab: TabSubs, sub: number, part: Part, d: Delivery, ack?: () => void): void {
  const mine = servedBy(part, d);
  if (mine === undefined) return;
  tab.pipe.deliver(sub, mine, ack);
  if (mine.kind === "ended") {
    // Logout ended the engine subscription: the tab's subscription is over once no part is left.
    part.topics.clear();
    const s = tab.subs.get(sub);
    if (s !== undefined) s.parts = s.parts.filter((p) => p !== part);
    if (s !== undefined && s.parts.length === 0) {
      tab.subs.delete(sub);
      tab.pipe.forget(sub);
    }
    return;
  }
  if (mine.kind !== "denied") return;
  for (const t of mine.topics) part.topics.delete(t);
  if (part.topics.size === 0) part.handle.unsubscribe();
}

/** The part of `d` about topics `part` still serves, or undefined when none. */
function servedBy(part: Part, d: Delivery): Delivery | undefined {
  if (d.kind === "events") {
    const events = d.events.filter((e) => part.topics.has(e.topic));
    if (events.length === d.events.length) return d;
    return events.length === 0 ? undefined : { kind: "events", events };
  }
  if (d.kind === "reset") return part.topics.has(d.topic) ? d : undefined;
  if (d.kind === "ended") return d;
  const topics = d.topics.filter((t) => part.topics.has(t));
  return topics.length === 0 ? undefined : { ...d, topics };
}

export function checkSpec(spec: SubscribeSpec): void {
  if (spec === null || typeof spec !== "object") throw new TypeError("onestream: subscribe needs a spec object");
  const problem = subscribeProblem(spec.topics, spec.since);
  if (problem !== undefined) throw new TypeError(`onestream: ${problem}`);
  if (spec.otherwise !== undefined && spec.otherwise !== "now" && spec.otherwise !== "stored") {
    throw new TypeError("onestream: otherwise must be 'now' or 'stored'");
  }
}
