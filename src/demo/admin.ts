// The reference server's plain-HTTP admin endpoints, as the demo uses them: stats to show that
// all tabs share one stream, and faults to break it on purpose. Admin never answers a web page
// directly (no CORS): the page calls /admin/* on its own origin, which the dev server forwards
// to the one server it was started for (vite.config.ts, set up by npm start).

// Type only (erased from the bundle): the server owns the shape of /admin/stats.
import type { AdminStats } from "../../server/admin";

export type { AdminStats };

/** The server whose admin endpoints this page's dev server forwards, if any (npm start sets it). */
const FORWARDED_FOR: string | undefined = import.meta.env.VITE_ONESTREAM_ADMIN_PROXY || undefined;

/**
 * Where this page reaches `server`'s admin endpoints: "" (its own origin) when its dev server
 * forwards them for exactly that server, undefined when it cannot reach them at all.
 */
export function adminBase(server: string): string | undefined {
  return FORWARDED_FOR !== undefined && FORWARDED_FOR.replace(/\/+$/, "") === server ? "" : undefined;
}

/** Why the admin panels are empty when adminBase() is undefined. */
export const ADMIN_UNREACHABLE = "admin endpoints not reachable from this page (npm start forwards them for its own server)";

const JSON_HEADERS = { accept: "application/json", "content-type": "application/json" };

export async function fetchStats(base: string, signal?: AbortSignal): Promise<AdminStats> {
  const res = await fetch(`${base}/admin/stats`, { signal, headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`GET /admin/stats: HTTP ${res.status}`);
  return (await res.json()) as AdminStats;
}

/** The faults the demo offers, labelled as the buttons show them. */
export const FAULTS: ReadonlyArray<{ label: string; body: Record<string, unknown>; title: string }> = [
  { label: "drop", body: { kind: "drop" }, title: "destroy every open stream's socket" },
  { label: "wedge", body: { kind: "wedge" }, title: "keep streams open but send nothing, heartbeats included" },
  { label: "heal", body: { kind: "heal" }, title: "end the wedge" },
  { label: "truncate", body: { kind: "truncate" }, title: "cut streams in the middle of a message" },
  { label: "error", body: { kind: "error", code: "unavailable" }, title: "end streams with Unavailable" },
  { label: "reject ×3", body: { kind: "reject", code: "unavailable", count: 3 }, title: "fail the next 3 subscribes" },
  { label: "new epoch", body: { kind: "new-epoch" }, title: "forget the log, as a server that lost its data" },
];

export async function sendFault(base: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${base}/admin/fault`, {
    method: "POST",
    headers: JSON_HEADERS,
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status === 404) throw new Error("this server runs without faults (start it with --faults, as npm start does)");
  if (!res.ok) throw new Error(`fault ${JSON.stringify(body)}: HTTP ${res.status} ${text}`);
  return text;
}
