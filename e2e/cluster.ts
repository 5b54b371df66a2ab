// Several reference server nodes on one Redis, behind nginx (round robin, proxy_buffering off):
// what a scaled-out deployment looks like, on loopback. Each node is a real child process
// (`node --import tsx server/cli.ts --redis …`), so killing one is a real SIGKILL; Redis is a
// throwaway redis-server with persistence off (server/test-redis.ts).
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startRedis, type TestRedis } from "../server/test-redis";
import { startNginx, type RunningNginx } from "./nginx";
import { waitUntil } from "./wait";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const LISTENING = "onestream server listening on ";

export interface ServerNode {
  id: string;
  /** The node's own URL (admin answers here: loopback, no proxy in between). */
  url: string;
  /** SIGKILL: no graceful close, the streams it held just break. */
  kill(): Promise<void>;
  readonly alive: boolean;
}

export interface Cluster {
  redis: TestRedis;
  nodes: ServerNode[];
  /** nginx in front of every node: what the tabs use. */
  url: string;
  close(): Promise<void>;
}

/** Starts one node process on a free port and resolves once it listens. */
async function startNode(id: string, redisUrl: string, heartbeatMs: number): Promise<ServerNode> {
  const port = await freePort();
  const args = ["--import", "tsx", "server/cli.ts", "--port", String(port), "--heartbeat-ms", String(heartbeatMs), "--admin", "--redis", redisUrl, "--node-id", id];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`node ${id} exited (${child.exitCode}): ${output}`);
      return output.includes(LISTENING);
    },
    { timeoutMs: 20_000, message: `node ${id} to listen` },
  );
  return {
    id,
    url: `http://127.0.0.1:${port}`,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

export async function startCluster(opts: { nodes: number; heartbeatMs: number; readTimeoutS?: number }): Promise<Cluster> {
  const redis = await startRedis();
  const nodes: ServerNode[] = [];
  let nginx: RunningNginx | undefined;
  const close = async () => {
    await nginx?.close();
    await Promise.all(nodes.map((n) => n.kill()));
    await redis.stop();
  };
  try {
    for (let i = 1; i <= opts.nodes; i++) nodes.push(await startNode(`n${i}`, redis.url, opts.heartbeatMs));
    nginx = await startNginx({ upstream: nodes.map((n) => n.url), readTimeoutS: opts.readTimeoutS ?? 60 });
  } catch (err) {
    await close();
    throw err;
  }
  return { redis, nodes, url: nginx.url, close };
}
