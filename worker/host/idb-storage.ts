// The engine's Storage on IndexedDB (via idb): one transaction per call, every record keyed by
// user first, so a user's state is one key range and logout deletes exactly it. Tokens never
// come here (the Storage interface has no place for them).
//
// Two browser behaviours handled here: Safari drops connections ("connection is closing",
// InvalidStateError) after the tab sleeps — we reopen once and retry the call; and another
// version of the app upgrading the schema fires `versionchange` — we close so it can proceed,
// and the next call reopens.
import { openDB, type DBSchema, type IDBPDatabase } from "idb";
import type { CursorRecord, OutboxRecord, Storage } from "../engine/types";

const VERSION = 1;

interface StoredCursor extends CursorRecord {
  user: string;
}
interface StoredOutbox extends OutboxRecord {
  user: string;
}

interface Schema extends DBSchema {
  cursors: { key: [string, string]; value: StoredCursor };
  outbox: { key: [string, string]; value: StoredOutbox; indexes: { "by-user-seq": [string, number] } };
}

/** Every key of `user` in a [user, …] store: arrays sort after strings and numbers in IndexedDB. */
function userRange(user: string): IDBKeyRange {
  return IDBKeyRange.bound([user, ""], [user, []]);
}

function isClosing(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name;
  const message = String((e as { message?: unknown } | null)?.message ?? "");
  return name === "InvalidStateError" || /connection is closing/i.test(message);
}

export function openIdbStorage(dbName = "onestream"): Storage {
  let db: Promise<IDBPDatabase<Schema>> | undefined;

  const open = (): Promise<IDBPDatabase<Schema>> => {
    const p = openDB<Schema>(dbName, VERSION, {
      upgrade(d) {
        d.createObjectStore("cursors", { keyPath: ["user", "topic"] });
        d.createObjectStore("outbox", { keyPath: ["user", "key"] }).createIndex("by-user-seq", ["user", "seq"]);
      },
      blocking() {
        void p.then((d) => d.close());
        if (db === p) db = undefined;
      },
      terminated() {
        if (db === p) db = undefined;
      },
    });
    p.catch(() => {
      if (db === p) db = undefined;
    });
    return p;
  };

  /** Runs `op` on the database; a closing connection is reopened and `op` retried once. */
  async function run<T>(op: (d: IDBPDatabase<Schema>) => Promise<T>): Promise<T> {
    const first = (db ??= open());
    try {
      return await op(await first);
    } catch (e) {
      if (!isClosing(e)) throw e;
      if (db === first) db = undefined;
      return op(await (db ??= open()));
    }
  }

  return {
    loadCursors: (user) =>
      run(async (d) => (await d.getAll("cursors", userRange(user))).map(({ topic, cursor, epoch }) => ({ topic, cursor, epoch }))),

    saveCursors: (user, records, forget = []) =>
      run(async (d) => {
        const tx = d.transaction("cursors", "readwrite");
        await Promise.all([
          ...records.map((r) => tx.store.put({ user, topic: r.topic, cursor: r.cursor, epoch: r.epoch })),
          ...forget.map((topic) => tx.store.delete([user, topic])),
          tx.done,
        ]);
      }),

    loadOutbox: (user) =>
      run(async (d) =>
        (await d.getAllFromIndex("outbox", "by-user-seq", IDBKeyRange.bound([user, -Infinity], [user, Infinity]))).map(
          ({ key, topic, payload, seq, createdAt }) => ({ key, topic, payload, seq, createdAt }),
        ),
      ),

    addOutbox: (user, record) =>
      run(async (d) => {
        await d.put("outbox", { ...record, user });
      }),

    removeOutbox: (user, key) => run((d) => d.delete("outbox", [user, key])),

    wipe: (user) =>
      run(async (d) => {
        const tx = d.transaction(["cursors", "outbox"], "readwrite");
        await Promise.all([tx.objectStore("cursors").delete(userRange(user)), tx.objectStore("outbox").delete(userRange(user)), tx.done]);
      }),
  };
}
