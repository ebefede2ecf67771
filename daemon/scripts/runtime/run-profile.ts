/**
 * A script run's profile as people and tools read it: the engine's RunProfile with the run's
 * operation count, a ranking of where the time went, the terminal's top-N table, and the
 * speedscope file (https://www.speedscope.app/file-format-schema.json) that speedscope and
 * Chrome's profiler open. Plain functions over plain data: the CLI uses them too.
 */
import type { RunProfile } from "../engine/index.ts";
import type { ScriptProfile } from "../../../protocol/index.ts";
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { ScriptProfile };

/** The query functions whose calls a profile tells apart by query text. */
export const QUERY_FUNCTIONS: readonly string[] = ["core.query", "core.query_one", "core.query_live"];

/** Main-thread bindings serving script functions are named `rt.<path>` (script-api.ts). */
const HOST_PREFIX = "rt.";

export function scriptProfile(p: RunProfile, ops: number, wallMs: number): ScriptProfile {
  const plain = (n: string): string => (n.startsWith(HOST_PREFIX) ? n.slice(HOST_PREFIX.length) : n);
  return {
    ...p,
    frames: p.frames.map((f) => (f.kind === "lua" ? f : { ...f, name: f.name.replace(/^(await )?rt\./, "$1") })),
    hostCalls: p.hostCalls.map((c) => ({ ...c, name: plain(c.name) })),
    awaits: p.awaits.map((a) => ({ ...a, what: plain(a.what) })),
    ops,
    wallMs: Math.round(wallMs * 1000) / 1000,
  };
}

/** One line of "where the time went". */
export interface ProfileEntry {
  kind: "lua" | "host" | "await";
  /** A Lua function's name, a binding (with its query text), what was awaited. */
  name: string;
  /** A Lua function's chunk and first line ("hot.lua:3"); "" otherwise. */
  where: string;
  ms: number;
  /** Samples (Lua), calls (host), waits (await). */
  count: number;
}

/** Lua functions by self time, host calls by binding and key, awaits by what: slowest first. */
export function profileRanking(p: RunProfile): ProfileEntry[] {
  const self = new Map<number, { ms: number; count: number }>();
  for (const s of p.stacks) {
    const leaf = s.frames.at(-1);
    if (leaf === undefined || p.frames[leaf]?.kind !== "lua") continue;
    const t = self.get(leaf) ?? { ms: 0, count: 0 };
    t.ms += s.ms;
    t.count += s.count;
    self.set(leaf, t);
  }
  const out: ProfileEntry[] = [];
  for (const [f, t] of self) {
    const fr = p.frames[f];
    out.push({ kind: "lua", name: fr.name, where: fr.line > 0 ? `${fr.file}:${fr.line}` : fr.file, ms: t.ms, count: t.count });
  }
  for (const c of p.hostCalls) out.push({ kind: "host", name: c.key === null ? c.name : `${c.name} ${JSON.stringify(c.key)}`, where: "", ms: c.ms, count: c.count });
  for (const a of p.awaits) out.push({ kind: "await", name: a.what, where: "", ms: a.ms, count: a.count });
  return out.sort((a, b) => b.ms - a.ms);
}

/** Each Lua function's time with everything it called (Lua, host calls, awaits), and its self time. */
export function functionTimes(p: RunProfile): { frame: number; name: string; where: string; totalMs: number; selfMs: number }[] {
  const total = new Map<number, number>();
  const self = new Map<number, number>();
  for (const s of p.stacks) {
    const seen = new Set<number>();
    for (const f of s.frames) {
      if (p.frames[f]?.kind !== "lua" || seen.has(f)) continue;
      seen.add(f);
      total.set(f, (total.get(f) ?? 0) + s.ms);
    }
    const leaf = s.frames.at(-1);
    if (leaf !== undefined && p.frames[leaf]?.kind === "lua") self.set(leaf, (self.get(leaf) ?? 0) + s.ms);
  }
  return [...total]
    .map(([frame, t]) => {
      const fr = p.frames[frame];
      return { frame, name: fr.name, where: fr.line > 0 ? `${fr.file}:${fr.line}` : fr.file, totalMs: t, selfMs: self.get(frame) ?? 0 };
    })
    .sort((a, b) => b.totalMs - a.totalMs);
}

