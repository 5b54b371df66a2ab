// The bench's own worker, for two measurements the repo's worker can't make: cursor persistence
// OFF (an in-memory Storage) and persistence TIMED (the real IndexedDB binding, each call timed).
// It is the library's serve() with only `storage` swapped (a documented option); nothing else
// differs from worker/shared-worker.ts. The client's name picks the mode: the "timed" client name
// times IndexedDB, any other keeps state in memory.
import type { CursorRecord, OutboxRecord, Storage } from "../../worker/engine/types";
import { openIdbStorage } from "../../worker/host/idb-storage";
import { serve } from "../../worker/index";
import { workerName } from "../../contract/protocol";
import { CLIENT_NAMES } from "./api";

/** Keeps state in Maps: what the engine sees of storage, minus IndexedDB. */
function memoryStorage(): Storage {
  const cursors = new Map<string, Map<string, CursorRecord>>();
  const outbox = new Map<string, Map<string, OutboxRecord>>();
  const of = <T>(m: Map<string, Map<string, T>>, user: string): Map<string, T> => {
    let inner = m.get(user);
    if (!inner) m.set(user, (inner = new Map()));
    return inner;
  };
  return {
    loadCursors: async (user) => [...of(cursors, user).values()],
    async saveCursors(user, records, forget = []) {
      const c = of(cursors, user);
      for (const r of records) c.set(r.topic, r);
      for (const t of forget) c.delete(t);
    },
    loadOutbox: async (user) => [...of(outbox, user).values()].sort((a, b) => a.seq - b.seq),
    async addOutbox(user, record) {
      of(outbox, user).set(record.key, record);
    },
    async removeOutbox(user, key) {
      of(outbox, user).delete(key);
    },
    async wipe(user) {
      cursors.delete(user);
      outbox.delete(user);
    },
  };
}

/** What the timed mode measured, read by the driver over CDP as `globalThis.__benchSaves`. */
export interface SaveTimings {
  /** Start (timeOrigin + now) and duration (ms) of every saveCursors call. */
  starts: number[];
  durations: number[];
}

/** The real storage with every saveCursors (one group commit of acknowledged cursors) timed. */
function timedStorage(inner: Storage, out: SaveTimings): Storage {
  return {
    ...inner,
    async saveCursors(user, records, forget) {
      const t0 = performance.now();
      await inner.saveCursors(user, records, forget);
      out.starts.push(performance.timeOrigin + t0);
      out.durations.push(performance.now() - t0);
    },
  };
}

const timings: SaveTimings = { starts: [], durations: [] };
(globalThis as unknown as { __benchSaves: SaveTimings }).__benchSaves = timings;
const timed = (globalThis as unknown as { name?: string }).name === workerName(CLIENT_NAMES.timed);
serve({ storage: timed ? timedStorage(openIdbStorage(), timings) : memoryStorage() });
