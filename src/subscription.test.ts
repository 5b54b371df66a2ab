// The tab's own dedupe: whatever replays a handover or a resync causes, the app sees each
// event of each topic once, in order; and a resend resumes exactly where the app is.
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import type { StreamEvent } from "../contract/types";
import { applyDelivery, createSub, specFor } from "./subscription";

const ev = (topic: string, cursor: bigint): StreamEvent => ({ topic, cursor, payload: new Uint8Array(), publishedAt: 0 });

describe("subscription bookkeeping", () => {
  it("property: overlapping replays reach the app exactly once, in order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom("a", "b"), fc.nat(30), fc.integer({ min: 1, max: 10 })), { minLength: 1, maxLength: 40 }),
        (windows) => {
          const seen: StreamEvent[] = [];
          const sub = createSub(["a", "b"], (events: StreamEvent[]) => seen.push(...events));
          const sent = new Map<string, number>();
          for (const [topic, back, len] of windows) {
            // A replay starts anywhere at or before the next new event (never leaves a gap).
            const head = sent.get(topic) ?? 0;
            const start = Math.max(1, head + 1 - back);
            const events = Array.from({ length: len }, (_, i) => ev(topic, BigInt(start + i)));
            sent.set(topic, Math.max(head, start + len - 1));
            applyDelivery(sub, { kind: "events", events });
          }
          for (const topic of ["a", "b"]) {
            const got = seen.filter((e) => e.topic === topic).map((e) => Number(e.cursor));
            expect(got).toEqual(Array.from({ length: sent.get(topic) ?? 0 }, (_, i) => i + 1));
          }
        },
      ),
    );
  });

  it("resends from its own cursors; unseen topics resume from the stored cursor", () => {
    const sub = createSub(["a", "b", "c"], () => {}, { since: { c: 7n } });
    expect(specFor(sub, false)).toEqual({ topics: ["a", "b", "c"], since: { c: 7n } });
    applyDelivery(sub, { kind: "events", events: [ev("a", 3n), ev("a", 4n)] });
    expect(specFor(sub, true)).toEqual({ topics: ["a", "b", "c"], since: { a: 4n, c: 7n }, otherwise: "stored" });
    expect(specFor(createSub(["x"], () => {}, { since: "now" }), true)).toEqual({ topics: ["x"], since: "stored" });
  });

  it("follows a reset below its cursor (new server epoch) and tells the app", () => {
    const got: bigint[] = [];
    const resets: string[] = [];
    const sub = createSub(["a"], (es: StreamEvent[]) => got.push(...es.map((e) => e.cursor)), {
      onReset: (r) => resets.push(`${r.topic}:${r.reason}:${r.resumeAfter}`),
    });
    applyDelivery(sub, { kind: "events", events: [ev("a", 9n)] });
    applyDelivery(sub, { kind: "reset", topic: "a", reason: "epoch", resumeAfter: 0n });
    applyDelivery(sub, { kind: "events", events: [ev("a", 1n)] });
    expect(got).toEqual([9n, 1n]);
    expect(resets).toEqual(["a:epoch:0"]);
  });

  it("contains an app callback that throws, and asks to resubscribe on an engine overflow", () => {
    const sub = createSub(["a"], () => {
      throw new Error("app bug");
    });
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(applyDelivery(sub, { kind: "events", events: [ev("a", 1n)] })).toEqual({ processed: false });
    expect(logged).toHaveBeenCalledOnce();
    logged.mockRestore();
    expect(sub.last.get("a")).toBe(1n);
    expect(applyDelivery(sub, { kind: "overflow", topics: ["a"] })).toEqual({ processed: true, next: "resubscribe" });
  });

  it("rejects bad subscriptions with the shared topic words", () => {
    expect(() => createSub([], () => {})).toThrow(/non-empty array/);
    expect(() => createSub(["a\u0000"], () => {})).toThrow(/control characters/);
    expect(() => createSub(["a"], "nope")).toThrow(/onEvents/);
    expect(() => createSub(["a"], () => {}, { since: { b: 1n } })).toThrow(/not one of the topics/);
    expect(() => createSub(["a"], () => {}, { since: "later" as never })).toThrow(/since/);
  });
});
