/**
 * The triggers service: loads the show's `[trigger.*]` sections (a trigger on
 * a cycle is refused and logged with the cycle spelled out; the others run),
 * dispatches changes to script runs through the script host's runtime,
 * and tells clients when a trigger fires (`trigger.fired`), fails or is
 * stopped by the safety net. `triggers.list` and `triggers.traces` show what
 * each trigger did and why.
 *
 * The triggers follow the show's files: an edit to `[trigger.*]`, a script's
 * capabilities or a manifest loads them again and re-runs the cycle check; a
 * change that would form a cycle or names a missing script is refused with the
 * reason and the trigger set in force stays.
 */
import { nameIdsIn, storeNames } from "./entity-naming.ts";
import { ConfigError, EntityNotFound } from "../crdt/vocabulary.ts";
import { createRuntimeTriggerRunner, createTriggerDispatcher, describeFiring, loadShowTriggers, triggerReloadRefusal } from "../triggers/index.ts";
import type { TriggerRunner } from "../triggers/index.ts";
import type { DaemonService } from "./service.ts";
import { int, nonEmpty, obj, opt } from "./params.ts";
import type { ScriptHost } from "./script-host.ts";

export interface TriggersServiceOptions {
  /** Trigger runs go through the script host's runtime; its show watcher says when the configuration changes. */
  host: { runtime: Parameters<typeof createRuntimeTriggerRunner>[0]; watcher: Pick<ScriptHost["watcher"], "follow">; showTriggers: ScriptHost["showTriggers"] };
  now?: () => number;
  /** How long stopping waits for trigger runs to end (default 2 s; the runtime's shutdown cancels the rest). */
  stopWaitMs?: number;
}

export function createTriggersService(opts: TriggersServiceOptions): DaemonService {
  return {
    name: "triggers",
    async start({ store, methods, events, log }) {
      const nameOf = storeNames(store);
      const { runtime } = opts.host;
      // Loaded once, by the script host: the capabilities scripts run with come from the same load.
      const loaded = opts.host.showTriggers;
      if (loaded.errors.length) {
        for (const e of loaded.errors.slice(1)) log.error(e.message, { ...e.details });
        const first = loaded.errors[0];
        throw new ConfigError(
          loaded.errors.length > 1 ? `${first.message} (and ${loaded.errors.length - 1} more mistake(s) in [trigger.*] / capabilities, logged above)` : first.message,
          first.details,
        );
      }
      for (const r of loaded.rejected) {
        log.error(`trigger ${r.name} (${r.file}:${r.line ?? "?"}) is not loaded: ${r.error.message}`, { trigger: r.name, file: r.file, line: r.line });
      }

      const inner = createRuntimeTriggerRunner(runtime);
      const runner: TriggerRunner = {
        run(req, signal) {
          events.publish({ type: "trigger.fired", ...describeFiring(req), chain: req.chain });
          log.info(`trigger ${req.trigger} fired for ${req.context.trigger_entity} (${req.context.trigger_field}): running ${req.script}`, {
            trigger: req.trigger,
            entity: req.context.trigger_entity,
          });
          return inner.run(req, signal);
        },
      };
      const dispatcher = createTriggerDispatcher({
        store,
        triggers: loaded.triggers,
        rejected: loaded.rejected,
        runner,
        now: opts.now,
        events: (e) => {
          // The log names the entity beside its id, as every place that shows one does.
          if (e.type === "trigger.run_failed") log.warn(nameIdsIn(`trigger ${e.trigger}: the run for ${e.entity} failed: ${e.error.type}: ${e.error.message}`, nameOf), { trigger: e.trigger, runId: e.runId, entity: e.entity });
          else log.error(nameIdsIn(`trigger ${e.trigger}: ${e.message}`, nameOf), { trigger: e.trigger, chain: e.chain.id });
          events.publish(e);
        },
      });
      if (loaded.triggers.length) log.info(`${loaded.triggers.length} trigger(s) active: ${loaded.triggers.map((t) => t.name).join(", ")}`, {});

      let inForce = loaded;
      opts.host.watcher.follow({
        async prepare(next) {
          const candidate = loadShowTriggers(next.show);
          const refusal = triggerReloadRefusal(inForce, candidate);
          if (refusal) throw refusal;
          for (const t of candidate.triggers) {
            try {
              await next.scripts.load(t.script);
            } catch (e) {
              throw new ConfigError(`${t.file}:${t.line ?? "?"}: [trigger.${t.name}] run_script "${t.script}": ${(e as Error).message}`, { file: t.file, line: t.line, trigger: t.name });
            }
          }
          return () => {
            inForce = candidate;
            dispatcher.reconfigure(candidate.triggers, candidate.rejected);
            log.info(`triggers reloaded: ${candidate.triggers.length} active (${candidate.triggers.map((t) => t.name).join(", ") || "none"})`, {});
          };
        },
      });

      const known = (): string => dispatcher.list().map((t) => t.name).join(", ") || "none";
      methods.register("triggers.list", obj({}), () => ({ triggers: dispatcher.list() }));
      methods.register("triggers.traces", obj({ trigger: nonEmpty, limit: opt(int(1, 100_000)) }), (p) => {
        if (!dispatcher.list().some((t) => t.name === p.trigger)) {
          throw new EntityNotFound(`no trigger "${p.trigger}" (triggers: ${known()})`, { trigger: p.trigger });
        }
        const all = dispatcher.traces(p.trigger);
        return { trigger: p.trigger, traces: p.limit !== undefined ? all.slice(-p.limit) : all };
      });

      return {
        async stop() {
          dispatcher.stop();
          const wait = opts.stopWaitMs ?? 2000;
          await Promise.race([dispatcher.idle(), new Promise((r) => setTimeout(r, wait).unref())]);
        },
      };
    },
  };
}
