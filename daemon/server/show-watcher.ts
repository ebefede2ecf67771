/**
 * Watches a show directory while the daemon runs. An edited script, module
 * manifest or openprod.toml is re-validated and takes effect for the next run;
 * an invalid edit is reported (file, line, reason) and the last valid version
 * stays in force. A capability that disappears from the config is revoked
 * from running scripts. Nothing needs a restart.
 */
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { loadShow } from "../config/index.ts";
import type { ShowConfig } from "../config/index.ts";
import { CapabilitySet } from "../scripts/capabilities/index.ts";
import { showCapabilities, showScripts } from "../scripts/runtime/index.ts";
import type { ScriptRuntime } from "../scripts/runtime/index.ts";
import type { SyntaxProblem } from "../scripts/engine/index.ts";

export type ShowChange =
  | { type: "show.reloaded"; file: string; scripts: string[] }
  | { type: "show.invalid"; file: string; line: number | null; column: number | null; reason: string };

export interface ShowWatcherOptions {
  show: ShowConfig;
  runtime: ScriptRuntime;
  checkSyntax: (source: string, chunkName: string) => Promise<SyntaxProblem | null>;
  /** Told about every reload and every refused edit. */
  report: (change: ShowChange) => void;
  /** Milliseconds to wait for an editor's burst of writes to settle. */
  settleMs?: number;
}

export interface ShowWatcher {
  /** Re-check everything now (the watcher calls this itself on changes). */
  rescan(changed?: string): Promise<void>;
  close(): void;
}

export async function watchShow(opts: ShowWatcherOptions): Promise<ShowWatcher> {
  const root = opts.show.dir.root;
  let show = opts.show;
  let capabilities = showCapabilities(show).capabilities;
  /** The last valid source of each script file, pinned when a later edit does not parse. */
  const lastValid = new Map<string, string>();
  const scriptIdOf = (rel: string): string | null => {
    const user = /^workspace\/scripts\/([A-Za-z0-9_-]+)\.lua$/.exec(rel);
    if (user) return user[1];
    const mod = /^modules\/([A-Za-z0-9_-]+)\/scripts\/([A-Za-z0-9_-]+)\.lua$/.exec(rel);
    return mod ? `${mod[1]}/${mod[2]}` : null;
  };
  for (const rel of await scriptFiles(root)) {
    const source = await readFile(path.join(root, rel), "utf8").catch(() => null);
    if (source !== null && (await opts.checkSyntax(source, rel)) === null) lastValid.set(rel, source);
  }

  const onScript = async (rel: string): Promise<void> => {
    const id = scriptIdOf(rel);
    if (!id) return;
    const source = await readFile(path.join(root, rel), "utf8").catch(() => null);
    if (source === null) return;
    const problem = await opts.checkSyntax(source, rel);
    if (problem) {
      opts.report({ type: "show.invalid", file: rel, line: problem.line ?? null, column: problem.column ?? null, reason: `${problem.message}; the last valid version stays in force` });
      const previous = lastValid.get(rel);
      if (previous !== undefined) await opts.runtime.reloadScript(id, previous);
      return;
    }
    lastValid.set(rel, source);
    await opts.runtime.reloadScript(id, source);
    opts.report({ type: "show.reloaded", file: rel, scripts: [id] });
  };

  const onConfig = async (rel: string): Promise<void> => {
    let next: ShowConfig;
    let nextCaps: Map<string, CapabilitySet>;
    try {
      next = await loadShow(root);
      // Building the catalog validates every [script.*] section.
      showScripts({ root, config: next.config, modules: next.modules, readFile: (f) => readFile(f, "utf8") });
      const caps = showCapabilities(next);
      if (caps.errors.length > 0) throw caps.errors[0];
      nextCaps = caps.capabilities;
    } catch (e) {
      const details = (e as { details?: { file?: string; line?: number; column?: number } }).details ?? {};
      opts.report({
        type: "show.invalid",
        file: details.file ? path.relative(root, details.file) || rel : rel,
        line: details.line ?? null,
        column: details.column ?? null,
        reason: `${(e as Error).message}; the last valid configuration stays in force`,
      });
      return;
    }
    // Whatever a script held before and no longer does is revoked from its running runs.
    for (const [id, before] of capabilities) {
      const after = new Set(nextCaps.get(id)?.toStrings() ?? []);
      for (const cap of before.toStrings()) if (!after.has(cap)) opts.runtime.revokeCapability(id, cap);
    }
    show = next;
    capabilities = nextCaps;
    const catalog = showScripts({ root, config: show.config, modules: show.modules, readFile: (f) => readFile(f, "utf8") });
    opts.runtime.updateShow({ scripts: catalog, capabilities: (s) => capabilities.get(s.id) ?? CapabilitySet.none });
    opts.report({ type: "show.reloaded", file: rel, scripts: [...capabilities.keys()].sort() });
  };

  let queue: Promise<void> = Promise.resolve();
  const pending = new Map<string, NodeJS.Timeout>();
  const handle = (rel: string): Promise<void> => {
    if (rel === "openprod.toml" || /^modules\/[^/]+\/module\.toml$/.test(rel)) return onConfig(rel);
    if (rel.endsWith(".lua")) return onScript(rel);
    return Promise.resolve();
  };
  // One change at a time, in order: each handler reads the files as they are when it runs, so
  // the last one to run applies the latest state; two reloads overlapping could apply a stale one.
  const enqueue = (rel: string): Promise<void> => {
    queue = queue.then(() => handle(rel)).catch(() => undefined);
    return queue;
  };
  const schedule = (rel: string): void => {
    clearTimeout(pending.get(rel));
    pending.set(
      rel,
      setTimeout(() => {
        pending.delete(rel);
        void enqueue(rel);
      }, opts.settleMs ?? 100),
    );
  };

  let watcher: FSWatcher | null = watch(root, { recursive: true }, (_event, name) => {
    if (!name) return;
    const rel = name.split(path.sep).join("/");
    if (rel.startsWith(".openprod") || rel.includes("/.") || rel.endsWith("~")) return;
    schedule(rel);
  });
  watcher.on("error", () => undefined);

  return {
    async rescan(changed) {
      await (changed ? enqueue(changed) : queue);
    },
    close() {
      for (const t of pending.values()) clearTimeout(t);
      watcher?.close();
      watcher = null;
    },
  };
}

async function scriptFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const list = async (rel: string): Promise<string[]> => (await readdir(path.join(root, rel)).catch(() => [] as string[])).filter((f) => f.endsWith(".lua"));
  for (const f of await list("workspace/scripts")) out.push(`workspace/scripts/${f}`);
  for (const m of await readdir(path.join(root, "modules")).catch(() => [] as string[])) {
    for (const f of await list(`modules/${m}/scripts`)) out.push(`modules/${m}/scripts/${f}`);
  }
  return out;
}
