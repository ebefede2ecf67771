/**
 * The configuration readers a CLI can serve without a daemon: `scripts.list`
 * and `triggers.list` read the show's files with the daemon's own code, so
 * `openprod scripts` and `openprod triggers` say the same with or without one
 * (trigger firing counts exist only in a running daemon: they are 0 here).
 */
import { readFile } from "node:fs/promises";
import { loadShow } from "../config/index.ts";
import type { ShowConfig } from "../config/index.ts";
import { ConfigError } from "../crdt/vocabulary.ts";
import { showScripts } from "../scripts/runtime/index.ts";
import { loadShowTriggers, summarizeTriggers } from "../triggers/index.ts";
import { MethodRegistry } from "./method-registry.ts";
import type { CallContext } from "./method-registry.ts";
import { obj } from "./params.ts";
import type { TypedCall } from "../../protocol/index.ts";
import { listScripts } from "./script-list.ts";

export function registerOfflineConfigMethods(methods: MethodRegistry, show: ShowConfig): void {
  const catalog = showScripts({ root: show.dir.root, config: show.config, modules: show.modules, readFile: (f) => readFile(f, "utf8") });
  methods.register("scripts.list", obj({}), () => listScripts(show, catalog));
  methods.register("triggers.list", obj({}), () => {
    const loaded = loadShowTriggers(show);
    // The daemon refuses to start on these; say the first the same way.
    if (loaded.errors.length) throw new ConfigError(loaded.errors[0].message, loaded.errors[0].details);
    return { triggers: summarizeTriggers(loaded.triggers, loaded.rejected) };
  });
}

/** Who the call comes from: the CLI in its own process, which cannot subscribe. */
const OFFLINE_CALL: CallContext = {
  connection: "offline",
  clientName: "openprod-cli",
  actor: { kind: "app", name: "openprod-cli" },
  setClientName: () => undefined,
  setUser: () => undefined,
  subscribe: () => {
    throw new ConfigError("no daemon is running: there is nothing to subscribe to", {});
  },
  unsubscribe: () => false,
};

/** The show at `dir` loaded, and a call function serving its configuration readers in this process. */
export async function serveConfigMethods(dir: string): Promise<TypedCall> {
  const show = await loadShow(dir);
  const methods = new MethodRegistry();
  registerOfflineConfigMethods(methods, show);
  return async (method, ...params) => {
    if (!methods.has(method)) throw new ConfigError(`${method} needs a running daemon (openprod daemon --dir ${show.dir.root})`, { method });
    return methods.call(method, params[0], OFFLINE_CALL);
  };
}
