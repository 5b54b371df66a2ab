// The benchmark's handle on the reference server: a child process (server-child.ts) plus the
// plain-HTTP admin endpoints the server documents (/admin/stats, /admin/publish, /admin/fault).
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AdminStats } from "../../server/admin";

export type { AdminStats };

export interface BenchServer {
  url: string;
  /** The server process (for RSS and CPU from /proc). */
  pid: number;
  stats(): Promise<AdminStats>;
  /** Appends `count` events to `topic` through POST /admin/publish; resolves when appended. */
  publish(topic: string, payload: string, count?: number): Promise<void>;
  fault(body: Record<string, unknown>): Promise<void>;
  /** Polls /admin/stats until `pred` holds; rejects after `timeoutMs`. */
  waitFor(pred: (s: AdminStats) => boolean, timeoutMs: number, what: string): Promise<AdminStats>;
  close(): Promise<void>;
}

export interface BenchServerOptions {
  heartbeatMs?: number;
  faults?: boolean;
  retention?: { maxEvents?: number; maxAgeMs?: number };
  /** A node of a shared Redis log instead of the memory log. */
  redis?: { url: string; nodeId?: string };
}

/** Most server stderr kept in memory (for the start error and the summary). */
const MAX_STDERR_CHARS = 64 * 1024;
/** How long the child may take to print READY (tsx compiles the server on first start). */
const START_TIMEOUT_MS = 30_000;

export async function startBenchServer(opts: BenchServerOptions = {}): Promise<BenchServer> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("./server-child.ts", import.meta.url)), JSON.stringify({ port: 0, ...opts })],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  // The server logs every stream a closing tab cuts mid-write (EPIPE): keep its stderr out of the
  // benchmark's output, bounded, and summarize it on close.
  let stderr = "";
  let stderrLines = 0;
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderrLines += chunk.split("\n").length - 1;
    if (stderr.length < MAX_STDERR_CHARS) stderr += chunk.slice(0, MAX_STDERR_CHARS - stderr.length);
  });
  const url = await readyUrl(child).catch((e: Error) => {
    throw new Error(`${e.message}\nserver stderr: ${stderr}`);
  });

  async function post(path: string, body: unknown): Promise<string> {
    const res = await fetch(url + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${path} ${JSON.stringify(body)} → HTTP ${res.status}: ${text}`);
    return text;
  }

  /** Last cursor the bench appended per topic (only the bench publishes to its topics). */
  const heads = new Map<string, bigint>();
  async function publish(topic: string, payload: string, count: number): Promise<void> {
    const before = heads.get(topic) ?? 0n;
    try {
      await post("/admin/publish", { topic, payload, count });
    } catch (e) {
      // A keep-alive socket the server closed (its 5 s idle timeout) just as fetch reused it fails
      // with ECONNRESET, and the request may or may not have arrived: the topic's head tells.
      if (!(e instanceof TypeError)) throw e;
      const head = BigInt((await stats()).topics[topic] ?? "0");
      if (head === before) await post("/admin/publish", { topic, payload, count });
      else if (head !== before + BigInt(count)) throw e;
    }
    heads.set(topic, before + BigInt(count));
  }
  async function stats(): Promise<AdminStats> {
    const res = await fetch(url + "/admin/stats");
    if (!res.ok) throw new Error(`GET /admin/stats → HTTP ${res.status}`);
    return (await res.json()) as AdminStats;
  }

  return {
    url,
    pid: child.pid!,
    stats,
    publish: (topic, payload, count = 1) => publish(topic, payload, count),
    fault: async (body) => {
      await post("/admin/fault", body);
    },
    async waitFor(pred, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await stats();
        if (pred(s)) return s;
        if (Date.now() > deadline) throw new Error(`server: timed out after ${timeoutMs} ms waiting for ${what}; last stats ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.stdin?.end();
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      });
      if (stderrLines > 0) {
        const first = stderr.split("\n").find((l) => l.trim() !== "") ?? "";
        console.warn(`(reference server wrote ${stderrLines} stderr lines; first: ${first.slice(0, 160)})`);
      }
    },
  };
}

function readyUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`reference server did not start within ${START_TIMEOUT_MS} ms; output: ${out}`));
    }, START_TIMEOUT_MS);
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
      const m = /READY (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`reference server exited with ${code} before READY; output: ${out}`));
    });
  });
}
