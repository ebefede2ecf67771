/**
 * Tarjan's strongly connected components, iterative so that a long chain of
 * a few thousand triggers cannot overflow the stack. Components come out in
 * reverse topological order (a component before any that reaches it).
 */
export function stronglyConnectedComponents(count: number, successors: (v: number) => readonly number[]): number[][] {
  const index = new Int32Array(count).fill(-1);
  const low = new Int32Array(count);
  const onStack = new Uint8Array(count);
  const stack: number[] = [];
  const components: number[][] = [];
  let next = 0;
  // Explicit call stack: the vertex and how far through its successors we are.
  const callV: number[] = [];
  const callI: number[] = [];

  for (let root = 0; root < count; root++) {
    if (index[root] !== -1) continue;
    callV.push(root);
    callI.push(0);
    index[root] = low[root] = next++;
    stack.push(root);
    onStack[root] = 1;
    while (callV.length > 0) {
      const top = callV.length - 1;
      const v = callV[top];
      const succ = successors(v);
      if (callI[top] < succ.length) {
        const w = succ[callI[top]++];
        if (index[w] === -1) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack[w] = 1;
          callV.push(w);
          callI.push(0);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v], index[w]);
        }
        continue;
      }
      callV.pop();
      callI.pop();
      if (callV.length > 0) {
        const parent = callV[callV.length - 1];
        low[parent] = Math.min(low[parent], low[v]);
      }
      if (low[v] === index[v]) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack.pop() as number;
          onStack[w] = 0;
          comp.push(w);
        } while (w !== v);
        components.push(comp);
      }
    }
  }
  return components;
}
