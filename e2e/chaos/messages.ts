// What a chaos tab tells the driver, as it happens. The page (e2e/pages/chaos-page.ts) posts each
// message from inside the callback that saw it, on a BroadcastChannel, to the recorder page
// (chaos-recorder.ts), which never closes and hands batches to Node through a Playwright binding.
// The detour is measured, not taste: a binding called by a page that is being closed loses its
// last tens of milliseconds of calls (60 of 160 in scratch runs), while the BroadcastChannel
// delivered them. So whatever the app processed is on its way out before the callback returns,
// and a tab closed a millisecond later has still reported everything it saw: that is what lets
// the checks say "processed" about a dead tab. Plain JSON: cursors are decimal strings.

/** The binding the recorder page calls with a batch of messages; installed on the context. */
export const BINDING = "__chaosReport";
/** The BroadcastChannel from the tabs to the recorder page. */
export const RECORDER_CHANNEL = "onestream-chaos-recorder";

/** How the tab is served: the SharedWorker, or the leader fallback forced on. */
export type ChaosMode = "shared" | "fallback";

interface Base {
  /** The tab's id (unique across a run: T1, T2, …). */
  tab: string;
  /** Wall clock in the page (Date.now(): the same clock as Node's on this machine). */
  at: number;
}

/** onEvents of one subscription: [cursor, payload] in delivery order. */
export interface EventsMessage extends Base {
  t: "events";
  sub: number;
  topic: string;
  items: Array<[cursor: string, payload: string]>;
}

export interface ResetMessage extends Base {
  t: "reset";
  sub: number;
  topic: string;
  reason: string;
  /** undefined: from now. */
  resumeAfter: string | undefined;
}

/** A subscription began (join) or the app ended it (leave). One topic per subscription. */
export interface SubMessage extends Base {
  t: "join" | "leave";
  sub: number;
  topic: string;
}

export interface LiveMessage extends Base {
  t: "live";
  sub: number;
  topic: string;
}

export interface StatusMessage extends Base {
  t: "status";
  state: string;
  connection: number;
  role: string;
  serverEpoch: string;
  lastError?: string;
}

/**
 * A publish: requested (before `client.publish` is called), durable (its `durable` promise
 * resolved: from then on it must land even if every tab closes), accepted with a cursor, or
 * rejected.
 */
export interface PublishMessage extends Base {
  t: "publish";
  phase: "requested" | "durable" | "accepted" | "rejected";
  topic: string;
  payload: string;
  cursor?: string;
  error?: string;
}

/** Anything the page could not handle: a callback error, a failed start, onError. */
export interface ErrorMessage extends Base {
  t: "error";
  message: string;
}

export type ChaosMessage = EventsMessage | ResetMessage | SubMessage | LiveMessage | StatusMessage | PublishMessage | ErrorMessage;

/** What the driver may call on `window.chaos` through page.evaluate. */
export interface ChaosPageApi {
  /** Creates the client, joins the page's topics and starts publishing (once the driver watches). */
  start(): void;
  join(topic: string): void;
  leave(topic: string): void;
  /** Publishes `n` at once (each a new unique payload); returns at once. */
  burst(n: number): void;
  /** Stops the steady per-tab publisher (the final drain). */
  stopPublishing(): void;
  /** Publishes requested and not yet accepted or rejected. */
  pendingPublishes(): number;
}

/** The page's settings, read from its query string. */
export interface ChaosPageConfig {
  server: string;
  tab: string;
  mode: ChaosMode;
  topics: string[];
  /** Milliseconds between this tab's own publishes (0: none). */
  publishEveryMs: number;
}

export function pageQuery(c: ChaosPageConfig): string {
  const q = new URLSearchParams({
    server: c.server,
    tab: c.tab,
    mode: c.mode,
    topics: c.topics.join(","),
    publishEveryMs: String(c.publishEveryMs),
  });
  return `?${q}`;
}

/** Reads the page config back; throws naming the bad parameter. */
export function readPageQuery(search: string): ChaosPageConfig {
  const q = new URLSearchParams(search);
  const need = (k: string): string => {
    const v = q.get(k);
    if (v === null || v === "") throw new Error(`chaos page: ?${k}= is missing`);
    return v;
  };
  const mode = need("mode");
  if (mode !== "shared" && mode !== "fallback") throw new Error(`chaos page: ?mode= must be shared or fallback, got ${mode}`);
  const every = Number(q.get("publishEveryMs") ?? "0");
  if (!Number.isFinite(every) || every < 0) throw new Error(`chaos page: ?publishEveryMs= must be ≥ 0`);
  return {
    server: need("server"),
    tab: need("tab"),
    mode,
    topics: (q.get("topics") ?? "").split(",").filter((t) => t !== ""),
    publishEveryMs: every,
  };
}
