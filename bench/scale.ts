/**
 * How big a benchmark run is. `npm run bench` measures at full size; the
 * smoke run (`npm run bench -- --smoke`, which `npm test` runs) shrinks every
 * size so that each figure is still produced, through the same code, in a
 * moment: its figures only prove the benchmark still works, they mean nothing.
 * The runner sets the mode before it loads any suite.
 */
export const SMOKE_ENV = "OPENPROD_BENCH_SMOKE";

/** Read at each call, not at import: the runner imports this module before it sets the mode. */
export function isSmoke(): boolean {
  return process.env[SMOKE_ENV] === "1";
}

/** `full` normally; in the smoke run a hundredth of it, and never below `min`. */
export function size(full: number, min = 1): number {
  return isSmoke() ? Math.max(min, Math.ceil(full / 100)) : full;
}
