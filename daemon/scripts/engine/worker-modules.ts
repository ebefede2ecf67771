/**
 * Worker modules (RunRequest.workerModules): code a run loads into its worker, imported once
 * per worker and installed into each run with that run's WorkerModuleContext.
 */
import { pathToFileURL } from "node:url";
import { fromWire } from "./wire.ts";
import type { RunSpec } from "./wire.ts";
import type { HostValue, WorkerModuleContext } from "./types.ts";

/** Thrown by ctx.callSync / rejected by ctx.callAsync when a host binding fails. */
export class HostCallError extends Error {
  constructor(readonly code: string, message: string, readonly details?: Record<string, HostValue>) {
    super(message);
  }
}

type WorkerModule = { install?: (ctx: WorkerModuleContext) => void | Promise<void> };

const moduleCache = new Map<string, Promise<WorkerModule>>();

export async function installWorkerModules(modules: RunSpec["workerModules"], contextFor: (options: HostValue) => WorkerModuleContext): Promise<void> {
  for (const m of modules) {
    let loading = moduleCache.get(m.path);
    if (!loading) {
      loading = import(pathToFileURL(m.path).href) as Promise<WorkerModule>;
      moduleCache.set(m.path, loading);
    }
    const mod = await loading;
    if (typeof mod.install !== "function") throw new Error(`worker module ${m.path} does not export install(ctx)`);
    await mod.install(contextFor(fromWire(m.options)));
  }
}
