// One subscription as the tab sees it: its own last cursor per topic, which both dedupes (a
// leader handover or a resync may replay what this tab already has) and says where to resume.
// Pure bookkeeping, no I/O: the client decides where deliveries come from and go.
import type { Cursor, Delivery, ResetReason, Since, StreamEvent } from "../contract/types";
import { subscribeProblem } from "../contract/validate";
import { DeniedError, EndedError } from "../contract/errors";
import type { SubscribeSpec } from "../contract/protocol";

export interface SubscribeOptions<C extends Cursor = bigint> {
  /** "stored" (default): resume from the persisted cursor; "now": live only; or cursors to resume after. */
  since?: Since<C>;
  /**
   * These topics sent all their history: what follows is live. Also `handle.live`. Each topic is
   * reported once, and only once every topic of the subscription (but refused ones) is live.
   */
  onLive?: (topics: string[]) => void;
  /**
   * The position in `topic` was lost (retention, server epoch, cursor ahead, …): the app must
   * resync it. Events go on after `resumeAfter` (undefined: from now).
   */
  onReset?: (reset: { topic: string; reason: ResetReason; resumeAfter: C | undefined }) => void;
  /**
   * The host refused this subscription (it is then inactive), the server refused some of its
   * topics (a DeniedError naming them; the other topics keep flowing), or reset() (logout) ended
   * it (an EndedError).
   */
  onError?: (error: Error) => void;
}

export interface Sub {
  readonly topics: string[];
  readonly since: Since;
  readonly onEvents: (events: StreamEvent<Cursor>[]) => unknown;
  readonly opts: SubscribeOptions<Cursor>;
  /** Last cursor handed to the app, per topic. */
  readonly last: Map<string, Cursor>;
  readonly live: Set<string>;
  /** Topics reported live, held until every topic of the subscription is (a split one reports in parts). */
  readonly liveSoon: Set<string>;
  /** Topics the server refused: they will never be live. */
  readonly denied: Set<string>;
  /** The host's id for it while sent; undefined until first sent. */
  hostId: number | undefined;
  closed: boolean;
}

/** Validates with the engine's own rules (same words as the host) and builds the subscription; throws TypeError. */
export function createSub(topics: unknown, onEvents: unknown, opts: SubscribeOptions<Cursor> = {}): Sub {
  const problem = subscribeProblem(topics, opts.since);
  if (problem !== undefined) throw new TypeError(`onestream: ${problem}`);
  if (typeof onEvents !== "function") throw new TypeError("onestream: onEvents must be a function");
  const since = opts.since ?? "stored";
  return {
    topics: [...new Set(topics as string[])],
    since,
    onEvents: onEvents as (events: StreamEvent<Cursor>[]) => unknown,
    opts,
    last: new Map(),
    live: new Set(),
    liveSoon: new Set(),
    denied: new Set(),
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
  const since: Record<string, Cursor> = typeof sub.since === "object" ? { ...sub.since } : {};
  for (const [topic, c] of sub.last) since[topic] = c;
  return Object.keys(since).length === 0 ? { topics: sub.topics, since: "stored" } : { topics: sub.topics, since, otherwise: "stored" };
}

/**
 * Whether the app processed a delivery: true, false (its callback threw or its promise
 * rejected: logged), or the promise of one of those while its async callback runs.
 */
export type Processed = boolean | Promise<boolean>;

/** What applying a delivery means for the client: the app's outcome, and what to do next. */
interface Applied {
  processed: Processed;
  /** "resubscribe": the engine cut this subscriber; "inactive": every topic was refused. */
  next?: "resubscribe" | "inactive";
}

const DONE: Applied = { processed: true };

/**
 * Hands one delivery to the app: events it already has are dropped, each callback's exception
 * is logged and contained.
 */
export function applyDelivery(sub: Sub, d: Delivery): Applied {
  switch (d.kind) {
    case "events": {
      const fresh = d.events.filter((e) => {
        if (seen(sub.last.get(e.topic), e.cursor)) return false;
        sub.last.set(e.topic, e.cursor);
        return true;
      });
      return fresh.length > 0 ? { processed: process("onEvents", () => sub.onEvents(fresh)) } : DONE;
    }
    case "live":
      for (const t of d.topics) if (sub.topics.includes(t) && !sub.live.has(t) && !sub.denied.has(t)) sub.liveSoon.add(t);
      reportLive(sub);
      return DONE;
    case "denied": {
      const topics = d.topics.filter((t) => sub.topics.includes(t) && !sub.denied.has(t));
      if (topics.length === 0) return DONE;
      for (const t of topics) {
        sub.denied.add(t);
        sub.liveSoon.delete(t);
        sub.live.delete(t);
      }
      const err = new DeniedError(topics, d.error.code, d.error.message);
      if (sub.opts.onError !== undefined) guard("onError", () => sub.opts.onError!(err));
      else console.error("onestream: subscribe refused", err);
      if (sub.denied.size === sub.topics.length) return { processed: true, next: "inactive" };
      reportLive(sub); // the refused topics may be all it was waiting for
      return DONE;
    }
    case "reset":
      // Events continue after resumeAfter, which may be below what we had (a new server epoch).
      if (d.resumeAfter === undefined) sub.last.delete(d.topic);
      else sub.last.set(d.topic, d.resumeAfter);
      if (sub.opts.onReset !== undefined) {
        guard("onReset", () => sub.opts.onReset!({ topic: d.topic, reason: d.reason, resumeAfter: d.resumeAfter }));
      }
      return DONE;
    case "overflow":
      return { processed: true, next: "resubscribe" };
    case "ended": {
      const err = new EndedError("onestream: this subscription ended: reset() (logout) was called");
      if (sub.opts.onError !== undefined) guard("onError", () => sub.opts.onError!(err));
      return { processed: true, next: "inactive" };
    }
  }
}

/**
 * Whether the tab already has `cursor`, its last being `last`: ordered cursors compare; an
 * opaque one can only be recognised as the very last one again.
 */
function seen(last: Cursor | undefined, cursor: Cursor): boolean {
  if (last === undefined) return false;
  return typeof last === "bigint" && typeof cursor === "bigint" ? cursor <= last : cursor === last;
}

/** One onLive for the topics newly live, once no topic of `sub` is still catching up. */
function reportLive(sub: Sub): void {
  if (sub.liveSoon.size === 0) return;
  if (!sub.topics.every((t) => sub.live.has(t) || sub.liveSoon.has(t) || sub.denied.has(t))) return;
  const topics = [...sub.liveSoon];
  sub.liveSoon.clear();
  for (const t of topics) sub.live.add(t);
  if (sub.opts.onLive !== undefined) guard("onLive", () => sub.opts.onLive!(topics));
}

/**
 * Runs the app's onEvents: its exception or rejection is logged, never allowed to stop
 * delivery, and reported as "not processed" (false) so its events are not acknowledged.
 */
function process(what: string, fn: () => unknown): Processed {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    console.error(`onestream: ${what} callback threw`, e);
    return false;
  }
  if (result === null || typeof result !== "object" || typeof (result as { then?: unknown }).then !== "function") return true;
  return Promise.resolve(result).then(
    () => true,
    (e: unknown) => {
      console.error(`onestream: ${what} callback rejected`, e);
      return false;
    },
  );
}

/** Runs an app callback; its exception is logged, never allowed to stop delivery. */
export function guard(what: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    console.error(`onestream: ${what} callback threw`, e);
  }
}
