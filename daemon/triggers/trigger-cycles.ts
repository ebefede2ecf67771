/**
 * The trigger dependency graph: trigger → its script → each field the script
 * may write → the triggers watching that field. A trigger on a cycle of this
 * graph (a self-loop included) could fire itself forever; it is found with
 * Tarjan's SCC and the shortest cycle through it is spelled out:
 * `renumber_on_reorder -> renumber_cues writes lighting.cue.order_index -> renumber_on_reorder`.
 */
import { stronglyConnectedComponents } from "./tarjan.ts";

export interface TriggerNode {
  name: string;
  script: string;
  /** Full key of the watched field. */
  watches: string;
}

/** For each trigger on a cycle (by index), the cycle through it as text. */
export function triggerCycles(nodes: readonly TriggerNode[], writesOf: (script: string) => ReadonlySet<string>): Map<number, string> {
  const watchers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    const list = watchers.get(n.watches);
    if (list) list.push(i);
    else watchers.set(n.watches, [i]);
  });
  // Successors depend only on the script: compute once per script, from whichever side is smaller.
  const byScript = new Map<string, number[]>();
  const successors = nodes.map((n) => {
    let succ = byScript.get(n.script);
    if (succ === undefined) {
      const writes = writesOf(n.script);
      succ = [];
      if (writes.size < watchers.size) {
        for (const f of writes) succ.push(...(watchers.get(f) ?? []));
      } else {
        for (const [f, ws] of watchers) if (writes.has(f)) succ.push(...ws);
      }
      succ.sort((a, b) => a - b);
      byScript.set(n.script, succ);
    }
    return succ;
  });

  const out = new Map<number, string>();
  // One breadth-first search per trigger on a cycle: O(V·E) over a component, so the search works
  // on typed arrays reused across searches (a stamp per search instead of clearing a Map).
  const scratch = newScratch(nodes.length);
  let compId = 0;
  for (const comp of stronglyConnectedComponents(nodes.length, (v) => successors[v])) {
    compId++;
    if (comp.length === 1 && !successors[comp[0]].includes(comp[0])) continue;
    for (const v of comp) scratch.component[v] = compId;
    for (const v of [...comp].sort((a, b) => a - b)) out.set(v, spell(nodes, shortestCycle(v, successors, compId, scratch)));
  }
  return out;
}

interface Scratch {
  /** The component id of each trigger on a cycle (0: none). */
  component: Int32Array;
  parent: Int32Array;
  /** Which search last reached a trigger: `parent` is valid only where this equals the current one. */
  seenBy: Int32Array;
  queue: Int32Array;
  search: number;
}

function newScratch(n: number): Scratch {
  return { component: new Int32Array(n), parent: new Int32Array(n), seenBy: new Int32Array(n), queue: new Int32Array(n), search: 0 };
}

/** Breadth-first search from v's successors back to v, within its component. */
function shortestCycle(v: number, successors: readonly number[][], compId: number, s: Scratch): number[] {
  const search = ++s.search;
  const { component, parent, seenBy, queue } = s;
  queue[0] = v;
  let tail = 1;
  for (let head = 0; head < tail; head++) {
    const u = queue[head];
    for (const w of successors[u]) {
      if (component[w] !== compId) continue;
      if (w === v) {
        const path = [v];
        for (let x = u; x !== v; x = parent[x]) path.push(x);
        path.push(v);
        // path is v, back-pointers..., v reversed except its ends: put it in firing order.
        return [v, ...path.slice(1, -1).reverse(), v];
      }
      if (seenBy[w] !== search) {
        seenBy[w] = search;
        parent[w] = u;
        queue[tail++] = w;
      }
    }
  }
  return [v, v];
}

function spell(nodes: readonly TriggerNode[], cycle: number[]): string {
  let text = nodes[cycle[0]].name;
  for (let i = 1; i < cycle.length; i++) {
    const from = nodes[cycle[i - 1]];
    const to = nodes[cycle[i]];
    text += ` -> ${from.script} writes ${to.watches} -> ${to.name}`;
  }
  return `trigger cycle: ${text}`;
}
