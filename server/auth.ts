// Who may touch which topics. The server asks a policy with the raw `authorization` header and
// gets back who the caller is (a principal id: idempotency keys are scoped by it, so one caller
// can neither read nor evict another's) and the topic prefixes the caller may subscribe to and
// publish on. A prefix matches at a segment boundary: "a" grants "a" and "a/…", never "ab/…".
// The demo allows everything; tokenPolicy is the small fixed-table policy tests and the CLI use.
import { Code, ConnectError } from "@connectrpc/connect";
import { createHash } from "node:crypto";

export interface Grant {
  /** Stable id of the caller. Stored next to its idempotency keys: never the raw token. */
  principal: string;
  /** Topic prefixes the caller may use; "" grants every topic. */
  allowedPrefixes: string[];
}

export type AuthPolicy = (authorization: string | undefined) => Grant | "unauthenticated";

/** The one principal of a server without auth: every caller is the same anonymous caller. */
export const ANONYMOUS_PRINCIPAL = "anonymous";

/** Every caller may use every topic (the empty prefix matches all), as one anonymous principal. */
export const allowAll: AuthPolicy = () => ({ principal: ANONYMOUS_PRINCIPAL, allowedPrefixes: [""] });

/**
 * "Bearer <token>" → that token's prefixes; a missing or unknown token is unauthenticated. The
 * principal is "token:" + the first 16 hex digits of the token's SHA-256, so the id is stable
 * across restarts and never reveals the token.
 */
/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "")?.[1];
}

export function tokenPolicy(tokens: Record<string, string[]>): AuthPolicy {
  const table = new Map(
    Object.entries(tokens).map(([token, prefixes]) => [token, { principal: principalOf(token), allowedPrefixes: [...prefixes] }] as const),
  );
  return (authorization) => {
    const token = bearerToken(authorization);
    const grant = token !== undefined ? table.get(token) : undefined;
    return grant ? { principal: grant.principal, allowedPrefixes: [...grant.allowedPrefixes] } : "unauthenticated";
  };
}

function principalOf(token: string): string {
  return `token:${createHash("sha256").update(token).digest("hex").slice(0, 16)}`;
}

/** Runs the policy on a call's header: the grant, or Unauthenticated thrown. */
export function authenticate(policy: AuthPolicy, authorization: string | undefined): Grant {
  const grant = policy(authorization);
  if (grant === "unauthenticated") {
    throw new ConnectError(authorization ? "unknown or malformed token" : "missing authorization", Code.Unauthenticated);
  }
  if (typeof grant.principal !== "string" || grant.principal === "") {
    throw new ConnectError("the auth policy returned no principal", Code.Internal);
  }
  return grant;
}

/** Whether `prefix` grants `topic`: the whole topic, or its start up to a "/" boundary. */
export function prefixGrants(prefix: string, topic: string): boolean {
  if (prefix === "" || topic === prefix) return true;
  return topic.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`);
}

/** Throws PermissionDenied naming the first topic no prefix of `allowedPrefixes` grants. */
export function permit(allowedPrefixes: readonly string[], topics: readonly string[]): void {
  const denied = topics.find((topic) => !allowedPrefixes.some((prefix) => prefixGrants(prefix, topic)));
  if (denied !== undefined) {
    throw new ConnectError(`topic "${denied}" is not allowed for this token`, Code.PermissionDenied);
  }
}

/** Parses the CLI form 'tok1=prefixA,prefixB;tok2=prefixC' (a prefix list may be empty). */
export function parseTokenTable(text: string): Record<string, string[]> {
  const tokens: Record<string, string[]> = {};
  for (const entry of text.split(";")) {
    if (entry.trim() === "") continue;
    const eq = entry.indexOf("=");
    const token = (eq < 0 ? "" : entry.slice(0, eq)).trim();
    if (token === "" || /\s/.test(token)) throw new RangeError(`bad token entry "${entry}": expected token=prefix,prefix`);
    tokens[token] = entry.slice(eq + 1).split(",").map((p) => p.trim()).filter((p) => p !== "");
  }
  if (Object.keys(tokens).length === 0) throw new RangeError("no tokens given");
  return tokens;
}
