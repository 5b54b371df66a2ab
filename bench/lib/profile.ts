// Where the time goes, measured: summarizes a V8 CPU profile (CDP Profiler.stop) into the
// functions with the most self time. Used when a figure misses its goal, to name its bound from
// a profile of the worker and of a tab instead of a guess.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

export interface Hotspot {
  name: string;
  /** Share of all samples in the profile, idle included. */
  share: number;
}

/** Top `n` functions by self samples; "(idle)" tells how much of the window the thread had free. */
export function hotspots(profile: CpuProfile, n: number): Hotspot[] {
  const byName = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.split("/").pop() ?? "";
    const name = file ? `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}` : functionName || "(anonymous)";
    byName.set(name, (byName.get(name) ?? 0) + hits);
  }
  return [...byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, hits]) => ({ name, share: total === 0 ? 0 : hits / total }));
}

export function hotspotLines(title: string, spots: Hotspot[]): string[] {
  return [`${title}:`, "", ...spots.map((h) => `- ${(h.share * 100).toFixed(1)} % ${h.name.replace(/\|/g, "\\|")}`), ""];
}
