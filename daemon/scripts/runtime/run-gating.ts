/**
 * What one run is allowed, wired into the run: its capability set (live, so a revocation is
 * felt at the next call), the globals that exist only when a capability allows them (`fs`,
 * `ui.navigate` / `ui.toast` + `ui.progress` / `ui.dialog`, native ones such as `lightwright`),
 * require() with the hashes of every module loaded, and the checks the worker makes on the
 * set_field hot path.
 */
import path from "node:path";
import { PermissionDenied } from "../../crdt/index.ts";
import type { Schema } from "../../crdt/index.ts";
import { CapabilitySet, readCapability, writeGate } from "../capabilities/index.ts";
import type { Capability } from "../capabilities/index.ts";
import type { HostBinding, RunError } from "../engine/index.ts";
import { createFsApi } from "../fs/index.ts";
import type { FsApi, FsSeams } from "../fs/index.ts";
import { createRequireForRun, showDirModuleFiles } from "../modules/index.ts";
import type { ModuleFiles, RequireTracker } from "../modules/index.ts";
import { createNativeRegistry, lightwrightCapability } from "../native/index.ts";
import type { NativeRegistry } from "../native/index.ts";
import { isRevoked } from "./io-wiring.ts";
import type { LoadedScript } from "./script-catalog.ts";
import type { ScriptCapabilities } from "./script-run.ts";

/** Lua paths under `ui` and the capability each needs. */
const UI_GATES: readonly { prefix: string; capability: string }[] = [
  { prefix: "ui.navigate.", capability: "ui.navigate" },
  { prefix: "ui.toast", capability: "ui.notify" },
  { prefix: "ui.progress.", capability: "ui.notify" },
  { prefix: "ui.dialog.", capability: "ui.dialog" },
];

/** The capability a `ui.*` function needs, or null for any other path. */
export function uiCapabilityOf(luaPath: string): string | null {
  for (const g of UI_GATES) if (luaPath.startsWith(g.prefix)) return g.capability;
  return null;
}

/** What the session worker module needs to hold the hot path to the run's grants. */
export interface WorkerGate {
  script: string;
  /** Lua paths the worker must not install (their capability is not granted). */
  hidden: string[];
  /** Field keys set_field may write; null: every field (an ungated run). */
  writes: string[] | null;
}

/** The default registry: the native capabilities the daemon ships. */
export function defaultNativeRegistry(): NativeRegistry {
  return createNativeRegistry([lightwrightCapability]);
}

/** A script's show directory, from where its file is and its show-relative name; null for in-memory scripts. */
export function showDirOf(script: LoadedScript): string | null {
  if (!path.isAbsolute(script.file) || path.isAbsolute(script.chunkName)) return null;
  const rel = path.normalize(script.chunkName);
  const file = path.normalize(script.file);
  if (!file.endsWith(path.sep + rel)) return null;
  return file.slice(0, file.length - rel.length - 1);
}

const NO_MODULE_FILES: ModuleFiles = { read: () => null, isFolder: () => false };

export interface RunGateInput {
  script: LoadedScript;
  schema: Schema;
  /** The set the script was granted when the run started; null: no capability provider (every write allowed). */
  granted: CapabilitySet | null;
  /** Revocations of this script so far (live: read on each check). */
  revoked: () => ReadonlySet<string> | undefined;
  /** The show directory (fs, native and require() read from it); null: none. */
  showDir: string | null;
  /** Simulated file changes for fs.watch (openprod test); absent: the disk. */
  fsSeams?: FsSeams;
  native: NativeRegistry;
  /** Where require() reads module files (replays give recorded sources); default: the show directory. */
  moduleFiles?: ModuleFiles;
  /** Every file the run reads, for its run record. */
  record: (input: { kind: string; value: unknown }) => void;
  /** Logs an error line of the run (revocation). */
  logError: (message: string) => void;
}

export interface RunGate {
  /** The set granted at start; null for an ungated run. */
  granted: CapabilitySet | null;
  /** Source of every module file require() loaded, by show-relative path (for the run record). */
  moduleSources: Map<string, string>;
  /** For ScriptRun: data.write / data.read checked live; null for an ungated run. */
  capabilities: ScriptCapabilities | null;
  /** The set in force now (granted minus revoked); for an ungated run, the script's own list. */
  current(): CapabilitySet;
  /** require(), fs and native bindings. */
  bindings: Record<string, HostBinding>;
  preludeLua: string;
  worker: WorkerGate;
  tracker: RequireTracker;
  /** Wraps the runtime's own bindings: ui.* checked per call, every call refused once the run lost a capability. */
  wrap(bindings: Record<string, HostBinding>, hooks: { inShutdown: () => boolean; lateSkip: (s: { binding: string; error: { type: string; message: string } }) => void }): Record<string, HostBinding>;
  /** This run lost `capability`: its next call (or await) ends it with PermissionDenied. */
  revoke(capability: string, cause: RunError): void;
  /** The PermissionDenied the run ended with, when it was revoked. */
  readonly revokedCause: RunError | null;
  close(): void;
}

