// The demo's settings come from the URL, so one build serves any server and e2e can point a tab
// at the server it just started: ?server=URL&topics=a,b&user=u&fallback=leader&name=n&token=t.
import { topicProblem } from "../../contract/topic";

/** Where the demo looks for the reference server unless told otherwise. */
export const DEFAULT_SERVER_URL: string = import.meta.env.VITE_ONESTREAM_URL || "http://127.0.0.1:8080";

export interface DemoConfig {
  server: string;
  /** Topics joined at load. */
  topics: string[];
  user?: string;
  fallback?: "auto" | "leader" | "none";
  name?: string;
  /** Sent as "Authorization: Bearer <token>" (kept in memory only, like any token). */
  token?: string;
}

/** Reads the config from a query string; throws a message naming the bad parameter. */
export function readConfig(search: string): DemoConfig {
  const q = new URLSearchParams(search);
  const server = (q.get("server") ?? DEFAULT_SERVER_URL).replace(/\/+$/, "");
  const url = URL.canParse(server) ? new URL(server) : undefined;
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new Error(`?server= must be an http(s) URL, got ${JSON.stringify(server)}`);
  }
  const topics = (q.get("topics") ?? "").split(",").map((t) => t.trim()).filter((t) => t !== "");
  for (const t of topics) {
    const problem = topicProblem(t);
    if (problem !== undefined) throw new Error(`?topics=: ${problem}`);
  }
  const fallback = q.get("fallback") ?? undefined;
  if (fallback !== undefined && fallback !== "auto" && fallback !== "leader" && fallback !== "none") {
    throw new Error(`?fallback= must be "auto", "leader" or "none", got ${JSON.stringify(fallback)}`);
  }
  const opt = (key: string) => q.get(key) || undefined;
  return { server, topics, user: opt("user"), fallback, name: opt("name"), token: opt("token") };
}
