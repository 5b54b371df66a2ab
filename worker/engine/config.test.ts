// Knob resolution: defaults, clamping with a warning, and the idle timeout derived from Hello.
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, idleTimeoutMs, KNOBS, MAX_DURATION_MS, resolveConfig, type EngineConfig } from "./config";

describe("config", () => {
  it("fills defaults", () => {
    expect(resolveConfig(undefined)).toEqual(DEFAULT_CONFIG);
    expect(resolveConfig({ backoffCapMs: 5_000 }).backoffCapMs).toBe(5_000);
  });

  it("clamps out-of-range values and falls back to the default for non-numbers, saying so", () => {
    const warnings: string[] = [];
    const c = resolveConfig(
      { preHelloIdleMs: -5, backoffCapMs: 1e12, minIdleMs: NaN, sleepCheckMs: Infinity, topicDebounceMs: 500, bogus: 1 } as Partial<EngineConfig>,
      (m) => warnings.push(m),
    );
    expect(c.preHelloIdleMs).toBe(KNOBS.preHelloIdleMs.min);
    expect(c.backoffCapMs).toBe(MAX_DURATION_MS);
    expect(c.minIdleMs).toBe(KNOBS.minIdleMs.default);
    expect(c.sleepCheckMs).toBe(KNOBS.sleepCheckMs.default);
    expect(c.topicDebounceMs).toBe(20);
    expect(warnings).toHaveLength(6);
    expect(warnings.join("\n")).toMatch(/preHelloIdleMs=-5 is outside/);
    expect(warnings.join("\n")).toMatch(/unknown knob "bogus"/);
    expect(resolveConfig({ backoffFloorMs: "3" as unknown as number }).backoffFloorMs).toBe(KNOBS.backoffFloorMs.default);
  });

  it("keeps the ResourceExhausted floor at or above the normal floor", () => {
    expect(resolveConfig({ backoffFloorMs: 20_000, slowFloorMs: 1_000 }).slowFloorMs).toBe(20_000);
  });

  it("derives the idle timeout from the advertised heartbeat", () => {
    const c = resolveConfig({});
    expect(idleTimeoutMs(c, undefined)).toBe(60_000); // before Hello
    expect(idleTimeoutMs(c, 0)).toBe(60_000); // server heartbeats off
    expect(idleTimeoutMs(c, 10_000)).toBe(25_000); // × 2.5
    expect(idleTimeoutMs(c, 100)).toBe(5_000); // at least 5 s
    expect(idleTimeoutMs(c, 4_294_967_295)).toBe(MAX_DURATION_MS); // uint32 max: capped, finite
    expect(idleTimeoutMs(c, NaN)).toBe(60_000);
  });
});
