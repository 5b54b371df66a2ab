// Topic and payload rules shared by the server, the worker engine and the tab client, so a bad
// topic is rejected with the same words wherever it is caught first. Besides control characters,
// a topic may not hold characters that make it look like another topic when shown (spoofing):
// bidi controls reorder what follows, zero-width characters are invisible, and line/paragraph
// separators break it across lines.

/** Longest topic, in UTF-8 bytes. */
export const MAX_TOPIC_BYTES = 256;
/** Default payload ceiling (1 MiB); the server's limit is configurable, never above this ×16. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Arabic letter mark, LRM/RLM, embeddings and overrides (LRE…RLO), isolates (LRI…PDI). */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** Zero-width space, non-joiner, joiner, word joiner, byte-order mark, Mongolian vowel separator. */
const ZERO_WIDTH = /[\u200b-\u200d\u2060\ufeff\u180e]/;
/** Line separator, paragraph separator. */
const SEPARATOR = /[\u2028\u2029]/;
const encoder = new TextEncoder();

/** Characters that spoof what a topic looks like, and what the error calls them. */
const SPOOFING: ReadonlyArray<[RegExp, string]> = [
  [BIDI, "bidirectional controls"],
  [ZERO_WIDTH, "zero-width characters"],
  [SEPARATOR, "line or paragraph separators"],
];

/** Returns why `topic` is not a valid topic, or undefined when it is. */
export function topicProblem(topic: unknown): string | undefined {
  if (typeof topic !== "string") return `topic must be a string, got ${typeof topic}`;
  if (topic.length === 0) return "topic must not be empty";
  const bytes = encoder.encode(topic).length;
  if (bytes > MAX_TOPIC_BYTES) return `topic is ${bytes} bytes, over the ${MAX_TOPIC_BYTES}-byte limit`;
  if (CONTROL.test(topic)) return "topic must not contain control characters";
  for (const [pattern, what] of SPOOFING) {
    const found = pattern.exec(topic);
    if (found !== null) return `topic must not contain ${what} (U+${found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")})`;
  }
  return undefined;
}
