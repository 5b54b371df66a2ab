// Reads V8 heap snapshots (the JSON `HeapProfiler.takeHeapSnapshot` streams) just enough to say
// what grows between two of them: live objects per class (DevTools' "Summary" grouping), and
// the shortest retainer path from the GC roots to an object of a class that only the later
// snapshot has. Node ids are stable across snapshots of one profiler session, so "new" = an id
// the early snapshot does not contain.

export interface HeapSnapshotJson {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: unknown[];
      edge_fields: string[];
      edge_types: unknown[];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** One snapshot, decoded into per-node columns (index = node ordinal; node 0 is the root). */
export interface Heap {
  className: string[];
  id: number[];
  selfSize: number[];
  /** Edges of node i are firstEdge[i] .. firstEdge[i + 1] - 1. */
  firstEdge: number[];
  edgeTo: number[];
  edgeName: string[];
  edgeWeak: boolean[];
}

const MAX_NAME = 60;

/** DevTools' grouping: objects by constructor name, the rest by type (plus name where it tells). */
function classOf(type: string, name: string): string {
  if (type === "object" || type === "native") return name.slice(0, MAX_NAME);
  if (/string|number|bigint/.test(type)) return `(${type})`;
  return `(${type}) ${name.slice(0, MAX_NAME)}`.trimEnd();
}

export function parseHeap(json: HeapSnapshotJson): Heap {
  const { node_fields, node_types, edge_fields, edge_types } = json.snapshot.meta;
  const nf = node_fields.length;
  const ef = edge_fields.length;
  const nType = node_fields.indexOf("type");
  const nName = node_fields.indexOf("name");
  const nId = node_fields.indexOf("id");
  const nSize = node_fields.indexOf("self_size");
  const nEdges = node_fields.indexOf("edge_count");
  const eType = edge_fields.indexOf("type");
  const eName = edge_fields.indexOf("name_or_index");
  const eTo = edge_fields.indexOf("to_node");
  const nodeTypes = node_types[nType] as string[];
  const edgeTypes = edge_types[eType] as string[];
  const heap: Heap = { className: [], id: [], selfSize: [], firstEdge: [], edgeTo: [], edgeName: [], edgeWeak: [] };
  let edge = 0;
  for (let n = 0; n < json.nodes.length; n += nf) {
    heap.className.push(classOf(nodeTypes[json.nodes[n + nType]!] ?? "?", json.strings[json.nodes[n + nName]!] ?? "?"));
    heap.id.push(json.nodes[n + nId]!);
    heap.selfSize.push(json.nodes[n + nSize]!);
    heap.firstEdge.push(edge);
    edge += json.nodes[n + nEdges]!;
  }
  heap.firstEdge.push(edge);
  for (let e = 0; e < json.edges.length; e += ef) {
    const type = edgeTypes[json.edges[e + eType]!] ?? "?";
    const raw = json.edges[e + eName]!;
    heap.edgeTo.push(json.edges[e + eTo]! / nf);
    heap.edgeName.push(type === "element" || type === "hidden" ? `[${raw}]` : (json.strings[raw] ?? "?"));
    heap.edgeWeak.push(type === "weak");
  }
  return heap;
}

export interface ClassDelta {
  className: string;
  countBefore: number;
  countAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Objects of this class in the later snapshot whose id the earlier one lacks. */
  newObjects: number;
}

/** Nodes reachable from the root over strong edges (what a snapshot shows as live). */
function reachable(h: Heap): { seen: Uint8Array; parent: Int32Array; via: Int32Array } {
  const n = h.id.length;
  const seen = new Uint8Array(n);
  const parent = new Int32Array(n).fill(-1);
  const via = new Int32Array(n).fill(-1);
  const queue = [0];
  seen[0] = 1;
  for (let q = 0; q < queue.length; q++) {
    const from = queue[q]!;
    for (let e = h.firstEdge[from]!; e < h.firstEdge[from + 1]!; e++) {
      const to = h.edgeTo[e]!;
      if (h.edgeWeak[e] || seen[to]) continue;
      seen[to] = 1;
      parent[to] = from;
      via[to] = e;
      queue.push(to);
    }
  }
  return { seen, parent, via };
}

/** Live objects per class in both snapshots, largest byte growth first. */
export function diffClasses(before: Heap, after: Heap): ClassDelta[] {
  const rows = new Map<string, ClassDelta>();
  const row = (c: string): ClassDelta => {
    let r = rows.get(c);
    if (!r) rows.set(c, (r = { className: c, countBefore: 0, countAfter: 0, bytesBefore: 0, bytesAfter: 0, newObjects: 0 }));
    return r;
  };
  const liveBefore = reachable(before).seen;
  const idsBefore = new Set<number>();
  before.id.forEach((id, i) => {
    if (!liveBefore[i]) return;
    idsBefore.add(id);
    const r = row(before.className[i]!);
    r.countBefore++;
    r.bytesBefore += before.selfSize[i]!;
  });
  const liveAfter = reachable(after).seen;
  after.id.forEach((id, i) => {
    if (!liveAfter[i]) return;
    const r = row(after.className[i]!);
    r.countAfter++;
    r.bytesAfter += after.selfSize[i]!;
    if (!idsBefore.has(id)) r.newObjects++;
  });
  return [...rows.values()].sort((a, b) => b.bytesAfter - b.bytesBefore - (a.bytesAfter - a.bytesBefore));
}

/**
 * Shortest strong path from the root to an object of `className` that is new in `after`
 * (id absent from `before`), as "Class.edge → Class.edge → … → className"; undefined if none.
 */
export function retainerPath(before: Heap, after: Heap, className: string): string | undefined {
  const idsBefore = new Set(before.id);
  const { seen, parent, via } = reachable(after);
  let target = -1;
  // BFS order is by distance, so the first match in `queue` order is the nearest; scan by depth.
  const depth = (i: number): number => {
    let d = 0;
    for (let p = i; parent[p]! >= 0; p = parent[p]!) d++;
    return d;
  };
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < after.id.length; i++) {
    if (!seen[i] || after.className[i] !== className || idsBefore.has(after.id[i]!)) continue;
    const d = depth(i);
    if (d < best) {
      best = d;
      target = i;
    }
  }
  if (target < 0) return undefined;
  const hops: string[] = [];
  for (let i = target; parent[i]! >= 0; i = parent[i]!) hops.push(`${after.className[parent[i]!]}.${after.edgeName[via[i]!]}`);
  return [...hops.reverse(), className].join(" → ");
}
