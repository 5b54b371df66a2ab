// The one definition of what subscribe() and hint() accept. The engine, the worker host and
// the tab client all validate with these, so a bad call gets the same words wherever it is
// caught, and the three layers can never disagree on what is valid.
import { topicProblem } from "./topic";
import type { NetworkHint } from "./types";

/** Longest opaque cursor (resume token) accepted from an app; real tokens are a few hundred bytes. */
export const MAX_TOKEN_LENGTH = 4096;

export const NETWORK_HINTS: ReadonlySet<NetworkHint> = new Set<NetworkHint>(["online", "offline", "pageshow", "resume", "visible"]);

export function isNetworkHint(h: unknown): h is NetworkHint {
  return typeof h === "string" && NETWORK_HINTS.has(h as NetworkHint);
}

/**
 * What is wrong with subscribing to `topics` from `since` (undefined = "stored"), or undefined
 * when nothing is. Callers prefix it with their own name and throw it as a TypeError.
 */
export function subscribeProblem(topics: unknown, since: unknown): string | undefined {
  if (!Array.isArray(topics) || topics.length === 0) return "topics must be a non-empty array";
  for (const t of topics) {
    const problem = topicProblem(t);
    if (problem !== undefined) return problem;
  }
  if (since === undefined || since === "now" || since === "stored") return undefined;
  if (typeof since !== "object" || since === null) return `since must be "now", "stored" or a cursor map`;
  for (const [t, c] of Object.entries(since)) {
    if (!topics.includes(t)) return `since names "${t}", which is not one of the topics`;
    if (!(typeof c === "bigint" && c >= 0n) && !(typeof c === "string" && c.length > 0 && c.length <= MAX_TOKEN_LENGTH)) {
      return `since["${t}"] must be a bigint ≥ 0 or a resume token of 1 to ${MAX_TOKEN_LENGTH} characters`;
    }
  }
  return undefined;
}
