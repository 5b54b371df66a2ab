// The status badge and its details: what the shared stream is doing right now, as the engine
// reports it (level-triggered), plus this tab's role and the server's own view of streams.
import type { AdminStats } from "./admin";
import { badgeWord, errorLine, type ErrorClock, type ShownStatus } from "./status-words";

function fill(dl: HTMLElement, rows: Array<[string, string]>): void {
  dl.replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dd.dataset.key = k;
      return [dt, dd];
    }),
  );
}

/** Paints the badge and the details; `joined` is how many topics this tab joined. */
export function renderStatus(badge: HTMLElement, details: HTMLElement, s: ShownStatus, errors: ErrorClock, joined: number, now: number): void {
  const word = badgeWord(s, joined);
  badge.dataset.state = word.tone;
  badge.title = word.why;
  const label = badge.querySelector("#status-state");
  if (label) label.textContent = word.text;
  const catchingUp = s.topics.filter((t) => !s.liveTopics.includes(t));
  const retry = s.state === "backoff" && s.nextAttemptAt !== undefined ? `in ${Math.max(0, (s.nextAttemptAt - now) / 1000).toFixed(1)} s` : "—";
  fill(details, [
    ["state", s.state],
    ["role", s.role ?? "—"],
    ["connection", s.connection === 0 ? "not yet open" : `#${s.connection}`],
    ["server epoch", s.serverEpoch || "—"],
    ["live topics", s.liveTopics.join(", ") || "—"],
    ["catching up", catchingUp.join(", ") || "—"],
    ["last error", errorLine(errors, now)],
    ["next retry", retry],
  ]);
  details.querySelector('dd[data-key="last error"]')?.classList.toggle("bad", errors.shown !== undefined);
}

export function renderStats(dl: HTMLElement, stats: AdminStats | Error): void {
  if (stats instanceof Error) return fill(dl, [["server", stats.message]]);
  fill(dl, [
    ["active streams", String(stats.activeStreams)],
    ["streams opened", String(stats.totalStreams)],
    ["publishes", String(stats.publishes)],
    ["upstream topics", stats.subscribedTopics.join(", ") || "—"],
  ]);
}
