// Property (b): whatever the network does — drops, wedges, truncations, clean ends, re-sent
// events, retention resets, topic churn, offline spells, sleep — each topic's delivered sequence
// is the published one: consecutive cursors with the right payloads, except where an explicit
// reset says where it resumes, and it ends at the server's head. The same holds for a subscriber
// that joins late with an old cursor (history-only catch-up, then handed over to live).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Recorder, startEngine } from "../testing";

/** Fixed, so a run is reproducible; FC_SEED=<n> explores other cases. */
const FC_SEED = Number(process.env["FC_SEED"] ?? 20_261_122);

const TOPICS = ["a", "b"] as const;

type Op =
  | { op: "publish"; topic: 0 | 1; n: number }
  | { op: "drop" | "wedge" | "truncate" | "end" | "offline" | "online" | "sleep" }
  | { op: "resend"; topic: 0 | 1; back: number }
  | { op: "trim"; topic: 0 | 1; keep: number }
  | { op: "churn"; which: number }
  | { op: "join"; back: number }
  | { op: "advance"; ms: number };

const topicIx = fc.constantFrom<0 | 1>(0, 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("publish" as const), topic: topicIx, n: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 15_000 }) }) },
  { weight: 1, arbitrary: fc.constantFrom<Op>({ op: "drop" }, { op: "wedge" }, { op: "truncate" }, { op: "end" }) },
  { weight: 1, arbitrary: fc.constantFrom<Op>({ op: "offline" }, { op: "online" }, { op: "sleep" }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("resend" as const), topic: topicIx, back: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("trim" as const), topic: topicIx, keep: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("churn" as const), which: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("join" as const), back: fc.integer({ min: 0, max: 30 }) }) },
);

/** Walks `rec`'s deliveries of `topic` from `after`: consecutive cursors with the right payloads, skips only at resets. */
function checkSequence(rec: Recorder, topic: string, after: bigint, head: bigint): void {
  let next = after + 1n;
  for (const d of rec.deliveries) {
    if (d.kind === "reset" && d.topic === topic) {
      expect(d.reason).toBe("retention");
      expect(d.resumeAfter).toBeGreaterThanOrEqual(next - 1n); // a reset only ever skips what was lost
      next = (d.resumeAfter as bigint) + 1n;
    }
    if (d.kind !== "events") continue;
    for (const e of d.events) {
      if (e.topic !== topic) continue;
      expect(e.cursor).toBe(next);
      expect(new TextDecoder().decode(e.payload)).toBe(String(next));
      next++;
    }
  }
  expect(next - 1n).toBe(head);
}

describe("engine: property", () => {
  it("each topic's delivered sequence equals the published one, for any interleaving of faults", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 15, maxLength: 60 }), fc.integer({ min: 1, max: 1_000 }), async (ops, seed) => {
        const h = startEngine({ seed });
        const rec = new Recorder();
        h.engine.subscribe([...TOPICS], rec.sink);
        await h.clock.advance(20);
        const churn = new Map<number, { unsubscribe(): void }>();
        // a late subscriber with an old cursor in "a": caught up on a history-only stream
        let late: { rec: Recorder; after: bigint } | undefined;
        for (const o of ops) {
          switch (o.op) {
            case "publish":
              h.server.publish(TOPICS[o.topic], o.n);
              break;
            case "drop":
              h.server.drop();
              break;
            case "wedge":
              h.server.wedge();
              break;
            case "truncate":
              h.server.truncate();
              break;
            case "end":
              h.server.endStreams();
              break;
            case "offline":
            case "online":
              h.engine.hint(o.op);
              break;
            case "sleep":
              h.clock.jump(120_000);
              break;
            case "resend": {
              const t = TOPICS[o.topic];
              h.server.resend(t, h.server.head(t) - BigInt(o.back));
              break;
            }
            case "trim": {
              const t = TOPICS[o.topic];
              const through = h.server.head(t) - BigInt(o.keep);
              if (through > 0n) h.server.trim(t, through);
              break;
            }
            case "churn": {
              const s = churn.get(o.which);
              if (s !== undefined) {
                s.unsubscribe();
                churn.delete(o.which);
              } else churn.set(o.which, h.engine.subscribe([`other${o.which}`], () => {}));
              break;
            }
            case "join": {
              if (late !== undefined) break;
              const head = h.server.head("a");
              const after = head > BigInt(o.back) ? head - BigInt(o.back) : 0n;
              late = { rec: new Recorder(), after };
              h.engine.subscribe(["a"], late.rec.sink, { since: { a: after } });
              break;
            }
            case "advance":
              await h.clock.advance(o.ms);
              break;
          }
        }
        h.engine.hint("online");
        await h.clock.advance(120_000);
        expect(h.engine.status().state).toBe("live");

        for (const t of TOPICS) checkSequence(rec, t, 0n, h.server.head(t));
        if (late !== undefined) {
          checkSequence(late.rec, "a", late.after, h.server.head("a"));
          expect(late.rec.of("live")).toHaveLength(1);
        }
        expect(rec.of("live")).toHaveLength(1);
        await h.engine.close();
      }),
      { numRuns: 50, seed: FC_SEED },
    );
  });
});
