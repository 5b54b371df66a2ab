// Who may call the admin endpoints. They publish without auth and break streams on purpose, so
// they answer only: local tools (a caller on loopback, reached directly, by a loopback Host name:
// a public name would be a DNS-rebinding page, a Forwarded header a proxy relaying someone else),
// never a browser page (an Origin header, or Sec-Fetch-Site other than a typed-in URL: the page
// could be any site; the demo reaches admin through its own dev server, which strips both), and,
// when a token is configured, only holders of it. `adminRemote` drops the loopback rules; it
// needs a token (options.ts).
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { bearerToken } from "./auth";
import type { AdminConfig } from "./options";

export interface Refusal {
  status: 401 | 403;
  error: string;
}

/** Headers a forwarding proxy adds: the TCP peer is then not the caller. */
const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip", "via"];

/** Why `req` may not use the admin endpoints, or undefined when it may. */
export function adminRefusal(config: AdminConfig, req: IncomingMessage): Refusal | undefined {
  if (!config.remote) {
    const peer = req.socket.remoteAddress ?? "";
    if (!isLoopbackAddress(peer)) {
      return { status: 403, error: `admin endpoints answer loopback callers only, not ${peer} (adminRemote opens them)` };
    }
    const forwarded = FORWARDING_HEADERS.find((h) => req.headers[h] !== undefined);
    if (forwarded) return { status: 403, error: `admin endpoints do not answer through a proxy (${forwarded} header)` };
    const host = req.headers.host ?? "";
    if (!isLoopbackHost(host)) return { status: 403, error: `admin endpoints answer loopback host names only, not "${host}"` };
  }
  const site = req.headers["sec-fetch-site"];
  if (req.headers.origin !== undefined || (site !== undefined && site !== "none")) {
    return { status: 403, error: "admin endpoints do not answer requests from web pages (Origin / Sec-Fetch-Site header)" };
  }
  if (config.token !== undefined && !bearerMatches(req.headers.authorization, config.token)) {
    return { status: 401, error: "admin endpoints need Authorization: Bearer <admin token>" };
  }
  return undefined;
}

export function isLoopbackAddress(address: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/.test(address);
}

/** "localhost", "127.x.y.z" or "[::1]", with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const name = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(host.trim())?.[1]?.toLowerCase() ?? "";
  return name === "localhost" || name === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function bearerMatches(authorization: string | undefined, token: string): boolean {
  const given = bearerToken(authorization);
  if (given === undefined) return false;
  // Digests have equal length whatever was sent, so the comparison time says nothing.
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}
