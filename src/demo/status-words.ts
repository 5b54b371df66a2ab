// What the demo says about the shared stream, in words a person reads: each topic's chip, the
// header badge, and the last error with when it happened. The engine's status is the truth (a
// topic is "live" only while the status lists it live); these are pure functions of it, so the
// rules are unit-tested and the views only paint them.

/** The fields of the client's status the demo shows. */
export interface ShownStatus {
  state: string;
  connection: number;
  serverEpoch: string;
  role?: string;
  lastError?: { code: string; message: string };
  nextAttemptAt?: number;
  liveTopics: string[];
  topics: string[];
}

/** A word and its colour (a CSS data-tone), with a sentence for the tooltip. */
export interface Word {
  text: string;
  tone: "idle" | "connecting" | "catching-up" | "live" | "stale" | "offline" | "failed" | "closed";
  why: string;
}

/** The stream is open (events can flow); every other state means nothing new arrives. */
export function streamUp(state: string | undefined): boolean {
  return state === "live" || state === "catching-up";
}

const RECONNECTING: Word = {
  text: "reconnecting",
  tone: "stale",
  why: "the stream is down: nothing new arrives until it is back, then it resumes after the last cursor",
};

/** What one topic's chip says. `subscriptionLive`: this tab's subscription was told onLive for it. */
export function topicWord(topic: string, s: ShownStatus, subscriptionLive: boolean): Word {
  switch (s.state) {
    case "live":
    case "catching-up":
      return s.liveTopics.includes(topic) && subscriptionLive
        ? { text: "live", tone: "live", why: "caught up: events arrive as they are published" }
        : { text: "catching up", tone: "catching-up", why: "replaying the events after this tab's cursor" };
    case "connecting":
      return s.connection === 0 ? { text: "connecting", tone: "connecting", why: "opening the stream" } : RECONNECTING;
    case "backoff":
      return RECONNECTING;
    case "offline":
      return { text: "offline", tone: "offline", why: "the browser is offline: the stream resumes after the last cursor once it is back" };
    case "failed":
      return { text: "stopped", tone: "failed", why: "the client gave up (see last error); reload to try again" };
    default:
      return { text: s.state, tone: "closed", why: "the client is closed" };
  }
}

/** What the header badge says; `joined` is how many topics this tab joined. */
export function badgeWord(s: ShownStatus, joined: number): Word {
  if (joined === 0 && s.topics.length === 0 && (s.state === "connecting" || s.state === "live")) {
    return { text: "idle", tone: "idle", why: "no topic joined: there is nothing to stream yet" };
  }
  switch (s.state) {
    case "live":
      return { text: "live", tone: "live", why: "every topic is caught up" };
    case "catching-up":
      return { text: "catching up", tone: "catching-up", why: "the stream is replaying history" };
    default:
      return topicWord("", s, false);
  }
}

/** The last error as shown: hidden once the stream is live again, stamped with when it happened. */
export interface ErrorClock {
  shown?: { code: string; message: string; at: number };
  /** The error that was current when the stream was last live: old news, not shown again. */
  dismissed?: string;
  /** The state of the previous status. */
  previous?: string;
}

const keyOf = (e: { code: string; message: string }) => `${e.code}: ${e.message}`;

/**
 * The engine keeps `lastError` after a recovery and does not say when it happened: the demo
 * stamps it when it sees a failure (the stream went down, a retry failed, the error changed) and
 * drops it once the status is live. Going offline is not a failure: the old error is not its cause.
 */
export function nextErrorClock(c: ErrorClock, s: ShownStatus, now: number): ErrorClock {
  const previous = s.state;
  const e = s.lastError;
  if (s.state === "live") return { dismissed: e === undefined ? c.dismissed : keyOf(e), previous };
  if (e === undefined) return { dismissed: c.dismissed, previous };
  const down = !streamUp(s.state) && s.state !== "offline";
  const failure = down && (streamUp(c.previous) || (s.state !== c.previous && (s.state === "backoff" || s.state === "failed")));
  const key = keyOf(e);
  if (c.shown !== undefined && keyOf(c.shown) === key && !failure) return { ...c, previous };
  // A catching-up stream with the error it had when last live (e.g. a topic joined): old news.
  if (c.shown === undefined && key === c.dismissed && !failure) return { ...c, previous };
  return { shown: { code: e.code, message: e.message, at: now }, dismissed: c.dismissed, previous };
}

/** "just now", "12 s ago", "3 min ago", "2 h ago". */
export function ago(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 2) return "just now";
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

/** Local wall-clock time, "14:02:07". */
export function clockTime(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/** "unavailable: fault: subscribe rejected — at 14:02:07, 3 s ago", or "—". */
export function errorLine(c: ErrorClock, now: number): string {
  const e = c.shown;
  return e === undefined ? "—" : `${keyOf(e)} — at ${clockTime(e.at)}, ${ago(now - e.at)}`;
}
