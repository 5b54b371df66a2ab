// Plain-HTTP JSON endpoints beside the RPCs, for tests, benchmarks and the demo (stable shapes).
// Off unless the server is started with `admin` (or `faults`); who may call them is decided in
// admin-access.ts; they never answer CORS (a page on another origin must not drive them).
//   GET  /admin/stats    counters, heads and what the log holds
//   POST /admin/publish  {"topic","payload"?,"count"?} → {"cursors":[…]} (bypasses auth; cheap
//                        load without a gRPC client; bounded in count and total bytes)
//   POST /admin/fault    {"kind",…} → {"ok":true,…}  (only with the faults option; 404 otherwise)
// POST bodies must be application/json: a form or text/plain POST is what a cross-site page can
// send without asking, so it is refused before anything else is read.
import type { IncomingMessage, ServerResponse } from "node:http";
import { adminRefusal } from "./admin-access";
import { parseFault, type FaultState } from "./faults";
import type { LogUsage, TopicLog } from "./log";
import type { AdminConfig } from "./options";
import { payloadProblem } from "./service";
import type { StreamRegistry } from "./streams";

export interface AdminStats {
  activeStreams: number;
  totalStreams: number;
  /** Events written through Publish and /admin/publish (duplicates not counted). */
  publishes: number;
  epoch: string;
  /** Head cursor of each topic that had an event in this epoch, as a decimal string. */
  topics: Record<string, string>;
  /** Union of the topics of the currently open streams, sorted. */
  subscribedTopics: string[];
  /** Open TCP connections (streams, other requests, idle keep-alives). */
  connections: number;
  /** What the log holds now (its own view). */
  log: LogUsage;
}

/** Most events one /admin/publish call may append. */
export const MAX_ADMIN_PUBLISH_COUNT = 100_000;
/** Most payload bytes one /admin/publish call may append, over all its events (16 MiB). */
export const MAX_ADMIN_PUBLISH_BYTES = 16 * 1024 * 1024;
/** Largest admin request body. */
export const MAX_ADMIN_BODY_BYTES = 64 * 1024;

export interface AdminDeps {
  config: AdminConfig;
  log: TopicLog;
  streams: StreamRegistry;
  faults: FaultState;
  maxPayloadBytes: number;
  counters: { publishes: number };
  connections(): number;
}

/** A refusal with its HTTP status (400s other than a plain bad body). */
class AdminError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function adminStats(deps: Pick<AdminDeps, "log" | "streams" | "counters" | "connections">): AdminStats {
  const topics: Record<string, string> = {};
  for (const [topic, head] of deps.log.heads()) topics[topic] = head.toString();
  return {
    activeStreams: deps.streams.active,
    totalStreams: deps.streams.total,
    publishes: deps.counters.publishes,
    epoch: deps.log.epoch(),
    topics,
    subscribedTopics: deps.streams.subscribedTopics(),
    connections: deps.connections(),
    log: deps.log.usage(),
  };
}

export function isAdminPath(path: string): boolean {
  return path === "/admin" || path.startsWith("/admin/");
}

/** Serves an /admin/* request; returns false when admin (or this route) is off: the caller 404s. */
export function handleAdmin(deps: AdminDeps, path: string, req: IncomingMessage, res: ServerResponse): boolean {
  const route = ROUTES[path];
  if (!deps.config.enabled || !route || (route.needsFaults && !deps.config.faults)) return false;
  const refusal = adminRefusal(deps.config, req);
  if (refusal) {
    reply(res, refusal.status, { ok: false, error: refusal.error }, refusal.status === 401 ? { "www-authenticate": "Bearer" } : {});
    return true;
  }
  if (req.method !== route.method) {
    reply(res, 405, { ok: false, error: `use ${route.method} for ${path}` }, { allow: route.method });
    return true;
  }
  route
    .run(deps, req)
    .then((body) => reply(res, 200, body))
    .catch((err: unknown) => {
      const status = err instanceof AdminError ? err.status : err instanceof RangeError ? 400 : 500;
      reply(res, status, { ok: false, error: err instanceof Error ? err.message : String(err) });
    });
  return true;
}

interface Route {
  method: "GET" | "POST";
  needsFaults: boolean;
  run(deps: AdminDeps, req: IncomingMessage): Promise<unknown>;
}

const ROUTES: Record<string, Route> = {
  "/admin/stats": { method: "GET", needsFaults: false, run: async (deps) => adminStats(deps) },
  "/admin/publish": { method: "POST", needsFaults: false, run: adminPublish },
  "/admin/fault": {
    method: "POST",
    needsFaults: true,
    run: async (deps, req) => {
      const fault = parseFault(await readJson(req));
      return { ok: true, ...(await deps.faults.apply(fault, deps.streams, deps.log)) };
    },
  },
};

async function adminPublish(deps: AdminDeps, req: IncomingMessage): Promise<{ cursors: string[] }> {
  const body = await readJson(req);
  if (typeof body !== "object" || body === null) throw new RangeError("body must be a JSON object");
  const { topic, payload = "", count = 1 } = body as Record<string, unknown>;
  if (typeof topic !== "string") throw new RangeError("topic must be a string");
  if (typeof payload !== "string") throw new RangeError("payload must be a string");
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > MAX_ADMIN_PUBLISH_COUNT) {
    throw new RangeError(`count must be an integer in 1..${MAX_ADMIN_PUBLISH_COUNT}, got ${JSON.stringify(count)}`);
  }
  // One event: the payload as given; several: numbered "<payload>#1" … "<payload>#count".
  const encoder = new TextEncoder();
  const head = encoder.encode(count === 1 ? payload : `${payload}#`);
  const largest = head.length + (count === 1 ? 0 : String(count).length);
  const problem = payloadProblem(topic, largest, deps.maxPayloadBytes);
  if (problem) throw new RangeError(problem);
  if (largest * count > MAX_ADMIN_PUBLISH_BYTES) {
    throw new AdminError(413, `${count} events of up to ${largest} bytes exceed the ${MAX_ADMIN_PUBLISH_BYTES}-byte limit of one call`);
  }
  // Built one at a time: the log holds what it retains and nothing else is kept.
  const cursors: string[] = [];
  for (let i = 1; i <= count; i++) {
    const bytes = count === 1 ? head : concat(head, encoder.encode(String(i)));
    const { event } = await deps.log.append(topic, bytes);
    deps.counters.publishes++;
    cursors.push(event.cursor.toString());
  }
  return { cursors };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    throw new AdminError(415, `content-type must be application/json, got ${JSON.stringify(req.headers["content-type"] ?? "")}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY_BYTES) throw new AdminError(413, `body over ${MAX_ADMIN_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text === "" ? "{}" : text);
  } catch {
    throw new RangeError("body is not valid JSON");
  }
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}
