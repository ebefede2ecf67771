/**
 * A run's profiler (worker side): Lua stacks sampled from the instruction hook, host calls and
 * core.await waits timed one by one, all folded into one tree of stacks. Built only for a run
 * that asked for a profile; a run without one never reaches this file.
 */
import type { LuaStack } from "./lua-stack.ts";
import type { HostValue, ProfileFrame, RunProfile } from "./types.ts";

/** Deeper stacks are cut (their outermost frames dropped): recursion must not make samples slow. */
const MAX_DEPTH = 64;
/** Worker-module functions are bindings named with this prefix (see WorkerRun.contextFor). */
const LOCAL_PREFIX = "\u0000local:";
/** Distinct query texts kept per binding; the rest are counted under one key. */
const MAX_KEYS = 200;
const OTHER_KEY = "(other texts)";

interface StackNode {
  children: Map<number, StackNode>;
  ms: number;
  count: number;
}

interface Tally {
  count: number;
  ms: number;
}

/** An outermost host call in progress. */
export interface HostCallTiming {
  at: number;
  name: string;
  key: string | null;
  stack: number[];
}

const newNode = (): StackNode => ({ children: new Map(), ms: 0, count: 0 });

export class RunProfiler {
  private readonly frames: ProfileFrame[] = [];
  private readonly luaFrames = new Map<number, number>();
  private readonly namedFrames = new Map<string, number>();
  private readonly whats = new Map<number, string>();
  private readonly root = newNode();
  private readonly lines = new Map<number, { frame: number; line: number; ms: number; samples: number }>();
  private readonly hosts = new Map<string, Map<string | null, Tally>>();
  private readonly awaited = new Map<string, Tally>();
  private readonly futureLabels = new Map<number, string>();
  private readonly keyed: Set<string>;
  private readonly buf = new Int32Array(MAX_DEPTH);
  private samples = 0;
  private running = false;
  private runStart = 0;
  private runMs = 0;
  private hostMs = 0;
  private awaitMs = 0;
  /** When the previous sample (or resume) was taken, and hostMs then: a sample weighs the Lua time since. */
  private last = 0;
  private hostAtLast = 0;
  private hostDepth = 0;
  private parked: { at: number; what: string; stack: number[] } | null = null;

  constructor(readonly sampleEvery: number, keyByFirstArg: readonly string[], private readonly stack: LuaStack) {
    this.keyed = new Set(keyByFirstArg);
  }

  /** From the instruction hook: one sample of L's stack. */
  sample(L: number): void {
    if (!this.running) return;
    const now = performance.now();
    const ms = Math.max(0, now - this.last - (this.hostMs - this.hostAtLast));
    this.last = now;
    this.hostAtLast = this.hostMs;
    let line = -1;
    let lineFrame = -1;
    const n = this.walk(L, (frame, current) => {
      if (lineFrame < 0 && current > 0) {
        lineFrame = frame;
        line = current;
      }
    });
    const node = this.nodeFor(this.buf, n);
    node.ms += ms;
    node.count++;
    this.samples++;
    if (lineFrame >= 0) {
      const k = lineFrame * 2 ** 24 + line;
      let e = this.lines.get(k);
      if (!e) this.lines.set(k, (e = { frame: lineFrame, line, ms: 0, samples: 0 }));
      e.ms += ms;
      e.samples++;
    }
  }

  /** Lua is about to run (a coroutine resume); ends a wait in core.await if one was going. */
  resumed(): void {
    const now = performance.now();
    if (this.parked !== null) {
      const p = this.parked;
      this.parked = null;
      const ms = now - p.at;
      this.awaitMs += ms;
      tally(this.awaited, p.what, ms);
      this.leaf(p.stack, this.named("await", `await ${p.what}`), ms);
    }
    this.running = true;
    this.runStart = now;
    this.last = now;
    this.hostAtLast = this.hostMs;
  }

  /** Lua stopped running (yielded or finished). */
  suspended(): void {
    if (!this.running) return;
    this.running = false;
    this.runMs += performance.now() - this.runStart;
  }

  /** The run waits in core.await on future `id`; `co` is the coroutine that yielded. */
  park(id: number, co: number): void {
    const n = this.walk(co);
    this.parked = { at: performance.now(), what: this.futureLabels.get(id) ?? "future", stack: Array.from(this.buf.subarray(0, n)).reverse() };
  }

  /** A host call starts; null when it is made by another host call (the outer one carries the time). */
  enterHost(name: string, args: readonly HostValue[], L: number): HostCallTiming | null {
    if (this.hostDepth++ > 0) return null;
    const label = bindingLabel(name);
    const first = args[0];
    const key = this.keyed.has(label) && typeof first === "string" ? first : null;
    const n = L !== 0 ? this.walk(L) : 0;
    return { at: performance.now(), name: label, key, stack: Array.from(this.buf.subarray(0, n)).reverse() };
  }

