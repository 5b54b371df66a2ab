// Who may touch which topics. The server asks a policy with the raw `authorization` header and
// gets back the topic prefixes the caller may subscribe to and publish on. The demo allows
// everything; tokenPolicy is the small fixed-table policy that tests and the CLI use.
import { Code, ConnectError } from "@connectrpc/connect";

export type AuthPolicy = (authorization: string | undefined) => { allowedPrefixes: string[] } | "unauthenticated";

/** Every caller may use every topic (the empty prefix matches all). */
export const allowAll: AuthPolicy = () => ({ allowedPrefixes: [""] });

/** "Bearer <token>" → that token's prefixes; a missing or unknown token is unauthenticated. */
export function tokenPolicy(tokens: Record<string, string[]>): AuthPolicy {
  const table = new Map(Object.entries(tokens).map(([token, prefixes]) => [token, [...prefixes]] as const));
  return (authorization) => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "");
    const prefixes = match ? table.get(match[1]!) : undefined;
    return prefixes ? { allowedPrefixes: [...prefixes] } : "unauthenticated";
  };
}

/** Runs the policy on a call's header: the allowed prefixes, or Unauthenticated thrown. */
export function authenticate(policy: AuthPolicy, authorization: string | undefined): string[] {
  const grant = policy(authorization);
  if (grant === "unauthenticated") {
    throw new ConnectError(authorization ? "unknown or malformed token" : "missing authorization", Code.Unauthenticated);
  }
  return grant.allowedPrefixes;
}

/** Throws PermissionDenied naming the first topic outside `allowedPrefixes`. */
export function permit(allowedPrefixes: readonly string[], topics: readonly string[]): void {
  const denied = topics.find((topic) => !allowedPrefixes.some((prefix) => topic.startsWith(prefix)));
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
