// Child processes for the consumer matrix: a command that must succeed (its output kept for the
// error message), and a long-running one (a dev server) that is stopped, with its children,
// when the check is done.
import { spawn, type ChildProcess } from "node:child_process";
import { stripVTControlCharacters } from "node:util";

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Kill it after this long; default 5 minutes (an install on a cold cache). */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Lines of output an error message repeats. */
const TAIL_LINES = 40;
const DEFAULT_TIMEOUT_MS = 5 * 60_000;

function tail(text: string): string {
  return text.trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
}

/** Runs `command args` in `cwd`; rejects with the end of its output when it fails. */
export function run(command: string, args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ stdout, stderr });
      const why = signal !== null ? `killed by ${signal}` : `exit ${code}`;
      reject(new Error(`\`${command} ${args.join(" ")}\` in ${opts.cwd}: ${why}\n${tail(stdout + "\n" + stderr)}`));
    });
  });
}

export interface Background {
  /** Everything it printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts a long-running command in its own process group; resolves once its output matches `ready`. */
export async function background(command: string, args: string[], opts: RunOptions & { ready: RegExp }): Promise<Background> {
  const child: ChildProcess = spawn(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid!, "SIGTERM");
    await exited;
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`\`${command} ${args.join(" ")}\` not ready:\n${tail(output)}`)), opts.timeoutMs ?? 60_000);
    // Colours are stripped before matching: tools colour their output when CI is set, even
    // without a terminal (Vite's "Local:" arrives as "Local\x1b[22m:").
    const onData = (d: Buffer) => {
      output += stripVTControlCharacters(d.toString());
      if (opts.ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`\`${command} ${args.join(" ")}\` exited (${code}) before it was ready:\n${tail(output)}`));
    });
  }).catch(async (e: unknown) => {
    await stop();
    throw e;
  });
  return { output: () => output, stop };
}
