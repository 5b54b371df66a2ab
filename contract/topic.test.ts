// The topic rules every side applies: what is refused, with which words, and what still passes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_TOPIC_BYTES, topicProblem } from "./topic";

describe("topicProblem", () => {
  it("accepts ordinary topics, non-Latin scripts and emoji included", () => {
    for (const t of ["a", "room/42", "news.sport", "café", "日本語/チャット", "مرحبا", "🎉/party", "x".repeat(MAX_TOPIC_BYTES)]) {
      expect(topicProblem(t)).toBeUndefined();
    }
  });

  it("refuses what is not a topic, naming the reason", () => {
    expect(topicProblem(7)).toBe("topic must be a string, got number");
    expect(topicProblem("")).toBe("topic must not be empty");
    expect(topicProblem("é".repeat(129))).toBe(`topic is 258 bytes, over the ${MAX_TOPIC_BYTES}-byte limit`);
    expect(topicProblem("a\u0000b")).toBe("topic must not contain control characters");
    expect(topicProblem("a\u0085")).toBe("topic must not contain control characters");
  });

  it("refuses bidi controls, zero-width characters and line/paragraph separators (spoofing)", () => {
    expect(topicProblem("invoice/\u202Efdp.exe")).toBe("topic must not contain bidirectional controls (U+202E)");
    for (const c of ["\u061C", "\u200E", "\u200F", "\u202A", "\u202B", "\u202C", "\u202D", "\u2066", "\u2067", "\u2068", "\u2069"]) {
      expect(topicProblem(`a${c}b`)).toMatch(/^topic must not contain bidirectional controls \(U\+[0-9A-F]{4}\)$/);
    }
    expect(topicProblem("ad\u200Bmin")).toBe("topic must not contain zero-width characters (U+200B)");
    for (const c of ["\u200C", "\u200D", "\u2060", "\uFEFF", "\u180E"]) {
      expect(topicProblem(`a${c}b`)).toMatch(/^topic must not contain zero-width characters/);
    }
    expect(topicProblem("a\u2028b")).toBe("topic must not contain line or paragraph separators (U+2028)");
    expect(topicProblem("a\u2029b")).toBe("topic must not contain line or paragraph separators (U+2029)");
  });

  it("accepts every string of ordinary printable characters within the byte limit", () => {
    const printable = fc.string({ unit: fc.constantFrom(..."abcXYZ019/_-.:é日🎉"), minLength: 1, maxLength: 60 });
    fc.assert(fc.property(printable, (t) => topicProblem(t) === undefined));
  });
});