  leaveHost(t: HostCallTiming | null): void {
    this.hostDepth--;
    if (t === null) return;
    const ms = performance.now() - t.at;
    this.hostMs += ms;
    let byKey = this.hosts.get(t.name);
    if (!byKey) this.hosts.set(t.name, (byKey = new Map()));
    const key = t.key !== null && !byKey.has(t.key) && byKey.size >= MAX_KEYS ? OTHER_KEY : t.key;
    tally(byKey, key, ms);
    this.leaf(t.stack, this.named("host", key === null ? t.name : `${t.name} ${JSON.stringify(key)}`), ms);
  }

  /** What future `id` stands for, so a wait on it is reported by name. */
  labelFuture(id: number, what: string): void {
    this.futureLabels.set(id, bindingLabel(what));
  }

  labelOf(id: number): string {
    return this.futureLabels.get(id) ?? "future";
  }

  result(): RunProfile {
    this.suspended();
    // A run that ended while waiting (killed, timed out) still waited that long.
    if (this.parked !== null) {
      this.resumed();
      this.suspended();
    }
    const stacks: RunProfile["stacks"] = [];
    const visit = (node: StackNode, path: number[]): void => {
      if (node.count > 0) stacks.push({ frames: path, ms: round(node.ms), count: node.count });
      for (const [f, child] of node.children) visit(child, [...path, f]);
    };
    visit(this.root, []);
    const hostCalls: RunProfile["hostCalls"] = [];
    for (const [name, byKey] of this.hosts) for (const [key, t] of byKey) hostCalls.push({ name, key, count: t.count, ms: round(t.ms) });
    hostCalls.sort((a, b) => b.ms - a.ms);
    const awaits = [...this.awaited].map(([what, t]) => ({ what, count: t.count, ms: round(t.ms) })).sort((a, b) => b.ms - a.ms);
    const lines = [...this.lines.values()].map((l) => ({ ...l, ms: round(l.ms) })).sort((a, b) => b.ms - a.ms);
    return {
      sampleEvery: this.sampleEvery,
      samples: this.samples,
      luaMs: round(Math.max(0, this.runMs - this.hostMs)),
      hostMs: round(this.hostMs),
      awaitMs: round(this.awaitMs),
      frames: this.frames,
      stacks,
      lines,
      hostCalls,
      awaits,
    };
  }

  /** Fills buf with L's frames, innermost first; returns how many. */
  private walk(L: number, each?: (frame: number, currentLine: number) => void): number {
    const st = this.stack;
    let n = 0;
    for (let level = 0; n < MAX_DEPTH && st.at(L, level); level++) {
      const f = this.frameHere(L);
      this.buf[n++] = f;
      each?.(f, st.currentLine);
    }
    return n;
  }

  /** The frame of the function the LuaStack has selected. */
  private frameHere(L: number): number {
    const st = this.stack;
    const wp = st.whatPtr;
    let what = this.whats.get(wp);
    if (what === undefined) this.whats.set(wp, (what = st.what));
    if (what === "C") return this.named("lua", st.name(L) ?? "?", "[C]");
    // A Lua function is its source and first line: both stable while its chunk is loaded.
    const id = st.sourcePtr * 2 ** 20 + st.lineDefined;
    let f = this.luaFrames.get(id);
    if (f === undefined) {
      const file = st.shortSrc;
      const line = st.lineDefined;
      const name = what === "main" ? "(main chunk)" : (st.name(L) ?? `function <${file}:${line}>`);
      f = this.frames.push({ kind: "lua", name, file, line }) - 1;
      this.luaFrames.set(id, f);
    }
    return f;
  }

  private named(kind: ProfileFrame["kind"], name: string, file = ""): number {
    const k = `${kind}\u0000${file}\u0000${name}`;
    let f = this.namedFrames.get(k);
    if (f === undefined) {
      f = this.frames.push({ kind, name, file, line: 0 }) - 1;
      this.namedFrames.set(k, f);
    }
    return f;
  }

  /** buf[0..n) innermost first → the tree node of that stack. */
  private nodeFor(buf: Int32Array, n: number): StackNode {
    let node = this.root;
    for (let i = n - 1; i >= 0; i--) node = child(node, buf[i]);
    return node;
  }

  private leaf(outerFirst: number[], frame: number, ms: number): void {
    let node = this.root;
    for (const f of outerFirst) node = child(node, f);
    node = child(node, frame);
    node.ms += ms;
    node.count++;
  }
}

function child(node: StackNode, f: number): StackNode {
  let c = node.children.get(f);
  if (!c) node.children.set(f, (c = newNode()));
  return c;
}

function tally<K>(m: Map<K, Tally>, k: K, ms: number): void {
  let t = m.get(k);
  if (!t) m.set(k, (t = { count: 0, ms: 0 }));
  t.count++;
  t.ms += ms;
}

function bindingLabel(name: string): string {
  return name.startsWith(LOCAL_PREFIX) ? name.slice(LOCAL_PREFIX.length) : name;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;
