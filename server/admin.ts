// Plain-HTTP JSON endpoints beside the RPCs, for tests, benchmarks and the demo (stable shapes):
//   GET  /admin/stats    counters and heads (always on)
//   POST /admin/publish  {"topic","payload"?,"count"?} → {"cursors":[…]} (always on: a test aid
//                        that bypasses auth; cheap load without a gRPC client)
//   POST /admin/fault    {"kind",…} → {"ok":true,…}  (only with the faults option; 404 otherwise)
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseFault, type FaultState } from "./faults";
import type { TopicLog } from "./log";
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
}

/** Most events one /admin/publish call may append. */
export const MAX_ADMIN_PUBLISH_COUNT = 100_000;
/** Largest admin request body. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

export interface AdminDeps {
  log: TopicLog;
  streams: StreamRegistry;
  faults: FaultState;
  faultsEnabled: boolean;
  maxPayloadBytes: number;
  counters: { publishes: number };
}

export function adminStats(deps: AdminDeps): AdminStats {
  const topics: Record<string, string> = {};
  for (const [topic, head] of deps.log.heads()) topics[topic] = head.toString();
  return {
    activeStreams: deps.streams.active,
    totalStreams: deps.streams.total,
    publishes: deps.counters.publishes,
    epoch: deps.log.epoch(),
    topics,
    subscribedTopics: deps.streams.subscribedTopics(),
  };
}

/** Serves an /admin/* request; returns false when the path is not an admin endpoint. */
export function handleAdmin(deps: AdminDeps, req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? "").split("?", 1)[0];
  const route = ROUTES[path ?? ""];
  if (!route || (route.needsFaults && !deps.faultsEnabled)) return false;
  if (req.method !== route.method) {
    reply(res, 405, { ok: false, error: `use ${route.method} for ${path}` });
    return true;
  }
  route
    .run(deps, req)
    .then((body) => reply(res, 200, body))
    .catch((err: unknown) => {
      const bad = err instanceof RangeError || err instanceof SyntaxError;
      reply(res, bad ? 400 : 500, { ok: false, error: err instanceof Error ? err.message : String(err) });
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
  const encoder = new TextEncoder();
  // One event: the payload as given; several: numbered "<payload>#1" … "<payload>#count".
  const payloads = count === 1 ? [payload] : Array.from({ length: count }, (_, i) => `${payload}#${i + 1}`);
  const bytes = payloads.map((p) => encoder.encode(p));
  const problem = payloadProblem(topic, bytes[bytes.length - 1]!, deps.maxPayloadBytes);
  if (problem) throw new RangeError(problem);
  const cursors: string[] = [];
  for (const payloadBytes of bytes) {
    const { event } = await deps.log.append(topic, payloadBytes);
    deps.counters.publishes++;
    cursors.push(event.cursor.toString());
  }
  return { cursors };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY_BYTES) throw new RangeError(`body over ${MAX_ADMIN_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text === "" ? "{}" : text);
  } catch {
    throw new RangeError("body is not valid JSON");
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}
