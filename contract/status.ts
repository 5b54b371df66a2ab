// Status equality, shared by the engine's status cell and the tab client: a watcher is told only
// about a status that differs from the last one it got.
import type { Status } from "./types";

export function sameStatus(a: Status, b: Status): boolean {
  return (
    a.state === b.state &&
    a.connection === b.connection &&
    a.serverEpoch === b.serverEpoch &&
    a.lastError?.code === b.lastError?.code &&
    a.lastError?.message === b.lastError?.message &&
    a.lastError?.at === b.lastError?.at &&
    a.nextAttemptAt === b.nextAttemptAt &&
    sameList(a.liveTopics, b.liveTopics) &&
    sameList(a.topics, b.topics)
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
