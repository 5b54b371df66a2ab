// Topic and payload rules shared by the server, the worker engine and the tab client, so a bad
// topic is rejected with the same words wherever it is caught first.

/** Longest topic, in UTF-8 bytes. */
export const MAX_TOPIC_BYTES = 256;
/** Default payload ceiling (1 MiB); the server's limit is configurable, never above this ×16. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const encoder = new TextEncoder();

/** Returns why `topic` is not a valid topic, or undefined when it is. */
export function topicProblem(topic: unknown): string | undefined {
  if (typeof topic !== "string") return `topic must be a string, got ${typeof topic}`;
  if (topic.length === 0) return "topic must not be empty";
  const bytes = encoder.encode(topic).length;
  if (bytes > MAX_TOPIC_BYTES) return `topic is ${bytes} bytes, over the ${MAX_TOPIC_BYTES}-byte limit`;
  if (CONTROL.test(topic)) return "topic must not contain control characters";
  return undefined;
}
