/**
 * The runtime safety net. Every bundle a trigger run makes carries
 * `origin.chain = {id, depth, startedAt}`; a change whose chain is already
 * `maxDepth` runs deep, or older than `maxAgeMs`, starts no further run.
 * Config-time cycle detection makes this rare; it catches what the graph
 * cannot see (scripts granted broad writes across peers, rules, clock skew).
 */
import type { BundleInfo } from "../crdt/vocabulary.ts";
import type { CausalChain } from "./runner.ts";

export const MAX_CHAIN_DEPTH = 1000;
export const MAX_CHAIN_AGE_MS = 30_000;

export interface ChainLimits {
  maxDepth: number;
  maxAgeMs: number;
}

/** The chain a bundle carries, or null for a bundle not made by a trigger run (a person's edit). */
export function chainOf(bundle: BundleInfo | undefined): CausalChain | null {
  const chain: unknown = bundle?.meta.origin?.chain;
  if (typeof chain !== "object" || chain === null) return null;
  const { id, depth, startedAt } = chain as Record<string, unknown>;
  if (typeof id !== "string" || typeof depth !== "number" || typeof startedAt !== "number") return null;
  return { id, depth, startedAt };
}

/** The chain a run caused by `bundle` belongs to: the bundle's, or a new one starting now. */
export function chainFor(bundle: BundleInfo | undefined, now: number): CausalChain {
  return chainOf(bundle) ?? { id: bundle?.hash ?? `chain-${now}`, depth: 0, startedAt: now };
}

/** Why a run in this chain must not start, or null when it may. */
export function chainExceeded(chain: CausalChain, now: number, limits: ChainLimits): { reason: "depth" | "age"; message: string } | null {
  if (chain.depth >= limits.maxDepth) {
    return {
      reason: "depth",
      message: `causal chain ${chain.id} already ran ${chain.depth} trigger runs (limit ${limits.maxDepth}); stopped to break a runaway loop`,
    };
  }
  const age = now - chain.startedAt;
  if (age > limits.maxAgeMs) {
    return {
      reason: "age",
      message: `causal chain ${chain.id} started ${age} ms ago (limit ${limits.maxAgeMs} ms); stopped to break a runaway loop`,
    };
  }
  return null;
}
