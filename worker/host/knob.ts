// One rule for the host's integer options (serve({ … })): absent → the default; not a number →
// the default; outside [min, max] → clamped. Either way `warn` gets a line naming the option.
export function intKnob(name: string, value: number | undefined, range: { fallback: number; min: number; max: number }, warn: (m: string) => void): number {
  if (value === undefined) return range.fallback;
  if (!Number.isFinite(value)) {
    warn(`onestream: ${name}=${String(value)} is not a number; using ${range.fallback}`);
    return range.fallback;
  }
  const clamped = Math.min(range.max, Math.max(range.min, Math.floor(value)));
  if (clamped !== value) warn(`onestream: ${name}=${value} clamped to ${clamped}`);
  return clamped;
}
