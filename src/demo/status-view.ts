// The status badge and its details: what the shared stream is doing right now, as the engine
// reports it (level-triggered), plus this tab's role and the server's own view of streams.
import type { AdminStats } from "./admin";

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

export function renderStatus(badge: HTMLElement, details: HTMLElement, s: ShownStatus, now: number): void {
  badge.dataset.state = s.state;
  const label = badge.querySelector("#status-state");
  if (label) label.textContent = s.state;
  const catchingUp = s.topics.filter((t) => !s.liveTopics.includes(t));
  const retry = s.state === "backoff" && s.nextAttemptAt !== undefined ? `in ${Math.max(0, (s.nextAttemptAt - now) / 1000).toFixed(1)} s` : "—";
  fill(details, [
    ["state", s.state],
    ["role", s.role ?? "—"],
    ["connection", s.connection === 0 ? "not yet open" : `#${s.connection}`],
    ["server epoch", s.serverEpoch || "—"],
    ["live topics", s.liveTopics.join(", ") || "—"],
    ["catching up", catchingUp.join(", ") || "—"],
    ["last error", s.lastError ? `${s.lastError.code}: ${s.lastError.message}` : "—"],
    ["next retry", retry],
  ]);
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