function parseList(list: readonly string[]): Capability[] {
  const out: Capability[] = [];
  for (const text of list) {
    const c = readCapability(text);
    if (typeof c !== "string") out.push(c);
  }
  return out;
}

/** A grant less what was revoked from it. */
export function grantInForce(base: CapabilitySet, revoked: ReadonlySet<string> | undefined): CapabilitySet {
  return revoked && revoked.size > 0 ? new CapabilitySet(base.capabilities.filter((c) => !isRevoked(c, revoked))) : base;
}

export function createRunGate(input: RunGateInput): RunGate {
  const { script } = input;
  const base = input.granted ?? new CapabilitySet(parseList(script.config.capabilities));
  let cached = base;
  let seen = 0;
  const current = (): CapabilitySet => {
    const r = input.revoked();
    const n = r?.size ?? 0;
    if (n !== seen) {
      seen = n;
      cached = grantInForce(base, r);
    }
    return cached;
  };
  const gated = input.granted !== null;

  const controller = new AbortController();
  const moduleSources = new Map<string, string>();
  const files = input.moduleFiles ?? (input.showDir === null ? NO_MODULE_FILES : showDirModuleFiles(input.showDir));
  const req = createRequireForRun({
    scriptPath: script.chunkName,
    files: {
      read: (rel) => {
        const source = files.read(rel);
        if (source !== null) moduleSources.set(rel, source);
        return source;
      },
      isFolder: (rel) => files.isFolder(rel),
    },
  });
  let fsApi: FsApi | null = null;
  const bindings: Record<string, HostBinding> = { ...req.bindings };
  const preludes = [req.preludeLua];
  if (input.showDir !== null) {
    fsApi = createFsApi({
      showDir: input.showDir,
      capabilities: current,
      record: (i) => input.record({ kind: i.kind, value: i.data }),
      script: script.id,
      signal: controller.signal,
      seams: input.fsSeams,
    });
    Object.assign(bindings, fsApi.bindings);
    preludes.push(fsApi.preludeLua);
    const native = input.native.forRun({ files: fsApi.files, capabilities: current, script: script.id });
    Object.assign(bindings, native.bindings);
    preludes.push(native.preludeLua);
  }

  const hidden = gated ? UI_GATES.filter((g) => !base.has(g.capability)).map((g) => g.prefix) : [];
  const writes = gated ? [...base.writeSet(input.schema)] : null;

  let revokedCause: RunError | null = null;
  const refusal = (): PermissionDenied | null => (revokedCause === null ? null : new PermissionDenied(revokedCause.message, (revokedCause.details ?? {}) as Record<string, string>));

  return {
    granted: input.granted,
    moduleSources,
    capabilities: gated
      ? {
          canRead: (k) => current().canRead(k),
          canSee: (t) => current().canReadTarget(t, input.schema),
          readDenied: (k) => current().denied({ kind: "data.read", field: k }, script.id),
          gate: writeGate(current, input.schema, script.id),
        }
      : null,
    current,
    bindings,
    preludeLua: preludes.filter((p) => p !== "").join("\n"),
    worker: { script: script.id, hidden, writes },
    tracker: req.tracker,
    get revokedCause() {
      return revokedCause;
    },
    revoke(capability, cause) {
      if (revokedCause !== null) return;
      revokedCause = cause;
      input.logError(`${cause.message} (capability "${capability}")`);
    },
    close: () => {
      controller.abort();
      fsApi?.close();
    },
    wrap(raw, hooks) {
      const out: Record<string, HostBinding> = {};
      for (const [name, b] of Object.entries(raw)) {
        const luaPath = name.startsWith("rt.") ? name.slice(3) : name;
        const needs = gated ? uiCapabilityOf(luaPath) : null;
        const check = (): void => {
          if (!hooks.inShutdown()) {
            const r = refusal();
            if (r) throw r;
          }
          if (needs !== null) {
            const caps = current();
            if (!caps.has(needs)) throw caps.denied({ kind: needs as "ui.notify" }, script.id);
          }
        };
        if (b.kind === "event") {
          // Fire and forget: nothing to throw into, so a refused call is dropped (a batch of set_field
          // calls buffered after a revocation never reaches the overlay; each write of a batch that
          // does arrive passes the write gate in ScriptRun.applyBatch). Log lines always pass.
          const always = luaPath.startsWith("log.") || name === "print";
          out[name] = always ? b : {
            ...b,
            fn: (args, run) => {
              try {
                check();
              } catch {
                return;
              }
              b.fn(args, run);
            },
          };
        } else if (b.kind === "sync") {
          out[name] = { ...b, fn: (args, run) => (check(), b.fn(args, run)) };
        } else {
          out[name] = { ...b, fn: async (args, run) => (check(), b.fn(args, run)) };
        }
      }
      return out;
    },
  };
}
