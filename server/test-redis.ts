// A throwaway redis-server for tests and benchmarks: Debian's binary on a free loopback port,
// persistence off, in a temp dir, as our child; stop() ends it (SIGKILL after a grace). Never a
// mock, never a package that downloads a Redis binary. `restart()` is a Redis that lost its data
// (same port, empty), as a crash without persistence would leave it.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export const REDIS_SERVER_PATH = process.env.REDIS_SERVER_PATH ?? "/usr/bin/redis-server";

export function redisAvailable(): boolean {
  return existsSync(REDIS_SERVER_PATH);
}

export interface TestRedis {
  url: string;
  port: number;
  /** Runs one command on a fresh connection (e.g. ["FLUSHALL"]); resolves with its reply. */
  command(...args: string[]): Promise<unknown>;
  /** The redis-server process (undefined while restarting). */
  pid(): number | undefined;
  /** Kills the server and starts an empty one on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

export async function startRedis(extraArgs: readonly string[] = []): Promise<TestRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), "onestream-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function launch(): Promise<void> {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning", ...extraArgs];
    const proc = spawn(REDIS_SERVER_PATH, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    let output = "";
    proc.stdout?.on("data", (c: Buffer) => (output += c.toString()));
    proc.stderr?.on("data", (c: Buffer) => (output += c.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}): ${output}`);
      if (await ping(port)) return;
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`redis-server did not answer on ${port} within 10 s: ${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function kill(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGKILL");
    await gone;
  }

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    command: (...args) => send(port, args),
    pid: () => child?.pid,
    async restart() {
      await kill();
      await launch();
    },
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function ping(port: number): Promise<boolean> {
  return send(port, ["PING"]).then((r) => r === "PONG", () => false);
}

/** One RESP command on its own connection (no client library: a test helper must not need one). */
function send(port: number, args: readonly string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    socket.setTimeout(5000, () => socket.destroy(new Error("redis command timed out")));
    socket.on("error", reject);
    socket.on("data", (c: Buffer) => {
      data += c.toString("latin1");
      const parsed = parse(data, 0);
      if (parsed === undefined) return;
      socket.end();
      if (parsed.value instanceof Error) reject(parsed.value);
      else resolve(parsed.value);
    });
    socket.write(args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).reduce((out, a) => out + a, `*${args.length}\r\n`));
  });
}

/** Parses one RESP2 reply at `at`; undefined while incomplete. */
function parse(text: string, at: number): { value: unknown; end: number } | undefined {
  const eol = text.indexOf("\r\n", at);
  if (eol < 0) return undefined;
  const head = text.slice(at + 1, eol);
  switch (text[at]) {
    case "+":
      return { value: head, end: eol + 2 };
    case "-":
      return { value: new Error(head), end: eol + 2 };
    case ":":
      return { value: Number(head), end: eol + 2 };
    case "$": {
      const n = Number(head);
      if (n < 0) return { value: null, end: eol + 2 };
      if (text.length < eol + 2 + n + 2) return undefined;
      return { value: text.slice(eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
    }
    case "*": {
      const n = Number(head);
      const items: unknown[] = [];
      let end = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = parse(text, end);
        if (item === undefined) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: n < 0 ? null : items, end };
    }
    default:
      return { value: new Error(`unexpected reply: ${head}`), end: eol + 2 };
  }
}
