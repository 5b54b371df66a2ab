// The reference server's plain-HTTP admin endpoints, as the demo uses them: stats to show that
// all tabs share one stream, and faults to break it on purpose.

// Type only (erased from the bundle): the server owns the shape of /admin/stats.
import type { AdminStats } from "../../server/admin";

export type { AdminStats };

export async function fetchStats(server: string, signal?: AbortSignal): Promise<AdminStats> {
  const res = await fetch(`${server}/admin/stats`, { signal });
  if (!res.ok) throw new Error(`GET /admin/stats: HTTP ${res.status}`);
  return (await res.json()) as AdminStats;
}

/**
 * Whether POST /admin/fault exists. Probed with a body no server accepts: a server with faults
 * answers 400 (bad fault body) and changes nothing; without faults the route is a 404.
 */
export async function faultsEnabled(server: string): Promise<boolean> {
  const res = await fetch(`${server}/admin/fault`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind: "onestream-demo-probe" }),
  });
  return res.status !== 404;
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

export async function sendFault(server: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${server}/admin/fault`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`fault ${JSON.stringify(body)}: HTTP ${res.status} ${text}`);
  return text;
}