const ms = (n: number): string => n.toFixed(1).padStart(9);
const pct = (n: number, total: number): string => `${total > 0 ? ((100 * n) / total).toFixed(1) : "0.0"}%`.padStart(7);
const COUNT_WORD = { lua: "sample", host: "call", await: "wait" } as const;

/** The terminal's report: totals, then the top `top` of each part. */
export function profileTable(p: ScriptProfile, top = 10): string {
  const total = p.luaMs + p.hostMs + p.awaitMs;
  const lines: string[] = [
    `${p.wallMs.toFixed(1)} ms in all: Lua ${p.luaMs.toFixed(1)} ms (${p.samples} sample(s), one every ${p.sampleEvery} instructions), host calls ${p.hostMs.toFixed(1)} ms, waiting in core.await ${p.awaitMs.toFixed(1)} ms; ${p.ops} operation(s) emitted`,
    "",
    `where the time went (top ${top})`,
    `       ms       %  what`,
  ];
  for (const e of profileRanking(p).slice(0, top)) {
    const n = `${e.count} ${COUNT_WORD[e.kind]}${e.count === 1 ? "" : "s"}`;
    lines.push(`${ms(e.ms)} ${pct(e.ms, total)}  ${e.kind.padEnd(5)} ${e.name}${e.where ? `  ${e.where}` : ""}  (${n})`);
  }
  // Engine and prelude wrappers hold every stack: only the script's own functions are listed.
  const own = functionTimes(p).filter((f) => f.where !== "[C]" && !f.where.startsWith("(engine)") && !f.where.startsWith("prelude"));
  if (own.length > 0) {
    lines.push("", `Lua functions with what they called (top ${top})`, `    total      self  function`);
    for (const f of own.slice(0, top)) lines.push(`${ms(f.totalMs)} ${ms(f.selfMs)}  ${f.name}  ${f.where}`);
  }
  if (p.lines.length > 0) {
    lines.push("", `Lua lines (top ${top})`, `       ms       %  line`);
    for (const l of p.lines.slice(0, top)) {
      const f = p.frames[l.frame];
      lines.push(`${ms(l.ms)} ${pct(l.ms, total)}  ${f.file}:${l.line}  in ${f.name}`);
    }
  }
  if (p.hostCalls.length > 0) {
    lines.push("", `host calls (top ${top})`, `       ms   calls  function`);
    for (const c of p.hostCalls.slice(0, top)) lines.push(`${ms(c.ms)} ${String(c.count).padStart(7)}  ${c.key === null ? c.name : `${c.name} ${JSON.stringify(c.key)}`}`);
  }
  if (p.awaits.length > 0) {
    lines.push("", `core.await (top ${top})`, `       ms   waits  awaited`);
    for (const a of p.awaits.slice(0, top)) lines.push(`${ms(a.ms)} ${String(a.count).padStart(7)}  ${a.what}`);
  }
  return lines.join("\n");
}

export const SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json";

export interface SpeedscopeFile {
  $schema: typeof SPEEDSCOPE_SCHEMA;
  exporter: string;
  name: string;
  activeProfileIndex: number;
  shared: { frames: { name: string; file?: string; line?: number }[] };
  profiles: { type: "sampled"; name: string; unit: "milliseconds"; startValue: number; endValue: number; samples: number[][]; weights: number[] }[];
}

/**
 * One sampled profile: each distinct stack once, weighted by its time (so speedscope's
 * left-heavy and sandwich views are the ones to read; time order is not kept). Host calls and
 * awaits are frames of their own on top of the Lua stack that made them.
 */
export function speedscopeFile(p: RunProfile, name: string): SpeedscopeFile {
  const stacks = p.stacks.filter((s) => s.ms > 0);
  return {
    $schema: SPEEDSCOPE_SCHEMA,
    exporter: "openprod",
    name,
    activeProfileIndex: 0,
    shared: { frames: p.frames.map((f) => (f.file === "" ? { name: f.name } : { name: f.name, file: f.file, ...(f.line > 0 ? { line: f.line } : {}) })) },
    profiles: [
      {
        type: "sampled",
        name,
        unit: "milliseconds",
        startValue: 0,
        endValue: Math.round(stacks.reduce((a, s) => a + s.ms, 0) * 1000) / 1000,
        samples: stacks.map((s) => s.frames),
        weights: stacks.map((s) => s.ms),
      },
    ],
  };
}
