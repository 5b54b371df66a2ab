// The heap-snapshot diff behind the worker-heap finding in bench/RESULTS.md.
import { describe, expect, it } from "vitest";
import { diffClasses, parseHeap, retainerPath, type HeapSnapshotJson } from "./heap-snapshot";

const meta = {
  node_fields: ["type", "name", "id", "self_size", "edge_count"],
  node_types: [["hidden", "object", "string"]],
  edge_fields: ["type", "name_or_index", "to_node"],
  edge_types: [["element", "property", "weak"]],
};

/** root → Holder.list → Array → Leaked × n (ids 100+), plus a weakly held Leaked. */
function snap(n: number): HeapSnapshotJson {
  const strings = ["", "Holder", "Array", "Leaked", "list", "x"];
  const nodes = [0, 0, 1, 0, 1, /**/ 1, 1, 2, 10, 2, /**/ 1, 2, 3, 16, n];
  const edges = [1, 4, 5, /**/ 1, 4, 10, 2, 5, 15 + n * 5];
  for (let i = 0; i < n; i++) {
    nodes.push(1, 3, 100 + i, 8, 0);
    edges.push(0, i, 15 + i * 5);
  }
  nodes.push(1, 3, 999, 8, 0); // only weakly reachable: not live
  return { snapshot: { meta }, nodes, edges, strings };
}

describe("heap snapshot diff", () => {
  it("counts live objects per class and the new ones", () => {
    const d = diffClasses(parseHeap(snap(2)), parseHeap(snap(5)));
    expect(d[0]).toMatchObject({ className: "Leaked", countBefore: 2, countAfter: 5, bytesAfter: 40, newObjects: 3 });
    expect(d.find((r) => r.className === "Holder")).toMatchObject({ countBefore: 1, countAfter: 1, newObjects: 0 });
  });
  it("names the retainer path of a new object", () => {
    expect(retainerPath(parseHeap(snap(2)), parseHeap(snap(3)), "Leaked")).toBe("(hidden).list → Holder.list → Array.[2] → Leaked");
    expect(retainerPath(parseHeap(snap(3)), parseHeap(snap(3)), "Leaked")).toBeUndefined();
  });
});
