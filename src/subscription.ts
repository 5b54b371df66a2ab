// One subscription as the tab sees it: its own last cursor per topic, which both dedupes (a
// leader handover or a resync may replay what this tab already has) and says where to resume.
// Pure bookkeeping, no I/O: the client decides where deliveries come from and go.
import { topicProblem } from "../proto/topic";
import type { Delivery, ResetReason, Since, StreamEvent } from "../worker/engine/types";
import type { SubscribeSpec } from "./protocol";

export interface SubscribeOptions {
  /** "stored" (default): resume from the persisted cursor; "now": live only; or cursors to resume after. */
  since?: Since;
  /** These topics sent all their history: what follows is live. Also `handle.live`. */
  onLive?: (topics: string[]) => void;
  /** The position in `topic` was lost (retention, server epoch, cursor ahead): the app must resync it. */
  onReset?: (reset: { topic: string; reason: ResetReason; resumeAfter: bigint }) => void;
  /** The host refused this subscription (it is then inactive). */
  onError?: (error: Error) => void;
}

export interface Sub {
  readonly topics: string[];
  readonly since: Since;
  readonly onEvents: (events: StreamEvent[]) => void;
  readonly opts: SubscribeOptions;
  /** Last cursor handed to the app, per topic. */
  readonly last: Map<string, bigint>;
  readonly live: Set<string>;
  /** The host's id for it while sent; undefined until first sent. */
  hostId: number | undefined;
  closed: boolean;
}

/** Validates like the host does (same words) and builds the subscription; throws TypeError. */
export function createSub(topics: unknown, onEvents: unknown, opts: SubscribeOptions = {}): Sub {
  if (!Array.isArray(topics) || topics.length === 0) throw new TypeError("onestream: subscribe needs at least one topic");
  for (const t of topics) {
    const problem = topicProblem(t);
    if (problem !== undefined) throw new TypeError(`onestream: ${problem}`);
  }
  if (typeof onEvents !== "function") throw new TypeError("onestream: onEvents must be a function");
  const since = opts.since ?? "stored";
  if (since !== "now" && since !== "stored") {
    if (since === null || typeof since !== "object") throw new TypeError("onestream: since must be 'now', 'stored' or a cursor record");
    for (const [t, c] of Object.entries(since)) {
      if (!topics.includes(t)) throw new TypeError(`onestream: since names ${t}, which is not one of the topics`);
      if (typeof c !== "bigint" || c < 0n) throw new TypeError(`onestream: cursor of ${t} must be a non-negative bigint`);
    }
  }
  return {
    topics: [...new Set(topics as string[])],
    since,
    onEvents: onEvents as (events: StreamEvent[]) => void,
    opts,
    last: new Map(),
    live: new Set(),
    hostId: undefined,
    closed: false,
  };
}

/**
 * What to ask the host for. On a resend (leader handover, engine overflow) every topic this
 * tab saw resumes after its own last cursor (exact: the dedupe drops any overlap), and a topic
 * it saw nothing of resumes from the engine's stored cursor rather than "now", so events
 * published while nobody led are not skipped.
 */
export function specFor(sub: Sub, resume: boolean): SubscribeSpec {
  if (!resume) return { topics: sub.topics, since: sub.since };
  const since: Record<string, bigint> = typeof sub.since === "object" ? { ...sub.since } : {};
  for (const [topic, c] of sub.last) since[topic] = c;
  return Object.keys(since).length === 0 ? { topics: sub.topics, since: "stored" } : { topics: sub.topics, since, otherwise: "stored" };
}

/**
 * Hands one delivery to the app: events it already has are dropped, each callback's exception
 * is logged and contained. Returns "resubscribe" when the engine cut this subscriber.
 */
export function applyDelivery(sub: Sub, d: Delivery): "resubscribe" | undefined {
  switch (d.kind) {
    case "events": {
      const fresh = d.events.filter((e) => {
        const last = sub.last.get(e.topic);
        if (last !== undefined && e.cursor <= last) return false;
        sub.last.set(e.topic, e.cursor);
        return true;
      });
      if (fresh.length > 0) guard("onEvents", () => sub.onEvents(fresh));
      return undefined;
    }
    case "live":
      for (const t of d.topics) sub.live.add(t);
      if (sub.opts.onLive !== undefined) guard("onLive", () => sub.opts.onLive!(d.topics));
      return undefined;
    case "reset":
      // Events continue after resumeAfter, which may be below what we had (a new server epoch).
      sub.last.set(d.topic, d.resumeAfter);
      if (sub.opts.onReset !== undefined) {
        guard("onReset", () => sub.opts.onReset!({ topic: d.topic, reason: d.reason, resumeAfter: d.resumeAfter }));
      }
      return undefined;
    case "overflow":
      return "resubscribe";
  }
}

/** Runs an app callback; its exception is logged, never allowed to stop delivery. */
export function guard(what: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    console.error(`onestream: ${what} callback threw`, e);
  }
}
