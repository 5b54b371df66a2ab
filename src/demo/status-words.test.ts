// The demo's words for the stream: a chip says "live" only while the status does, and the last
// error is shown with the time it happened and hidden once the stream is live again.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ago, badgeWord, clockTime, errorLine, nextErrorClock, topicWord, type ErrorClock, type ShownStatus } from "./status-words";

const status = (over: Partial<ShownStatus>): ShownStatus => ({
  state: "live",
  connection: 1,
  serverEpoch: "e1",
  liveTopics: ["news"],
  topics: ["news"],
  ...over,
});
const down = { liveTopics: [], topics: [] };
const A = { code: "unavailable", message: "fault: subscribe rejected" };
const STALE = { code: "stale", message: "no frame for 5000 ms" };

describe("topicWord", () => {
  it("says live only while the status lists the topic live and the subscription was told so", () => {
    expect(topicWord("news", status({}), true).text).toBe("live");
    expect(topicWord("news", status({}), false).text).toBe("catching up");
    expect(topicWord("news", status({ state: "catching-up", liveTopics: [] }), true).text).toBe("catching up");
  });

  it("leaves live as soon as the connection is down, whatever onLive said before", () => {
    expect(topicWord("news", status({ state: "backoff", ...down, lastError: A }), true)).toMatchObject({ text: "reconnecting", tone: "stale" });
    expect(topicWord("news", status({ state: "connecting", connection: 3, ...down }), true).text).toBe("reconnecting");
    expect(topicWord("news", status({ state: "offline", ...down }), true).text).toBe("offline");
    expect(topicWord("news", status({ state: "failed", ...down, lastError: A }), true)).toMatchObject({ text: "stopped", tone: "failed" });
  });

  it("says connecting before the first open", () => {
    expect(topicWord("news", status({ state: "connecting", connection: 0, ...down }), false).text).toBe("connecting");
  });
});

describe("badgeWord", () => {
  it("is idle while nothing is joined, instead of connecting forever", () => {
    expect(badgeWord(status({ state: "connecting", connection: 0, ...down }), 0)).toMatchObject({ text: "idle", tone: "idle" });
    expect(badgeWord(status({ state: "live", ...down }), 0).text).toBe("idle");
  });

  it("follows the stream once a topic is joined", () => {
    expect(badgeWord(status({ state: "connecting", connection: 0, ...down }), 1).text).toBe("connecting");
    expect(badgeWord(status({ state: "backoff", ...down }), 1).text).toBe("reconnecting");
    expect(badgeWord(status({}), 1).text).toBe("live");
  });
});

/** Feeds `steps` (status, time) to the clock; returns what is shown after each. */
function run(steps: Array<[Partial<ShownStatus>, number]>): Array<ErrorClock["shown"]> {
  let c: ErrorClock = {};
  return steps.map(([s, now]) => (c = nextErrorClock(c, status(s), now)).shown);
}

describe("nextErrorClock", () => {
  it("stamps an error when the stream goes down, keeps that time while it recovers, hides it once live", () => {
    const shown = run([
      [{}, 0],
      [{ state: "backoff", ...down, lastError: STALE }, 1000],
      [{ state: "connecting", ...down, lastError: STALE }, 1500],
      [{ state: "catching-up", liveTopics: [], lastError: STALE }, 2000],
      [{ state: "live", lastError: STALE }, 2500],
    ]);
    expect(shown).toEqual([undefined, { ...STALE, at: 1000 }, { ...STALE, at: 1000 }, { ...STALE, at: 1000 }, undefined]);
  });

  it("restamps each failed retry and each new error", () => {
    const shown = run([
      [{ state: "backoff", ...down, lastError: A }, 1000],
      [{ state: "connecting", ...down, lastError: A }, 2000],
      [{ state: "backoff", ...down, lastError: A }, 3000],
      [{ state: "connecting", ...down, lastError: A }, 4000],
      [{ state: "connecting", ...down, lastError: STALE }, 5000],
    ]);
    expect(shown.map((e) => e?.at)).toEqual([1000, 1000, 3000, 3000, 5000]);
  });

  it("does not bring back the old error when a joined topic makes the stream catch up", () => {
    const shown = run([
      [{ state: "backoff", ...down, lastError: A }, 1000],
      [{ state: "live", lastError: A }, 2000],
      [{ state: "catching-up", topics: ["news", "sport"], lastError: A }, 3000],
    ]);
    expect(shown[2]).toBeUndefined();
  });

  it("does not blame going offline on the error of an earlier fault", () => {
    const shown = run([
      [{ state: "backoff", ...down, lastError: A }, 1000],
      [{ state: "live", lastError: A }, 2000],
      [{ state: "offline", ...down, lastError: A }, 3000],
      [{ state: "connecting", ...down, lastError: A }, 4000],
      [{ state: "backoff", ...down, lastError: A }, 5000],
    ]);
    expect(shown.map((e) => e?.at)).toEqual([1000, undefined, undefined, undefined, 5000]);
  });

  it("shows the same error again, with the new time, when the stream fails again", () => {
    const shown = run([
      [{ state: "backoff", ...down, lastError: STALE }, 1000],
      [{ state: "live", lastError: STALE }, 2000],
      [{ state: "connecting", connection: 2, ...down, lastError: STALE }, 9000],
    ]);
    expect(shown[2]).toEqual({ ...STALE, at: 9000 });
  });

  it("whatever the statuses: nothing while live, else the status's own error, stamped no later than now", () => {
    const states = ["connecting", "catching-up", "live", "backoff", "offline", "failed"];
    const step = fc.record({
      state: fc.constantFrom(...states),
      error: fc.option(fc.constantFrom(A, STALE), { nil: undefined }),
      dt: fc.integer({ min: 0, max: 5000 }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let c: ErrorClock = {};
        let now = 0;
        for (const [i, s] of steps.entries()) {
          now += s.dt;
          c = nextErrorClock(c, status({ state: s.state, lastError: s.error }), now);
          if (s.state === "live" || s.error === undefined) expect(c.shown).toBeUndefined();
          else if (c.shown !== undefined) {
            expect({ code: c.shown.code, message: c.shown.message }).toEqual(s.error);
            expect(c.shown.at).toBeLessThanOrEqual(now);
          }
          // An error a page sees first (it opened mid-trouble) is shown.
          if (i === 0 && s.error !== undefined && s.state !== "live") expect(c.shown).toBeDefined();
        }
      }),
    );
  });
});

describe("errorLine", () => {
  it("says what failed, at what time and how long ago", () => {
    const at = new Date(2024, 0, 2, 14, 2, 7).getTime();
    const c: ErrorClock = { shown: { ...A, at } };
    expect(errorLine(c, at + 12_400)).toBe("unavailable: fault: subscribe rejected — at 14:02:07, 12 s ago");
    expect(errorLine({}, at)).toBe("—");
  });

  it("ages in words", () => {
    expect([ago(-5), ago(1999), ago(2000), ago(59_999), ago(60_000), ago(7_200_000)]).toEqual(["just now", "just now", "2 s ago", "59 s ago", "1 min ago", "2 h ago"]);
    expect(clockTime(new Date(2024, 0, 2, 3, 4, 5).getTime())).toBe("03:04:05");
  });
});
