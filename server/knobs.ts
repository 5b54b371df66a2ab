// One rule for every numeric setting of the server, so a typo in a flag or an option never turns
// into NaN, a negative timer or an unbounded buffer: garbage (not a non-negative integer) is
// rejected with a RangeError; a sane number outside the supported range is clamped, with a warning.

export interface KnobRange {
  fallback: number;
  min: number;
  max: number;
}

/** Resolves one knob; pushes a line onto `warnings` when it had to clamp. */
export function knob(name: string, value: unknown, range: KnobRange, warnings: string[]): number {
  if (value === undefined) return range.fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  if (value < range.min) {
    warnings.push(`${name} ${value} is below ${range.min}; using ${range.min}`);
    return range.min;
  }
  if (value > range.max) {
    warnings.push(`${name} ${value} is above ${range.max}; using ${range.max}`);
    return range.max;
  }
  return value;
}
