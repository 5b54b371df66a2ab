// The IndexedDB binding on fake-indexeddb: per-user isolation, ordering, wipe, and getting out
// of the way of (and recovering from) another connection's version change.
import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { openIdbStorage } from "./idb-storage";

let n = 0;
const fresh = () => `idb-test-${process.pid}-${n++}`;

describe("openIdbStorage", () => {
  it("keeps cursors per user; a save is one batch; later saves overwrite", async () => {
    const s = openIdbStorage(fresh());
    await s.saveCursors("alice", [
      { topic: "a", cursor: 5n, epoch: "e1" },
      { topic: "b", cursor: 9007199254740993n, epoch: "e1" },
    ]);
    await s.saveCursors("bob", [{ topic: "a", cursor: 1n, epoch: "e1" }]);
    await s.saveCursors("alice", [{ topic: "a", cursor: 6n, epoch: "e2" }]);
    const alice = await s.loadCursors("alice");
    expect(alice.sort((x, y) => x.topic.localeCompare(y.topic))).toEqual([
      { topic: "a", cursor: 6n, epoch: "e2" },
      { topic: "b", cursor: 9007199254740993n, epoch: "e1" },
    ]);
    expect(await s.loadCursors("bob")).toEqual([{ topic: "a", cursor: 1n, epoch: "e1" }]);
    expect(await s.loadCursors("carol")).toEqual([]);
  });

  it("returns the outbox in seq order, removes by key, and wipe() touches only that user", async () => {
    const s = openIdbStorage(fresh());
    const rec = (key: string, seq: number) => ({ key, topic: "t", payload: new Uint8Array([seq]), seq, createdAt: 1 });
    await s.addOutbox("alice", rec("k3", 3));
    await s.addOutbox("alice", rec("k1", 1));
    await s.addOutbox("alice", rec("k2", 2));
    await s.addOutbox("bob", rec("k9", 9));
    expect((await s.loadOutbox("alice")).map((r) => r.key)).toEqual(["k1", "k2", "k3"]);
    expect((await s.loadOutbox("alice"))[0]).toEqual(rec("k1", 1));
    await s.removeOutbox("alice", "k2");
    expect((await s.loadOutbox("alice")).map((r) => r.key)).toEqual(["k1", "k3"]);
    await s.saveCursors("alice", [{ topic: "a", cursor: 1n, epoch: "e" }]);
    await s.wipe("alice");
    expect(await s.loadOutbox("alice")).toEqual([]);
    expect(await s.loadCursors("alice")).toEqual([]);
    expect((await s.loadOutbox("bob")).map((r) => r.key)).toEqual(["k9"]);
  });

  it("closes on versionchange (never blocks another version) and reopens on the next call", async () => {
    const name = fresh();
    const s = openIdbStorage(name);
    await s.saveCursors("alice", [{ topic: "a", cursor: 1n, epoch: "e" }]);
    let blocked = false;
    await new Promise<void>((resolve, reject) => {
      const req = indexedDB.deleteDatabase(name);
      req.onblocked = () => (blocked = true);
      req.onsuccess = () => resolve();
      req.onerror = () => reject(req.error);
    });
    expect(blocked).toBe(false);
    // the database is gone; the binding reopens (recreating the schema) and works on
    expect(await s.loadCursors("alice")).toEqual([]);
    await s.saveCursors("alice", [{ topic: "a", cursor: 2n, epoch: "e" }]);
    expect(await s.loadCursors("alice")).toEqual([{ topic: "a", cursor: 2n, epoch: "e" }]);
  });

  it("survives a connection the browser closed under it (InvalidStateError): reopens once and retries", async () => {
    const s = openIdbStorage(fresh());
    await s.saveCursors("alice", [{ topic: "a", cursor: 1n, epoch: "e" }]);
    const proto = IDBDatabase.prototype as unknown as { transaction: (...args: unknown[]) => unknown };
    const real = proto.transaction;
    let thrown = 0;
    proto.transaction = function (this: unknown, ...args: unknown[]) {
      if (thrown++ === 0) throw new DOMException("The database connection is closing.", "InvalidStateError");
      return real.apply(this, args);
    };
    try {
      await s.saveCursors("alice", [{ topic: "a", cursor: 2n, epoch: "e" }]);
    } finally {
      proto.transaction = real;
    }
    expect(thrown).toBe(2);
    expect(await s.loadCursors("alice")).toEqual([{ topic: "a", cursor: 2n, epoch: "e" }]);
  });

  it("does not retry other errors", async () => {
    const s = openIdbStorage(fresh());
    await s.loadCursors("alice");
    const proto = IDBDatabase.prototype as unknown as { transaction: (...args: unknown[]) => unknown };
    const real = proto.transaction;
    let calls = 0;
    proto.transaction = function () {
      calls++;
      throw new DOMException("quota", "QuotaExceededError");
    };
    try {
      await expect(s.saveCursors("alice", [{ topic: "a", cursor: 2n, epoch: "e" }])).rejects.toThrow("quota");
    } finally {
      proto.transaction = real;
    }
    expect(calls).toBe(1);
  });
});
