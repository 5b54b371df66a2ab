// Debian's nginx as a real reverse proxy in front of the reference server, with a short
// proxy_read_timeout so "an idle stream gets cut" happens within a test (FIELD-NOTES: nginx's
// default is 60 s). The config lives in a temp dir; nginx runs in the foreground as our child.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../server/test-redis";
import { waitUntil } from "./wait";

export const NGINX_PATH = process.env.NGINX_PATH ?? "/usr/sbin/nginx";

export function nginxAvailable(): boolean {
  return existsSync(NGINX_PATH);
}

export interface RunningNginx {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts nginx proxying to `upstream` ("http://127.0.0.1:PORT"), or round robin over several;
 * resolves once it answers.
 */
export async function startNginx(opts: { upstream: string | string[]; readTimeoutS: number }): Promise<RunningNginx> {
  const dir = await mkdtemp(path.join(tmpdir(), "onestream-nginx-"));
  const port = await freePort();
  const upstreams = (Array.isArray(opts.upstream) ? opts.upstream : [opts.upstream]).map((u) => new URL(u).host);
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream nodes {
${upstreams.map((host) => `    server ${host} max_fails=1 fail_timeout=5s;`).join("\n")}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://nodes;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout ${opts.readTimeoutS}s;
      proxy_buffering off;
    }
  }
}
`;
  const confPath = path.join(dir, "nginx.conf");
  await writeFile(confPath, conf);
  const child: ChildProcess = spawn(NGINX_PATH, ["-p", dir, "-c", confPath, "-e", path.join(dir, "error.log")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  let exited: number | null | undefined;
  child.on("exit", (code) => (exited = code));

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(
      async () => {
        if (exited !== undefined) throw new Error(`nginx exited (${exited}): ${stderr}`);
        // Any answer relayed from the server (its 404 for "/") means nginx is up and proxying.
        return fetch(`${url}/`).then((r) => r.status !== 502 && r.status !== 504, () => false);
      },
      { timeoutMs: 10_000, message: "nginx to answer" },
    );
  } catch (e) {
    child.kill("SIGKILL");
    const log = await readFile(path.join(dir, "error.log"), "utf8").catch(() => "");
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${log}`);
  }

  return {
    url,
    async close() {
      if (exited === undefined) {
        const gone = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
